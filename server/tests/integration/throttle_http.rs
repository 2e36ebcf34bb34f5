//! The brute-force throttle under bursts, sprays and distributed attacks, over HTTP
//! against the server in this process (so the test can count what reached Argon2).

use crate::support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::{Cookies, PASSWORD, TestServer};

/// The test plays a trusted proxy (to send from many addresses) and signs in a lot.
const BEHIND_A_PROXY_WITH_CHEAP_HASHING: &[(&str, &str)] = &[
    ("TRUSTED_PROXIES", "127.0.0.1"),
    ("INSECURE_FAST_PASSWORD_HASHING", "true"),
];

/// A login from `ip` (the test plays the trusted proxy) with `cookies`.
async fn login(
    server: &TestServer,
    ip: &str,
    cookies: &Cookies,
    email: &str,
    password: &str,
) -> reqwest::Response {
    server
        .http
        .post(server.url("/api/auth/login"))
        .header("x-forwarded-for", ip)
        .header("cookie", cookies.header())
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn sign_up(server: &TestServer, email: &str) -> Cookies {
    let response = server
        .http
        .post(server.url("/api/auth/signup"))
        .header("x-forwarded-for", "198.51.100.1")
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut cookies = Cookies::default();
    cookies.update(&response);
    cookies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_parallel_wrong_passwords_reach_argon2_at_most_five_times() {
    let server = TestServer::start(&[("TRUSTED_PROXIES", "127.0.0.1")]);
    sign_up(&server, "ann@example.com").await;
    let before = server.verifications();
    let server = std::sync::Arc::new(server);
    let tasks: Vec<_> = (0..60)
        .map(|_| {
            let server = std::sync::Arc::clone(&server);
            tokio::spawn(async move {
                login(
                    &server,
                    "10.0.0.66",
                    &Cookies::default(),
                    "ann@example.com",
                    "guess guess",
                )
                .await
                .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let hashed = server.verifications() - before;
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(hashed <= 5, "{hashed} guesses reached Argon2");
    assert_eq!(wrong as u64, hashed, "every hashed guess was answered 401");
    assert_eq!(wrong + throttled, 60, "{statuses:?}");
}

/// Four wrong passwords for `ann@example.com` from one address, sent at once (no more
/// than the in-flight limit of one account, so none is turned away as busy); the
/// statuses.
async fn a_wave_of_four_wrong_passwords(server: &std::sync::Arc<TestServer>) -> Vec<StatusCode> {
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let server = std::sync::Arc::clone(server);
            tokio::spawn(async move {
                login(
                    &server,
                    "10.0.0.67",
                    &Cookies::default(),
                    "ann@example.com",
                    "guess guess",
                )
                .await
                .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses
}

/// Counting *before* hashing, and nothing else, bounds parallel guesses: two waves of
/// four (each within the in-flight limit, so that limit turns none away) reach Argon2
/// five times. Counted after hashing, the second wave would find four failures on the
/// books, all four would be let through, and eight would be hashed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_parallel_waves_of_four_wrong_passwords_reach_argon2_five_times_not_eight() {
    let server = std::sync::Arc::new(TestServer::start(&[("TRUSTED_PROXIES", "127.0.0.1")]));
    sign_up(&server, "ann@example.com").await;
    let before = server.verifications();
    let first = a_wave_of_four_wrong_passwords(&server).await;
    assert_eq!(first, [StatusCode::UNAUTHORIZED; 4], "the free failures");
    let second = a_wave_of_four_wrong_passwords(&server).await;
    let hashed = server.verifications() - before;
    assert_eq!(hashed, 5, "first wave {first:?}, second wave {second:?}");
    let wrong = second
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = second
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((wrong, throttled), (1, 3), "{second:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_real_user_signs_in_during_a_flood_of_logins() {
    let server = std::sync::Arc::new(TestServer::start(&[("TRUSTED_PROXIES", "127.0.0.1")]));
    sign_up(&server, "ann@example.com").await;
    let flood: Vec<_> = (0..200)
        .map(|i| {
            let server = std::sync::Arc::clone(&server);
            tokio::spawn(async move {
                let email = format!("random{i}@example.com");
                login(
                    &server,
                    "10.9.9.9",
                    &Cookies::default(),
                    &email,
                    "guess guess",
                )
                .await
                .status()
            })
        })
        .collect();
    let started = Instant::now();
    let user = login(
        &server,
        "192.0.2.7",
        &Cookies::default(),
        "ann@example.com",
        PASSWORD,
    )
    .await;
    let took = started.elapsed();
    assert_eq!(user.status(), StatusCode::OK);
    assert!(
        took < Duration::from_secs(5),
        "the real user waited {took:?}"
    );
    for task in flood {
        let status = task.await.unwrap();
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::TOO_MANY_REQUESTS,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(&status),
            "{status}"
        );
    }
}

#[tokio::test]
async fn signing_in_to_ones_own_account_never_resets_the_address_budget() {
    let server = TestServer::start(BEHIND_A_PROXY_WITH_CHEAP_HASHING);
    let own = sign_up(&server, "mallory@example.com").await;
    let mut reached = 0;
    let mut refused = 0;
    for i in 0..56 {
        let victim = format!("user{i}@example.com");
        match login(
            &server,
            "10.0.0.9",
            &Cookies::default(),
            &victim,
            "Summer2026!",
        )
        .await
        .status()
        {
            StatusCode::UNAUTHORIZED => reached += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("{other}"),
        }
        if i % 3 == 0 {
            // The attacker signs in to their own account now and then.
            login(&server, "10.0.0.9", &own, "mallory@example.com", PASSWORD).await;
        }
    }
    assert!(reached <= 20, "{reached} accounts sprayed from one address");
    assert!(refused >= 36, "{refused} refused");
    // Another address is unaffected.
    let other = login(
        &server,
        "10.0.0.10",
        &Cookies::default(),
        "nobody@example.com",
        "x y z w v",
    )
    .await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_browser_that_signed_in_before_is_not_locked_out_by_a_distributed_attack() {
    let server = TestServer::start(BEHIND_A_PROXY_WITH_CHEAP_HASHING);
    let anns_laptop = sign_up(&server, "ann@example.com").await;
    assert!(
        anns_laptop.device.is_some(),
        "a right password sets a device cookie"
    );
    // 100 failures in the hour, each from another address.
    for i in 0..100 {
        let ip = format!("10.3.{}.{}", i / 200, i % 200);
        let response = login(
            &server,
            &ip,
            &Cookies::default(),
            "ann@example.com",
            "guess guess",
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // The account-wide lock holds for a browser it does not know...
    let stranger = login(
        &server,
        "192.0.2.8",
        &Cookies::default(),
        "ann@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(stranger.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...but Ann's own browser, which has signed in before, gets in.
    let ann = login(
        &server,
        "192.0.2.7",
        &anns_laptop,
        "ann@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(ann.status(), StatusCode::OK);
    // A device cookie of another account is worth nothing here.
    let forged = Cookies {
        device: sign_up(&server, "eve@example.com").await.device,
        ..Cookies::default()
    };
    let eve = login(&server, "192.0.2.9", &forged, "ann@example.com", PASSWORD).await;
    assert_eq!(eve.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_throttled_answer_is_a_readable_json_error() {
    let server = TestServer::start(&[("INSECURE_FAST_PASSWORD_HASHING", "true")]);
    for _ in 0..5 {
        login(
            &server,
            "x",
            &Cookies::default(),
            "ann@example.com",
            "guess guess",
        )
        .await;
    }
    let response = login(
        &server,
        "x",
        &Cookies::default(),
        "ann@example.com",
        "guess guess",
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "throttled");
    assert_eq!(body["retry_after"], retry_after);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Too many attempts.")
    );
}

#[tokio::test]
async fn a_full_hashing_queue_answers_503_with_retry_after_at_once() {
    let server = std::sync::Arc::new(TestServer::start(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("PASSWORD_HASH_CONCURRENCY", "1"),
        ("PASSWORD_HASH_QUEUE", "2"),
    ]));
    // Many addresses, so neither the throttle nor the in-flight limits stop them first.
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let server = std::sync::Arc::clone(&server);
            tokio::spawn(async move {
                let (ip, email) = (format!("10.4.0.{i}"), format!("user{i}@example.com"));
                let response =
                    login(&server, &ip, &Cookies::default(), &email, "guess guess").await;
                let retry_after = response.headers().get("retry-after").is_some();
                (response.status(), retry_after)
            })
        })
        .collect();
    let mut busy = 0;
    for task in tasks {
        let (status, retry_after) = task.await.unwrap();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(retry_after, "503 without Retry-After");
            busy += 1;
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    assert!(busy > 0, "the queue never filled");
    assert!(server.verifications() <= 30 - busy as u64);
}

/// A signed-in session's wrong proofs of identity for sudo mode are password guesses
/// like wrong logins: counted by the throttle before Argon2, so a stolen session cannot
/// guess its owner's password at full speed. (Defence: `require_sudo` checks the proof
/// under `throttled`.)
#[tokio::test]
async fn wrong_sudo_proofs_are_throttled_like_wrong_passwords() {
    // A window of zero: every sensitive action asks for a proof.
    let server = TestServer::start(&[
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
        ("SUDO_WINDOW", "0s"),
    ]);
    let ann = sign_up(&server, "ann@example.com").await;
    let before = server.verifications();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let response = server
            .http
            .post(server.url("/api/security/totp_begin"))
            .header("cookie", ann.header())
            .form(&[("sudo_password", "guess guess")])
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    let hashed = server.verifications() - before;
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::BAD_REQUEST)
        .count();
    assert_eq!(
        statuses[..5],
        [StatusCode::BAD_REQUEST; 5],
        "the free failures"
    );
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(
        hashed, wrong as u64,
        "only the guesses let through were hashed"
    );
    // The backoff after five failures lasts 1 s, then 2 s: at most one more gets by on
    // the slowest machine.
    assert!(hashed <= 6, "{hashed} guesses reached Argon2: {statuses:?}");
}

/// A refusal waits `REFUSAL_DELAY` before it is sent, so a client that keeps asking
/// gets a few answers a second instead of thousands (the flood's CPU stays with the
/// signed-in pages: `make bench`, R6). The throttle's answer itself is unchanged.
#[tokio::test]
async fn a_refusal_is_sent_only_after_the_refusal_delay() {
    let server = TestServer::start(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
        ("REFUSAL_DELAY", "1500ms"),
    ]);
    sign_up(&server, "ann@example.com").await;
    let mut refused = None;
    for _ in 0..8 {
        let started = Instant::now();
        let response = login(
            &server,
            "10.7.7.7",
            &Cookies::default(),
            "ann@example.com",
            "wrong guess",
        )
        .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().get("retry-after").is_some());
            refused = Some(started.elapsed());
            break;
        }
    }
    let waited = refused.expect("the sixth wrong password is refused");
    assert!(
        waited >= Duration::from_millis(1500),
        "answered after {waited:?}"
    );
}
