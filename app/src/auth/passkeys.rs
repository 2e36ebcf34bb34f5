//! Passkeys (WebAuthn): adding one to an account, signing in with one, removing one.
//! ARCHITECTURE: "Passkeys".
//!
//! webauthn-rs does the ceremonies and every check of the browser's answer (challenge,
//! origin, relying-party id, signature, user verification, signature counter). What is
//! ours: the relying party comes from `PUBLIC_URL` alone; each ceremony's state waits in
//! `passkey_challenges`, single-use and short-lived, under an id only the asking
//! browser's web session knows; a sign-in with a passkey is a device session like a
//! password one, and needs no second factor (the passkey is two factors: the device,
//! and the PIN or biometric that unlocked it).

use std::sync::Arc;

use std::time::Duration;

use chrono::NaiveDateTime;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid,
    Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::{AuthenticatorSelectionCriteria, ResidentKeyRequirement};

use super::client_info::ClientInfo;
use super::core::Core;
use super::error::AuthError;
use super::events::EventKind;
use super::notices::MailKind;
use super::session::SignInMethod;
use super::session::{CurrentDeviceSession, SignedIn};
use super::settings::MAX_PASSKEYS;
use super::transactions::{Tx, now, queue_notice, random_id, record_event, start_device_session};
use crate::store::models::{PasskeyChallenge, PasskeyRow};
use crate::store::{DbConnection, DbError, QueryResult, accounts, passkeys as store};

// ---- The rules ----

/// How long a ceremony waits for the browser's answer. Also the timeout the browser is
/// given, so its prompt closes before the challenge lapses.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// The longest name a passkey may have, in characters.
pub const MAX_NAME_CHARS: usize = 60;

/// What a ceremony is for; stored as `passkey_challenges.purpose`, so an answer to one
/// kind of ceremony cannot finish the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Purpose {
    /// A signed-in user adds a passkey.
    Add,
    /// Someone signs in with a passkey.
    SignIn,
}

impl Purpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why the relying party could not be set up from `PUBLIC_URL`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelyingPartyError {
    /// Not a URL.
    #[error("PUBLIC_URL is not a URL: {0}")]
    NotAUrl(String),
    /// Browsers accept only a domain name as a relying-party id.
    #[error(
        "PUBLIC_URL's host is an IP address, and browsers offer passkeys only to a domain name (use http://localhost:PORT in development)"
    )]
    NoDomain,
    /// webauthn-rs refused the id and origin.
    #[error("webauthn-rs refused PUBLIC_URL: {0}")]
    Refused(String),
}

/// The relying party of `public_url`: its host is the relying-party id (the domain the
/// passkeys belong to) and its origin the only origin whose answers are accepted. Never
/// derived from a request, whose `Host` an attacker chooses.
pub fn relying_party(public_url: &str) -> Result<Webauthn, RelyingPartyError> {
    let url = Url::parse(public_url).map_err(|e| RelyingPartyError::NotAUrl(e.to_string()))?;
    let id = url.domain().ok_or(RelyingPartyError::NoDomain)?.to_owned();
    WebauthnBuilder::new(&id, &url)
        .and_then(|builder| {
            builder
                .rp_name("Gatehouse")
                .timeout(CHALLENGE_LIFETIME)
                .build()
        })
        .map_err(|e| RelyingPartyError::Refused(e.to_string()))
}

/// The name a passkey is saved under: what the user typed, tidied (spaces collapsed,
/// control characters dropped, at most [`MAX_NAME_CHARS`]), or `fallback` if that is
/// empty.
pub fn clean_name(typed: &str, fallback: &str) -> String {
    let cleaned: String = typed
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    if cleaned.is_empty() {
        fallback.chars().take(MAX_NAME_CHARS).collect()
    } else {
        cleaned
    }
}

/// Asks for a discoverable credential (a "resident key"): one the authenticator can
/// offer without being told its id, which is what lets a user sign in without typing an
/// address. webauthn-rs's passkey registration leaves the choice to the authenticator
/// (`discouraged`); the check of the answer does not depend on it.
fn require_discoverable(ccr: &mut CreationChallengeResponse) {
    let selection = ccr
        .public_key
        .authenticator_selection
        .get_or_insert_with(AuthenticatorSelectionCriteria::default);
    selection.resident_key = Some(ResidentKeyRequirement::Required);
    selection.require_resident_key = true;
}

/// The signature counter and backup flags of a credential webauthn-rs just registered.
/// Its accessors are behind a "danger" feature, so they are read from its serialised
/// form (the same JSON that is stored).
fn credential_flags(stored: &serde_json::Value) -> (i64, bool, bool) {
    let cred = &stored["cred"];
    (
        cred["counter"].as_i64().unwrap_or(0),
        cred["backup_eligible"].as_bool().unwrap_or(false),
        cred["backup_state"].as_bool().unwrap_or(false),
    )
}

/// The base64url form of a credential id, the `passkeys` table's key.
fn credential_key(id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

// ---- The service ----

/// A passkey as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyInfo {
    /// The credential id (base64url): what removing names.
    pub id: String,
    /// What the user called it.
    pub name: String,
    /// When it was added.
    pub created_at: NaiveDateTime,
    /// When it last signed in.
    pub last_used_at: Option<NaiveDateTime>,
    /// Whether it is synced to the user's other devices (a backed-up passkey).
    pub synced: bool,
}

impl From<PasskeyRow> for PasskeyInfo {
    fn from(row: PasskeyRow) -> Self {
        Self {
            id: row.credential_id,
            name: row.name,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            synced: row.backed_up,
        }
    }
}

/// A ceremony begun: the options for `navigator.credentials` (JSON), and the id the
/// caller keeps in the browser's web session to finish it.
#[derive(Debug, Clone)]
pub struct Ceremony {
    /// The `passkey_challenges` id.
    pub challenge_id: String,
    /// `CreationChallengeResponse` or `RequestChallengeResponse`, as JSON.
    pub options: String,
}

/// Passkeys: adding and removing them, and signing in with one.
#[derive(Debug)]
pub struct Passkeys {
    core: Arc<Core>,
    /// The relying party (from `PUBLIC_URL`); `None` turns passkeys off.
    relying_party: Option<Webauthn>,
}

impl Passkeys {
    pub(super) fn new(core: Arc<Core>, relying_party: Option<Webauthn>) -> Self {
        Self {
            core,
            relying_party,
        }
    }

    fn webauthn(&self) -> Result<&Webauthn, AuthError> {
        self.relying_party
            .as_ref()
            .ok_or(AuthError::PasskeysUnavailable)
    }

    /// The one origin passkeys work at (`PUBLIC_URL`'s), or `None` when passkeys are
    /// off. Pages use it to send a visitor who came another way to the right address.
    pub fn passkey_origin(&self) -> Option<String> {
        let origin = self.relying_party.as_ref()?.get_allowed_origins().first()?;
        Some(origin.origin().ascii_serialization())
    }

    /// The account's passkeys, oldest first.
    pub async fn passkeys(&self, user_id: &str) -> Result<Vec<PasskeyInfo>, AuthError> {
        let id = user_id.to_owned();
        let rows = self
            .core
            .db()
            .run(move |conn| Ok(store::list(conn, &id)?))
            .await?;
        Ok(rows.into_iter().map(PasskeyInfo::from).collect())
    }

    async fn keep_challenge(
        &self,
        purpose: Purpose,
        user_id: Option<String>,
        state: String,
        options: String,
    ) -> Result<Ceremony, AuthError> {
        let issued = now();
        let challenge = PasskeyChallenge {
            id: random_id(),
            purpose: purpose.as_str().to_owned(),
            user_id,
            state,
            created_at: issued,
            expires_at: issued + chrono::Duration::from_std(CHALLENGE_LIFETIME).unwrap_or_default(),
        };
        let challenge_id = challenge.id.clone();
        let kept = self
            .core
            .db()
            .run(move |conn| {
                conn.write_transaction(|conn| {
                    if store::live_challenges(conn, issued)? >= MAX_LIVE_CHALLENGES {
                        return Ok(false);
                    }
                    store::insert_challenge(conn, &challenge)?;
                    Ok::<_, DbError>(true)
                })
            })
            .await?;
        if !kept {
            tracing::warn!("passkey ceremonies are full: a begin was refused");
            return Err(AuthError::Busy);
        }
        Ok(Ceremony {
            challenge_id,
            options,
        })
    }

    /// Drops the ceremony `id`, which its browser replaced with a newer one (the login
    /// page starts one on every visit), so revisits leave no rows behind.
    pub async fn forget_passkey_ceremony(&self, id: &str) -> Result<(), AuthError> {
        let id = id.to_owned();
        Ok(self
            .core
            .db()
            .run(move |conn| Ok(store::delete_challenge(conn, &id)?))
            .await?)
    }

    /// Takes the ceremony `id` (single use); expired, used, unknown or of another purpose
    /// are all [`AuthError::PasskeyExpired`].
    async fn take_challenge(
        &self,
        id: &str,
        purpose: Purpose,
    ) -> Result<PasskeyChallenge, AuthError> {
        let id = id.to_owned();
        let taken = self
            .core
            .db()
            .run(move |conn| Ok(store::take_challenge(conn, &id, purpose.as_str())?))
            .await?;
        taken
            .filter(|c| c.expires_at > now())
            .ok_or(AuthError::PasskeyExpired)
    }

    /// Starts adding a passkey to the signed-in account (the caller has checked sudo
    /// mode). Its existing passkeys are excluded, so an authenticator that holds one
    /// already says so instead of making a second.
    pub async fn begin_add_passkey(
        &self,
        current: &CurrentDeviceSession,
        email: &str,
    ) -> Result<Ceremony, AuthError> {
        let webauthn = self.webauthn()?;
        let user_id = current.user_id.clone();
        let rows = self
            .core
            .db()
            .run(move |conn| Ok(store::list(conn, &user_id)?))
            .await?;
        if rows.len() as i64 >= MAX_PASSKEYS {
            return Err(AuthError::PasskeyLimit);
        }
        let exclude = rows
            .iter()
            .filter_map(|row| serde_json::from_str::<Passkey>(&row.passkey).ok())
            .map(|passkey| passkey.cred_id().clone())
            .collect();
        let handle = Uuid::parse_str(&current.user_id)
            .map_err(|e| AuthError::Internal(format!("a user id is not a UUID: {e}")))?;
        let (mut ccr, state) = webauthn
            .start_passkey_registration(handle, email, email, Some(exclude))
            .map_err(|e| AuthError::Internal(format!("cannot start a registration: {e}")))?;
        require_discoverable(&mut ccr);
        let state = serde_json::to_string(&state).map_err(internal)?;
        let options = serde_json::to_string(&ccr).map_err(internal)?;
        self.keep_challenge(Purpose::Add, Some(current.user_id.clone()), state, options)
            .await
    }

    /// Finishes adding a passkey: checks the authenticator's answer (`credential`, the
    /// browser's JSON) against the ceremony `challenge_id`, and saves it as `name`. The
    /// limit is checked again under the account's lock, so parallel additions cannot
    /// pass it.
    pub async fn finish_add_passkey(
        &self,
        current: &CurrentDeviceSession,
        challenge_id: &str,
        credential: &str,
        name: &str,
        client: ClientInfo,
    ) -> Result<PasskeyInfo, AuthError> {
        let webauthn = self.webauthn()?;
        let challenge = self.take_challenge(challenge_id, Purpose::Add).await?;
        if challenge.user_id.as_deref() != Some(current.user_id.as_str()) {
            return Err(AuthError::PasskeyExpired);
        }
        let answer: RegisterPublicKeyCredential =
            serde_json::from_str(credential).map_err(|_| AuthError::PasskeyFailed)?;
        let state: PasskeyRegistration =
            serde_json::from_str(&challenge.state).map_err(internal)?;
        let passkey = webauthn
            .finish_passkey_registration(&answer, &state)
            .map_err(|err| {
                tracing::info!(error = %err, "a passkey registration was refused");
                AuthError::PasskeyFailed
            })?;
        let stored = serde_json::to_value(&passkey).map_err(internal)?;
        let (sign_count, backup_eligible, backed_up) = credential_flags(&stored);
        let row = PasskeyRow {
            credential_id: credential_key(passkey.cred_id()),
            user_id: current.user_id.clone(),
            // Unnamed, it is named after the browser, in the words of the one adding it.
            name: clean_name(
                name,
                &super::client_info::localized_device_label(
                    client.language,
                    &client.device_label(),
                ),
            ),
            passkey: stored.to_string(),
            sign_count,
            backup_eligible,
            backed_up,
            created_at: now(),
            last_used_at: None,
        };
        let info = PasskeyInfo::from(row.clone());
        let session_id = current.session_id.clone();
        let added = self
            .core
            .transaction(client, move |conn, tx| {
                accounts::lock(conn, &row.user_id)?;
                if store::count(conn, &row.user_id)? >= MAX_PASSKEYS {
                    return Ok(Err(AuthError::PasskeyLimit));
                }
                if store::find(conn, &row.credential_id)?.is_some() {
                    return Ok(Err(AuthError::PasskeyAlreadyAdded));
                }
                store::insert(conn, &row)?;
                record_event(
                    conn,
                    tx,
                    &row.user_id,
                    Some(&session_id),
                    EventKind::PasskeyAdded,
                    Some(&row.name),
                )?;
                queue_notice(
                    conn,
                    tx,
                    &row.user_id,
                    MailKind::PasskeyAdded,
                    tx.mail_facts(),
                )?;
                Ok(Ok(()))
            })
            .await?;
        added?;
        self.core.mail_queued();
        Ok(info)
    }

    /// Removes one of the account's passkeys (the caller has checked sudo mode).
    pub async fn remove_passkey(
        &self,
        current: &CurrentDeviceSession,
        id: &str,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let (user_id, session_id, id) = (
            current.user_id.clone(),
            current.session_id.clone(),
            id.to_owned(),
        );
        let removed = self
            .core
            .transaction(client, move |conn, tx| {
                delete_passkey(conn, tx, &user_id, Some(&session_id), &id)
            })
            .await?;
        if removed.is_ok() {
            self.core.mail_queued();
        }
        removed
    }

    /// Starts a sign-in with a passkey. No address is asked for: the browser offers
    /// the passkeys it has for this site (discoverable credentials), in a dialog or in
    /// the e-mail field's autofill (conditional UI, chosen by the browser side).
    pub async fn begin_passkey_sign_in(&self) -> Result<Ceremony, AuthError> {
        let webauthn = self.webauthn()?;
        let (mut rcr, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|e| AuthError::Internal(format!("cannot start an authentication: {e}")))?;
        // The browser side decides between a dialog and autofill.
        rcr.mediation = None;
        let state = serde_json::to_string(&state).map_err(internal)?;
        let options = serde_json::to_string::<RequestChallengeResponse>(&rcr).map_err(internal)?;
        self.keep_challenge(Purpose::SignIn, None, state, options)
            .await
    }

    /// Finishes a sign-in with a passkey and starts a device session, as a password
    /// sign-in would (cookies, devices page, activity, new-device notice), with sudo
    /// mode fresh and no second-factor step.
    ///
    /// Every failure that could say something about an account (unknown passkey, one of
    /// a deleted account, a user handle that does not match, a bad signature) is the
    /// same [`AuthError::PasskeyFailed`].
    pub async fn finish_passkey_sign_in(
        &self,
        challenge_id: &str,
        credential: &str,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let webauthn = self.webauthn()?;
        let challenge = self.take_challenge(challenge_id, Purpose::SignIn).await?;
        let answer: PublicKeyCredential =
            serde_json::from_str(credential).map_err(|_| AuthError::PasskeyFailed)?;
        let (handle, credential_id) = webauthn
            .identify_discoverable_authentication(&answer)
            .map_err(|_| AuthError::PasskeyFailed)?;
        let key = credential_key(credential_id);
        let lookup = key.clone();
        let (row, user) = self
            .core
            .db()
            .run(move |conn| {
                let row = store::find(conn, &lookup)?;
                let user = match &row {
                    Some(row) => accounts::find_by_id(conn, &row.user_id)?,
                    None => None,
                };
                Ok((row, user))
            })
            .await?;
        let (Some(row), Some(user)) = (row, user) else {
            return Err(AuthError::PasskeyFailed);
        };
        if Uuid::parse_str(&user.id).ok() != Some(handle) {
            return Err(AuthError::PasskeyFailed);
        }
        let mut passkey: Passkey = serde_json::from_str(&row.passkey).map_err(internal)?;
        let state: DiscoverableAuthentication =
            serde_json::from_str(&challenge.state).map_err(internal)?;
        let result = webauthn
            .finish_discoverable_authentication_v2(&answer, state, &passkey)
            .map_err(|err| {
                tracing::info!(error = %err, "a passkey sign-in was refused");
                AuthError::PasskeyFailed
            })?;
        passkey.update_credential(&result);
        let updated = serde_json::to_string(&passkey).map_err(internal)?;
        if self.core.settings().require_verified_email && user.email_verified_at.is_none() {
            return Err(AuthError::EmailNotVerified);
        }
        let (user_id, counter, backed_up) = (
            user.id.clone(),
            i64::from(result.counter()),
            result.backup_state(),
        );
        let started = self
            .core
            .transaction(client, move |conn, tx| {
                // Removed while the browser was asking: it no longer signs in.
                if !store::record_use(conn, &key, &updated, counter, backed_up, tx.now)? {
                    return Ok(Err(AuthError::PasskeyFailed));
                }
                start_device_session(conn, tx, &user_id, SignInMethod::Passkey, None).map(Ok)
            })
            .await??;
        self.core.mail_queued();
        Ok(self.core.finish_start(user, started))
    }
}

/// Ceremonies waiting at once, from everyone: the table's bound, beside each client's
/// budget of writes (a ceremony lives [`CHALLENGE_LIFETIME`]).
pub const MAX_LIVE_CHALLENGES: i64 = 10_000;

fn internal(err: serde_json::Error) -> AuthError {
    AuthError::Internal(format!("passkey state: {err}"))
}

/// Deletes the passkey `id` of `user_id`, records it (by `session_id`, if a device
/// session acted) and mails a notice: the one way a passkey goes, from the account page
/// and from the review after a reset.
pub(super) fn delete_passkey(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
    session_id: Option<&str>,
    id: &str,
) -> QueryResult<Result<(), AuthError>> {
    let Some(row) = store::find(conn, id)?.filter(|row| row.user_id == user_id) else {
        return Ok(Err(AuthError::NotFound));
    };
    store::delete(conn, user_id, id)?;
    record_event(
        conn,
        tx,
        user_id,
        session_id,
        EventKind::PasskeyRemoved,
        Some(&row.name),
    )?;
    queue_notice(conn, tx, user_id, MailKind::PasskeyRemoved, tx.mail_facts())?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_public_urls_host_and_never_an_ip_address() {
        let rp = relying_party("https://login.example.com").unwrap();
        assert_eq!(
            rp.get_allowed_origins(),
            &[Url::parse("https://login.example.com").unwrap()]
        );
        assert!(relying_party("http://localhost:3000").is_ok());
        assert_eq!(
            relying_party("http://127.0.0.1:3000").unwrap_err(),
            RelyingPartyError::NoDomain
        );
        assert!(matches!(
            relying_party("not a url"),
            Err(RelyingPartyError::NotAUrl(_))
        ));
    }

    #[test]
    fn registrations_ask_for_a_discoverable_passkey_with_user_verification() {
        let rp = relying_party("http://localhost:3000").unwrap();
        let (mut ccr, _) = rp
            .start_passkey_registration(Uuid::now_v7(), "ann@example.com", "ann@example.com", None)
            .unwrap();
        require_discoverable(&mut ccr);
        let json = serde_json::to_value(&ccr).unwrap();
        let selection = &json["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["requireResidentKey"], true);
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(json["publicKey"]["rp"]["id"], "localhost");
    }

    #[test]
    fn names_are_tidied_and_bounded_with_a_fallback() {
        assert_eq!(clean_name("  My   phone \n", "Chrome on Linux"), "My phone");
        assert_eq!(clean_name(" \t", "Chrome on Linux"), "Chrome on Linux");
        assert_eq!(clean_name("a\u{7}b", "x"), "ab");
        assert_eq!(
            clean_name(&"x".repeat(200), "y").chars().count(),
            MAX_NAME_CHARS
        );
    }

    #[test]
    fn the_flags_are_read_from_the_stored_credential() {
        let stored = serde_json::json!({"cred": {"counter": 7, "backup_eligible": true, "backup_state": false}});
        assert_eq!(credential_flags(&stored), (7, true, false));
        assert_eq!(credential_flags(&serde_json::json!({})), (0, false, false));
    }
}
