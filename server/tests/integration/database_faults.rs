//! A busy or locked SQLite database: short locks are waited out, long ones get a clear
//! 503 within the configured timeout, and service resumes by itself. (SQLite only: the
//! PostgreSQL faults are in `postgres_faults.rs`.)

use crate::support;

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use reqwest::StatusCode;
use support::{Client, Cookies, PASSWORD};

/// Holds SQLite's write lock on the server's database for `hold`, from another process's
/// point of view (a second connection), as a backup job or a stuck writer would.
fn lock_database_for(client: &Client, hold: Duration) -> std::thread::JoinHandle<()> {
    let path = client.server.data_dir.path().join("gatehouse.db");
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        // The server writes now and then by itself (its start-up cleanup, the feed):
        // wait for such a write to end rather than fail to take the lock.
        conn.batch_execute("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE")
            .unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(hold);
        conn.batch_execute("COMMIT").unwrap();
    });
    locked_rx.recv().unwrap();
    handle
}

async fn sign_up(client: &Client, email: &str) -> reqwest::Response {
    client
        .post(
            "/api/auth/signup",
            &Cookies::default(),
            &[("email", email), ("password", PASSWORD)],
        )
        .await
}

#[tokio::test]
async fn a_short_lock_is_waited_out_within_the_busy_timeout() {
    if support::on_postgres() {
        return;
    }
    let client = Client::new(&[("DATABASE_TIMEOUT", "3s")]);
    let lock = lock_database_for(&client, Duration::from_millis(800));
    let response = sign_up(&client, "ann@example.com").await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the write should wait for the lock"
    );
    lock.join().unwrap();
}

#[tokio::test]
async fn a_long_lock_gets_a_clear_503_in_time_and_service_resumes() {
    if support::on_postgres() {
        return;
    }
    let client = Client::new(&[("DATABASE_TIMEOUT", "1s")]);
    let lock = lock_database_for(&client, Duration::from_secs(3));
    let started = Instant::now();
    let response = sign_up(&client, "ann@example.com").await;
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(waited < Duration::from_secs(2), "answered after {waited:?}");
    let body = response.text().await.unwrap();
    assert!(body.contains("temporarily unavailable"), "{body}");

    lock.join().unwrap();
    assert_eq!(
        sign_up(&client, "ann@example.com").await.status(),
        StatusCode::OK,
        "no restart needed"
    );
}
