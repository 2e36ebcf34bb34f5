//! The account itself: change the password, delete the account, read its activity.

use super::client::ClientInfo;
use super::error::AuthError;
use super::events::EventKind;
use super::password::{self, Verification};
use super::service::AuthService;
use super::session::{CurrentDeviceSession, RevokeReason};
use super::transactions::{
    queue_mail, queue_notice, record_event, revoke_live_device_sessions, void_pending_links,
};
use crate::mail::MailKind;
use crate::secret::Secret;
use crate::store::models::SecurityEvent;
use crate::store::{accounts, device_sessions, events};

/// Events shown per page of the activity list.
pub const ACTIVITY_PAGE: i64 = 50;

impl AuthService {
    /// Checks `password` against the caller's account; a wrong one is
    /// [`AuthError::WrongPassword`].
    pub(super) async fn confirm_password(
        &self,
        user_id: &str,
        password: Secret,
    ) -> Result<(), AuthError> {
        let id = user_id.to_owned();
        let stored = self
            .db()
            .run(move |conn| Ok(accounts::password_hash_of(conn, &id)?))
            .await?;
        match self.passwords().verify(password, stored).await? {
            Verification::Valid { .. } => Ok(()),
            Verification::Invalid => Err(AuthError::WrongPassword),
        }
    }

    /// Sets a new password (sudo mode is checked by the caller), and signs out every
    /// other device (whoever knew the old password may be signed in somewhere). Returns
    /// how many devices were signed out.
    pub async fn change_password(
        &self,
        current: &CurrentDeviceSession,
        new_password: Secret,
        client: ClientInfo,
    ) -> Result<usize, AuthError> {
        password::check_policy(new_password.expose())?;
        let hash = self.passwords().hash(new_password).await?;
        let (user_id, keep) = (current.user_id.clone(), current.session_id.clone());
        let revoked = self
            .transaction(client, move |conn, tx| {
                // The acting device may have been signed out while the hash was made.
                if !device_sessions::is_live_session_of(conn, &user_id, &keep, tx.now)? {
                    return Ok(Err(AuthError::SessionRevoked));
                }
                accounts::set_password_hash(conn, &user_id, hash, tx.now)?;
                // A link mailed before the change must not undo it.
                void_pending_links(conn, tx, &user_id)?;
                let revoked = revoke_live_device_sessions(
                    conn,
                    tx,
                    &user_id,
                    Some(&keep),
                    RevokeReason::PasswordChanged,
                )?;
                let count = revoked.len().to_string();
                record_event(
                    conn,
                    tx,
                    &user_id,
                    Some(&keep),
                    EventKind::PasswordChanged,
                    Some(&count),
                )?;
                queue_notice(
                    conn,
                    tx,
                    &user_id,
                    MailKind::PasswordChanged,
                    tx.mail_facts(),
                )?;
                Ok(Ok(revoked))
            })
            .await??;
        let count = revoked.len();
        self.remember_revoked(revoked);
        self.mail_queued();
        Ok(count)
    }

    /// Deletes the account (sudo mode is checked by the caller): every session is revoked
    /// (so every access token dies at once), then the user row goes and with it, by
    /// cascade, its sessions, refresh tokens and events.
    pub async fn delete_account(
        &self,
        current: &CurrentDeviceSession,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let user_id = current.user_id.clone();
        let revoked = self
            .transaction(client, move |conn, tx| {
                let revoked = revoke_live_device_sessions(
                    conn,
                    tx,
                    &user_id,
                    None,
                    RevokeReason::AccountDeleted,
                )?;
                // Queued before the row goes (a mail about a user goes with the user),
                // and about nobody, so it stays.
                if let Some(user) = accounts::find_by_id(conn, &user_id)? {
                    queue_mail(
                        conn,
                        tx,
                        MailKind::AccountDeleted,
                        &user.email,
                        None,
                        &tx.mail_facts(),
                    )?;
                }
                accounts::delete(conn, &user_id)?;
                Ok(revoked)
            })
            .await?;
        self.remember_revoked(revoked);
        self.forget_account(&current.user_id);
        Ok(())
    }

    /// The caller's security events, newest first, [`ACTIVITY_PAGE`] at a time, starting
    /// after the event `before` (ids are UUID v7, so they sort by time).
    pub async fn activity(
        &self,
        current: &CurrentDeviceSession,
        before: Option<String>,
    ) -> Result<Vec<SecurityEvent>, AuthError> {
        let user_id = current.user_id.clone();
        Ok(self
            .db()
            .read(move |conn| {
                Ok(events::page(
                    conn,
                    &user_id,
                    before.as_deref(),
                    ACTIVITY_PAGE + 1,
                )?)
            })
            .await?)
    }
}
