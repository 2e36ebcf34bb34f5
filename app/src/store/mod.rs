//! Persistence: the database handle, its URL, the Diesel schema and the embedded
//! migrations. Server-only (`ssr`).
//!
//! Diesel is synchronous, so every query goes through [`Database::run`], which borrows a
//! pooled connection on tokio's blocking pool and never on the async executor.

pub mod blacklist;
mod connection;
mod database;
mod error;
mod migrations;
pub mod models;
pub mod schema;
#[cfg(test)]
mod schema_check;
pub mod testing;
pub mod throttle;
mod url;
mod web_sessions;

pub use connection::{DbBackend, DbConnection};
pub use database::{Database, DatabaseOptions, create_private_dir};
pub use error::DbError;
pub use migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
pub use url::DatabaseUrl;
pub use web_sessions::WebSessionStore;
