//! The error type of the authentication domain.

use super::email_link::LinkProblem;
use super::password::{HashingUnavailable, PasswordPolicyError};
use crate::i18n::Language;
use crate::store::{DbError, UniqueKey};

/// Everything sign-up, login, refresh and logout can answer besides success. Each
/// variant's doc line names the HTTP status the web layer gives it.
///
/// The `Display` texts are English, for logs and tests; people read
/// [`AuthError::message`], in their language.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// 400: the e-mail address is not plausible.
    #[error("Enter a valid e-mail address.")]
    InvalidEmail,
    /// 400: the new password breaks the length policy.
    #[error(transparent)]
    PasswordPolicy(#[from] PasswordPolicyError),
    /// 400: sign-up with an e-mail that already has an account. (Sign-up cannot hide
    /// this without an e-mail round trip; throttling limits what it reveals.)
    #[error("An account with this e-mail address already exists. Sign in instead.")]
    EmailTaken,
    /// 401: wrong password or unknown e-mail, deliberately indistinguishable.
    #[error("Wrong e-mail address or password.")]
    InvalidCredentials,
    /// 401: no valid access token (missing, malformed, forged or expired).
    #[error("You are not signed in.")]
    NotSignedIn,
    /// 401: the access token is fine but its device session was ended.
    #[error("This device was signed out.")]
    SessionRevoked,
    /// 401: the access token is genuine but has expired: renew it with the refresh token
    /// and try again. (One name from the verifier to the page: `AccessTokenExpired`.)
    #[error("Your session needs refreshing.")]
    AccessTokenExpired,
    /// 401: the refresh token is unknown, expired, or its session has ended.
    #[error("Your session has ended. Please sign in again.")]
    SessionEnded,
    /// 401: a refresh token was used twice outside the grace window; the session is gone.
    #[error(
        "For your safety this device was signed out: your sign-in was used from somewhere else. Please sign in again."
    )]
    TokenReuse,
    /// 401: the session is bound to a key its device keeps (DBSC), and the renewal came
    /// without a valid proof of it: its cookies were copied, or the proof is bad.
    #[error(
        "This device could not prove it holds the key its sign-in is bound to. Please sign in again."
    )]
    DeviceProof,
    /// 400: the current password given to confirm a change is not right.
    #[error("Your current password is not correct.")]
    WrongPassword,
    /// 403: the password was right, but `REQUIRE_VERIFIED_EMAIL` is on and the address
    /// is not verified yet (a new link has been sent).
    #[error(
        "Please confirm your e-mail address first: open the link we sent you. We have sent you a new one."
    )]
    EmailNotVerified,
    /// 400: a link from a mail that does not work (unknown, expired or used).
    #[error(transparent)]
    Link(#[from] LinkProblem),
    /// 400: the new address is the account's address already.
    #[error("That is already your address.")]
    SameEmail,
    /// 429: enough mails of this kind went to this address lately; try again later.
    #[error(
        "We have already sent you several e-mails in the last hour. Check your inbox and spam folder, or try again later."
    )]
    MailLimit,
    /// 403: a sensitive action outside sudo mode: confirm the password (or a code)
    /// first.
    #[error("Please confirm it is you to continue.")]
    SudoRequired,
    /// 400: not a valid code from the authenticator app, or not an unused recovery code.
    #[error(
        "That code is not right. Codes change every 30 seconds: enter the one your app shows now, or one of your recovery codes."
    )]
    WrongCode,
    /// 401: the code step of a sign-in has expired, was tried too often, or is gone.
    #[error("Please sign in again: enter your e-mail address and password.")]
    NoPendingSignIn,
    /// 400: no authenticator enrolment is waiting for its code (or it expired).
    #[error("Setting up the authenticator app took too long. Please start again.")]
    NoEnrolment,
    /// 400: the account already has an authenticator app.
    #[error("Two-step sign-in is already on.")]
    SecondFactorAlreadyOn,
    /// 400: passkeys are off because `PUBLIC_URL` does not name a domain.
    #[error("Passkeys are not available on this server.")]
    PasskeysUnavailable,
    /// 400: the account has as many passkeys as it may.
    #[error(
        "You have 20 passkeys, the most an account can have. Remove one you no longer use first."
    )]
    PasskeyLimit,
    /// 400: the passkey ceremony is not (or no longer) waiting: it took too long, was
    /// finished already, or was started in another browser.
    #[error("That took too long. Please try again.")]
    PasskeyExpired,
    /// 400: the authenticator's answer was not accepted (unknown passkey, a wrong
    /// signature or origin, a cancelled prompt). Deliberately says nothing about why,
    /// and so nothing about any account.
    #[error("That passkey did not work. Try again, or use your password.")]
    PasskeyFailed,
    /// 400: this authenticator's passkey is on the account already.
    #[error("This passkey is already on your account.")]
    PasskeyAlreadyAdded,
    /// 403: the review a completed reset opens has ended (15 minutes, or the password
    /// changed since), or this browser completed no reset.
    #[error(
        "This review has ended. Sign in to see your passkeys and two-step sign-in on your account page."
    )]
    ReviewClosed,
    /// 403: a passkey or second factor older than the review allows: a reset proves
    /// only the mailbox, which must not be enough to remove what the owner has had.
    #[error(
        "This was added more than 7 days before the reset, so a reset alone cannot remove it. Sign in, then remove it on your account page."
    )]
    AddedTooLongAgo,
    /// An answer from an OpenID provider that does not check out: no `state` this
    /// browser is waiting for (missing, replayed, expired, another browser's), an error
    /// from the provider, a code it will not exchange, an ID token whose signature,
    /// issuer, audience, expiry or nonce is wrong. One message for all: the details
    /// are in the log, not for whoever sent the request.
    #[error("Signing in with that provider did not work. Please try again.")]
    ProviderFailed,
    /// The person cancelled at the provider (`error=access_denied`).
    #[error("Signing in was cancelled at the provider. Nothing was changed.")]
    ProviderCancelled,
    /// The provider is not configured here, has not answered discovery yet, or did not
    /// answer the code exchange.
    #[error(
        "That provider is not answering right now. Please try again later, or sign in another way."
    )]
    ProviderUnavailable,
    /// The provider gave no address, or did not say it verified it: no account is made
    /// or found from an address nobody proved.
    #[error(
        "That provider has not confirmed your e-mail address, so it cannot sign you in here. Confirm the address there, or sign in another way."
    )]
    ProviderEmailUnverified,
    /// The identity is linked to another account already.
    #[error("That account at the provider is already connected to another account here.")]
    ProviderLinkedElsewhere,
    /// Unlinking the account's only way in (no password, no passkey, one provider).
    #[error(
        "This is the only way to sign in to your account. Set a password or add a passkey first."
    )]
    LastSignInMethod,
    /// 404: no such device session among the caller's.
    #[error("That device is not signed in to your account.")]
    NotFound,
    /// 429: too many attempts from this client or on this account; try again after
    /// the wait (see `guard`).
    #[error("Too many attempts. Please wait {} seconds and try again.", whole_seconds(*.0))]
    Throttled(std::time::Duration),
    /// 503: too many password checks are waiting; try again in a moment.
    #[error("The service is busy. Please try again in a moment.")]
    Busy,
    /// 503: the database did not answer in time, or hashing is unavailable.
    #[error("The service is temporarily unavailable. Please try again in a moment.")]
    Unavailable(String),
    /// 500: anything else; logged, never shown.
    #[error("Something went wrong on our side. Please try again.")]
    Internal(String),
}

impl AuthError {
    /// What to tell the person who asked, in `language`.
    pub fn message(&self, language: Language) -> String {
        let key = match self {
            Self::InvalidEmail => "error-invalid-email",
            Self::PasswordPolicy(PasswordPolicyError::TooShort) => "error-password-too-short",
            Self::PasswordPolicy(PasswordPolicyError::TooLong) => "error-password-too-long",
            Self::EmailTaken => "error-email-taken",
            Self::InvalidCredentials => "error-invalid-credentials",
            Self::NotSignedIn => "error-not-signed-in",
            Self::SessionRevoked => "login-reason-revoked",
            Self::AccessTokenExpired => "error-access-token-expired",
            Self::SessionEnded => "login-reason-ended",
            Self::TokenReuse => "error-token-reuse",
            Self::DeviceProof => "error-device-proof",
            Self::WrongPassword => "error-wrong-password",
            Self::EmailNotVerified => "error-email-not-verified",
            Self::Link(LinkProblem::Unknown) => "error-link-unknown",
            Self::Link(LinkProblem::Expired) => "error-link-expired",
            Self::Link(LinkProblem::Used) => "error-link-used",
            Self::SameEmail => "error-same-email",
            Self::MailLimit => "error-mail-limit",
            Self::SudoRequired => "error-sudo-required",
            Self::WrongCode => "error-wrong-code",
            Self::NoPendingSignIn => "error-no-pending-sign-in",
            Self::NoEnrolment => "error-no-enrolment",
            Self::SecondFactorAlreadyOn => "error-second-factor-already-on",
            Self::PasskeysUnavailable => "passkeys-off",
            Self::PasskeyLimit => {
                return language.text_with(
                    "error-passkey-limit",
                    &[("count", super::settings::MAX_PASSKEYS.into())],
                );
            }
            Self::PasskeyExpired => "error-passkey-expired",
            Self::PasskeyFailed => "error-passkey-failed",
            Self::PasskeyAlreadyAdded => "error-passkey-already-added",
            Self::ReviewClosed => "error-review-closed",
            Self::AddedTooLongAgo => {
                let days = super::settings::RECENT_ADDITION.num_days();
                return language.text_with("error-added-too-long-ago", &[("days", days.into())]);
            }
            Self::ProviderFailed => "error-provider-failed",
            Self::ProviderCancelled => "error-provider-cancelled",
            Self::ProviderUnavailable => "error-provider-unavailable",
            Self::ProviderEmailUnverified => "error-provider-email-unverified",
            Self::ProviderLinkedElsewhere => "error-provider-linked-elsewhere",
            Self::LastSignInMethod => "error-last-sign-in-method",
            Self::NotFound => "error-device-not-found",
            Self::Throttled(wait) => {
                return language.text_with(
                    "error-throttled",
                    &[("seconds", whole_seconds(*wait).into())],
                );
            }
            Self::Busy => "error-busy",
            Self::Unavailable(_) => "error-unavailable",
            Self::Internal(_) => "error-internal",
        };
        language.text(key)
    }
}

/// A wait in whole seconds, at least one: what `Retry-After` and the message say.
pub fn whole_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

impl From<DbError> for AuthError {
    fn from(err: DbError) -> Self {
        // `Database::run` has already classified "not answering" errors as `Unavailable`.
        match err {
            DbError::Unavailable(reason) => Self::Unavailable(reason),
            // The unique keys a request can run into; any other is a bug (500).
            err if err.breaks(UniqueKey::Email) => Self::EmailTaken,
            err if err.breaks(UniqueKey::PasskeyCredential) => Self::PasskeyAlreadyAdded,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<HashingUnavailable> for AuthError {
    fn from(err: HashingUnavailable) -> Self {
        match err {
            HashingUnavailable::QueueFull => Self::Busy,
            HashingUnavailable::Stopped(reason) => Self::Unavailable(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The English message is the `Display` text, so logs and pages say the same thing.
    #[test]
    fn english_messages_match_the_display_texts() {
        let errors = [
            AuthError::InvalidEmail,
            AuthError::PasswordPolicy(PasswordPolicyError::TooShort),
            AuthError::EmailTaken,
            AuthError::InvalidCredentials,
            AuthError::TokenReuse,
            AuthError::Link(LinkProblem::Unknown),
            AuthError::MailLimit,
            AuthError::WrongCode,
            AuthError::PasskeyLimit,
            AuthError::PasskeyFailed,
            AuthError::NotFound,
            AuthError::Internal("details".into()),
        ];
        for err in errors {
            assert_eq!(err.message(Language::En), err.to_string());
            assert_ne!(err.message(Language::De), err.to_string(), "{err:?}");
        }
    }
}
