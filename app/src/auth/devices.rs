//! A user's devices: list them, sign one out, sign out all others, and keep "last
//! active" honest without a write per request. ARCHITECTURE: "Revocation".
//!
//! Every query here is scoped to the owner (`user_id = ?`), so "revoke someone else's
//! session" cannot be expressed: an id that is not yours is simply not found.

use super::client::ClientInfo;
use super::error::AuthError;
use super::events::EventKind;
use super::service::AuthService;
use super::session::{CurrentDeviceSession, RevokeReason};
use super::transactions::{
    record_event, revoke_device_session, revoke_live_device_sessions, void_pending_links,
};
use crate::store::device_sessions;
use crate::store::device_sessions::ListedDevice;

impl AuthService {
    /// The user's live sessions: the current one first, then by last activity.
    pub async fn list_devices(
        &self,
        current: &CurrentDeviceSession,
    ) -> Result<Vec<ListedDevice>, AuthError> {
        let user_id = current.user_id.clone();
        let now = chrono::Utc::now().naive_utc();
        let mut sessions = self
            .db()
            .read(move |conn| Ok(device_sessions::live_sessions(conn, &user_id, now)?))
            .await?;
        sessions.sort_by_key(|s| s.id != current.session_id);
        Ok(sessions)
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
                self.remember_revoked(revoked);
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
        self.remember_revoked(revoked);
        Ok(count)
    }

    /// Records activity of `session` in `last_seen_at`, at most once a minute per session
    /// (remembered in memory), off the request's path. Refreshes always update it.
    pub fn note_activity(&self, session: &CurrentDeviceSession) {
        let now = chrono::Utc::now();
        if !self
            .activity_tracker()
            .should_write(&session.session_id, now.timestamp())
        {
            return;
        }
        let (db, id, seen) = (
            self.db().clone(),
            session.session_id.clone(),
            now.naive_utc(),
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
