//! The error type of the persistence layer.

use std::path::PathBuf;

/// Everything that can go wrong between Gatehouse and its database.
///
/// The first five variants happen at start-up and are printed as one line before the
/// server exits; [`DbError::Unavailable`] and [`DbError::Query`] happen while serving.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// `DATABASE_URL` is not of a form Gatehouse understands (start-up error).
    #[error(
        "DATABASE_URL {url:?} is not a database URL: expected sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
    )]
    InvalidUrl {
        /// The URL as given.
        url: String,
    },

    /// `DATABASE_URL` names a database engine this build does not support (start-up error).
    #[error(
        "DATABASE_URL uses the {scheme}:// scheme, which Gatehouse does not support: use sqlite://PATH or postgres://…"
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

    /// The database cannot be opened or written (start-up error).
    #[error("cannot open the database {target}: {reason}")]
    Open {
        /// The database file, or the PostgreSQL URL without its password.
        target: String,
        /// The engine's explanation.
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

impl DbError {
    /// True when the write broke a `UNIQUE` constraint (an e-mail address taken, say).
    pub fn is_unique_violation(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        matches!(
            self,
            Self::Query(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
        )
    }

    /// Turns a query error that really means "the database is not answering" into
    /// [`DbError::Unavailable`], so the caller gets a 503 and not a 500: SQLite's lock held
    /// past `busy_timeout`, and PostgreSQL's lost connection or statement timeout.
    pub fn classify(self) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        let unavailable = match &self {
            Self::Query(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )) => true,
            Self::Query(Error::DatabaseError(_, info)) => is_unavailable(info.message()),
            Self::Query(Error::BrokenTransactionManager) => true,
            _ => false,
        };
        match self {
            Self::Query(err) if unavailable => Self::Unavailable(err.to_string()),
            other => other,
        }
    }
}

/// Messages of the two engines that mean "not now" rather than "wrong query".
fn is_unavailable(message: &str) -> bool {
    [
        "database is locked",
        "database is busy",
        "statement timeout",
        "lock timeout",
        "terminating connection",
        "server closed the connection",
        "connection to server",
        "the database system is shutting down",
        "the database system is starting up",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}
