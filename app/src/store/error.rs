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

/// A unique key a request may run into, as opposed to one only a bug would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueKey {
    /// `users.email`: the address is taken.
    Email,
    /// `passkeys.credential_id`: the passkey is on an account already.
    PasskeyCredential,
}

impl UniqueKey {
    /// The constraint's name on PostgreSQL, and the column SQLite reports.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::Email => ("users_email_key", "users.email"),
            Self::PasskeyCredential => ("passkeys_pkey", "passkeys.credential_id"),
        }
    }
}

impl DbError {
    /// True when the write broke the uniqueness of `key`, read from the database's own
    /// report (PostgreSQL names the constraint, SQLite the column), so that another
    /// key's violation is never taken for this one.
    pub fn breaks(&self, key: UniqueKey) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        let Self::Query(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) = self
        else {
            return false;
        };
        let (constraint, column) = key.names();
        info.constraint_name() == Some(constraint)
            || info
                .message()
                .strip_prefix("UNIQUE constraint failed: ")
                .is_some_and(|columns| columns == column)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Database, DatabaseOptions, testing};

    /// Each engine's report of a broken key names that key and no other.
    #[test]
    fn a_unique_violation_is_told_apart_by_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let url = testing::scratch_database(dir.path());
        // Opening applies the migrations.
        let _db = Database::open(&url, DatabaseOptions::default()).unwrap();
        let mut conn = testing::connect(&url);
        let user = |id: &str| {
            format!(
                "INSERT INTO users (id, email, password_hash, created_at, password_changed_at, notify_new_device) \
                 VALUES ('{id}', 'ann@example.com', 'x', '2026-01-01 00:00:00', '2026-01-01 00:00:00', TRUE)"
            )
        };
        testing::execute(&mut conn, &user("u1")).unwrap();
        let taken = DbError::from(testing::execute(&mut conn, &user("u2")).unwrap_err());
        assert!(taken.breaks(UniqueKey::Email), "{taken}");
        assert!(!taken.breaks(UniqueKey::PasskeyCredential), "{taken}");
        let passkey = "INSERT INTO passkeys (credential_id, user_id, name, passkey, sign_count, backed_up, created_at) \
                       VALUES ('c1', 'u1', 'Phone', '{}', 0, FALSE, '2026-01-01 00:00:00')";
        testing::execute(&mut conn, passkey).unwrap();
        let again = DbError::from(testing::execute(&mut conn, passkey).unwrap_err());
        assert!(again.breaks(UniqueKey::PasskeyCredential), "{again}");
        assert!(!again.breaks(UniqueKey::Email), "{again}");
    }
}
