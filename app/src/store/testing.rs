//! Scratch databases for test suites (this crate's and the server's integration tests).
//!
//! `make test` starts a throwaway PostgreSQL cluster and names it in
//! `GATEHOUSE_TEST_POSTGRES` (a URL whose user may create databases); every test that
//! runs on PostgreSQL gets a database of its own there, so tests never see each other's
//! rows.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;

/// The variable that names the test cluster.
pub const POSTGRES_ENV: &str = "GATEHOUSE_TEST_POSTGRES";

/// The variable that picks the engine of scratch databases: `postgres` for the test
/// cluster; unset or anything else, SQLite. `make test` runs the suites once with each.
pub const BACKEND_ENV: &str = "GATEHOUSE_TEST_BACKEND";

/// Whether this run of a suite is its PostgreSQL pass (see [`BACKEND_ENV`]).
pub fn on_postgres() -> bool {
    std::env::var(BACKEND_ENV).is_ok_and(|b| b == "postgres")
}

/// A fresh, empty database for one test: a SQLite file in `data_dir`, or in the
/// PostgreSQL pass a new database on the test cluster.
pub fn scratch_database(data_dir: &std::path::Path) -> super::DatabaseUrl {
    if !on_postgres() {
        return super::DatabaseUrl::sqlite_in(data_dir);
    }
    let admin = postgres_admin_url()
        .unwrap_or_else(|| panic!("{BACKEND_ENV}=postgres needs {POSTGRES_ENV}"));
    super::DatabaseUrl::Postgres(fresh_postgres_database(&admin))
}

/// The admin URL of the test cluster, or `None` when none is configured.
///
/// Under CI (`CI` set) a missing cluster is an error, not a skip: a suite that quietly
/// skips every PostgreSQL test would prove nothing.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "{POSTGRES_ENV} is not set: run the tests with `make test`, which starts PostgreSQL"
            )
        }
        _ => {
            eprintln!("skipped: set {POSTGRES_ENV} (or run `make test`) to test on PostgreSQL");
            None
        }
    }
}

/// Creates an empty database with a random name on the test cluster and returns its URL.
pub fn fresh_postgres_database(admin_url: &str) -> String {
    let name = format!("gatehouse_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(admin_url)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin_url}: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a scratch database");
    match admin_url.rsplit_once('/') {
        Some((server, _)) if server.contains("://") && server.len() > "postgres://".len() => {
            format!("{server}/{name}")
        }
        _ => panic!(
            "{POSTGRES_ENV} must end in /DATABASE, e.g. postgres://u@127.0.0.1:5432/postgres"
        ),
    }
}

/// Test suites: how many rows of `table` match the SQL `condition` (test text only,
/// never user input), to check what the rules wrote.
pub fn count_where(
    conn: &mut super::DbConnection,
    table: &str,
    condition: &str,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}");
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

/// Test suites: runs SQL statements as they are (e.g. to stage a skewed clock).
pub fn execute(conn: &mut super::DbConnection, sql: &str) -> QueryResult<()> {
    conn.batch_execute(sql)
}

/// Test suites: a connection of its own to `url`, outside any pool (to hold a
/// transaction open while the code under test runs).
pub fn connect(url: &super::DatabaseUrl) -> super::DbConnection {
    super::connection::Manager::new(url.clone())
        .establish()
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}
