//! Account recovery and the address: forgotten passwords, verification, changing the
//! address, and the new-device notice setting. Every mail these cause is queued in the
//! same transaction as the change (see `mail`). ARCHITECTURE: "Mail and account recovery".

use std::sync::Arc;

use super::client_info::ClientInfo;
use super::core::Core;
use super::email;
use super::email_link::{self, LinkProblem, LinkPurpose};
use super::error::AuthError;
use super::events::EventKind;
use super::notices::{MailFacts, MailKind};
use super::password;
use super::reset_review::{self, ResetGrant};
use super::session::{CurrentDeviceSession, RevokeReason};
use super::transactions::{
    queue_limited, queue_notice, queue_verification, record_event, revoke_live_device_sessions,
    void_pending_links,
};
use crate::secret::Secret;
use crate::store::models::User;
use crate::store::{DbConnection, QueryResult, accounts, email_tokens};

/// Forgotten passwords and address verification, by mailed link.
#[derive(Debug)]
pub struct Recovery {
    core: Arc<Core>,
}

impl Recovery {
    pub(super) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// Queues a password-reset mail for `raw_email`. The answer, and the work done, are
    /// the same whether or not the address has an account: the sender finds out at
    /// delivery, and drops the mail if there is none. At most a few per address an hour
    /// (silently: the answer stays the same).
    pub async fn request_password_reset(
        &self,
        raw_email: &str,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let email = email::normalize(raw_email)?;
        self.core
            .transaction(client, move |conn, tx| {
                queue_limited(conn, tx, MailKind::PasswordReset, &email, None)
            })
            .await?;
        self.core.mail_queued();
        Ok(())
    }

    /// Whether the link with this token hash would work for `purpose`; returns the
    /// address it was sent to. Reads only.
    pub async fn check_link(
        &self,
        purpose: LinkPurpose,
        token_hash: String,
    ) -> Result<String, AuthError> {
        let now = super::transactions::now();
        let row = self
            .core
            .db()
            .run(move |conn| Ok(email_tokens::find(conn, &token_hash)?))
            .await?;
        email_link::check(row.as_ref(), purpose, now)?;
        Ok(row.map(|row| row.email).unwrap_or_default())
    }

    /// Sets a new password with a reset link: the link is used up, every device is
    /// signed out (whoever knew the old password may be signed in somewhere), the address
    /// counts as verified (the link proved it), and a notice listing the account's
    /// passkeys and second factor is mailed. Returns the account's address (the browser
    /// that proved the mailbox is one of its own) and the grant to review those methods.
    pub async fn reset_password(
        &self,
        token_hash: String,
        new_password: Secret,
        client: ClientInfo,
    ) -> Result<(String, ResetGrant), AuthError> {
        password::check_policy(new_password.expose())?;
        // A dead link is refused before the expensive hash.
        self.check_link(LinkPurpose::PasswordReset, token_hash.clone())
            .await?;
        let hash = self.core.passwords.hash(new_password).await?;
        let (revoked, email, grant) = self
            .core
            .transaction(client, move |conn, tx| {
                let user = match redeem_for_account(
                    conn,
                    &token_hash,
                    LinkPurpose::PasswordReset,
                    tx.now,
                )? {
                    Ok(user) => user,
                    Err(problem) => return Ok(Err(problem)),
                };
                accounts::set_password_hash(conn, &user.id, hash, tx.now)?;
                void_pending_links(conn, tx, &user.id)?;
                if user.email_verified_at.is_none() {
                    accounts::set_email_verified(conn, &user.id, tx.now)?;
                }
                let revoked = revoke_live_device_sessions(
                    conn,
                    tx,
                    &user.id,
                    None,
                    RevokeReason::PasswordChanged,
                )?;
                let count = revoked.len().to_string();
                record_event(
                    conn,
                    tx,
                    &user.id,
                    None,
                    EventKind::PasswordReset,
                    Some(&count),
                )?;
                // A provider account connected lately signs in without the password and
                // could win the race to the review: the reset disconnects it (listed in
                // the notice; its owner connects it again in a moment).
                let disconnected =
                    reset_review::disconnect_recent_identities(conn, tx, &user.id, tx.now)?;
                let mut methods = reset_review::method_facts(conn, &user.id)?;
                methods.extend(disconnected);
                let facts = MailFacts {
                    methods,
                    ..tx.mail_facts()
                };
                queue_notice(conn, tx, &user.id, MailKind::ResetCompleted, facts)?;
                let grant = reset_review::grant_for(&user, tx.now);
                Ok(Ok((revoked, user.email, grant)))
            })
            .await??;
        self.core.remember_revoked(revoked);
        self.core.mail_queued();
        Ok((email, grant))
    }

    /// Verifies the address with the link mailed to it; returns the address.
    pub async fn verify_email(
        &self,
        token_hash: String,
        client: ClientInfo,
    ) -> Result<String, AuthError> {
        Ok(self
            .core
            .transaction(client, move |conn, tx| {
                let user = match redeem_for_account(
                    conn,
                    &token_hash,
                    LinkPurpose::EmailVerification,
                    tx.now,
                )? {
                    Ok(user) => user,
                    Err(problem) => return Ok(Err(problem)),
                };
                accounts::set_email_verified(conn, &user.id, tx.now)?;
                record_event(
                    conn,
                    tx,
                    &user.id,
                    None,
                    EventKind::EmailVerified,
                    Some(&user.email),
                )?;
                Ok(Ok(user.email))
            })
            .await??)
    }

    /// Sends the signed-in user a new verification link (within the per-address limit).
    /// An address already verified needs none: nothing is sent.
    pub async fn resend_verification(
        &self,
        current: &CurrentDeviceSession,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let user_id = current.user_id.clone();
        let queued = self
            .core
            .transaction(client, move |conn, tx| {
                let Some(user) = accounts::find_by_id(conn, &user_id)? else {
                    return Ok(true);
                };
                if user.email_verified_at.is_some() {
                    return Ok(true);
                }
                queue_verification(conn, tx, &user.email, &user.id)
            })
            .await?;
        if !queued {
            return Err(AuthError::MailLimit);
        }
        self.core.mail_queued();
        Ok(())
    }
}

/// Uses up a link mailed to the account's address (a reset or a verification) and
/// returns the account. A link sent to an address the account no longer has is void.
fn redeem_for_account(
    conn: &mut DbConnection,
    token_hash: &str,
    purpose: LinkPurpose,
    now: chrono::NaiveDateTime,
) -> QueryResult<Result<User, LinkProblem>> {
    let token = match email_link::redeem(conn, token_hash, purpose, now)? {
        Ok(token) => token,
        Err(problem) => return Ok(Err(problem)),
    };
    let user = accounts::find_by_id(conn, &token.user_id)?;
    Ok(user
        .filter(|user| user.email == token.email)
        .ok_or(LinkProblem::Unknown))
}
