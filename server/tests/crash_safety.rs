//! A storm of logins and refreshes, a SIGKILL in the middle of it, a restart on the same
//! database: every login or refresh that was answered 200 left a working session.
//!
//! This holds because a rotation commits (SQLite WAL) before its answer is written, and
//! because a rotation that committed but whose answer was lost in the crash is within the
//! grace window when the device retries with the token it still holds.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use support::{Client, Cookies, PASSWORD};

/// Devices that refresh in a loop, and devices that log in in a loop.
const REFRESHERS: usize = 12;
const LOGGERS: usize = 4;
const STORM: Duration = Duration::from_secs(3);

/// What one device last had confirmed by a 200.
type Acknowledged = Arc<std::sync::Mutex<Vec<Cookies>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_storm_loses_no_acknowledged_session() {
    let mut client = Client::new(&[
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
        // A storm on a debug build on a shared machine: queueing for SQLite's write lock
        // may take longer than the production default, and a 503 here is not the point.
        ("DATABASE_TIMEOUT", "5s"),
        // Longer than the crash and restart: a rotation whose answer died with the server
        // is retried within it.
        ("REFRESH_GRACE", "60s"),
        // Every login of the storm stays a live session: none is evicted by the limit.
        ("MAX_SESSIONS_PER_USER", "100000"),
    ]);
    let mut devices = Vec::new();
    for i in 0..REFRESHERS {
        devices.push(client.sign_up(&format!("refresher{i}@example.com")).await);
    }
    for i in 0..LOGGERS {
        client.sign_up(&format!("logger{i}@example.com")).await;
    }

    let crashed = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let acknowledged: Acknowledged = Arc::default();
    let base = client.server.base_url.clone();
    let mut storm = Vec::new();
    for (i, cookies) in devices.into_iter().enumerate() {
        let (http, base, crashed, answered, acknowledged) = (
            client.http.clone(),
            base.clone(),
            Arc::clone(&crashed),
            Arc::clone(&answered),
            Arc::clone(&acknowledged),
        );
        storm.push(tokio::spawn(async move {
            let mut cookies = cookies;
            while !crashed.load(Ordering::Relaxed) {
                let Ok(response) = http
                    .post(format!("{base}/api/auth/refresh"))
                    .header("cookie", cookies.header())
                    .send()
                    .await
                else {
                    break;
                };
                assert_eq!(response.status(), StatusCode::OK, "device {i}");
                cookies.update(&response);
                answered.fetch_add(1, Ordering::Relaxed);
            }
            acknowledged.lock().unwrap().push(cookies);
        }));
    }
    for i in 0..LOGGERS {
        let (http, base, crashed, answered, acknowledged) = (
            client.http.clone(),
            base.clone(),
            Arc::clone(&crashed),
            Arc::clone(&answered),
            Arc::clone(&acknowledged),
        );
        storm.push(tokio::spawn(async move {
            let email = format!("logger{i}@example.com");
            while !crashed.load(Ordering::Relaxed) {
                let Ok(response) = http
                    .post(format!("{base}/api/auth/login"))
                    .form(&[("email", email.as_str()), ("password", PASSWORD)])
                    .send()
                    .await
                else {
                    break;
                };
                assert_eq!(response.status(), StatusCode::OK, "logger {i}");
                let mut cookies = Cookies::default();
                cookies.update(&response);
                answered.fetch_add(1, Ordering::Relaxed);
                acknowledged.lock().unwrap().push(cookies);
            }
        }));
    }

    tokio::time::sleep(STORM).await;
    crashed.store(true, Ordering::Relaxed);
    client.server.crash_and_restart();
    for task in storm {
        task.await.unwrap();
    }
    let answered = answered.load(Ordering::Relaxed);
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    println!(
        "{answered} logins and refreshes answered before SIGKILL; checking {} sessions",
        acknowledged.len()
    );
    assert!(answered > 100, "the storm was too weak: {answered}");

    let mut lost = Vec::new();
    for (i, cookies) in acknowledged.iter().enumerate() {
        let mut cookies = cookies.clone();
        let refreshed = client.post("/api/auth/refresh", &cookies, &[]).await;
        let status = refreshed.status();
        cookies.update(&refreshed);
        if status != StatusCode::OK || client.me(&cookies).await != StatusCode::OK {
            lost.push(i);
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged sessions lost: {lost:?}\nlog:\n{}",
        lost.len(),
        acknowledged.len(),
        client.server.log()
    );
}
