//! What the domain tells people by mail: which mail ([`MailKind`]), the budget it is
//! counted in ([`MailClass`]) and the facts it names ([`MailFacts`]). The domain queues
//! them in the outbox inside the transaction of the change (`transactions::queue_mail`);
//! `mail` renders and delivers them.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::email_link::LinkPurpose;

/// Which mail. Stored as `mail_outbox.kind`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum MailKind {
    /// A password-reset link, requested for an address (which may have no account).
    PasswordReset,
    /// A link that verifies the account's address.
    EmailVerification,
    /// A link, sent to a new address, that confirms switching the account to it.
    EmailChange,
    /// "Someone tried to sign up (or to move an account) with your address."
    AddressInUse,
    /// "Your account was signed in from a new device."
    NewDeviceSignIn,
    /// "Your password was changed."
    PasswordChanged,
    /// "Your password was reset with a link; these passkeys and this second factor can
    /// also get in: remove any you did not add."
    ResetCompleted,
    /// "Your address was changed" (to the old address).
    EmailChanged,
    /// "A sign-in token was used twice; we signed that device out."
    TokenReuse,
    /// "Two-step sign-in was turned off."
    SecondFactorDisabled,
    /// "A passkey was added to your account."
    PasskeyAdded,
    /// "Many wrong passwords: password sign-in is paused; here is a reset link."
    AccountLocked,
    /// "Your password was right but the code was wrong, many times."
    CodeLocked,
    /// "Two-step sign-in was turned on."
    SecondFactorEnabled,
    /// "New recovery codes were made; the old ones stopped working."
    RecoveryCodesRenewed,
    /// "A passkey was removed from your account."
    PasskeyRemoved,
    /// "Someone asked to move your account to another address" (to the current one).
    EmailChangeRequested,
    /// "Your account was deleted."
    AccountDeleted,
    /// "An account at <provider> was connected: it can sign in to yours."
    ProviderLinked,
    /// "An account at <provider> was disconnected."
    ProviderUnlinked,
    /// "Someone tried to renew a device's sign-in without its key: we refused."
    DbscProofFailed,
}

impl MailKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Which budget the mail is counted in (see [`MailClass`]).
    pub fn class(self) -> MailClass {
        if self.link().is_some()
            || matches!(
                self,
                Self::AddressInUse | Self::CodeLocked | Self::TokenReuse | Self::DbscProofFailed
            )
        {
            MailClass::Request
        } else if self == Self::NewDeviceSignIn {
            MailClass::SignIn
        } else {
            MailClass::Change
        }
    }

    /// Whether the mail answers a request anyone can make (a link, "someone used your
    /// address", a lock notice), as opposed to a notice of the owner's own account.
    pub fn answers_a_request(self) -> bool {
        self.class() == MailClass::Request
    }

    /// The link the mail carries, made at delivery; `None` for notices.
    pub fn link(self) -> Option<LinkPurpose> {
        match self {
            Self::PasswordReset | Self::AccountLocked => Some(LinkPurpose::PasswordReset),
            Self::EmailVerification => Some(LinkPurpose::EmailVerification),
            Self::EmailChange => Some(LinkPurpose::EmailChange),
            _ => None,
        }
    }
}

/// The budgets a recipient's mail is counted in, each with its own hourly limit, so
/// that the cheapest mail to cause cannot crowd out the one that matters: a thief who
/// signs in again and again fills only the new-device budget, never the one that tells
/// the owner two-step sign-in was just turned on, nor the one the owner's reset link
/// needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailClass {
    /// Answers a request anyone can make: links, "someone used your address", locks.
    Request,
    /// "Your account was signed in from a new device."
    SignIn,
    /// A notice of a change to the account (by its owner, or by whoever holds it).
    Change,
}

impl MailClass {
    /// The stored kinds of this class.
    pub fn kinds(self) -> Vec<&'static str> {
        use strum::IntoEnumIterator;
        MailKind::iter()
            .filter(|kind| kind.class() == self)
            .map(MailKind::as_str)
            .collect()
    }
}

/// The facts a mail names, stored as JSON with it: which device and address acted, and
/// for an address change the addresses. Nothing secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFacts {
    /// "Chrome 131 on Linux".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The client IP of the request that caused the mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The address before an address change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_email: Option<String>,
    /// The address after an address change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
    /// The language of the request that caused the mail, which it is written in
    /// (English for rows queued before languages existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<crate::i18n::Language>,
    /// The OpenID provider a notice is about (its name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The account's ways in besides the password, for the reset's notice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<SignInMethodFact>,
}

/// A way into the account that a reset's notice lists, with when it was added, so the
/// owner can tell one a thief added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignInMethodFact {
    /// A passkey, by the name it was given.
    Passkey {
        /// What the user called it.
        name: String,
        /// When it was added.
        added_at: NaiveDateTime,
    },
    /// An account at an OpenID provider.
    Provider {
        /// The provider's name.
        name: String,
        /// The address it gave.
        email: String,
        /// When it was connected.
        added_at: NaiveDateTime,
    },
    /// An account at an OpenID provider that the reset disconnected (it was connected
    /// in the days before it).
    ProviderDisconnected {
        /// The provider's name.
        name: String,
        /// The address it gave.
        email: String,
        /// When it had been connected.
        added_at: NaiveDateTime,
    },
    /// Two-step sign-in with an authenticator app.
    AuthenticatorApp {
        /// When it was turned on.
        added_at: NaiveDateTime,
    },
}

impl MailFacts {
    /// The facts as stored with the mail.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}
