//! The knobs of the session life cycle, with the defaults of ARCHITECTURE: "Tokens and cookies".

use std::time::Duration;

/// Codes that may be tried per password (spent in the throttle, `Key::Tries`).
pub const PENDING_SIGN_IN_ATTEMPTS: u8 = 5;

/// Passkeys one account may have: enough for every device a person owns, few enough
/// that the list stays readable and a stolen session cannot fill the table.
pub const MAX_PASSKEYS: i64 = 20;

/// A passkey added, or two-step sign-in turned on, within this long before the reset can
/// be removed in the review: a thief who held a session could have added it (and the
/// owner was mailed when it happened). What the owner has had for longer stays: a reset
/// proves only the mailbox, and the mailbox alone must not be enough to switch off the
/// code step or take away the owner's passkeys. The owner removes those after signing in.
pub const RECENT_ADDITION: chrono::Duration = chrono::Duration::days(7);

/// Lifetimes and limits of device sessions and refresh tokens.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// A refresh token unused this long expires, and with it the session (idle timeout).
    pub refresh_ttl: Duration,
    /// No session lives longer than this from sign-in, however active.
    pub session_max_age: Duration,
    /// A used refresh token presented again within this window is a concurrent refresh
    /// (two tabs, a retry), not theft.
    pub refresh_grace: Duration,
    /// How long security events are kept for the activity page.
    pub event_retention: Duration,
    /// Live sessions one user may have; signing in on one more device ends the least
    /// recently active.
    pub max_sessions: usize,
    /// Rows deleted per statement by the cleanup job, so it never holds the write lock long.
    pub cleanup_batch: i64,
    /// `REQUIRE_VERIFIED_EMAIL`: sign-in waits until the address is verified, and sign-up
    /// answers the same whether or not the address is taken.
    pub require_verified_email: bool,
    /// `SUDO_WINDOW`: how long after a proof of identity (sign-in, password, code) a
    /// session may take sensitive actions without another.
    pub sudo_window: Duration,
    /// `SIGN_UPS_PER_HOUR`: accounts one client address may create in an hour.
    pub sign_ups_per_hour: u32,
    /// `DBSC`: whether browsers are asked to bind their sessions to a key they keep.
    pub dbsc: DbscMode,
}

/// `DBSC`: device-bound session credentials (docs/DBSC.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum DbscMode {
    /// Never asked.
    Off,
    /// Every browser session is offered binding; a bound one is renewed only with a
    /// proof, an unbound one (Firefox, Safari, or Chrome without DBSC) as before.
    #[default]
    Opportunistic,
    /// As `Opportunistic`, and a browser that answered the offer (so supports DBSC) but
    /// never got bound is not renewed either.
    Required,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            refresh_ttl: Duration::from_secs(7 * 24 * 3600),
            session_max_age: Duration::from_secs(30 * 24 * 3600),
            refresh_grace: Duration::from_secs(10),
            event_retention: Duration::from_secs(90 * 24 * 3600),
            max_sessions: 20,
            cleanup_batch: 1000,
            require_verified_email: false,
            sudo_window: Duration::from_secs(600),
            sign_ups_per_hour: 10,
            dbsc: DbscMode::default(),
        }
    }
}
