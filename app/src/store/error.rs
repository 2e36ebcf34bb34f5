//! The error type of the persistence layer.

use std::path::PathBuf;

/// Everything that can go wrong between Gatehouse and its database.
///
/// The first five variants happen at start-up and are printed as one line before the
/// server exits; [`DbError::Unavailable`] and [`DbError::Query`] happen while serving.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// `DATABASE_URL` is not of a form Gatehouse understands (start-up error).
    #[error("DATABASE_URL {url:?} is not a database URL: expected sqlite://PATH")]
    InvalidUrl {
        /// The URL as given.
        url: String,
    },

    /// `DATABASE_URL` names a database engine this build does not support (start-up error).
    #[error(
        "DATABASE_URL uses the {scheme}:// scheme, which this build does not support: use sqlite://PATH"
    )]
    UnsupportedBackend {
        /// The scheme found in the URL.
        scheme: String,
    },

    /// The folder that should hold the database file cannot be created (start-up error).
    #[error("cannot create the database folder {}: {source}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// Why the operating system refused.
        source: std::io::Error,
    },

    /// The database file cannot be opened or written (start-up error).
    #[error("cannot open the database {}: {reason}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's explanation.
        reason: String,
    },

    /// The embedded migrations failed to apply (start-up error).
    #[error("cannot apply the database migrations: {0}")]
    Migration(String),

    /// No connection could be had in time: the database is down, locked or overloaded.
    /// The web layer answers 503.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),

    /// A query failed. The web layer logs it and answers 500 without the details.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
}
