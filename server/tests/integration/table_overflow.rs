//! 5,000 login/logout cycles with short lifetimes: once the cleanup horizon has passed,
//! the token and session tables hold no expired rows and only what live sessions need.
//! Without the cleanup job every one of those 5,000 sessions would still be there.

use crate::support;

use std::time::{Duration, Instant};

use app::store::schema::{device_sessions, refresh_tokens, security_events, token_blacklist};
use diesel::prelude::*;
use reqwest::StatusCode;
use support::{Client, Cookies, count};

const CYCLES: usize = 5_000;
const WORKERS: usize = 8;
/// Sessions kept alive (refreshed) throughout, which the cleanup must not touch.
const LIVE: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_thousand_login_logout_cycles_leave_bounded_tables() {
    let client = std::sync::Arc::new(Client::new(&[
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
        // A storm on a debug build on a shared machine: queueing for SQLite's write lock
        // may take longer than the production default, and a 503 here is not the point.
        ("DATABASE_TIMEOUT", "5s"),
        ("ACCESS_TOKEN_TTL", "1s"),
        ("REFRESH_TOKEN_TTL", "3s"),
        ("REFRESH_GRACE", "1s"),
        ("EVENT_RETENTION", "3s"),
        ("CLEANUP_INTERVAL", "500ms"),
    ]));
    for worker in 0..WORKERS {
        client.sign_up(&format!("cycler{worker}@example.com")).await;
    }
    let mut live = Vec::new();
    for i in 0..LIVE {
        live.push(client.sign_up(&format!("keeper{i}@example.com")).await);
    }

    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let client = std::sync::Arc::clone(&client);
        workers.push(tokio::spawn(async move {
            let email = format!("cycler{worker}@example.com");
            for _ in 0..CYCLES / WORKERS {
                let cookies = client.log_in(&email, "overflow-test").await;
                let out = client.post("/api/auth/logout", &cookies, &[]).await;
                assert_eq!(out.status(), StatusCode::OK);
            }
        }));
    }
    // Meanwhile the live sessions refresh every half second, as open tabs would.
    let workers = async {
        for worker in workers {
            worker.await.unwrap();
        }
    };
    tokio::pin!(workers);
    loop {
        tokio::select! {
            () = &mut workers => break,
            () = tokio::time::sleep(Duration::from_millis(500)) => refresh_all(&client, &mut live).await,
        }
    }
    let cycling = started.elapsed();
    println!("{CYCLES} login/logout cycles in {cycling:?}");

    // Past every horizon: refresh tokens 3 s, blacklist entries 1 s + 5 s leeway, events 3 s.
    let horizon = Instant::now() + Duration::from_secs(8);
    while Instant::now() < horizon {
        tokio::time::sleep(Duration::from_millis(500)).await;
        refresh_all(&client, &mut live).await;
    }

    let db = client.db();
    // Rows that expired before the last cleanup tick must be gone.
    let cutoff = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
    let expired = (
        count(&db, move |c| {
            refresh_tokens::table
                .filter(refresh_tokens::expires_at.lt(cutoff))
                .count()
                .get_result(c)
        })
        .await,
        count(&db, move |c| {
            token_blacklist::table
                .filter(token_blacklist::expires_at.lt(cutoff))
                .count()
                .get_result(c)
        })
        .await,
        count(&db, move |c| {
            device_sessions::table
                .filter(device_sessions::expires_at.lt(cutoff))
                .count()
                .get_result(c)
        })
        .await,
    );
    assert_eq!(expired, (0, 0, 0), "expired rows left behind");

    let sessions = count(&db, |c| device_sessions::table.count().get_result(c)).await;
    let tokens = count(&db, |c| refresh_tokens::table.count().get_result(c)).await;
    let blacklist = count(&db, |c| token_blacklist::table.count().get_result(c)).await;
    let events = count(&db, |c| security_events::table.count().get_result(c)).await;
    println!(
        "after the horizon: {sessions} sessions, {tokens} refresh tokens, {blacklist} blacklist rows, {events} events"
    );
    assert_eq!(sessions, LIVE as i64, "only the live sessions remain");
    // A live session refreshed every 0.5 s keeps its current token plus the used ones of
    // the last 3 s (kept for reuse detection): at most 8 each.
    assert!(tokens <= 8 * LIVE as i64, "{tokens} refresh tokens");
    assert_eq!(
        blacklist, 0,
        "every logged-out session's tokens have expired"
    );
    assert!(events <= 8 * LIVE as i64, "{events} events");

    for cookies in &live {
        assert_eq!(
            client.me(cookies).await,
            StatusCode::OK,
            "a live session was lost"
        );
    }
}

/// Refreshes every live session, keeping the rotated cookies.
async fn refresh_all(client: &Client, live: &mut [Cookies]) {
    for cookies in live.iter_mut() {
        let response = client.post("/api/auth/refresh", cookies, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "a live session was lost");
        cookies.update(&response);
    }
}
