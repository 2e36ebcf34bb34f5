//! Persistence: the database handle, its URL, the Diesel schema and the embedded
//! migrations, and every SQL statement of the app, one module per table family:
//! `accounts`, `device_sessions` (with refresh tokens), `blacklist`, `events`,
//! `throttle`, `web_sessions`, `email_tokens`, `outbox` (mail), `second_factor`, `passkeys`,
//! `identities` (OpenID providers) and the deletes of `cleanup`. Server-only (`ssr`).
//! The rules that use them live in `auth/`, which imports no Diesel.
//!
//! Diesel is synchronous, so every query goes through [`Database::run`], which borrows a
//! pooled connection on tokio's blocking pool, or, for a short read of the request path
//! on SQLite, [`Database::read`], which runs it in place when a connection is free.
//!
//! A lookup of at most one row ends in `get_result`, never `first`: `first` adds
//! `LIMIT ?`, and SQLite's planner reads a bound LIMIT, so it prepares such a statement
//! again on every run (docs/PERFORMANCE.md). A unit test below keeps it that way.

pub mod accounts;
pub mod blacklist;
pub mod cleanup;
mod connection;
mod database;
pub mod dbsc;
pub mod device_sessions;
pub mod email_tokens;
mod error;
pub mod events;
pub mod identities;
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
pub use error::{DbError, UniqueKey};
pub use migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
pub use url::DatabaseUrl;
pub use web_sessions::{LOADED_KEY as WEB_SESSION_LOADED_KEY, WebSessionStore};

#[cfg(test)]
mod tests {
    /// See the module documentation: `first` would make SQLite re-prepare the statement.
    #[test]
    fn single_row_lookups_do_not_bind_a_limit() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
        // Spelled in pieces so this file does not match itself.
        let (call, turbofish) = ([".fir", "st("].concat(), [".fir", "st::<"].concat());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            for (n, line) in source.lines().enumerate() {
                assert!(
                    !line.contains(&call) && !line.contains(&turbofish),
                    "{}:{}: use get_result instead of first",
                    path.display(),
                    n + 1
                );
            }
        }
    }
}
