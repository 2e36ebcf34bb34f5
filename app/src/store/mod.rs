//! Persistence: the database handle, its URL, the Diesel schema and the embedded
//! migrations, and every SQL statement of the app, one module per table family:
//! `accounts`, `device_sessions` (with refresh tokens), `blacklist`, `events`,
//! `throttle`, `web_sessions`, `email_tokens`, `outbox` (mail), `second_factor`, `passkeys`,
//! and the deletes of `cleanup`. Server-only (`ssr`).
//! The rules that use them live in `auth/`, which imports no Diesel.
//!
//! Diesel is synchronous, so every query goes through [`Database::run`], which borrows a
//! pooled connection on tokio's blocking pool and never on the async executor.

pub mod accounts;
pub mod blacklist;
pub mod cleanup;
mod connection;
mod database;
pub mod device_sessions;
pub mod email_tokens;
mod error;
pub mod events;
mod migrations;
pub mod models;
pub mod outbox;
pub mod passkeys;
pub mod schema;
#[cfg(test)]
mod schema_check;
pub mod second_factor;
pub mod testing;
pub mod throttle;
mod url;
mod web_sessions;

pub use connection::{DbBackend, DbConnection};
pub use database::{Database, DatabaseOptions, create_private_dir};
/// What every query of this module returns; `auth/` names it without importing Diesel.
pub use diesel::QueryResult;
pub use error::DbError;
pub use migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
pub use url::DatabaseUrl;
pub use web_sessions::{LOADED_KEY as WEB_SESSION_LOADED_KEY, WebSessionStore};
