//! The pooled database handle.

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::MigrationHarness;

use super::{DatabaseUrl, DbError, MIGRATIONS};

/// How the pool behaves; read from the server configuration.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseOptions {
    /// Connections kept open. SQLite serialises writers anyway, so a handful is plenty.
    pub pool_size: u32,
    /// How long a request waits for a connection, and SQLite for a lock, before the
    /// database counts as unavailable. Bounded so a stuck database gives a clear 503
    /// instead of a hung request.
    pub timeout: Duration,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self {
            pool_size: 8,
            timeout: Duration::from_secs(2),
        }
    }
}

/// A cheap-to-clone handle on the connection pool.
///
/// The only way to reach a connection is [`Database::run`], so no query can block the
/// async executor by accident.
#[derive(Clone)]
pub struct Database {
    pub(in crate::store) pool: Pool<ConnectionManager<SqliteConnection>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("state", &self.pool.state())
            .finish()
    }
}

impl Database {
    /// Opens (creating if needed) the database, applies pending migrations and fills the
    /// pool. Blocking: call it before serving, or from `spawn_blocking`.
    pub fn open(url: &DatabaseUrl, options: DatabaseOptions) -> Result<Self, DbError> {
        let DatabaseUrl::Sqlite(path) = url;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let pragmas = SqlitePragmas {
            busy_timeout: options.timeout,
        };

        // One connection first, for a precise error and to migrate before serving.
        let mut conn = establish(path)?;
        pragmas.apply(&mut conn).map_err(|e| open_error(path, e))?;
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| DbError::Migration(e.to_string()))?;
        drop(conn);

        let manager = ConnectionManager::<SqliteConnection>::new(path.to_string_lossy());
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.timeout)
            .connection_customizer(Box::new(pragmas))
            .build(manager)
            .map_err(|e| DbError::Open {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self { pool })
    }

    /// Runs `query` on a pooled connection on the blocking thread pool.
    ///
    /// Waiting for a connection is bounded by [`DatabaseOptions::timeout`]; past it the
    /// result is [`DbError::Unavailable`], which the web layer turns into a 503.
    pub async fn run<T, F>(&self, query: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<T, DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| DbError::Unavailable(e.to_string()))?;
            query(&mut conn)
        })
        .await
        .map_err(|e| DbError::Unavailable(format!("database task failed: {e}")))?
    }

    /// Checks that the database answers a trivial query; used by `GET /healthz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
    }
}

fn establish(path: &Path) -> Result<SqliteConnection, DbError> {
    SqliteConnection::establish(&path.to_string_lossy()).map_err(|e| DbError::Open {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn open_error(path: &Path, e: diesel::result::Error) -> DbError {
    DbError::Open {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// The per-connection settings every SQLite connection gets.
///
/// WAL lets readers proceed while one writer commits; `busy_timeout` makes a writer wait
/// for the lock instead of failing at once; `synchronous=NORMAL` is durable in WAL mode
/// (a power cut may lose the last commits, never corrupt); foreign keys are off in
/// SQLite unless asked for.
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas {
    busy_timeout: Duration,
}

impl SqlitePragmas {
    fn apply(&self, conn: &mut SqliteConnection) -> QueryResult<()> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {};
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;",
            self.busy_timeout.as_millis()
        ))
    }
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = Text)]
        value: String,
    }

    fn pragma(db: &Database, sql: &'static str) -> String {
        let mut conn = db.pool.get().unwrap();
        diesel::sql_query(sql)
            .get_result::<Value>(&mut conn)
            .unwrap()
            .value
    }

    fn temp_db(options: DatabaseOptions) -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&DatabaseUrl::sqlite_in(dir.path()), options).unwrap();
        (dir, db)
    }

    #[test]
    fn pooled_connections_use_wal_busy_timeout_foreign_keys_and_normal_sync() {
        let (_dir, db) = temp_db(DatabaseOptions {
            pool_size: 2,
            timeout: Duration::from_millis(1234),
        });
        assert_eq!(
            pragma(&db, "SELECT journal_mode AS value FROM pragma_journal_mode"),
            "wal"
        );
        assert_eq!(
            pragma(
                &db,
                "SELECT CAST(timeout AS TEXT) AS value FROM pragma_busy_timeout"
            ),
            "1234"
        );
        assert_eq!(
            pragma(
                &db,
                "SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys"
            ),
            "1"
        );
        // 1 = NORMAL (0 = OFF, 2 = FULL).
        assert_eq!(
            pragma(
                &db,
                "SELECT CAST(synchronous AS TEXT) AS value FROM pragma_synchronous"
            ),
            "1"
        );
    }

    #[test]
    fn opening_creates_the_folder_and_applies_every_migration() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("nested/deeper/g.db"));
        let db = Database::open(&url, DatabaseOptions::default()).unwrap();
        let mut conn = db.pool.get().unwrap();
        assert!(!conn.has_pending_migration(MIGRATIONS).unwrap());
        // Opening again is a no-op for migrations.
        drop(conn);
        Database::open(&url, DatabaseOptions::default()).unwrap();
    }

    #[test]
    fn a_path_below_a_regular_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let url = DatabaseUrl::Sqlite(file.join("g.db"));
        let err = Database::open(&url, DatabaseOptions::default()).unwrap_err();
        assert!(matches!(err, DbError::CreateDir { .. }), "{err:?}");
        assert!(err.to_string().contains("not-a-dir"), "{err}");
    }

    #[tokio::test]
    async fn an_exhausted_pool_reports_unavailable_within_the_timeout() {
        let (_dir, db) = temp_db(DatabaseOptions {
            pool_size: 1,
            timeout: Duration::from_millis(200),
        });
        let held = db.pool.get().unwrap();
        let started = std::time::Instant::now();
        let err = db.ping().await.unwrap_err();
        assert!(matches!(err, DbError::Unavailable(_)), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(held);
        db.ping().await.unwrap();
    }
}
