//! The kinds of security event shown on a user's activity page.

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
}

impl EventKind {
    /// The name stored in `security_events.kind` (`signed_in`, `token_reuse_detected`…);
    /// `str::parse` reads it back.
    pub fn as_str(self) -> &'static str {
        self.into()
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
        )
    }
}

/// A title and a sentence for the activity page. `detail` is what was stored with the
/// event (a device label, or a count); `actor` is the label of the device that acted.
pub fn describe(kind: EventKind, detail: &str, actor: &str) -> (&'static str, String) {
    let devices = |n: &str| {
        if n == "1" {
            "1 device".to_owned()
        } else {
            format!("{n} devices")
        }
    };
    match kind {
        EventKind::SignedIn => ("Signed in", format!("{detail}.")),
        EventKind::NewDeviceSignIn => (
            "Sign-in from a new device",
            format!(
                "{detail}. If this was not you, sign that device out on the Devices page and change your password."
            ),
        ),
        EventKind::SignedOut => ("Signed out", format!("{detail}.")),
        EventKind::DeviceSignedOut => (
            "Device signed out",
            format!("{detail} was signed out from {actor}."),
        ),
        EventKind::OtherDevicesSignedOut => (
            "All other devices signed out",
            format!("{} signed out from {actor}.", devices(detail)),
        ),
        EventKind::PasswordChanged => (
            "Password changed",
            format!("Changed from {actor}; {} signed out.", devices(detail)),
        ),
        EventKind::TokenReuseDetected => (
            "Suspected token theft",
            format!(
                "A sign-in token of {detail} was used twice, which happens when it has been copied. \
                 That device was signed out to protect your account. If you did not expect this, change your password."
            ),
        ),
        EventKind::SessionEvicted => (
            "Device signed out automatically",
            format!(
                "{detail} was the least recently used of too many signed-in devices and was signed out to make room."
            ),
        ),
        EventKind::PasswordReset => (
            "Password reset by e-mail",
            format!(
                "A new password was set with a link sent by e-mail, from {actor}; {} signed out.",
                devices(detail)
            ),
        ),
        EventKind::EmailVerified => (
            "E-mail address verified",
            format!("{detail} was confirmed from {actor}."),
        ),
        EventKind::EmailChangeRequested => (
            "Change of e-mail address requested",
            format!("A confirmation link was sent to {detail}, from {actor}."),
        ),
        EventKind::EmailChanged => ("E-mail address changed", format!("{detail}, from {actor}.")),
        EventKind::PasskeyAdded => (
            "Passkey added",
            format!(
                "The passkey “{detail}” was added, from {actor}. It can now sign in to your account."
            ),
        ),
        EventKind::PasskeyRemoved => (
            "Passkey removed",
            format!("The passkey “{detail}” was removed, from {actor}."),
        ),
        EventKind::TotpEnabled => (
            "Two-step sign-in turned on",
            format!("An authenticator app was added, from {actor}."),
        ),
        EventKind::TotpDisabled => (
            "Two-step sign-in turned off",
            format!(
                "The authenticator app and recovery codes were removed, from {actor}. If this was not you, change your password."
            ),
        ),
        EventKind::RecoveryCodeUsed => (
            "Signed in with a recovery code",
            format!("From {actor}; {detail} recovery codes left."),
        ),
        EventKind::RecoveryCodesRegenerated => (
            "New recovery codes",
            format!("The old recovery codes stopped working, from {actor}."),
        ),
    }
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
        let (title, text) = describe(
            EventKind::DeviceSignedOut,
            "Firefox 133 on Windows 10",
            "Chrome 131 on Linux",
        );
        assert_eq!(title, "Device signed out");
        assert_eq!(
            text,
            "Firefox 133 on Windows 10 was signed out from Chrome 131 on Linux."
        );
        let (_, text) = describe(EventKind::PasswordChanged, "1", "Chrome 131 on Linux");
        assert!(text.contains("1 device signed out"), "{text}");
        let (title, text) = describe(EventKind::TokenReuseDetected, "Chrome 131 on Linux", "");
        assert_eq!(title, "Suspected token theft");
        assert!(text.contains("change your password"));
    }
}
