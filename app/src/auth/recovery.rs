//! Account recovery and the address: forgotten passwords, verification, changing the
//! address, and the new-device notice setting. Every mail these cause is queued in the
//! same transaction as the change (see `mail`). ARCHITECTURE: "Mail and account recovery".

use super::client::ClientInfo;
use super::email;
use super::email_link::{self, LinkProblem, LinkPurpose};
use super::error::AuthError;
use super::events::EventKind;
use super::password;
use super::reset_review::{self, ResetGrant};
use super::service::AuthService;
use super::session::{CurrentDeviceSession, RevokeReason, SignedIn};
use super::transactions::{
    create_account, new_account, queue_limited, queue_mail, queue_notice, queue_verification,
    record_event, revoke_live_device_sessions, void_pending_links,
};
use crate::mail::{MailFacts, MailKind};
use crate::secret::Secret;
use crate::store::models::User;
use crate::store::{DbConnection, QueryResult, accounts, device_sessions, email_tokens, events};

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

/// The result of a sign-up.
#[derive(Debug)]
pub enum Registered {
    /// The account exists and this device is signed in.
    SignedIn(Box<SignedIn>),
    /// `REQUIRE_VERIFIED_EMAIL`: a link went to the address (or, if it was taken, a
    /// warning to its owner); nobody is signed in yet.
    CheckInbox,
    /// The password was right and the account has two-step sign-in: the sign-in waits
    /// for a code.
    SecondFactor(super::second_factor::PendingSignIn),
}

impl AuthService {
    /// Sign-up as configured: without `REQUIRE_VERIFIED_EMAIL` the account is created
    /// and signed in ([`AuthService::sign_up`]); with it, the answer is
    /// [`Registered::CheckInbox`] whether or not the address is taken, and for a taken
    /// one its owner is told by mail instead. Both paths hash the password and write one
    /// transaction with one mail, so they also take the same time.
    pub async fn register(
        &self,
        raw_email: &str,
        password: Secret,
        client: ClientInfo,
    ) -> Result<Registered, AuthError> {
        if !self.settings().require_verified_email {
            return Ok(Registered::SignedIn(Box::new(
                self.sign_up(raw_email, password, client).await?,
            )));
        }
        let email = email::normalize(raw_email)?;
        password::check_policy(password.expose())?;
        let password_hash = self.passwords().hash(password).await?;
        self.transaction(client, move |conn, tx| {
            if let Some(owner) = accounts::find_by_email(conn, &email)? {
                queue_limited(conn, tx, MailKind::AddressInUse, &email, Some(&owner.id))?;
                return Ok(());
            }
            create_account(conn, tx, new_account(email, password_hash))?;
            Ok(())
        })
        .await?;
        self.mail_queued();
        Ok(Registered::CheckInbox)
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
        self.transaction(client, move |conn, tx| {
            queue_limited(conn, tx, MailKind::PasswordReset, &email, None)
        })
        .await?;
        self.mail_queued();
        Ok(())
    }

    /// Tells the owner of the account with address `email` (if there is one) that an
    /// account-wide lock engaged: many wrong passwords (with a reset link, which lifts
    /// the lock for the browser that uses it), or the right password followed by many
    /// wrong codes. At most a few of each an hour.
    pub async fn tell_owner_of_lock(
        &self,
        lock: super::throttle::Lock,
        email: &str,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let kind = match lock {
            super::throttle::Lock::Password => MailKind::AccountLocked,
            super::throttle::Lock::Code => MailKind::CodeLocked,
        };
        let email = email.to_owned();
        let queued = self
            .transaction(client, move |conn, tx| {
                let Some(owner) = accounts::find_by_email(conn, &email)? else {
                    return Ok(false);
                };
                queue_limited(conn, tx, kind, &owner.email, Some(&owner.id))
            })
            .await?;
        if queued {
            self.mail_queued();
        }
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
        let hash = self.passwords().hash(new_password).await?;
        let (revoked, email, grant) = self
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
                let facts = MailFacts {
                    methods: reset_review::method_facts(conn, &user.id)?,
                    ..tx.mail_facts()
                };
                queue_notice(conn, tx, &user.id, MailKind::ResetCompleted, facts)?;
                let grant = reset_review::grant_for(&user, tx.now);
                Ok(Ok((revoked, user.email, grant)))
            })
            .await??;
        self.remember_revoked(revoked);
        self.mail_queued();
        Ok((email, grant))
    }

    /// Verifies the address with the link mailed to it; returns the address.
    pub async fn verify_email(
        &self,
        token_hash: String,
        client: ClientInfo,
    ) -> Result<String, AuthError> {
        Ok(self
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
        self.mail_queued();
        Ok(())
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
        self.transaction(client, move |conn, tx| {
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
            if events::count_since(conn, &user.id, kind, hour_ago)? >= CHANGE_REQUESTS_PER_HOUR {
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
                None => queue_limited(conn, tx, MailKind::EmailChange, &new_email, Some(&user.id))?,
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
        self.mail_queued();
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
        self.forget_account(&user_id);
        self.mail_queued();
        Ok(new_email)
    }

    /// The address, whether it is verified, and the mail settings.
    pub async fn account_settings(
        &self,
        current: &CurrentDeviceSession,
    ) -> Result<AccountSettings, AuthError> {
        let id = current.user_id.clone();
        let user = self
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
            .db()
            .run(move |conn| Ok(accounts::set_notify_new_device(conn, &id, on)?))
            .await?)
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
