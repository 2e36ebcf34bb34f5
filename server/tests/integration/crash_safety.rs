//! A storm of logins and refreshes, a SIGKILL in the middle of it, a restart on the same
//! database: every login or refresh that was answered 200 left a working session.
//!
//! This holds because a rotation commits (SQLite WAL) before its answer is written, and
//! because a rotation that committed but whose answer was lost in the crash is within the
//! grace window when the device retries with the token it still holds.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use support::{Client, Cookies, PASSWORD, TestServer};

/// Devices that refresh in a loop, and devices that log in in a loop.
const REFRESHERS: usize = 12;
const LOGGERS: usize = 4;
const STORM: Duration = Duration::from_secs(3);

/// What every task of the storm shares.
#[derive(Clone)]
struct Storm {
    http: reqwest::Client,
    base: String,
    /// Set just before the SIGKILL: tasks stop sending.
    crashed: Arc<AtomicBool>,
    /// Logins and refreshes answered 200.
    answered: Arc<AtomicUsize>,
    /// The cookies each answered request left the device with.
    acknowledged: Arc<std::sync::Mutex<Vec<Cookies>>>,
}

impl Storm {
    /// Sends a form POST unless the server has been killed; `None` once it has (or the
    /// request died with it).
    async fn post(
        &self,
        path: &str,
        cookies: &Cookies,
        form: &[(&str, &str)],
    ) -> Option<reqwest::Response> {
        if self.crashed.load(Ordering::Relaxed) {
            return None;
        }
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", cookies.header())
            .form(form)
            .send()
            .await
            .ok()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_storm_loses_no_acknowledged_session() {
    let mut client = Client::on(TestServer::start_process(&[
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
        // A storm on a debug build on a shared machine: queueing for SQLite's write lock
        // may take longer than the production default, and a 503 here is not the point.
        ("DATABASE_TIMEOUT", "5s"),
        // Longer than the crash and restart: a rotation whose answer died with the server
        // is retried within it.
        ("REFRESH_GRACE", "60s"),
        // Every login of the storm stays a live session: none is evicted by the limit.
        ("MAX_SESSIONS_PER_USER", "100000"),
    ]));
    let mut devices = Vec::new();
    for i in 0..REFRESHERS {
        devices.push(client.sign_up(&format!("refresher{i}@example.com")).await);
    }
    for i in 0..LOGGERS {
        client.sign_up(&format!("logger{i}@example.com")).await;
    }

    let storm_state = Storm {
        http: client.http.clone(),
        base: client.server.base_url.clone(),
        crashed: Arc::default(),
        answered: Arc::default(),
        acknowledged: Arc::default(),
    };
    let mut storm = Vec::new();
    for (i, cookies) in devices.into_iter().enumerate() {
        let s = storm_state.clone();
        storm.push(tokio::spawn(async move {
            let mut cookies = cookies;
            while let Some(response) = s.post("/api/auth/refresh", &cookies, &[]).await {
                assert_eq!(response.status(), StatusCode::OK, "device {i}");
                cookies.update(&response);
                s.answered.fetch_add(1, Ordering::Relaxed);
            }
            s.acknowledged.lock().unwrap().push(cookies);
        }));
    }
    for i in 0..LOGGERS {
        let s = storm_state.clone();
        storm.push(tokio::spawn(async move {
            let email = format!("logger{i}@example.com");
            let form = [("email", email.as_str()), ("password", PASSWORD)];
            while let Some(response) = s.post("/api/auth/login", &Cookies::default(), &form).await {
                assert_eq!(response.status(), StatusCode::OK, "logger {i}");
                let mut cookies = Cookies::default();
                cookies.update(&response);
                s.answered.fetch_add(1, Ordering::Relaxed);
                s.acknowledged.lock().unwrap().push(cookies);
            }
        }));
    }

    tokio::time::sleep(STORM).await;
    storm_state.crashed.store(true, Ordering::Relaxed);
    client.server.crash_and_restart();
    for task in storm {
        task.await.unwrap();
    }
    let answered = storm_state.answered.load(Ordering::Relaxed);
    let acknowledged = std::mem::take(&mut *storm_state.acknowledged.lock().unwrap());
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
