//! Device-bound sessions (DBSC, W3C draft; docs/DBSC.md): a browser that supports them
//! keeps a key pair for a device session (in the TPM where there is one), and once the
//! session is bound, its short-lived access cookie is renewed only with a proof signed
//! by that key. Cookies copied off the disk then stop working at the next expiry.
//!
//! The life of a binding:
//! 1. A new browser session carries a registration challenge
//!    (`transactions::start_device_session`; the web layer sends it as
//!    `Secure-Session-Registration`).
//! 2. [`Dbsc::register`]: the browser's proof, signed with its new key (in the proof's
//!    header), answers that challenge; the key is stored on the session.
//! 3. [`Dbsc::refresh_challenge`] and [`Dbsc::refresh`]: when its access cookie expires
//!    the browser asks for a challenge, signs it, and gets a new access cookie; the
//!    refresh token rotates as in any refresh.
//!
//! From then on a refresh with the refresh token alone (`Sessions::refresh`) is refused,
//! recorded as `dbsc_proof_failed` and mailed (`transactions::rotate`).

use std::sync::Arc;

use super::client_info::ClientInfo;
use super::core::Core;
use super::dbsc_proof::{BoundKey, Proof};
use super::error::AuthError;
use super::events::EventKind;
use super::refresh_token::RefreshToken;
use super::session::{Account, SignedIn};
use super::settings::DbscMode;
use super::transactions::{
    DbscPurpose, Holder, Rotation, Unproven, extend_access, issue_dbsc_challenge, record_event,
    refuse_unproven, rotate, take_dbsc_challenge,
};
use crate::secret::Secret;
use crate::store::models::DeviceSession;
use crate::store::{DbConnection, QueryResult, dbsc, device_sessions, second_factor};

/// Binding sessions to keys, and renewing bound sessions by proof.
#[derive(Debug)]
pub struct Dbsc {
    core: Arc<Core>,
}

/// What a refresh with a proof comes to.
#[derive(Debug)]
pub enum Renewal {
    /// Renewed: the new pair.
    Renewed(Box<SignedIn>),
    /// The proof is the session's key, but over a challenge it no longer holds (pushed
    /// out by newer ones, expired, or used): a new one to sign. Whoever asked for
    /// challenges meanwhile cannot make the device fail its renewal.
    SignAgain(Secret),
}

/// What a registration found, decided inside its transaction.
enum Registering {
    Bound {
        account: Account,
        session_id: String,
        access_until: chrono::NaiveDateTime,
    },
    Refused,
}

impl Dbsc {
    pub(super) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// [`AuthError::NotFound`] with `DBSC=off`: nothing of this service is there.
    pub fn enabled(&self) -> Result<(), AuthError> {
        match self.core.settings().dbsc {
            DbscMode::Off => Err(AuthError::NotFound),
            _ => Ok(()),
        }
    }

    /// Binds the session whose registration challenge `proof` answers to the key in the
    /// proof's header, and mints a new access token for it (its cookie then lives no
    /// longer than the token). A proof that does not verify still tells that the browser
    /// supports DBSC (`DBSC=required` then renews the session only by proof, which it
    /// cannot give) and is recorded as a failed proof.
    pub async fn register(&self, proof: &str, client: ClientInfo) -> Result<SignedIn, AuthError> {
        self.enabled()?;
        let proof = Proof::read(proof).map_err(|_| AuthError::DeviceProof)?;
        let key = proof.verify_new_key();
        let (challenge, algorithm) = (proof.challenge().to_owned(), proof.algorithm());
        let outcome = self
            .core
            .transaction(client, move |conn, tx| {
                let Some(session_id) =
                    take_dbsc_challenge(conn, tx, &challenge, DbscPurpose::Register)?
                else {
                    return Ok(Registering::Refused);
                };
                let Some((session, email)) = live_session(conn, &session_id, tx.now)? else {
                    return Ok(Registering::Refused);
                };
                dbsc::record_offer(conn, &session.id, tx.now, session.absolute_expires_at)?;
                let label = Some(session.device_label.as_str());
                let bound = match &key {
                    Ok(BoundKey { jwk, thumbprint }) => {
                        dbsc::bind(conn, &session.id, algorithm, jwk, thumbprint, tx.now)?
                    }
                    Err(_) => false,
                };
                let kind = if bound {
                    EventKind::DbscBound
                } else {
                    EventKind::DbscProofFailed
                };
                record_event(conn, tx, &session.user_id, Some(&session.id), kind, label)?;
                if !bound {
                    return Ok(Registering::Refused);
                }
                // The sign-in's own sudo mode ends here. It was granted to whoever holds
                // the session's cookies, and a copy of them would keep it for the rest
                // of the window: enough to change the address and then reset the
                // password. The next sensitive action asks for a password or code.
                second_factor::set_proven_at(conn, &session.id, None)?;
                let access_until = extend_access(conn, tx, &session)?;
                Ok(Registering::Bound {
                    account: Account {
                        id: session.user_id.clone(),
                        email,
                    },
                    session_id: session.id,
                    access_until,
                })
            })
            .await?;
        match outcome {
            Registering::Bound {
                account,
                session_id,
                access_until,
            } => {
                let mut signed_in = self.core.signed_in(account, session_id, None, access_until);
                signed_in.bound = true;
                Ok(signed_in)
            }
            Registering::Refused => Err(AuthError::DeviceProof),
        }
    }

    /// A refresh without a proof: a new challenge for the browser to sign, if
    /// `session_id` is a live session bound to a key. Anything else is an ended session
    /// (and writes nothing: anyone can ask).
    pub async fn refresh_challenge(
        &self,
        session_id: &str,
        client: ClientInfo,
    ) -> Result<Secret, AuthError> {
        self.enabled()?;
        self.stored_key(session_id).await?;
        let session_id = session_id.to_owned();
        self.core
            .transaction(client, move |conn, tx| {
                if live_session(conn, &session_id, tx.now)?.is_none() {
                    return Ok(None);
                }
                issue_dbsc_challenge(conn, tx, &session_id, DbscPurpose::Refresh).map(Some)
            })
            .await?
            .ok_or(AuthError::SessionEnded)
    }

    /// A refresh with a proof: `proof` must be signed by the key `session_id` is bound
    /// to and answer a challenge sent for it (single use); then `token`, the session's
    /// refresh token, rotates as in [`super::sessions::Sessions::refresh`]. A proof
    /// that fails is recorded and mailed like a refresh without one; a good one over a
    /// challenge no longer held gets a new challenge ([`Renewal::SignAgain`]).
    pub async fn refresh(
        &self,
        session_id: &str,
        proof: &str,
        token: Option<&RefreshToken>,
        client: ClientInfo,
    ) -> Result<Renewal, AuthError> {
        self.enabled()?;
        let stored = self.stored_key(session_id).await?;
        let proof = Proof::read(proof);
        let checked = proof
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|p| p.verify_stored(&stored));
        let challenge = proof.map(|p| p.challenge().to_owned()).unwrap_or_default();
        let (session_id, token) = (session_id.to_owned(), token.cloned());
        let outcome = self
            .core
            .transaction(client, move |conn, tx| {
                let answered = take_dbsc_challenge(conn, tx, &challenge, DbscPurpose::Refresh)?;
                let Some((session, _)) = live_session(conn, &session_id, tx.now)? else {
                    return Ok(Err(Rotation::Ended));
                };
                if checked.is_err() {
                    refuse_unproven(conn, tx, &session, Unproven::BadProof)?;
                    return Ok(Err(Rotation::ProofMissing));
                }
                if answered.as_deref() != Some(session_id.as_str()) {
                    let again = issue_dbsc_challenge(conn, tx, &session_id, DbscPurpose::Refresh)?;
                    return Ok(Ok(again));
                }
                Ok(Err(match &token {
                    Some(token) => rotate(conn, tx, token, Holder::Proven(&session_id))?,
                    None => Rotation::Ended,
                }))
            })
            .await?;
        match outcome {
            Ok(again) => Ok(Renewal::SignAgain(again)),
            Err(rotation) => {
                // Renewed by proof: the session is bound.
                let mut signed_in = self.core.rotated(rotation)?;
                signed_in.bound = true;
                Ok(Renewal::Renewed(Box::new(signed_in)))
            }
        }
    }

    /// The key `session_id` is bound to; an unknown or unbound session has ended, as
    /// far as a DBSC refresh can tell.
    async fn stored_key(&self, session_id: &str) -> Result<BoundKey, AuthError> {
        let id = session_id.to_owned();
        let row = self
            .core
            .db()
            .run(move |conn| Ok(dbsc::key(conn, &id)?))
            .await?;
        match row {
            Some(row) => match (row.jwk, row.thumbprint) {
                (Some(jwk), Some(thumbprint)) => Ok(BoundKey { jwk, thumbprint }),
                _ => Err(AuthError::SessionEnded),
            },
            None => Err(AuthError::SessionEnded),
        }
    }
}

/// The session `id` and its account's address, if it is live (not revoked, not expired).
fn live_session(
    conn: &mut DbConnection,
    id: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<Option<(DeviceSession, String)>> {
    let found = device_sessions::find_with_email(conn, id)?;
    Ok(found.filter(|(session, _)| session.is_live_at(now)))
}
