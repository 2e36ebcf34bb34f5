//! The kinds of security event shown on a user's activity page.

/// What happened. Stored as `security_events.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A new device session started (sign-up or login).
    SignedIn,
    /// The user signed out on a device.
    SignedOut,
    /// A refresh token was replayed after the grace window; the session was ended.
    TokenReuseDetected,
    /// A device was signed out from another device.
    DeviceSignedOut,
    /// A session was ended to stay within the per-user session limit.
    SessionEvicted,
}

impl EventKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignedIn => "signed_in",
            Self::SignedOut => "signed_out",
            Self::TokenReuseDetected => "token_reuse_detected",
            Self::DeviceSignedOut => "device_signed_out",
            Self::SessionEvicted => "session_evicted",
        }
    }
}
