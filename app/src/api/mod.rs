//! Server functions: the app's HTTP API (ARCHITECTURE: "HTTP contract"). Each is a thin adapter: parse the
//! form, call the domain, set cookies, map errors to [`error::AppError`].

pub mod account;
pub mod auth;
pub mod dbsc;
pub mod devices;
pub mod language;
pub mod oidc;
pub mod passkeys;
pub mod recovery;
pub mod second_factor;
pub mod session_client;
