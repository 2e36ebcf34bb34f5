//! PostgreSQL stops under two running instances: requests that need the database get a
//! clear 503 within 2 seconds (no hang) and `/healthz` says 503; when it starts again,
//! service and revocation propagation come back without restarting either instance.
//!
//! Its own test binary, because it stops the shared test cluster: cargo runs test
//! binaries one after the other, so no other test is running meanwhile.

#[path = "integration/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::{Client, Cookies, PASSWORD, own_session_id, time_until_refused, two_instances};

/// Runs `pg_ctl ARGS` on the test cluster, as its owner (PostgreSQL refuses root).
fn pg_ctl(args: &[&str]) {
    let var =
        |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by `make test`"));
    let (bin, data, owner) = (
        var("GATEHOUSE_TEST_PG_BIN"),
        var("GATEHOUSE_TEST_PGDATA"),
        var("GATEHOUSE_TEST_PG_USER"),
    );
    let pg_ctl = format!("{bin}/pg_ctl");
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", &owner, "--", &pg_ctl]);
        c
    } else {
        Command::new(&pg_ctl)
    };
    let status = command
        .args(["-D", &data, "-w", "-l", &format!("{data}/../server.log")])
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl {args:?} failed");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

/// Stops the cluster, and starts it again when dropped, even if the test fails.
struct Outage;

impl Outage {
    fn begin() -> Self {
        pg_ctl(&["-m", "fast", "stop"]);
        Self
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        pg_ctl(&["start"]);
    }
}

async fn log_in(client: &Client) -> reqwest::Response {
    client
        .post(
            "/api/auth/login",
            &Cookies::default(),
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await
}

async fn healthz(client: &Client) -> StatusCode {
    client
        .http
        .get(client.server.url("/healthz"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_postgres_gives_503s_in_time_and_starting_it_restores_service() {
    if std::env::var_os("GATEHOUSE_TEST_PGDATA").is_none() && std::env::var_os("CI").is_none() {
        eprintln!("skipped: needs the cluster that `make test` starts (it stops and starts it)");
        return;
    }
    let Some((a, b)) = two_instances(&[]) else {
        return;
    };
    let laptop = a.sign_up("ann@example.com").await;
    let phone = b.log_in("ann@example.com", "phone").await;

    let outage = Outage::begin();
    for instance in [&a, &b] {
        let started = Instant::now();
        let response = log_in(instance).await;
        let waited = started.elapsed();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(waited < Duration::from_secs(2), "answered after {waited:?}");
        let body = response.text().await.unwrap();
        assert!(body.contains("temporarily unavailable"), "{body}");

        let started = Instant::now();
        assert_eq!(healthz(instance).await, StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() < Duration::from_secs(2));
        // A signed-in device keeps working: access tokens are checked without the database.
        assert_eq!(instance.me(&laptop).await, StatusCode::OK);
    }
    drop(outage);

    // Back without a restart: both instances serve again, within a few seconds.
    for instance in [&a, &b] {
        let deadline = Instant::now() + Duration::from_secs(10);
        while healthz(instance).await != StatusCode::OK {
            assert!(
                Instant::now() < deadline,
                "no recovery after PostgreSQL returned"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(log_in(instance).await.status(), StatusCode::OK);
    }

    // And revocations propagate again: the phone, signed out through A, is refused by B.
    let phone_id = own_session_id(&a, &phone).await;
    let revoked = a
        .post("/api/devices/revoke", &laptop, &[("session_id", &phone_id)])
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    time_until_refused(&b, &phone, Duration::from_secs(1)).await;
}
