//! The pooled database handle.

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, Pool};
use diesel::sqlite::Sqlite;
#[cfg(test)]
use diesel::sqlite::SqliteConnection;
use diesel_migrations::MigrationHarness;

use super::connection::{DbConnection, Manager};
use super::migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use super::{DatabaseUrl, DbError};

/// How the pool behaves; read from the server configuration.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseOptions {
    /// Connections kept open. SQLite serialises writers anyway, so a handful is plenty;
    /// with PostgreSQL, every instance holds this many.
    pub pool_size: u32,
    /// How long a request waits for a connection, a lock or (PostgreSQL) a statement
    /// before the database counts as unavailable. Bounded so a stuck database gives a
    /// clear 503 instead of a hung request.
    pub timeout: Duration,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self {
            pool_size: 8,
            timeout: Duration::from_millis(1500),
        }
    }
}

/// A cheap-to-clone handle on the connection pool.
///
/// The only way to reach a connection is [`Database::run`], so no query can block the
/// async executor by accident.
#[derive(Clone)]
pub struct Database {
    pub(in crate::store) pool: Pool<Manager>,
    /// PostgreSQL: several instances may share this database.
    shared: bool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("state", &self.pool.state())
            .finish()
    }
}

impl Database {
    /// Opens (creating an SQLite file if needed) the database, applies pending migrations
    /// and fills the pool. Blocking: call it before serving, or from `spawn_blocking`.
    pub fn open(url: &DatabaseUrl, options: DatabaseOptions) -> Result<Self, DbError> {
        if let DatabaseUrl::Sqlite(path) = url {
            create_parent_dir(path)?;
            create_private_file(path)?;
        }
        let manager = Manager::new(url.clone());
        let settings = ConnectionSettings {
            timeout: options.timeout,
        };
        let open_error = |reason: String| DbError::Open {
            target: url.to_string(),
            reason,
        };

        // One connection first, for a precise error and to migrate before serving.
        let mut conn = manager.establish().map_err(|e| open_error(e.to_string()))?;
        settings
            .apply(&mut conn)
            .map_err(|e| open_error(e.to_string()))?;
        migrate(&mut conn)?;
        drop(conn);

        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.timeout)
            // A checkout normally runs `SELECT 1` first, to catch a connection the server
            // dropped. An SQLite file cannot drop one, so that was a wasted statement on
            // every query; PostgreSQL keeps the check (a restarted server).
            .test_on_check_out(matches!(url, DatabaseUrl::Postgres(_)))
            .connection_customizer(Box::new(settings))
            .build(manager)
            .map_err(|e| open_error(e.to_string()))?;
        Ok(Self {
            pool,
            shared: matches!(url, DatabaseUrl::Postgres(_)),
        })
    }

    /// True when other instances may use this database too (PostgreSQL), so state that
    /// must hold across instances (the brute-force counters) has to live in it.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// Runs `query` on a pooled connection on the blocking thread pool.
    ///
    /// Waiting for a connection is bounded by [`DatabaseOptions::timeout`]; past it the
    /// result is [`DbError::Unavailable`], which the web layer turns into a 503.
    pub async fn run<T, F>(&self, query: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| DbError::Unavailable(e.to_string()))?;
            query(&mut conn).map_err(DbError::classify)
        })
        .await
        .map_err(|e| DbError::Unavailable(format!("database task failed: {e}")))?
    }

    /// Runs a short, indexed read of the request path (a page's list, a status).
    ///
    /// SQLite: right here, on a pooled connection that is free at this moment. In WAL
    /// mode a reader never waits for a lock, and such a read takes microseconds, less
    /// than the hop to the blocking pool and back that [`Database::run`] pays (two
    /// thread wake-ups; docs/PERFORMANCE.md).
    /// With no free connection, and always on PostgreSQL (a network round trip), it is
    /// `run`. Never for writes: a write can wait for SQLite's lock, which must not stall
    /// the async worker.
    pub async fn read<T, F>(&self, query: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        if !self.shared
            && let Some(mut conn) = self.pool.try_get()
        {
            return query(&mut conn).map_err(DbError::classify);
        }
        self.run(query).await
    }

    /// Checks that the database answers a trivial query; used by `GET /healthz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|conn| {
            conn.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
    }
}

/// Creates the folder of an SQLite file, readable by its owner only (0700): it holds
/// password hashes and the signing key.
fn create_parent_dir(path: &Path) -> Result<(), DbError> {
    match path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        Some(dir) => create_private_dir(dir).map_err(|source| DbError::CreateDir {
            path: dir.to_owned(),
            source,
        }),
        None => Ok(()),
    }
}

/// `mkdir -p` with mode 0700 for the folders it creates.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes sure the SQLite file exists with mode 0600 before SQLite opens it: SQLite then
/// gives its `-wal` and `-shm` files the same mode. Files from an older version are
/// tightened to 0600 too.
fn create_private_file(path: &Path) -> Result<(), DbError> {
    let failed = |source: std::io::Error| DbError::Open {
        target: path.display().to_string(),
        reason: source.to_string(),
    };
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(failed)?;
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(failed(e)),
        }
    }
    Ok(())
}

/// Applies the engine's pending migrations. Several PostgreSQL instances may start at
/// once, so there the migrations run under an advisory lock, one instance at a time.
fn migrate(conn: &mut DbConnection) -> Result<(), DbError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        DbConnection::Sqlite(c) => {
            run_migrations::<Sqlite, _>(c, SQLITE_MIGRATIONS).map_err(failed)
        }
        DbConnection::Postgres(c) => {
            // Any constant: it only has to be the same for every Gatehouse instance.
            const MIGRATION_LOCK: i64 = 0x6761_7465_686f;
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let result = run_migrations::<Pg, _>(c, POSTGRES_MIGRATIONS).map_err(failed);
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
            result
        }
    }
}

fn run_migrations<DB, C>(
    conn: &mut C,
    source: impl MigrationSource<DB>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    DB: diesel::backend::Backend,
    C: MigrationHarness<DB>,
{
    conn.run_pending_migrations(source).map(|_| ())
}

/// The per-connection settings every pooled connection gets.
///
/// SQLite: WAL lets readers proceed while one writer commits; `busy_timeout` makes a
/// writer wait for the lock instead of failing at once; `synchronous=NORMAL` is durable
/// in WAL mode (a power cut may lose the last commits, never corrupt); foreign keys are
/// off in SQLite unless asked for.
///
/// PostgreSQL: no statement or lock wait may outlast the timeout, so a stuck database
/// is a 503, never a hung request; times are UTC like the SQLite ones.
#[derive(Debug, Clone, Copy)]
struct ConnectionSettings {
    timeout: Duration,
}

impl ConnectionSettings {
    fn apply(&self, conn: &mut DbConnection) -> QueryResult<()> {
        let millis = self.timeout.as_millis();
        match conn {
            DbConnection::Sqlite(c) => c.batch_execute(&format!(
                "PRAGMA busy_timeout = {millis};
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;"
            )),
            DbConnection::Postgres(c) => c.batch_execute(&format!(
                "SET statement_timeout = {millis};
                 SET lock_timeout = {millis};
                 SET idle_in_transaction_session_timeout = {};
                 SET TIME ZONE 'UTC';",
                millis * 10
            )),
        }
    }
}

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Gives the pool's inner connections to tests of this module.
#[cfg(test)]
fn sqlite(conn: &mut DbConnection) -> &mut SqliteConnection {
    match conn {
        DbConnection::Sqlite(c) => c,
        DbConnection::Postgres(_) => panic!("not SQLite"),
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
            .get_result::<Value>(sqlite(&mut conn))
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
        assert!(
            !sqlite(&mut conn)
                .has_pending_migration(SQLITE_MIGRATIONS)
                .unwrap()
        );
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

    /// A read runs on this thread when a connection is free, and otherwise waits for one
    /// like any query: it never fails just because the pool is busy.
    #[tokio::test]
    async fn a_read_runs_here_when_a_connection_is_free_and_waits_like_run_when_not() {
        let (_dir, db) = temp_db(DatabaseOptions {
            pool_size: 1,
            timeout: Duration::from_secs(5),
        });
        let here = std::thread::current().id();
        let ran_on = db.read(|_| Ok(std::thread::current().id())).await.unwrap();
        assert_eq!(ran_on, here);

        let held = db.pool.get().unwrap();
        let read = tokio::spawn({
            let db = db.clone();
            async move { db.read(|_| Ok(std::thread::current().id())).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !read.is_finished(),
            "the read did not wait for the connection"
        );
        drop(held);
        let ran_on = read.await.unwrap().unwrap();
        assert_ne!(
            ran_on, here,
            "with no free connection it goes to the blocking pool"
        );
    }
}
