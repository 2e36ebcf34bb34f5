//! The kinds of security event shown on a user's activity page.

use super::client_info::localized_device_label;
use crate::i18n::{Arg, Language, message_id};

/// What happened. Stored as `security_events.kind`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum EventKind {
    /// A new device session started (sign-up or login).
    SignedIn,
    /// A sign-in from a kind of device this account had not signed in from before.
    NewDeviceSignIn,
    /// Every device but the acting one was signed out (detail: how many).
    OtherDevicesSignedOut,
    /// The password was changed (detail: how many other devices were signed out).
    PasswordChanged,
    /// The user signed out on a device.
    SignedOut,
    /// A refresh token was replayed after the grace window; the session was ended.
    TokenReuseDetected,
    /// A device was signed out from another device.
    DeviceSignedOut,
    /// A session was ended to stay within the per-user session limit.
    SessionEvicted,
    /// The password was set through a reset link (detail: how many devices were signed out).
    PasswordReset,
    /// The address was verified through the link mailed to it (detail: the address).
    EmailVerified,
    /// A change of address was asked for; a link went to the new one (detail: it).
    EmailChangeRequested,
    /// The address was changed (detail: "old → new").
    EmailChanged,
    /// Two-step sign-in was turned on (an authenticator app added).
    TotpEnabled,
    /// Two-step sign-in was turned off.
    TotpDisabled,
    /// A recovery code was used to sign in (detail: how many are left).
    RecoveryCodeUsed,
    /// A new set of recovery codes replaced the old one.
    RecoveryCodesRegenerated,
    /// A passkey was added (detail: its name).
    PasskeyAdded,
    /// A passkey was removed (detail: its name).
    PasskeyRemoved,
    /// A wrong second-factor code followed the right password: someone may know it.
    WrongCode,
    /// An account at an OpenID provider was connected (detail: the provider's name).
    ProviderLinked,
    /// An account at an OpenID provider was disconnected (detail: the provider's name).
    ProviderUnlinked,
    /// A browser bound its device session to a key it keeps (detail: the device).
    DbscBound,
    /// A bound session's renewal came without a valid proof of its key: its cookies were
    /// copied, or its registration failed (detail: the device).
    DbscProofFailed,
}

impl EventKind {
    /// The name stored in `security_events.kind` (`signed_in`, `token_reuse_detected`…);
    /// `str::parse` reads it back.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether it is a sign-in (the activity page says how it signed in).
    pub fn is_sign_in(self) -> bool {
        matches!(self, Self::SignedIn | Self::NewDeviceSignIn)
    }

    /// Whether the user should look twice at this event (the activity page highlights it).
    pub fn is_warning(self) -> bool {
        matches!(
            self,
            Self::TokenReuseDetected
                | Self::NewDeviceSignIn
                | Self::PasswordReset
                | Self::EmailChanged
                | Self::TotpDisabled
                | Self::RecoveryCodeUsed
                | Self::PasskeyAdded
                | Self::WrongCode
                | Self::ProviderLinked
                | Self::DbscProofFailed
        )
    }
}

/// A title and a sentence for the activity page, in `language`. `detail` is what was
/// stored with the event (a device label, a count, an address or a passkey's name);
/// `actor` is the stored label of the device that acted.
///
/// The words are the messages `event-<kind>-title` and `event-<kind>-text` (the kind's
/// stored name with dashes), which get `$detail` and `$actor`.
pub fn describe(
    language: Language,
    kind: EventKind,
    detail: &str,
    actor: &str,
) -> (String, String) {
    use EventKind as K;
    let detail: Arg = match kind {
        K::SignedIn
        | K::NewDeviceSignIn
        | K::SignedOut
        | K::DeviceSignedOut
        | K::TokenReuseDetected
        | K::SessionEvicted
        | K::DbscBound
        | K::DbscProofFailed => localized_device_label(language, detail).into(),
        K::OtherDevicesSignedOut | K::PasswordChanged | K::PasswordReset | K::RecoveryCodeUsed => {
            Arg::Number(detail.parse().unwrap_or(0))
        }
        _ => detail.into(),
    };
    let args = [
        ("detail", detail),
        ("actor", localized_device_label(language, actor).into()),
    ];
    let id = |part| message_id("event", kind.as_str(), part);
    (
        language.text(&id("title")),
        language.text_with(&id("text"), &args),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_stored_name() {
        use strum::IntoEnumIterator;
        for kind in EventKind::iter() {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
        }
        // Rows written before the derive must still read back.
        assert_eq!(
            "token_reuse_detected".parse(),
            Ok(EventKind::TokenReuseDetected)
        );
        assert_eq!("new_device_sign_in".parse(), Ok(EventKind::NewDeviceSignIn));
        assert!("nonsense".parse::<EventKind>().is_err());
    }

    #[test]
    fn descriptions_name_the_devices_involved() {
        let en = Language::En;
        let (title, text) = describe(
            en,
            EventKind::DeviceSignedOut,
            "Firefox 133 on Windows 10",
            "Chrome 131 on Linux",
        );
        assert_eq!(title, "Device signed out");
        assert_eq!(
            text,
            "Firefox 133 on Windows 10 was signed out from Chrome 131 on Linux."
        );
        let (_, text) = describe(en, EventKind::PasswordChanged, "1", "Chrome 131 on Linux");
        assert!(text.contains("1 device signed out"), "{text}");
        let (title, text) = describe(en, EventKind::TokenReuseDetected, "Chrome 131 on Linux", "");
        assert_eq!(title, "Suspected token theft");
        assert!(text.contains("change your password"));
    }

    #[test]
    fn every_kind_has_words_in_every_language() {
        use strum::IntoEnumIterator;
        for language in Language::ALL {
            for kind in EventKind::iter() {
                let (title, text) = describe(language, kind, "2", "Unknown device");
                assert!(
                    !title.starts_with("event-"),
                    "{language:?} {kind:?}: {title}"
                );
                assert!(!text.starts_with("event-"), "{language:?} {kind:?}: {text}");
            }
        }
        let (title, text) = describe(
            Language::De,
            EventKind::DeviceSignedOut,
            "Firefox 133 on Windows 10",
            "Unknown device",
        );
        assert_eq!(title, "Gerät abgemeldet");
        assert_eq!(
            text,
            "Firefox 133 unter Windows 10 wurde von Unbekanntes Gerät aus abgemeldet."
        );
    }
}
