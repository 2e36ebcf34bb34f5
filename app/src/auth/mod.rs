//! Authentication domain: passwords, access tokens, refresh tokens, signing keys and
//! revocation. Server-only (`ssr`), and free of Leptos and axum types so every rule
//! here can be tested on its own.

pub mod access_token;
pub mod account;
pub mod client;
pub mod devices;
pub mod email;
pub mod email_link;
pub mod error;
pub mod events;
pub mod keys;
pub mod passkeys;
pub mod password;
pub mod recovery;
pub mod refresh_token;
pub mod reset_review;
pub mod revocation;
pub mod second_factor;
pub mod service;
pub mod session;
pub mod settings;
pub mod throttle;
mod transactions;

/// Seconds since the Unix epoch, the unit of JWT times.
pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}
