//! A user's devices: list them, sign one out, sign out all others, and keep "last
//! active" honest without a write per request. ARCHITECTURE: "Revocation".
//!
//! Every query here is scoped to the owner (`user_id = ?`), so "revoke someone else's
//! session" cannot be expressed: an id that is not yours is simply not found.

use std::sync::Arc;

use super::client_info::ClientInfo;
use super::core::Core;
use super::error::AuthError;
use super::events::EventKind;
use super::session::{CurrentDeviceSession, RevokeReason, SignInMethod};
use super::transactions::{
    record_event, revoke_device_session, revoke_live_device_sessions, void_pending_links,
};
use crate::store::device_sessions;

/// A live device session as the devices page lists it, its times in Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The session id.
    pub id: String,
    /// Whether it is the caller's own.
    pub current: bool,
    /// A label such as "Chrome 131 on Linux" (see `client::device_label`).
    pub label: String,
    /// The client IP at sign-in.
    pub ip: String,
    /// How it signed in.
    pub sign_in_method: SignInMethod,
    /// The OpenID provider it signed in with (its configured id), if any.
    pub sign_in_provider: Option<String>,
    /// Sign-in time.
    pub signed_in_at: i64,
    /// Last refresh, or last request (at most once a minute).
    pub last_seen_at: i64,
    /// When it ends unless used again: the idle expiry, or the absolute one if sooner.
    pub expires_at: i64,
    /// Its browser keeps a key the session is bound to (DBSC): copied cookies stop
    /// working at their next renewal.
    pub bound: bool,
}

/// The devices page: a user's live device sessions.
#[derive(Debug)]
pub struct Devices {
    core: Arc<Core>,
}

impl Devices {
    pub(super) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// The user's live sessions: the current one first, then by last activity.
    pub async fn list_devices(
        &self,
        current: &CurrentDeviceSession,
    ) -> Result<Vec<Device>, AuthError> {
        let user_id = current.user_id.clone();
        let now = chrono::Utc::now().naive_utc();
        let sessions = self
            .core
            .db()
            .read(move |conn| Ok(device_sessions::live_sessions(conn, &user_id, now)?))
            .await?;
        let mut devices: Vec<Device> = sessions
            .into_iter()
            .map(|s| Device {
                current: s.id == current.session_id,
                bound: s.bound,
                sign_in_method: s.sign_in_method.parse().unwrap_or(SignInMethod::Password),
                sign_in_provider: s.sign_in_provider,
                id: s.id,
                label: s.device_label,
                ip: s.ip,
                signed_in_at: s.signed_in_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
            })
            .collect();
        devices.sort_by_key(|d| !d.current);
        Ok(devices)
    }

    /// Signs out one of the caller's devices (possibly the current one). An id that is
    /// not one of the caller's live sessions is [`AuthError::NotFound`].
    pub async fn revoke_device(
        &self,
        current: &CurrentDeviceSession,
        session_id: &str,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let (user_id, target, by) = (
            current.user_id.clone(),
            session_id.to_owned(),
            current.session_id.clone(),
        );
        let revoked = self
            .core
            .transaction(client, move |conn, tx| {
                if !device_sessions::is_live_session_of(conn, &user_id, &target, tx.now)? {
                    return Ok(None);
                }
                // The event's IP and browser are the acting device's.
                let reason = if target == by {
                    RevokeReason::Logout
                } else {
                    RevokeReason::SignedOutRemotely
                };
                Ok(Some(revoke_device_session(conn, tx, &target, reason)?))
            })
            .await?;
        match revoked {
            None => Err(AuthError::NotFound),
            Some(revoked) => {
                self.core.remember_revoked(revoked);
                Ok(())
            }
        }
    }

    /// Signs out every live session of the caller except the current one; returns how
    /// many were signed out.
    pub async fn revoke_other_devices(
        &self,
        current: &CurrentDeviceSession,
        client: ClientInfo,
    ) -> Result<usize, AuthError> {
        let (user_id, keep) = (current.user_id.clone(), current.session_id.clone());
        let revoked = self
            .core
            .transaction(client, move |conn, tx| {
                let revoked = revoke_live_device_sessions(
                    conn,
                    tx,
                    &user_id,
                    Some(&keep),
                    RevokeReason::SignedOutAllOthers,
                )?;
                void_pending_links(conn, tx, &user_id)?;
                if !revoked.is_empty() {
                    let count = revoked.len().to_string();
                    record_event(
                        conn,
                        tx,
                        &user_id,
                        Some(&keep),
                        EventKind::OtherDevicesSignedOut,
                        Some(&count),
                    )?;
                }
                Ok(revoked)
            })
            .await?;
        let count = revoked.len();
        self.core.remember_revoked(revoked);
        Ok(count)
    }

    /// Records activity of `session` in `last_seen_at`, at most once a minute per session
    /// (remembered in memory), off the request's path. Refreshes always update it.
    pub fn note_activity(&self, session: &CurrentDeviceSession) {
        // Seconds are all the check needs; the calendar time is made only to write it.
        let now = super::now_unix();
        if !self.core.activity.should_write(&session.session_id, now) {
            return;
        }
        let Some(seen) = chrono::DateTime::from_timestamp(now, 0) else {
            return;
        };
        let (db, id, seen) = (
            self.core.db().clone(),
            session.session_id.clone(),
            seen.naive_utc(),
        );
        tokio::spawn(async move {
            let result = db
                .run(move |conn| Ok(device_sessions::note_seen(conn, &id, seen)?))
                .await;
            if let Err(err) = result {
                tracing::debug!(error = %err, "could not record activity");
            }
        });
    }
}
