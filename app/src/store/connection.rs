//! One connection type for both engines: Diesel's `MultiConnection` over PostgreSQL and
//! SQLite, chosen at start from the `DATABASE_URL` scheme.
//!
//! Almost every query is written once against [`DbConnection`]. The few things the two
//! engines spell differently (upserts, row locks, how a write transaction starts) use
//! [`on_backend!`], which compiles the same expression once per engine.
//!
//! The reads a page makes on every view (the device list, the sudo status) also run
//! through [`on_backend!`], on the engine's own connection. Through `DbConnection`,
//! Diesel's `MultiConnection` wraps every query in a `SerializedQuery` that writes out the
//! query's whole SQL text on every run, even when the prepared statement is cached by the
//! query's type (collecting the binds renders the SQL first), which a page view should
//! not pay (docs/PERFORMANCE.md).

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::ManageConnection;
use diesel::sqlite::SqliteConnection;

use super::DatabaseUrl;

/// A pooled connection to whichever database `DATABASE_URL` named.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// Several server instances share one PostgreSQL database.
    Postgres(PgConnection),
    /// The embedded, zero-setup default.
    Sqlite(SqliteConnection),
}

/// The Diesel backend of [`DbConnection`], for boxed queries.
pub type DbBackend = <DbConnection as Connection>::Backend;

/// Runs `$body` with `$c` bound to the engine's own connection type (`&mut PgConnection`
/// or `&mut SqliteConnection`), for the few statements the engines spell differently.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConnection::Postgres($c) => $body,
            $crate::store::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// Opens connections of the engine in the URL. (The derived `establish` would try each
/// engine in turn, and SQLite happily creates a file named `postgres://…`.)
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    /// A manager for `url`.
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    /// Opens one connection.
    pub fn establish(&self) -> ConnectionResult<DbConnection> {
        Ok(match &self.url {
            DatabaseUrl::Sqlite(path) => {
                DbConnection::Sqlite(SqliteConnection::establish(&path.to_string_lossy())?)
            }
            DatabaseUrl::Postgres(url) => DbConnection::Postgres(PgConnection::establish(url)?),
        })
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        self.establish()
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        on_backend!(conn, |c| diesel::r2d2::R2D2Connection::is_broken(c))
    }
}

impl DbConnection {
    /// Runs `work` in a transaction meant to write, committing if it returns `Ok`.
    ///
    /// SQLite: `BEGIN IMMEDIATE` takes the database's one write lock at the start, so two
    /// writers queue (within `busy_timeout`) instead of deadlocking when both try to
    /// upgrade a read lock. PostgreSQL: a plain `READ COMMITTED` transaction; the code
    /// that needs one writer at a time on a row says so with `SELECT … FOR UPDATE`
    /// (see `auth::transactions`).
    pub fn write_transaction<T, E, F>(&mut self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        match self {
            Self::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
            Self::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
        }
        match work(self) {
            Ok(value) => {
                <Self as TransactionManager<Self>>::commit_transaction(self)?;
                Ok(value)
            }
            Err(err) => {
                // The work's error is the one worth reporting; a connection whose rollback
                // failed is marked broken and dropped by the pool.
                let _ = <Self as TransactionManager<Self>>::rollback_transaction(self);
                Err(err)
            }
        }
    }
}
