//! Sign-in with OpenID Connect providers, and the identities ("connected accounts")
//! linked to an account. The redirect dance and every check of the provider's answer
//! are `oidc`'s; what reaches this service is an identity the provider vouched for
//! ([`ProviderIdentity`]), and the rules here decide what it may do:
//!
//! - an identity is keyed by (issuer, subject), never by address;
//! - a known identity signs in to its account, with the account's second step if it
//!   has one;
//! - an unknown one whose address (verified by the provider) has no account makes one,
//!   with no password until its owner sets one by the reset link;
//! - an unknown one whose address belongs to an account links nothing by itself: the
//!   person signs in to that account, then connects the provider from the account
//!   page, signing in at the provider again ([`ProviderSignIn::AddressTaken`]), unless
//!   the provider is trusted for addresses (`trust_email`) and both sides verified it;
//! - linking and unlinking are a signed-in user's acts in sudo mode, recorded and
//!   mailed; a link needs a fresh sign-in at the provider (so whoever is signed in
//!   there in this browser is not what gets linked); the last way into an account
//!   cannot be unlinked.
//!
//! Whatever a provider signs in starts the same device session as a password or a
//! passkey: devices page, activity, notices, revocation and "sign out everywhere" treat
//! it alike.

use std::sync::Arc;

use chrono::NaiveDateTime;

use super::access_token::MintedToken;
use super::client_info::ClientInfo;
use super::core::Core;
use super::error::AuthError;
use super::events::EventKind;
use super::guard::Settles;
use super::notices::{MailFacts, MailKind};
use super::password::{NO_PASSWORD, has_password};
use super::second_factor::{PENDING_SIGN_IN_LIFETIME, PendingSignIn};
use super::session::{CurrentDeviceSession, SignInMethod, SignedIn};
use super::throttle::Outcome;
use super::transactions::{
    Tx, new_account, now, queue_notice, random_id, record_event, start_device_session,
};
use crate::secret::Secret;
use crate::store::models::{IdentityRow, OidcFlowRow, User};
use crate::store::{
    DbConnection, DbError, QueryResult, accounts, device_sessions, identities as store, passkeys,
    second_factor,
};

/// How long a browser may take at the provider (`state`, nonce and PKCE verifier live
/// this long).
pub const FLOW_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

/// Redirects waiting at once, from everyone: the table's bound, beside each client's
/// budget of writes without a session. A start that finds it full pushes the oldest
/// out, rather than being refused: refusing let anyone holding a few hundred client
/// addresses (IPv6 /64s) shut provider sign-in off for everyone for ten minutes with
/// 10,000 starts; pushing out, they must keep starting faster than people sign in at
/// the provider, which costs them far more and the server sees it.
pub const MAX_LIVE_FLOWS: i64 = 10_000;

/// Redirects one signed-in user's links and re-authentications keep waiting (one per
/// tab, within reason); a newer one drops the oldest.
pub const FLOWS_PER_USER: i64 = 4;

/// How far before the redirect a provider's `auth_time` may lie for a re-authentication
/// (clock skew between the provider and us).
const AUTH_TIME_LEEWAY: chrono::Duration = chrono::Duration::seconds(10);

/// What a provider vouched for, after `oidc` checked its ID token (signature, issuer,
/// audience, `azp`, expiry, nonce).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// The configured provider it came through.
    pub provider_id: String,
    /// The provider's name, for notices and the activity page.
    pub provider_name: String,
    /// The ID token's `iss`.
    pub issuer: String,
    /// The ID token's `sub`.
    pub subject: String,
    /// The address it gave, normalised, if any.
    pub email: Option<String>,
    /// Whether the provider says it verified that address.
    pub email_verified: bool,
    /// When the person last authenticated at the provider (`auth_time`).
    pub auth_time: Option<NaiveDateTime>,
}

/// How far Gatehouse trusts a provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProviderPolicy {
    /// The provider's verified addresses are as good as a mailed link: an identity
    /// whose verified address belongs to an account whose address is verified too is
    /// linked without asking the person to sign in first.
    pub trust_email: bool,
}

/// What a redirect to a provider is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum FlowPurpose {
    /// Signing in (or up), signed out.
    SignIn,
    /// Connecting the provider to the signed-in account (sudo mode was checked).
    Link,
    /// Proving it is them again, for sudo mode (`prompt=login`).
    Reauthenticate,
}

impl FlowPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A redirect to a provider, about to leave: what its answer is checked against.
#[derive(Debug)]
pub struct NewFlow {
    /// The configured provider.
    pub provider_id: String,
    /// Why.
    pub purpose: FlowPurpose,
    /// The `state` sent to the provider (only its hash is stored).
    pub state: Secret,
    /// The nonce the ID token must carry.
    pub nonce: Secret,
    /// The PKCE verifier the code is exchanged with.
    pub pkce_verifier: Secret,
    /// A same-site path to continue to.
    pub next: String,
}

/// A redirect whose answer came back: taken (single use).
#[derive(Debug)]
pub struct Flow {
    /// The configured provider.
    pub provider_id: String,
    /// Why.
    pub purpose: FlowPurpose,
    /// The signed-in session that began a link or a re-authentication.
    pub session: Option<CurrentDeviceSession>,
    /// The nonce the ID token must carry.
    pub nonce: Secret,
    /// The PKCE verifier.
    pub pkce_verifier: Secret,
    /// Where to continue.
    pub next: String,
    /// When the browser left.
    pub started_at: NaiveDateTime,
}

/// An identity whose address belongs to an account it is not linked to: what the
/// login page says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressTaken {
    /// The provider's name.
    pub provider_name: String,
    /// The (verified, normalised) address.
    pub email: String,
}

/// What a provider's sign-in came to.
#[derive(Debug)]
pub enum ProviderSignIn {
    /// A device session started (a new account, or a known identity).
    SignedIn(Box<SignedIn>),
    /// The account has two-step sign-in: the code comes next.
    SecondFactor(PendingSignIn),
    /// The address has an account that this identity is not linked to: nothing is
    /// linked; the person may sign in to it and connect the provider there.
    AddressTaken(AddressTaken),
}

/// Under the sign-up budget (a new account), a sign-in refunds its attempt as a sign-up
/// form's does; the other answers started no session and keep theirs.
impl Settles for ProviderSignIn {
    fn settles(&self) -> Option<Outcome> {
        match self {
            Self::SignedIn(_) => Some(Outcome::Succeeded),
            Self::SecondFactor(_) | Self::AddressTaken(_) => None,
        }
    }
}

/// One linked identity, as the settings page and the review after a reset list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    /// Its id (what unlinking takes).
    pub id: String,
    /// The configured provider.
    pub provider_id: String,
    /// Its configured name when it was linked.
    pub provider_name: String,
    /// The address the provider gave.
    pub email: String,
    /// When it was linked.
    pub linked_at: NaiveDateTime,
}

impl From<IdentityRow> for LinkedIdentity {
    fn from(row: IdentityRow) -> Self {
        Self {
            id: row.id,
            provider_id: row.provider_id,
            provider_name: row.provider_name,
            email: row.email,
            linked_at: row.created_at,
        }
    }
}

/// The account's ways in, for the settings page's "cannot remove the last one".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInMethods {
    /// The account has a password.
    pub password: bool,
    /// How many passkeys.
    pub passkeys: i64,
    /// The linked identities, oldest first.
    pub identities: Vec<LinkedIdentity>,
}

impl SignInMethods {
    /// Whether unlinking one identity would leave the account without a way in.
    pub fn is_last_identity(&self) -> bool {
        !self.password && self.passkeys == 0 && self.identities.len() <= 1
    }
}

/// Sign-in with OpenID providers and the identities linked to accounts.
#[derive(Debug)]
pub struct Identities {
    core: Arc<Core>,
}

impl Identities {
    pub(super) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// Keeps a redirect's secrets until its answer comes back ([`FLOW_LIFETIME`]);
    /// returns its id, for the browser's web session. A link or re-authentication
    /// names the signed-in `session` that began it. With [`MAX_LIVE_FLOWS`] waiting,
    /// the oldest make room.
    pub async fn begin_flow(
        &self,
        flow: NewFlow,
        session: Option<&CurrentDeviceSession>,
    ) -> Result<String, AuthError> {
        let started = now();
        let row = OidcFlowRow {
            id: flow_id(flow.state.expose()),
            provider_id: flow.provider_id,
            purpose: flow.purpose.as_str().to_owned(),
            user_id: session.map(|s| s.user_id.clone()),
            session_id: session.map(|s| s.session_id.clone()),
            nonce: flow.nonce.expose().to_owned(),
            pkce_verifier: flow.pkce_verifier.expose().to_owned(),
            next: flow.next,
            created_at: started,
            expires_at: started + FLOW_LIFETIME,
        };
        let id = row.id.clone();
        let pushed_out = self
            .core
            .db()
            .run(move |conn| {
                conn.write_transaction(|conn| {
                    if let Some(user_id) = &row.user_id {
                        store::keep_newest_flows_of(conn, user_id, FLOWS_PER_USER - 1)?;
                    }
                    // Parallel starts may each see one place left: the next start
                    // then pushes out as many as the table is over.
                    let over = store::live_flows(conn, started)? + 1 - MAX_LIVE_FLOWS;
                    if over > 0 {
                        store::delete_oldest_flows(conn, over)?;
                    }
                    store::insert_flow(conn, &row)?;
                    Ok::<_, DbError>(over > 0)
                })
            })
            .await?;
        if pushed_out {
            tracing::warn!("redirects to providers are full: the oldest was pushed out");
        }
        Ok(id)
    }

    /// Drops a redirect its browser will not bring back (it began newer ones).
    pub async fn forget_flow(&self, id: &str) -> Result<(), AuthError> {
        let id = id.to_owned();
        Ok(self
            .core
            .db()
            .run(move |conn| Ok(store::delete_flow(conn, &id)?))
            .await?)
    }

    /// Takes the redirect whose `state` came back (single use, also for parallel
    /// answers). Unknown, used or expired: [`AuthError::ProviderFailed`].
    pub async fn take_flow(&self, state: &str) -> Result<Flow, AuthError> {
        let id = flow_id(state);
        let row = self
            .core
            .db()
            .run(move |conn| Ok(store::take_flow(conn, &id)?))
            .await?
            .filter(|row| row.expires_at > now())
            .ok_or(AuthError::ProviderFailed)?;
        let purpose = row
            .purpose
            .parse::<FlowPurpose>()
            .map_err(|_| AuthError::ProviderFailed)?;
        let session = match (row.user_id, row.session_id) {
            (Some(user_id), Some(session_id)) => Some(CurrentDeviceSession {
                user_id,
                session_id,
                token_issued_at: 0,
                token_expires_at: 0,
            }),
            _ => None,
        };
        Ok(Flow {
            provider_id: row.provider_id,
            purpose,
            session,
            nonce: Secret::from(row.nonce),
            pkce_verifier: Secret::from(row.pkce_verifier),
            next: row.next,
            started_at: row.created_at,
        })
    }

    /// Whether `identity` would make a new account (no identity, no account with its
    /// address): such a sign-in also spends the client's sign-up budget.
    pub async fn would_sign_up(&self, identity: &ProviderIdentity) -> Result<bool, AuthError> {
        let (issuer, subject) = (identity.issuer.clone(), identity.subject.clone());
        let email = identity.email.clone();
        Ok(self
            .core
            .db()
            .run(move |conn| {
                if store::find(conn, &issuer, &subject)?.is_some() {
                    return Ok(false);
                }
                Ok(match email {
                    Some(email) => accounts::find_by_email(conn, &email)?.is_none(),
                    None => false,
                })
            })
            .await?)
    }

    /// Signs in with an identity the provider vouched for (see the module's rules).
    pub async fn sign_in(
        &self,
        identity: ProviderIdentity,
        policy: ProviderPolicy,
        client: ClientInfo,
    ) -> Result<ProviderSignIn, AuthError> {
        let require_verified = self.core.settings().require_verified_email;
        let decided = self
            .core
            .transaction(client, move |conn, tx| {
                decide_sign_in(conn, tx, &identity, policy, require_verified)
            })
            .await?;
        self.core.mail_queued();
        Ok(match decided? {
            Decided::Started(user, started) => {
                ProviderSignIn::SignedIn(Box::new(self.core.finish_start(user, started)))
            }
            Decided::SecondFactor(pending) => ProviderSignIn::SecondFactor(pending),
            Decided::AddressTaken(taken) => ProviderSignIn::AddressTaken(taken),
        })
    }

    /// Links the identity a provider vouched for to the account of the signed-in
    /// `session` that began the link (sudo mode was checked then), if the person signed
    /// in at the provider after the redirect left (see [`fresh`]). Linking it again is
    /// no change; one linked to another account is [`AuthError::ProviderLinkedElsewhere`].
    pub async fn link(
        &self,
        session: &CurrentDeviceSession,
        identity: ProviderIdentity,
        started_at: NaiveDateTime,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        fresh(&identity, started_at)?;
        let session = session.clone();
        self.core
            .transaction(client, move |conn, tx| {
                let (user_id, session_id) = (&session.user_id, &session.session_id);
                if !device_sessions::is_live_session_of(conn, user_id, session_id, tx.now)? {
                    return Ok(Err(AuthError::SessionEnded));
                }
                let email = identity.email.clone().unwrap_or_default();
                link_identity(
                    conn,
                    tx,
                    &session.user_id,
                    Some(&session.session_id),
                    &identity,
                    &email,
                )
            })
            .await??;
        self.core.mail_queued();
        Ok(())
    }

    /// Sudo mode again, by signing in at the provider anew: the identity must be linked
    /// to the account of the `session` that began it, and the provider must say the
    /// person authenticated after the redirect left (`auth_time`, asked for with
    /// `max_age=0` and `prompt=login`).
    pub async fn reauthenticate(
        &self,
        session: &CurrentDeviceSession,
        identity: &ProviderIdentity,
        started_at: NaiveDateTime,
    ) -> Result<Option<MintedToken>, AuthError> {
        fresh(identity, started_at)?;
        let (current, issuer, subject) = (
            session.clone(),
            identity.issuer.clone(),
            identity.subject.clone(),
        );
        let bound = self
            .core
            .db()
            .run(move |conn| {
                let now = now();
                let linked = store::find(conn, &issuer, &subject)?
                    .is_some_and(|row| row.user_id == current.user_id);
                let (user_id, session_id) = (&current.user_id, &current.session_id);
                if !linked || !device_sessions::is_live_session_of(conn, user_id, session_id, now)?
                {
                    return Ok(Err(AuthError::ProviderFailed));
                }
                Ok(Ok(second_factor::prove(conn, &current.session_id, now)?))
            })
            .await??;
        // As after a password (`SecondFactor::require_sudo`): on a bound session the
        // proof covers tokens minted from now on.
        Ok(bound.then(|| self.core.token_after_proof(session)))
    }

    /// The account's ways in: password, passkeys and linked identities.
    pub async fn sign_in_methods(&self, user_id: &str) -> Result<SignInMethods, AuthError> {
        let id = user_id.to_owned();
        // A read on the request path (the account and devices pages' sudo state).
        Ok(self
            .core
            .db()
            .read(move |conn| Ok(methods(conn, &id)?))
            .await?)
    }

    /// Unlinks the identity `id` from the caller's account (sudo mode is checked by the
    /// caller), unless it is the account's last way in.
    pub async fn unlink(
        &self,
        session: &CurrentDeviceSession,
        id: &str,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let (session, id) = (session.clone(), id.to_owned());
        self.core
            .transaction(client, move |conn, tx| {
                // Parallel unlinks of an account's last two ways in take turns.
                accounts::lock(conn, &session.user_id)?;
                let methods = methods(conn, &session.user_id)?;
                let Some(linked) = methods.identities.iter().find(|i| i.id == id) else {
                    return Ok(Err(AuthError::NotFound));
                };
                if methods.is_last_identity() {
                    return Ok(Err(AuthError::LastSignInMethod));
                }
                unlink_identity(conn, tx, &session.user_id, &session.session_id, linked)
            })
            .await??;
        self.core.mail_queued();
        Ok(())
    }
}

/// Whether the person signed in at the provider after the redirect left (`auth_time`,
/// asked for with `prompt=login` and `max_age=0`): a link or a re-authentication must
/// not ride on a provider session someone else left in this browser.
fn fresh(identity: &ProviderIdentity, started_at: NaiveDateTime) -> Result<(), AuthError> {
    if identity
        .auth_time
        .is_some_and(|at| at + AUTH_TIME_LEEWAY >= started_at)
    {
        Ok(())
    } else {
        tracing::info!("an answer's auth_time is missing or older than its redirect");
        Err(AuthError::ProviderFailed)
    }
}

/// The stored id of a redirect: the hash of its `state`, so a leaked table row cannot
/// be turned back into a callback URL.
pub fn flow_id(state: &str) -> String {
    super::refresh_token::sha256_hex(state)
}

fn methods(conn: &mut DbConnection, user_id: &str) -> QueryResult<SignInMethods> {
    let password = accounts::password_hash_of(conn, user_id)?.is_some_and(|h| has_password(&h));
    let passkeys = passkeys::count(conn, user_id)?;
    let identities = store::list(conn, user_id)?
        .into_iter()
        .map(LinkedIdentity::from)
        .collect();
    Ok(SignInMethods {
        password,
        passkeys,
        identities,
    })
}

enum Decided {
    Started(User, super::transactions::Started),
    SecondFactor(PendingSignIn),
    AddressTaken(AddressTaken),
}

/// The rules of a provider's sign-in, in one transaction (see the module's list).
fn decide_sign_in(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    identity: &ProviderIdentity,
    policy: ProviderPolicy,
    require_verified: bool,
) -> QueryResult<Result<Decided, AuthError>> {
    if let Some(linked) = store::find(conn, &identity.issuer, &identity.subject)? {
        let Some(user) = accounts::find_by_id(conn, &linked.user_id)? else {
            return Ok(Err(AuthError::ProviderFailed));
        };
        let email = identity.email.clone().unwrap_or(linked.email.clone());
        store::record_use(conn, &linked.id, &email, tx.now)?;
        return start(conn, tx, user, identity, require_verified);
    }
    // Unknown identity: only a verified address makes or finds an account.
    let Some(email) = identity.email.clone().filter(|_| identity.email_verified) else {
        return Ok(Err(AuthError::ProviderEmailUnverified));
    };
    match accounts::find_by_email(conn, &email)? {
        Some(user) if policy.trust_email && user.email_verified_at.is_some() => {
            if let Err(err) = link_identity(conn, tx, &user.id, None, identity, &email)? {
                return Ok(Err(err));
            }
            start(conn, tx, user, identity, require_verified)
        }
        Some(_) => Ok(Ok(Decided::AddressTaken(AddressTaken {
            provider_name: identity.provider_name.clone(),
            email,
        }))),
        None => {
            // A new account: the provider verified its address; it has no password.
            let mut user = new_account(email.clone(), Secret::from(NO_PASSWORD.to_owned()));
            user.email_verified_at = Some(tx.now);
            let created = user.clone();
            // A sign-up of this address in the same instant fails here as a unique
            // violation: "an account with this address exists".
            accounts::insert(conn, user)?;
            insert_identity(conn, tx, &created.id, identity, &email)?;
            start(conn, tx, created, identity, require_verified)
        }
    }
}

/// Starts the device session of a provider sign-in of `user`, or the code step.
fn start(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user: User,
    identity: &ProviderIdentity,
    require_verified: bool,
) -> QueryResult<Result<Decided, AuthError>> {
    if require_verified && user.email_verified_at.is_none() {
        return Ok(Err(AuthError::EmailNotVerified));
    }
    let factor = second_factor::find_totp(conn, &user.id)?;
    if factor.is_some_and(|f| f.confirmed_at.is_some()) {
        return Ok(Ok(Decided::SecondFactor(PendingSignIn {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user.id.clone(),
            password_changed_at: user.password_changed_at,
            expires_at: tx.now + PENDING_SIGN_IN_LIFETIME,
            email: user.email.clone(),
            provider: Some(identity.provider_id.clone()),
        })));
    }
    let started = start_device_session(
        conn,
        tx,
        &user.id,
        SignInMethod::Provider,
        Some(&identity.provider_id),
    )?;
    Ok(Ok(Decided::Started(user, started)))
}

/// Links `identity` to `user_id`, recorded and mailed; an identity linked to another
/// account is [`AuthError::ProviderLinkedElsewhere`], one linked to this one no change.
fn link_identity(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
    session_id: Option<&str>,
    identity: &ProviderIdentity,
    email: &str,
) -> QueryResult<Result<(), AuthError>> {
    if let Some(linked) = store::find(conn, &identity.issuer, &identity.subject)? {
        return Ok(if linked.user_id == user_id {
            Ok(())
        } else {
            Err(AuthError::ProviderLinkedElsewhere)
        });
    }
    insert_identity(conn, tx, user_id, identity, email)?;
    record_event(
        conn,
        tx,
        user_id,
        session_id,
        EventKind::ProviderLinked,
        Some(&identity.provider_name),
    )?;
    let facts = MailFacts {
        provider: Some(identity.provider_name.clone()),
        ..tx.mail_facts()
    };
    queue_notice(conn, tx, user_id, MailKind::ProviderLinked, facts)?;
    Ok(Ok(()))
}

/// Unlinks `linked`, an identity of `user_id` read in this transaction, recorded (by
/// `session_id`) and mailed. The caller has checked it is not the last way in. (A reset disconnects recent ones
/// itself, in its own notice: `reset_review::disconnect_recent_identities`.)
fn unlink_identity(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
    session_id: &str,
    linked: &LinkedIdentity,
) -> QueryResult<Result<(), AuthError>> {
    if !store::delete(conn, user_id, &linked.id)? {
        return Ok(Err(AuthError::NotFound));
    }
    record_event(
        conn,
        tx,
        user_id,
        Some(session_id),
        EventKind::ProviderUnlinked,
        Some(&linked.provider_name),
    )?;
    let facts = MailFacts {
        provider: Some(linked.provider_name.clone()),
        ..tx.mail_facts()
    };
    queue_notice(conn, tx, user_id, MailKind::ProviderUnlinked, facts)?;
    Ok(Ok(()))
}

fn insert_identity(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
    identity: &ProviderIdentity,
    email: &str,
) -> QueryResult<()> {
    store::insert(
        conn,
        &IdentityRow {
            id: random_id(),
            user_id: user_id.to_owned(),
            provider_id: identity.provider_id.clone(),
            provider_name: identity.provider_name.clone(),
            issuer: identity.issuer.clone(),
            subject: identity.subject.clone(),
            email: email.to_owned(),
            created_at: tx.now,
            last_used_at: Some(tx.now),
        },
    )
}
