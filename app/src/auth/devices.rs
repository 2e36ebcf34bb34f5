//! A user's devices: list them, sign one out, sign out all others, and keep "last
//! active" honest without a write per request. ARCHITECTURE: "Revocation".
//!
//! Every query here is scoped to the owner (`user_id = ?`), so "revoke someone else's
//! session" cannot be expressed: an id that is not yours is simply not found.

use diesel::prelude::*;

use super::client::ClientInfo;
use super::error::AuthError;
use super::events::EventKind;
use super::service::{AuthService, CurrentDeviceSession, RevokeReason};
use super::transactions::{
    live_device_sessions_of, record_event, revoke_device_session, revoke_live_device_sessions,
};
use crate::store::models::DeviceSession;
use crate::store::schema::device_sessions;

/// How often, at most, an authenticated request writes `last_seen_at` for its session.
pub const LAST_SEEN_INTERVAL_SECS: i64 = 60;

impl AuthService {
    /// The user's live sessions: the current one first, then by last activity.
    pub async fn list_devices(
        &self,
        current: &CurrentDeviceSession,
    ) -> Result<Vec<DeviceSession>, AuthError> {
        let user_id = current.user_id.clone();
        let now = chrono::Utc::now().naive_utc();
        let mut sessions: Vec<DeviceSession> = self
            .db()
            .run(move |conn| {
                Ok(live_device_sessions_of(&user_id, now)
                    .order(device_sessions::last_seen_at.desc())
                    .select(DeviceSession::as_select())
                    .load(conn)?)
            })
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
                let found: Option<String> = live_device_sessions_of(&user_id, tx.now)
                    .filter(device_sessions::id.eq(&target))
                    .select(device_sessions::id)
                    .first(conn)
                    .optional()?;
                let Some(target) = found else {
                    return Ok(None);
                };
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
                .run(move |conn| {
                    diesel::update(
                        device_sessions::table
                            .find(id)
                            .filter(device_sessions::last_seen_at.lt(seen)),
                    )
                    .set(device_sessions::last_seen_at.eq(seen))
                    .execute(conn)?;
                    Ok(())
                })
                .await;
            if let Err(err) = result {
                tracing::debug!(error = %err, "could not record activity");
            }
        });
    }
}

/// When each session last had its activity written, so most requests skip the write.
#[derive(Debug)]
pub struct ActivityTracker {
    written: quick_cache::sync::Cache<String, i64>,
}

impl Default for ActivityTracker {
    fn default() -> Self {
        Self {
            written: quick_cache::sync::Cache::new(100_000),
        }
    }
}

impl ActivityTracker {
    /// True (and remembered) when `session_id` was not written in the last minute.
    pub fn should_write(&self, session_id: &str, now: i64) -> bool {
        match self.written.get(session_id) {
            Some(last) if now - last < LAST_SEEN_INTERVAL_SECS => false,
            _ => {
                self.written.insert(session_id.to_owned(), now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_is_written_at_most_once_a_minute_per_session() {
        let tracker = ActivityTracker::default();
        assert!(tracker.should_write("a", 1000));
        assert!(!tracker.should_write("a", 1030));
        assert!(
            tracker.should_write("b", 1030),
            "sessions are tracked separately"
        );
        assert!(!tracker.should_write("a", 1059));
        assert!(tracker.should_write("a", 1060));
    }
}
