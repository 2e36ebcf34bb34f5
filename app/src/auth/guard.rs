//! The guard: the brute-force throttle's rules, in one place the API calls for every
//! guessable secret (a password, a code, a passkey) and every write a stranger can make
//! without a session (a mailed link's landing, a reset request). The counters and their
//! arithmetic are in [`super::throttle`]; what to charge, when to refund and whom to
//! tell is here. ARCHITECTURE: "Brute-force throttle".
//!
//! Every key is made here from what was guessed ([`Guessed`]) and the client's address
//! (normalised by [`super::throttle::ClientKey`]), so no endpoint builds its own.

use std::sync::Arc;
use std::time::Duration;

use super::client_info::ClientInfo;
use super::core::Core;
use super::email;
use super::error::AuthError;
use super::keys::DerivedKey;
use super::notices::MailKind;
use super::session::SignedIn;
use super::throttle::{
    Attempt, AttemptKind, DeviceCookie, Limits, Lock, Outcome, Refusal, Reservation, ReserveError,
    Throttle,
};
use super::transactions::queue_limited;
use crate::store::accounts;

/// Whose secret a throttled attempt guesses: the key its counters are kept under, and
/// whom to tell when an account-wide lock engages.
#[derive(Debug, Clone, Copy)]
pub enum Guessed<'a> {
    /// The account with this address: sign-up, login, the code step. Normalised here,
    /// so `Ann@Example.com` and `ann@example.com` share their counters; one that is not
    /// an address is refused ([`AuthError::InvalidEmail`]) and counts nowhere.
    Email(&'a str),
    /// The account with this id: a proof of identity for sudo mode.
    User(&'a str),
    /// A passkey, by its credential id (whose account is unknown until it checks out).
    Passkey(&'a str),
}

impl Guessed<'_> {
    /// The account part of the throttle's keys.
    fn key(&self) -> Result<String, AuthError> {
        Ok(match self {
            Self::Email(raw) => email::normalize(raw)?,
            Self::User(id) => format!("user:{id}"),
            Self::Passkey(id) => format!("passkey:{id}"),
        })
    }
}

/// How the success of a throttled operation settles its attempt. Only an answer that
/// proved the secret is refunded: a password that merely led to "now the code" or
/// "check your inbox" keeps its charge, so neither can be used to wipe the counters.
pub trait Settles {
    /// `Some(Succeeded)` to refund, `None` to let the charge stand.
    fn settles(&self) -> Option<Outcome> {
        Some(Outcome::Succeeded)
    }
}

impl Settles for () {}
impl Settles for Vec<String> {}
impl Settles for SignedIn {}
impl Settles for Option<super::access_token::MintedToken> {}

/// The throttle's rules over its counters.
#[derive(Debug)]
pub struct Guard {
    core: Arc<Core>,
    throttle: Throttle,
    /// Issues and checks device cookies, with a key derived for them alone.
    device_cookies: DeviceCookie,
}

impl Guard {
    pub(super) fn new(core: Arc<Core>) -> Self {
        let limits = Limits::from(core.settings());
        // Counters every instance sees on a shared database; in memory on SQLite's one.
        let throttle = if core.db().is_shared() {
            Throttle::shared(core.db().clone(), limits)
        } else {
            Throttle::in_memory(limits)
        };
        let key = core
            .tokens()
            .keys()
            .signing()
            .derive(DerivedKey::DeviceCookie);
        Self {
            core,
            throttle,
            device_cookies: DeviceCookie::new(key),
        }
    }

    /// Issues and checks device cookies (OWASP's scheme, see `throttle`).
    pub fn device_cookies(&self) -> &DeviceCookie {
        &self.device_cookies
    }

    /// The counters themselves (for cleanup, metrics and tests).
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// Runs a secret-checking `operation` under the throttle: the attempt is counted
    /// before `operation` checks anything, refused while a backoff lasts (or while too
    /// many checks of this account or address are running), and refunded only when the
    /// answer proved the secret (see [`Settles`]). A browser holding this account's
    /// device cookie (`device_cookie`, the cookie's value) is counted on its own instead
    /// of on the account-wide lock (codes excepted). When a wrong answer engages an
    /// account-wide lock, the owner is mailed. The answer never depends on whether the
    /// account exists.
    pub async fn attempt<T: Settles>(
        &self,
        kind: AttemptKind,
        guessed: Guessed<'_>,
        client: &ClientInfo,
        device_cookie: Option<&str>,
        operation: impl Future<Output = Result<T, AuthError>>,
    ) -> Result<T, AuthError> {
        let key = guessed.key()?;
        let device = self.device_nonce(&key, device_cookie);
        let attempt = Attempt::new(kind, &key, &client.ip, device.as_deref());
        let reservation = self.reserve(&attempt).await?;
        let result = operation.await;
        let outcome = match &result {
            Ok(value) => value.settles(),
            Err(
                AuthError::InvalidCredentials
                | AuthError::WrongPassword
                | AuthError::EmailTaken
                | AuthError::WrongCode
                | AuthError::PasskeyFailed,
            ) => None,
            Err(_) => Some(Outcome::NotJudged),
        };
        match self.throttle.settle(reservation, outcome).await {
            Ok(locks) => {
                // A lock on a user id is a signed-in session guessing its own password
                // for sudo mode (its owner sees it); a passkey's account is not known.
                if let Guessed::Email(_) = guessed {
                    for lock in locks {
                        self.tell_owner_of_lock(lock, &key, client).await;
                    }
                }
            }
            // The attempt stays counted: safe, and the user's next try refunds nothing less.
            Err(err) => tracing::warn!(error = %err, "could not refund a throttle reservation"),
        }
        result
    }

    /// Gives back the charge of the password step of a sign-in whose code has just
    /// checked out: the password was right after all, and the owner's own sign-ins must
    /// not use up the counters that stop guessers.
    pub async fn refund_password_step(
        &self,
        email: &str,
        client: &ClientInfo,
        device_cookie: Option<&str>,
    ) {
        let Ok(key) = Guessed::Email(email).key() else {
            return;
        };
        let device = self.device_nonce(&key, device_cookie);
        let step = Attempt::new(AttemptKind::Password, &key, &client.ip, device.as_deref());
        if let Err(err) = self.throttle.refund(&step, Outcome::Succeeded).await {
            tracing::warn!(error = %err, "could not refund the password step");
        }
    }

    /// Counts a request that sends mail (a password-reset request) in the client's
    /// address bucket, and never refunds it: [`AuthError::Throttled`] once the bucket is
    /// spent. It guesses nothing, so it is not charged to the account (a stranger must
    /// not be able to lock the owner out of recovery); the mail has its own
    /// per-recipient limit. Says nothing about whether the account exists.
    pub async fn count_mail_request(
        &self,
        email: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let key = Guessed::Email(email).key()?;
        let attempt = Attempt::new(AttemptKind::MailRequest, &key, &client.ip, None);
        let reservation = self.reserve(&attempt).await?;
        // `None`: the charge stands.
        self.throttle.settle(reservation, None).await?;
        Ok(())
    }

    /// Spends one of the client's writes without a session (see
    /// [`Throttle::spend_write`]).
    pub async fn anonymous_write(&self, client_ip: &str) -> Result<(), AuthError> {
        self.throttle
            .spend_write(client_ip)
            .await?
            .map_err(AuthError::Throttled)
    }

    /// Whether the client may still write without a session (see
    /// [`Throttle::check_write`]); spends nothing.
    pub async fn may_write(&self, client_ip: &str) -> Result<(), AuthError> {
        self.throttle
            .check_write(client_ip)
            .await?
            .map_err(AuthError::Throttled)
    }

    /// Spends one try of the code step of the pending sign-in `pending_id`; false once
    /// its tries are used up. Kept in the throttle's atomic counters, not in the web
    /// session, which parallel requests would each read unspent.
    pub async fn spend_code_try(&self, pending_id: &str) -> Result<bool, AuthError> {
        Ok(self.throttle.spend_try(pending_id).await?)
    }

    /// After a completed reset: code guesses made with the old password no longer hold
    /// the code step shut, at most once a day (a reset must not buy a fresh code
    /// budget each time).
    pub async fn after_reset(&self, email: &str) {
        let Ok(key) = Guessed::Email(email).key() else {
            return;
        };
        if let Err(err) = self.throttle.forget_code_failures(&key).await {
            tracing::warn!(error = %err, "could not lift the code lock after a reset");
        }
    }

    /// The nonce of the browser's device cookie, if it is valid for `key`.
    fn device_nonce(&self, key: &str, device_cookie: Option<&str>) -> Option<String> {
        device_cookie.and_then(|value| self.device_cookies.verify(key, value))
    }

    /// Takes a place under the throttle for `attempt`.
    async fn reserve(&self, attempt: &Attempt) -> Result<Reservation, AuthError> {
        match self.throttle.reserve(attempt).await {
            Ok(reservation) => Ok(reservation),
            Err(ReserveError::Refused(Refusal::Throttled(wait))) => Err(AuthError::Throttled(wait)),
            Err(ReserveError::Refused(Refusal::Busy)) => {
                Err(AuthError::Throttled(Duration::from_secs(1)))
            }
            Err(ReserveError::Database(err)) => Err(err.into()),
        }
    }

    /// Mails the owner of the (normalised) address `email`, if it has an account, that an
    /// account-wide lock engaged: many wrong passwords (with a reset link, which lifts the
    /// lock for the browser that uses it), or the right password followed by many wrong
    /// codes. At most a few of each an hour.
    async fn tell_owner_of_lock(&self, lock: Lock, email: &str, client: &ClientInfo) {
        let email = email.to_owned();
        let kind = match lock {
            Lock::Password => MailKind::AccountLocked,
            Lock::Code => MailKind::CodeLocked,
        };
        let queued = self
            .core
            .transaction(client.clone(), move |conn, tx| {
                let Some(owner) = accounts::find_by_email(conn, &email)? else {
                    return Ok(false);
                };
                queue_limited(conn, tx, kind, &owner.email, Some(&owner.id))
            })
            .await;
        match queued {
            Ok(true) => self.core.mail_queued(),
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "could not queue the lock notice"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One account, one set of counters, however its address is typed; and what is not
    /// an address makes no key at all (a stranger cannot mint counters of any length).
    #[test]
    fn the_guard_makes_every_key_from_the_normalised_address() {
        let typed = ["ann@example.com", "Ann@Example.COM", "  ann@example.com "];
        for raw in typed {
            assert_eq!(Guessed::Email(raw).key().unwrap(), "ann@example.com");
        }
        assert!(matches!(
            Guessed::Email(&"x".repeat(5000)).key(),
            Err(AuthError::InvalidEmail)
        ));
        assert_eq!(Guessed::User("u1").key().unwrap(), "user:u1");
        assert_eq!(Guessed::Passkey("p1").key().unwrap(), "passkey:p1");
    }
}
