//! The authentication domain: sessions, devices, the account, recovery, the second
//! factor, passkeys and OpenID providers, each a service over one shared [`Core`], plus the [`Guard`]
//! every guessable secret passes. Server-only (`ssr`), and free of Leptos, axum and SQL
//! (the SQL is in `store/`), so every rule here can be tested on its own.
//!
//! Dependencies run one way: a feature service uses the core, the rules of the session
//! life cycle (`transactions`) and the plain types below them, never another feature's
//! service, so no two modules here import each other (checked by
//! `app/tests/module_graph.rs`).

use std::sync::Arc;

pub mod access_token;
pub mod account;
pub mod client_info;
pub mod core;
pub mod dbsc;
pub mod dbsc_proof;
pub mod devices;
pub mod email;
pub mod email_link;
pub mod error;
pub mod events;
pub mod guard;
pub mod identities;
pub mod keys;
pub mod notices;
pub mod passkeys;
pub mod password;
pub mod recovery;
pub mod refresh_token;
pub mod reset_review;
pub mod revocation;
pub mod second_factor;
pub mod session;
pub mod sessions;
pub mod settings;
pub mod throttle;
mod transactions;

pub use self::account::Accounts;
pub use self::core::Core;
pub use self::dbsc::Dbsc;
pub use self::devices::Devices;
pub use self::guard::Guard;
pub use self::identities::Identities;
pub use self::passkeys::Passkeys;
pub use self::recovery::Recovery;
pub use self::reset_review::ResetReview;
pub use self::second_factor::SecondFactor;
pub use self::sessions::Sessions;

use self::access_token::AccessTokens;
use self::error::AuthError;
use self::password::Passwords;
use self::session::CleanupReport;
use self::settings::SessionSettings;
use crate::store::Database;

/// Every service of the domain, one per process, shared by every request: the API
/// calls `auth.sessions.log_in(…)`, `auth.devices.revoke_device(…)` and so on.
#[derive(Debug)]
pub struct Auth {
    /// What the services share: database, tokens, revocations, settings, keys.
    pub core: Arc<Core>,
    /// The brute-force throttle's rules, for every guessable secret and anonymous write.
    pub guard: Guard,
    /// Sign-up, sign-in, refresh, sign-out.
    pub sessions: Sessions,
    /// The devices page: list, sign out one, sign out all others.
    pub devices: Devices,
    /// The account's settings: password, address, notices, activity, deletion.
    pub accounts: Accounts,
    /// Forgotten passwords and address verification, by mailed link.
    pub recovery: Recovery,
    /// What a completed reset may remove (`/reset-review`).
    pub reset_review: ResetReview,
    /// Two-step sign-in, recovery codes and sudo mode.
    pub second_factor: SecondFactor,
    /// Passkeys: adding, removing, signing in.
    pub passkeys: Passkeys,
    /// Sign-in with OpenID providers, and the identities linked to accounts.
    pub identities: Identities,
    /// Device-bound sessions (DBSC): binding a session to a key, renewing it by proof.
    pub dbsc: Dbsc,
}

impl Auth {
    /// Assembles the domain. Call [`Core::load_revocations`] before serving.
    pub fn new(
        db: Database,
        passwords: Passwords,
        tokens: AccessTokens,
        settings: SessionSettings,
    ) -> Self {
        let core = Arc::new(Core::new(db, passwords, tokens, settings));
        Self {
            guard: Guard::new(Arc::clone(&core)),
            sessions: Sessions::new(Arc::clone(&core)),
            devices: Devices::new(Arc::clone(&core)),
            accounts: Accounts::new(Arc::clone(&core)),
            recovery: Recovery::new(Arc::clone(&core)),
            reset_review: ResetReview::new(Arc::clone(&core)),
            second_factor: SecondFactor::new(Arc::clone(&core)),
            passkeys: Passkeys::new(Arc::clone(&core), None),
            identities: Identities::new(Arc::clone(&core)),
            dbsc: Dbsc::new(Arc::clone(&core)),
            core,
        }
    }

    /// Turns passkeys on, for the relying party made from `PUBLIC_URL` (see
    /// [`passkeys::relying_party`]).
    pub fn with_relying_party(mut self, relying_party: webauthn_rs::Webauthn) -> Self {
        self.passkeys = Passkeys::new(Arc::clone(&self.core), Some(relying_party));
        self
    }

    /// Deletes every expired row, in batches, and prunes the revocation set and the
    /// throttle's memory.
    pub async fn cleanup(&self) -> Result<CleanupReport, AuthError> {
        self.cleanup_at(transactions::now()).await
    }

    /// [`Auth::cleanup`] as if the time were `now`, so tests can look past the horizon
    /// without waiting for it.
    pub async fn cleanup_at(&self, now: chrono::NaiveDateTime) -> Result<CleanupReport, AuthError> {
        let report = self.core.delete_expired(now).await?;
        self.guard.throttle().purge();
        Ok(report)
    }
}

/// Seconds since the Unix epoch, the unit of JWT times. Read on every signed-in
/// request, so straight from the system clock: `chrono::Utc::now().timestamp()` gives the
/// same number by way of a calendar date.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests;
