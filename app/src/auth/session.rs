//! The values of the session life cycle that the service, its transactions and the
//! web layer pass around: who is signed in, what a sign-in produced, why a device
//! session ended, what a cleanup deleted, and when activity was last written.

use chrono::NaiveDateTime;

use super::access_token::MintedToken;
use super::events::EventKind;
use super::refresh_token::RefreshToken;
use crate::store::cleanup::Deleted;
use crate::store::models::User;

/// How a device session signed in; stored as `device_sessions.sign_in_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum SignInMethod {
    /// The password alone (the account has no second factor).
    Password,
    /// The password and a code from the authenticator app.
    PasswordAndTotp,
    /// The password and a recovery code.
    PasswordAndRecoveryCode,
    /// A passkey (the device and its PIN or biometric: two factors in one).
    Passkey,
    /// An OpenID provider (which one: `device_sessions.sign_in_provider`).
    Provider,
    /// An OpenID provider and a code from the authenticator app.
    ProviderAndTotp,
    /// An OpenID provider and a recovery code.
    ProviderAndRecoveryCode,
}

impl SignInMethod {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The message that names it on the devices page and in the activity log.
    pub fn describe_key(self) -> &'static str {
        match self {
            Self::Password => "sign-in-method-password",
            Self::PasswordAndTotp => "sign-in-method-password-and-totp",
            Self::PasswordAndRecoveryCode => "sign-in-method-password-and-recovery-code",
            Self::Passkey => "sign-in-method-passkey",
            Self::Provider => "sign-in-method-provider",
            Self::ProviderAndTotp => "sign-in-method-provider-and-totp",
            Self::ProviderAndRecoveryCode => "sign-in-method-provider-and-recovery-code",
        }
    }

    /// The words for it in `language`; `provider` names the OpenID provider of a
    /// provider sign-in (its button label, or its id if it is no longer configured).
    pub fn describe(self, language: crate::i18n::Language, provider: Option<&str>) -> String {
        let provider = provider.unwrap_or("?").to_owned();
        language.text_with(self.describe_key(), &[("provider", provider.into())])
    }

    /// The same sign-in's method with a second step after it.
    pub fn with_code(self, recovery_code: bool) -> Self {
        match (self, recovery_code) {
            (Self::Provider, false) => Self::ProviderAndTotp,
            (Self::Provider, true) => Self::ProviderAndRecoveryCode,
            (_, false) => Self::PasswordAndTotp,
            (_, true) => Self::PasswordAndRecoveryCode,
        }
    }
}

/// A signed-in user, as the rest of the app sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user id.
    pub id: String,
    /// The normalised e-mail address.
    pub email: String,
}

/// A refresh token just issued, with the moment it stops working.
#[derive(Debug, Clone)]
pub struct IssuedRefresh {
    /// The token for the cookie.
    pub token: RefreshToken,
    /// Its expiry (idle timeout, capped by the session's absolute expiry).
    pub expires_at: NaiveDateTime,
}

/// The result of a successful sign-up, login or refresh: what goes into the cookies.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Who.
    pub account: Account,
    /// Which device session.
    pub session_id: String,
    /// A new access token.
    pub access: MintedToken,
    /// A new refresh token, or `None` for a concurrent refresh inside the grace window:
    /// the winning request already set the chain's next token, and overwriting it with
    /// anything else would fork the chain.
    pub refresh: Option<IssuedRefresh>,
    /// The session is bound to a key its browser keeps (DBSC): the access cookie then
    /// lives no longer than the token in it, so the browser renews it with a proof
    /// before the token expires.
    pub bound: bool,
    /// A new session's invitation to bind it (the `Secure-Session-Registration`
    /// challenge); `None` for a renewal, an app, or `DBSC=off`.
    pub dbsc_registration: Option<crate::secret::Secret>,
}

/// The caller of an authenticated request, established without a database trip.
///
/// Two are the same caller when they name the same user and device session, whichever
/// of its access tokens each came with.
#[derive(Debug, Clone)]
pub struct CurrentDeviceSession {
    /// The user id (`sub`).
    pub user_id: String,
    /// The device session id (`sid`).
    pub session_id: String,
    /// When the access token it came with was minted (`iat`; 0 when it came with
    /// none). On a session bound to its device (DBSC), sudo mode covers only tokens
    /// minted after the proof that started it (`second_factor::sudo_holds`).
    pub token_issued_at: i64,
    /// When that token expires (`exp`; 0 when none).
    pub token_expires_at: i64,
}

impl PartialEq for CurrentDeviceSession {
    fn eq(&self, other: &Self) -> bool {
        self.user_id == other.user_id && self.session_id == other.session_id
    }
}

impl Eq for CurrentDeviceSession {}

/// What one cleanup pass removed: rows per table, and entries of the in-memory
/// revocation set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Rows deleted, per table.
    pub deleted: Deleted,
    /// In-memory revocation entries dropped.
    pub revocations: usize,
}

/// Why a device session was ended; stored in `revoke_reason` and the blacklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum RevokeReason {
    /// The user signed out on this device.
    Logout,
    /// A refresh token was replayed after the grace window.
    TokenReuse,
    /// The user signed this device out from another device.
    SignedOutRemotely,
    /// The user signed out every device but the one they were using.
    SignedOutAllOthers,
    /// The account had too many sessions; this least recently active one made room.
    SessionLimit,
    /// The password was changed on another device, or reset by e-mail.
    PasswordChanged,
    /// The account was deleted.
    AccountDeleted,
}

impl RevokeReason {
    /// The stored name (`logout`, `token_reuse`…); `str::parse` reads it back.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The security event recorded for each session ended this way, if any; bulk
    /// revocations record one summary event instead of one per device.
    pub(super) fn event(self) -> Option<EventKind> {
        match self {
            Self::Logout => Some(EventKind::SignedOut),
            Self::TokenReuse => Some(EventKind::TokenReuseDetected),
            Self::SignedOutRemotely => Some(EventKind::DeviceSignedOut),
            Self::SessionLimit => Some(EventKind::SessionEvicted),
            Self::SignedOutAllOthers | Self::PasswordChanged | Self::AccountDeleted => None,
        }
    }
}

/// How often, at most, an authenticated request writes `last_seen_at` for its session.
pub const LAST_SEEN_INTERVAL_SECS: i64 = 60;

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

/// A password that checked out, not yet turned into a session (see
/// `Sessions::complete_login`). Its `Debug` shows no hash.
pub struct VerifiedLogin {
    pub(super) user: User,
    pub(super) rehashed: Option<crate::secret::Secret>,
}

impl std::fmt::Debug for VerifiedLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedLogin")
            .field("user_id", &self.user.id)
            .finish_non_exhaustive()
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
