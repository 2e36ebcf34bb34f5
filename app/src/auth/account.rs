//! The account itself: change the password, delete the account, read its activity.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::client_info::ClientInfo;
use super::core::Core;
use super::email;
use super::email_link::{self, LinkProblem, LinkPurpose};
use super::error::AuthError;
use super::events::EventKind;
use super::notices::{MailFacts, MailKind};
use super::password;
use super::session::{CurrentDeviceSession, RevokeReason, SignInMethod};
use super::transactions::{
    queue_limited, queue_mail, queue_notice, record_event, revoke_live_device_sessions,
    void_pending_links,
};
use crate::secret::Secret;
use crate::store::{accounts, device_sessions, email_tokens, events, second_factor};

/// Address changes one account may ask for in an hour.
const CHANGE_REQUESTS_PER_HOUR: i64 = 3;

/// What `/account` shows about the address and mail settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSettings {
    /// The address.
    pub email: String,
    /// Whether it has been verified.
    pub verified: bool,
    /// Whether new-device sign-ins are mailed.
    pub notify_new_device: bool,
}

/// One page of an account's activity, newest first.
#[derive(Debug, Clone)]
pub struct Activity {
    /// The events.
    pub entries: Vec<ActivityEntry>,
    /// The cursor for the next, older page, if there is one.
    pub older: Option<String>,
}

/// One event on the activity page.
#[derive(Debug, Clone)]
pub struct ActivityEntry {
    /// The event id (UUID v7: a cursor for paging).
    pub id: String,
    /// What happened.
    pub kind: EventKind,
    /// The User-Agent of the request that caused it.
    pub user_agent: String,
    /// Extra detail, e.g. which device was signed out.
    pub detail: String,
    /// The client IP of that request.
    pub ip: String,
    /// When.
    pub at: NaiveDateTime,
    /// For a sign-in whose session is still known: how it signed in, and through which
    /// OpenID provider (its configured id) if one.
    pub sign_in_method: Option<(SignInMethod, Option<String>)>,
}

/// Events shown per page of the activity list.
pub const ACTIVITY_PAGE: i64 = 50;

/// The account's own settings: password, address, new-device notices, activity, and
/// deletion.
#[derive(Debug)]
pub struct Accounts {
    core: Arc<Core>,
}

impl Accounts {
    pub(super) fn new(core: Arc<Core>) -> Self {
        Self { core }
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
        let hash = self.core.passwords.hash(new_password).await?;
        let (user_id, keep) = (current.user_id.clone(), current.session_id.clone());
        let revoked = self
            .core
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
        self.core.remember_revoked(revoked);
        self.core.mail_queued();
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
            .core
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
        self.core.remember_revoked(revoked);
        self.core.forget_account(&current.user_id);
        Ok(())
    }

    /// The caller's security events, newest first, [`ACTIVITY_PAGE`] at a time, starting
    /// after the event `before` (ids are UUID v7, so they sort by time); each sign-in
    /// with how it signed in, while its session is still known.
    pub async fn activity(
        &self,
        current: &CurrentDeviceSession,
        before: Option<String>,
    ) -> Result<Activity, AuthError> {
        let user_id = current.user_id.clone();
        let (mut rows, methods) = self
            .core
            .db()
            .read(move |conn| {
                let rows = events::page(conn, &user_id, before.as_deref(), ACTIVITY_PAGE + 1)?;
                let sign_ins: Vec<String> = rows
                    .iter()
                    .filter(|e| e.kind.parse().is_ok_and(EventKind::is_sign_in))
                    .filter_map(|e| e.session_id.clone())
                    .collect();
                let methods = second_factor::sign_in_methods(conn, &sign_ins)?;
                Ok((rows, methods))
            })
            .await?;
        let methods: HashMap<String, (SignInMethod, Option<String>)> = methods
            .into_iter()
            .filter_map(|(id, method, provider)| Some((id, (method.parse().ok()?, provider))))
            .collect();
        let older = (rows.len() as i64 > ACTIVITY_PAGE).then(|| {
            rows.truncate(ACTIVITY_PAGE as usize);
            rows.last().map(|e| e.id.clone()).unwrap_or_default()
        });
        let entries = rows
            .into_iter()
            .filter_map(|event| {
                let kind: EventKind = event.kind.parse().ok()?;
                let sign_in_method = event
                    .session_id
                    .as_ref()
                    .filter(|_| kind.is_sign_in())
                    .and_then(|id| methods.get(id).cloned());
                Some(ActivityEntry {
                    id: event.id,
                    kind,
                    user_agent: event.user_agent.unwrap_or_default(),
                    detail: event.detail.unwrap_or_default(),
                    ip: event.ip.unwrap_or_default(),
                    at: event.created_at,
                    sign_in_method,
                })
            })
            .collect();
        Ok(Activity { entries, older })
    }

    /// Starts changing the signed-in user's address (sudo mode is checked by the caller):
    /// mails a confirming link to the new address. The change happens only when that link is
    /// opened. If the new address belongs to another account, its owner is warned
    /// instead, and the answer is the same, so this cannot probe for accounts.
    pub async fn request_email_change(
        &self,
        current: &CurrentDeviceSession,
        raw_new_email: &str,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let new_email = email::normalize(raw_new_email)?;
        let (user_id, session_id) = (current.user_id.clone(), current.session_id.clone());
        self.core
            .transaction(client, move |conn, tx| {
                // The acting device may have been signed out (a reset) while its proof was
                // being checked: a link it asked for must not outlive that.
                if !device_sessions::is_live_session_of(conn, &user_id, &session_id, tx.now)? {
                    return Ok(Err(AuthError::SessionRevoked));
                }
                let Some(user) = accounts::find_by_id(conn, &user_id)? else {
                    return Ok(Err(AuthError::NotSignedIn));
                };
                if user.email == new_email {
                    return Ok(Err(AuthError::SameEmail));
                }
                // One account may ask to move a few times an hour, to whatever address: it
                // cannot be used to mail many inboxes. Said the same for every address.
                let hour_ago = tx.now - chrono::Duration::hours(1);
                let kind = EventKind::EmailChangeRequested.as_str();
                if events::count_since(conn, &user.id, kind, hour_ago)? >= CHANGE_REQUESTS_PER_HOUR
                {
                    return Ok(Err(AuthError::MailLimit));
                }
                let owner = accounts::find_by_email(conn, &new_email)?;
                // A mail the target's limits refuse is dropped without a word: the answer
                // must not tell a taken address from a free one (their limits differ).
                match &owner {
                    Some(owner) => queue_limited(
                        conn,
                        tx,
                        MailKind::AddressInUse,
                        &new_email,
                        Some(&owner.id),
                    )?,
                    None => {
                        queue_limited(conn, tx, MailKind::EmailChange, &new_email, Some(&user.id))?
                    }
                };
                record_event(
                    conn,
                    tx,
                    &user.id,
                    Some(&session_id),
                    EventKind::EmailChangeRequested,
                    Some(&new_email),
                )?;
                // The current address hears of it now, not only once it is too late.
                let facts = MailFacts {
                    new_email: Some(new_email.clone()),
                    ..tx.mail_facts()
                };
                queue_notice(conn, tx, &user.id, MailKind::EmailChangeRequested, facts)?;
                Ok(Ok(()))
            })
            .await??;
        self.core.mail_queued();
        Ok(())
    }

    /// Completes an address change with the link mailed to the new address: the account
    /// switches to it (verified), links sent to the old address stop working, and the old
    /// address is told. Returns the new address.
    pub async fn confirm_email_change(
        &self,
        token_hash: String,
        client: ClientInfo,
    ) -> Result<String, AuthError> {
        let (user_id, new_email) = self
            .core
            .transaction(client, move |conn, tx| {
                let token = match email_link::redeem(
                    conn,
                    &token_hash,
                    LinkPurpose::EmailChange,
                    tx.now,
                )? {
                    Ok(token) => token,
                    Err(problem) => return Ok(Err(AuthError::Link(problem))),
                };
                let Some(user) = accounts::find_by_id(conn, &token.user_id)? else {
                    return Ok(Err(AuthError::Link(LinkProblem::Unknown)));
                };
                if accounts::find_by_email(conn, &token.email)?.is_some() {
                    return Ok(Err(AuthError::EmailTaken));
                }
                // The old address is told, within its limits as it stands before the
                // change (verified or not).
                let facts = MailFacts {
                    old_email: Some(user.email.clone()),
                    new_email: Some(token.email.clone()),
                    ..tx.mail_facts()
                };
                queue_mail(
                    conn,
                    tx,
                    MailKind::EmailChanged,
                    &user.email,
                    Some(&user.id),
                    &facts,
                )?;
                accounts::set_email(conn, &user.id, &token.email, tx.now)?;
                email_tokens::void_unused(
                    conn,
                    &user.id,
                    &[
                        LinkPurpose::PasswordReset.as_str(),
                        LinkPurpose::EmailVerification.as_str(),
                        LinkPurpose::EmailChange.as_str(),
                    ],
                )?;
                let change = format!("{} → {}", user.email, token.email);
                record_event(
                    conn,
                    tx,
                    &user.id,
                    None,
                    EventKind::EmailChanged,
                    Some(&change),
                )?;
                Ok(Ok((user.id, token.email)))
            })
            .await??;
        self.core.forget_account(&user_id);
        self.core.mail_queued();
        Ok(new_email)
    }

    /// The address, whether it is verified, and the mail settings.
    pub async fn account_settings(
        &self,
        current: &CurrentDeviceSession,
    ) -> Result<AccountSettings, AuthError> {
        let id = current.user_id.clone();
        let user = self
            .core
            .db()
            .run(move |conn| Ok(accounts::find_by_id(conn, &id)?))
            .await?
            .ok_or(AuthError::NotSignedIn)?;
        Ok(AccountSettings {
            email: user.email,
            verified: user.email_verified_at.is_some(),
            notify_new_device: user.notify_new_device,
        })
    }

    /// Turns the new-device sign-in mail on or off.
    pub async fn set_new_device_notice(
        &self,
        current: &CurrentDeviceSession,
        on: bool,
    ) -> Result<(), AuthError> {
        let id = current.user_id.clone();
        Ok(self
            .core
            .db()
            .run(move |conn| Ok(accounts::set_notify_new_device(conn, &id, on)?))
            .await?)
    }
}
