//! Where features meet: the throttle against the second factor, sign-up, password
//! recovery and the open edges, attacked over HTTP as a stranger with many client
//! addresses would (the test plays a trusted proxy and varies `X-Forwarded-For`).

use crate::support;

use std::sync::Arc;

use app::auth::throttle::CODE_FAILURES_PER_HOUR;
use reqwest::StatusCode;
use support::smtp::SmtpServer;
use support::{Browser, Client, PASSWORD, TestServer, code_for, count, now_unix};

const VICTIM: &str = "ann@example.com";

/// A server in this process behind the test's "proxy", with cheap hashing.
fn behind_a_proxy(extra: &[(&str, &str)]) -> TestServer {
    let mut env = vec![
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
    ];
    env.extend_from_slice(extra);
    TestServer::start(&env)
}

/// A POST from `browser` at client address `ip`; the browser keeps what is set.
async fn post_from(
    server: &TestServer,
    browser: &mut Browser,
    ip: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post_to(&server.http, server.url(path), Some(ip), form)
        .await
}

/// A code that is none of the codes the drift window accepts now.
fn wrong_code(secret: &str, n: u32) -> String {
    let now = now_unix();
    let accepted: Vec<String> = [now - 30, now, now + 30]
        .iter()
        .map(|t| code_for(secret, *t))
        .collect();
    (n..)
        .map(|k| format!("{:06}", (k * 7919 + 13) % 1_000_000))
        .find(|c| !accepted.contains(c))
        .unwrap()
}

/// Signs ann up (from her own address) and turns two-step sign-in on; returns the secret.
async fn ann_with_two_step_sign_in(server: &TestServer) -> String {
    let mut ann = Browser::default();
    let ip = "198.51.100.1";
    let signed_up = post_from(
        server,
        &mut ann,
        ip,
        "/api/auth/signup",
        &[("email", VICTIM), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(signed_up.status(), StatusCode::OK);
    verify_every_address(server.state().server.auth.core.db()).await;
    turn_on_two_step(server, &mut ann, ip).await
}

/// Turns two-step sign-in on from `browser` (signed in, in sudo mode) at client address
/// `ip`, with a new authenticator app; returns its key.
async fn turn_on_two_step(server: &TestServer, browser: &mut Browser, ip: &str) -> String {
    let setup: serde_json::Value = post_from(server, browser, ip, "/api/security/totp_begin", &[])
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let code = code_for(&secret, now_unix());
    let confirmed = post_from(
        server,
        browser,
        ip,
        "/api/security/totp_confirm",
        &[("code", &code)],
    )
    .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    secret
}

/// Marks every account's address verified, as its link would (notices go to verified
/// addresses only).
async fn verify_every_address(db: &app::store::Database) {
    db.run(|conn| {
        Ok(app::store::testing::execute(
            conn,
            "UPDATE users SET email_verified_at = CURRENT_TIMESTAMP",
        )?)
    })
    .await
    .unwrap();
}

async fn outbox_count(server: &TestServer, kind: &'static str) -> i64 {
    count(server.state().server.auth.core.db(), move |c| {
        app::store::testing::count_where(c, "mail_outbox", &format!("kind = '{kind}'"))
    })
    .await
}

async fn events(server: &TestServer, kind: &'static str) -> i64 {
    count(server.state().server.auth.core.db(), move |c| {
        app::store::testing::count_where(c, "security_events", &format!("kind = '{kind}'"))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_addresses_that_know_the_password_check_at_most_the_accounts_code_budget() {
    let server = behind_a_proxy(&[]);
    let secret = ann_with_two_step_sign_in(&server).await;
    let checks_before = server.state().server.auth.second_factor.code_checks();
    let (mut wrong, mut refused, mut guess) = (0, 0, 0);
    for ip in 1..=30 {
        let ip = format!("10.0.0.{ip}");
        for _round in 0..5 {
            let mut attacker = Browser::default();
            let password = post_from(
                &server,
                &mut attacker,
                &ip,
                "/api/auth/login",
                &[("email", VICTIM), ("password", PASSWORD)],
            )
            .await;
            assert!(
                attacker.cookies.device.is_none(),
                "a password that waits for its code earns no device cookie"
            );
            if password.status() == StatusCode::TOO_MANY_REQUESTS {
                refused += 1;
                continue;
            }
            assert_eq!(password.status(), StatusCode::OK);
            for _ in 0..4 {
                guess += 1;
                let code = wrong_code(&secret, guess);
                let answer = post_from(
                    &server,
                    &mut attacker,
                    &ip,
                    "/api/auth/code",
                    &[("code", &code)],
                )
                .await;
                match answer.status() {
                    StatusCode::BAD_REQUEST => wrong += 1,
                    StatusCode::TOO_MANY_REQUESTS => refused += 1,
                    other => panic!("unexpected {other}"),
                }
            }
        }
    }
    let checked = server.state().server.auth.second_factor.code_checks() - checks_before;
    assert!(
        checked <= CODE_FAILURES_PER_HOUR as u64,
        "{checked} wrong codes were checked in the hour"
    );
    assert_eq!(wrong, checked, "every checked code was answered 400");
    assert!(refused > 100, "the rest were refused: {refused}");
    assert_eq!(
        events(&server, "wrong_code").await,
        wrong as i64,
        "each wrong code is an activity event"
    );
    assert_eq!(
        outbox_count(&server, "code_locked").await,
        1,
        "the owner is told once that the password is known"
    );
}

/// The newest link of `kind` mailed to `to`, once the development mailbox has it.
async fn newest_link(server: &TestServer, kind: &'static str, to: &'static str) -> String {
    for _ in 0..100 {
        let body: Option<String> = server
            .state()
            .server
            .auth
            .core
            .db()
            .run(move |conn| {
                use app::store::schema::mail_outbox::dsl as m;
                use diesel::prelude::*;
                Ok(m::mail_outbox
                    .filter(m::kind.eq(kind))
                    .filter(m::recipient.eq(to))
                    .filter(m::text_body.is_not_null())
                    .order(m::created_at.desc())
                    .select(m::text_body)
                    .first::<Option<String>>(conn)
                    .optional()?
                    .flatten())
            })
            .await
            .unwrap();
        if let Some(body) = body {
            let start = body.find("http").unwrap();
            let link = body[start..].split_whitespace().next().unwrap();
            return link.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no {kind} mail to {to}");
}

/// Someone with `password` spends the account's code budget from five addresses (ten
/// wrong codes, `guess` numbering them); then a sign-in from elsewhere finds the code
/// step locked.
async fn spend_code_budget(server: &TestServer, secret: &str, password: &str, guess: u32) {
    let step = [("email", VICTIM), ("password", password)];
    for ip in 1..=5 {
        let mut attacker = Browser::default();
        let ip = format!("10.9.{guess}.{ip}");
        post_from(server, &mut attacker, &ip, "/api/auth/login", &step).await;
        for k in 0..2 {
            let code = wrong_code(secret, guess * 100 + ip.len() as u32 * 10 + k);
            post_from(
                server,
                &mut attacker,
                &ip,
                "/api/auth/code",
                &[("code", &code)],
            )
            .await;
        }
    }
    let mut probe = Browser::default();
    post_from(server, &mut probe, "10.9.200.1", "/api/auth/login", &step).await;
    let locked = post_from(
        server,
        &mut probe,
        "10.9.200.1",
        "/api/auth/code",
        &[("code", "000000")],
    )
    .await;
    assert_eq!(
        locked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the code step is locked"
    );
}

/// Resets ann's password to `new_password` through the mailed link, from a browser at
/// 192.0.2.9 (the test runs the mail sender); returns that browser.
async fn reset_by_mail(server: &TestServer, new_password: &str) -> Browser {
    let sent = || async {
        count(server.state().server.auth.core.db(), |c| {
            app::store::testing::count_where(
                c,
                "mail_outbox",
                "kind = 'password_reset' AND text_body IS NOT NULL",
            )
        })
        .await
    };
    let sent_before = sent().await;
    let mut ann = Browser::default();
    let asked = post_from(
        server,
        &mut ann,
        "192.0.2.9",
        "/api/recovery/forgot",
        &[("email", VICTIM)],
    )
    .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let before = outbox_count(server, "reset_completed").await;
    for _ in 0..100 {
        if sent().await > sent_before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let link = newest_link(server, "password_reset", VICTIM).await;
    let path = &link[link.find("/reset").unwrap()..];
    let opened = server
        .http
        .get(server.url(path))
        .header("x-forwarded-for", "192.0.2.9")
        .send()
        .await
        .unwrap();
    ann.keep(&opened);
    let reset = post_from(
        server,
        &mut ann,
        "192.0.2.9",
        "/api/recovery/reset",
        &[("new_password", new_password)],
    )
    .await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(outbox_count(server, "reset_completed").await, before + 1);
    ann
}

/// The code step after a password step with `password` from `browser`: its status.
async fn code_step(
    server: &TestServer,
    browser: &mut Browser,
    password: &str,
    code: &str,
) -> StatusCode {
    let step = [("email", VICTIM), ("password", password)];
    let first = post_from(server, browser, "192.0.2.9", "/api/auth/login", &step).await;
    assert_eq!(first.status(), StatusCode::OK);
    post_from(
        server,
        browser,
        "192.0.2.9",
        "/api/auth/code",
        &[("code", code)],
    )
    .await
    .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_reset_lifts_the_code_lock_once_a_day() {
    let server = behind_a_proxy(&[]);
    let secret = ann_with_two_step_sign_in(&server).await;
    let sender = tokio::spawn(
        server
            .state()
            .mail
            .as_ref()
            .clone()
            .run(std::time::Duration::from_millis(100)),
    );
    // Someone with the password spends the account's code budget; ann resets her
    // password, and her own sign-in gets through the code step.
    spend_code_budget(&server, &secret, PASSWORD, 1).await;
    let mut ann = reset_by_mail(&server, "ann's new password").await;
    let code = code_for(&secret, now_unix() + 30);
    assert_eq!(
        code_step(&server, &mut ann, "ann's new password", &code).await,
        StatusCode::OK,
        "the code step is open again"
    );

    // Whoever reads the mailbox cannot buy a fresh budget of guesses with each reset:
    // a second reset the same day leaves the lock on.
    spend_code_budget(&server, &secret, "ann's new password", 2).await;
    let mut again = reset_by_mail(&server, "ann's newest password").await;
    let code = code_for(&secret, now_unix() - 30);
    assert_eq!(
        code_step(&server, &mut again, "ann's newest password", &code).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the second reset lifts nothing"
    );
    sender.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_on_one_pending_sign_in_check_at_most_five_codes() {
    let server = Arc::new(behind_a_proxy(&[]));
    let secret = ann_with_two_step_sign_in(&server).await;
    let mut attacker = Browser::default();
    let password = post_from(
        &server,
        &mut attacker,
        "10.1.0.1",
        "/api/auth/login",
        &[("email", VICTIM), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(password.status(), StatusCode::OK);
    let checks_before = server.state().server.auth.second_factor.code_checks();
    // Three waves of four lanes, each lane its own address, all on the one web session.
    let mut statuses = Vec::new();
    for wave in 0..3u32 {
        let lanes: Vec<_> = (0..4u32)
            .map(|lane| {
                let server = Arc::clone(&server);
                let mut browser = attacker.clone();
                let code = wrong_code(&secret, 100 + wave * 4 + lane);
                tokio::spawn(async move {
                    let ip = format!("10.1.1.{lane}");
                    post_from(
                        &server,
                        &mut browser,
                        &ip,
                        "/api/auth/code",
                        &[("code", &code)],
                    )
                    .await
                    .status()
                })
            })
            .collect();
        for lane in lanes {
            statuses.push(lane.await.unwrap());
        }
    }
    let checked = server.state().server.auth.second_factor.code_checks() - checks_before;
    assert!(
        checked <= 5,
        "{checked} codes checked for one password: {statuses:?}"
    );
    assert!(
        statuses.contains(&StatusCode::UNAUTHORIZED),
        "once the tries are spent, the answer is: sign in again ({statuses:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ups_with_the_victims_address_do_not_disarm_the_account_lock() {
    let server = behind_a_proxy(&[("REQUIRE_VERIFIED_EMAIL", "true")]);
    let mut owner = Browser::default();
    let created = post_from(
        &server,
        &mut owner,
        "198.51.100.1",
        "/api/auth/signup",
        &[("email", VICTIM), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(created.status(), StatusCode::OK);
    let before = server.verifications();
    let (mut wrong, mut refused, mut signed_up_ok) = (0, 0, 0);
    for ip in 1..=30 {
        let ip = format!("10.2.0.{ip}");
        for round in 0..5 {
            let mut attacker = Browser::default();
            let signed_up = post_from(
                &server,
                &mut attacker,
                &ip,
                "/api/auth/signup",
                &[("email", VICTIM), ("password", "anything-123")],
            )
            .await;
            assert!(
                attacker.cookies.device.is_none(),
                "\"check your inbox\" earns no device cookie"
            );
            match signed_up.status() {
                StatusCode::OK => signed_up_ok += 1,
                StatusCode::TOO_MANY_REQUESTS => refused += 1,
                other => panic!("unexpected {other}"),
            }
            for k in 0..4 {
                let guess = format!("guess-{ip}-{round}-{k}");
                let answer = post_from(
                    &server,
                    &mut attacker,
                    &ip,
                    "/api/auth/login",
                    &[("email", VICTIM), ("password", &guess)],
                )
                .await;
                match answer.status() {
                    StatusCode::UNAUTHORIZED => wrong += 1,
                    StatusCode::TOO_MANY_REQUESTS => refused += 1,
                    other => panic!("unexpected {other}"),
                }
            }
        }
    }
    // A sign-up with her address counts on her account like a wrong password: it is
    // one (it proves nothing), so the two together stop at the account's 100.
    assert!(
        wrong + signed_up_ok <= 100,
        "{wrong} wrong passwords and {signed_up_ok} sign-ups got through; the account cap is 100 an hour"
    );
    let checked = server.verifications() - before;
    assert!(checked <= 100, "{checked} password checks");
    assert!(refused > 400, "{refused} refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ups_from_one_address_are_limited_and_not_refunded() {
    // The default limit (the harness lifts it for the other tests).
    let server = behind_a_proxy(&[("SIGN_UPS_PER_HOUR", "10")]);
    let mut statuses = Vec::new();
    for i in 0..12 {
        let email = format!("new{i}@example.com");
        let mut browser = Browser::default();
        let answer = post_from(
            &server,
            &mut browser,
            "10.3.0.1",
            "/api/auth/signup",
            &[("email", &email), ("password", PASSWORD)],
        )
        .await;
        statuses.push(answer.status());
    }
    let created = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(created, 10, "{statuses:?}");
    assert_eq!(statuses[11], StatusCode::TOO_MANY_REQUESTS);
    // Another address is not affected.
    let mut other = Browser::default();
    let answer = post_from(
        &server,
        &mut other,
        "10.3.0.2",
        "/api/auth/signup",
        &[("email", "other@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_addresses_of_one_ipv6_slash_64_share_one_address_budget() {
    let server = behind_a_proxy(&[]);
    for i in 1..=20 {
        let mut browser = Browser::default();
        let email = format!("someone{i}@example.com");
        let answer = post_from(
            &server,
            &mut browser,
            &format!("2001:db8:0:1::{i:x}"),
            "/api/auth/login",
            &[("email", &email), ("password", "a wrong password")],
        )
        .await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let mut browser = Browser::default();
    let next = post_from(
        &server,
        &mut browser,
        "2001:db8:0:1:ffff:ffff:ffff:ffff",
        "/api/auth/login",
        &[
            ("email", "fresh@example.com"),
            ("password", "a wrong password"),
        ],
    )
    .await;
    assert_eq!(
        next.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the /64's bucket is full"
    );
    let elsewhere = post_from(
        &server,
        &mut browser,
        "2001:db8:0:2::1",
        "/api/auth/login",
        &[
            ("email", "fresh@example.com"),
            ("password", "a wrong password"),
        ],
    )
    .await;
    assert_eq!(
        elsewhere.status(),
        StatusCode::UNAUTHORIZED,
        "another /64 is not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sensitive_change_is_mailed_and_silencing_alerts_needs_sudo() {
    let server = behind_a_proxy(&[("SUDO_WINDOW", "1s")]);
    let ip = "198.51.100.1";
    let mut ann = Browser::default();
    let signed_up = post_from(
        &server,
        &mut ann,
        ip,
        "/api/auth/signup",
        &[("email", VICTIM), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(signed_up.status(), StatusCode::OK);
    let device_cookie = ann.cookies.device.clone();
    assert!(
        device_cookie.is_some(),
        "signing up started a device session"
    );
    verify_every_address(server.state().server.auth.core.db()).await;
    turn_on_two_step(&server, &mut ann, ip).await;
    assert_eq!(outbox_count(&server, "second_factor_enabled").await, 1);
    let renewed = post_from(&server, &mut ann, ip, "/api/security/recovery_codes", &[]).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    assert_eq!(outbox_count(&server, "recovery_codes_renewed").await, 1);

    // Outside the window, a stolen session cannot silence the new-device mail.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let off = [("on", "false")];
    let refused = post_from(&server, &mut ann, ip, "/api/email/notifications", &off).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "sudo_required");
    let proven = post_from(
        &server,
        &mut ann,
        ip,
        "/api/email/notifications",
        &[("on", "false"), ("sudo_password", PASSWORD)],
    )
    .await;
    assert_eq!(proven.status(), StatusCode::OK);
    let back_on = post_from(
        &server,
        &mut ann,
        ip,
        "/api/email/notifications",
        &[("on", "true")],
    )
    .await;
    assert_eq!(
        back_on.status(),
        StatusCode::OK,
        "turning it on needs no proof"
    );
    assert_eq!(
        ann.cookies.device, device_cookie,
        "sudo proofs and the app's confirmation leave the device cookie as it was"
    );

    let deleted = post_from(
        &server,
        &mut ann,
        ip,
        "/api/account/delete",
        &[("sudo_password", PASSWORD)],
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(
        outbox_count(&server, "account_deleted").await,
        1,
        "the mail outlives the account it is about"
    );
}

async fn rows(server: &TestServer, table: &'static str) -> i64 {
    count(server.state().server.auth.core.db(), move |c| {
        app::store::testing::count_where(c, table, "1 = 1")
    })
    .await
}

/// A token of the right shape (43 base64url characters) that nobody issued.
fn made_up_token(i: u32) -> String {
    format!("{i:0>42}0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_anonymous_writes_without_a_bound_per_client() {
    use app::auth::throttle::ANONYMOUS_WRITES;
    let server = behind_a_proxy(&[]);
    let mut statuses = std::collections::BTreeMap::new();
    for _ in 0..600 {
        let mut stranger = Browser::default();
        let begun = post_from(
            &server,
            &mut stranger,
            "10.6.0.1",
            "/api/passkeys/sign_in_begin",
            &[],
        )
        .await;
        *statuses.entry(begun.status().as_u16()).or_insert(0) += 1;
    }
    let bound = i64::from(ANONYMOUS_WRITES) + 2;
    let challenges = rows(&server, "passkey_challenges").await;
    assert!(
        challenges <= bound,
        "{challenges} ceremonies from one address: {statuses:?}"
    );
    assert!(rows(&server, "web_sessions").await <= bound);
    assert!(statuses.contains_key(&429), "{statuses:?}");
    let mut other = Browser::default();
    let elsewhere = post_from(
        &server,
        &mut other,
        "10.6.0.2",
        "/api/passkeys/sign_in_begin",
        &[],
    )
    .await;
    assert_eq!(
        elsewhere.status(),
        StatusCode::OK,
        "another client is not affected"
    );

    // Signing out without cookies ends nothing and writes nothing.
    let sessions_before = rows(&server, "web_sessions").await;
    for _ in 0..50 {
        let mut nobody = Browser::default();
        let out = post_from(&server, &mut nobody, "10.6.1.1", "/api/auth/logout", &[]).await;
        assert_eq!(out.status(), StatusCode::OK);
    }
    assert_eq!(rows(&server, "web_sessions").await, sessions_before);

    // Made-up refresh tokens: each try costs the client a write; then 429.
    let mut refreshes = Vec::new();
    for i in 0..60 {
        let response = server
            .http
            .post(server.url("/api/auth/refresh"))
            .header("x-forwarded-for", "10.6.2.1")
            .header("cookie", format!("__Secure-refresh={}", made_up_token(i)))
            .send()
            .await
            .unwrap();
        refreshes.push(response.status().as_u16());
    }
    let tried = refreshes.iter().filter(|s| **s == 401).count();
    assert!(tried <= ANONYMOUS_WRITES as usize + 2, "{refreshes:?}");
    assert_eq!(refreshes.last(), Some(&429));

    // Mailed-link landings: a token of the wrong shape stores nothing; made-up ones of
    // the right shape are bounded like every other anonymous write.
    let sessions_before = rows(&server, "web_sessions").await;
    for _ in 0..50 {
        let landed = server
            .http
            .get(server.url("/reset?token=not-a-token"))
            .header("x-forwarded-for", "10.6.3.1")
            .send()
            .await
            .unwrap();
        assert_eq!(landed.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(rows(&server, "web_sessions").await, sessions_before);
    let mut landings = Vec::new();
    for i in 0..100 {
        let landed = server
            .http
            .get(server.url(&format!("/reset?token={}", made_up_token(i))))
            .header("x-forwarded-for", "10.6.3.2")
            .send()
            .await
            .unwrap();
        landings.push(landed.status().as_u16());
    }
    assert!(landings.contains(&429), "{landings:?}");
    let grown = rows(&server, "web_sessions").await - sessions_before;
    assert!(grown <= bound, "{grown} web sessions from one address");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_given_for_sudo_mode_meet_the_same_code_ceiling() {
    let server = behind_a_proxy(&[("SUDO_WINDOW", "1s")]);
    let secret = ann_with_two_step_sign_in(&server).await;
    // A stolen session, past its sudo window, guessing the app's code from many places.
    let mut thief = Browser::default();
    let signed_in = post_from(
        &server,
        &mut thief,
        "198.51.100.1",
        "/api/auth/login",
        &[("email", VICTIM), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let code = code_for(&secret, now_unix() + 30);
    let step = post_from(
        &server,
        &mut thief,
        "198.51.100.1",
        "/api/auth/code",
        &[("code", &code)],
    )
    .await;
    let step_ok = step.status();
    // (The next step's code may be the one enrolment used; then sign in with the one after.)
    if step_ok != StatusCode::OK {
        let code = code_for(&secret, now_unix() + 60);
        let retry = post_from(
            &server,
            &mut thief,
            "198.51.100.1",
            "/api/auth/code",
            &[("code", &code)],
        )
        .await;
        assert_eq!(retry.status(), StatusCode::OK);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut statuses = Vec::new();
    for i in 0..14u32 {
        let ip = format!("10.7.0.{i}");
        let guess = wrong_code(&secret, 500 + i);
        let answer = post_from(
            &server,
            &mut thief,
            &ip,
            "/api/security/recovery_codes",
            &[("sudo_code", &guess)],
        )
        .await;
        statuses.push(answer.status().as_u16());
    }
    let judged = statuses.iter().filter(|s| **s != 429).count();
    assert!(
        judged <= CODE_FAILURES_PER_HOUR as usize,
        "{judged} sudo codes judged: {statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_change_requests_are_limited_per_account_and_say_nothing_about_the_target() {
    let server = behind_a_proxy(&[]);
    let ip = "198.51.100.1";
    let mut ann = Browser::default();
    let signed_up = post_from(
        &server,
        &mut ann,
        ip,
        "/api/auth/signup",
        &[("email", VICTIM), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(signed_up.status(), StatusCode::OK);
    // A free address whose mail budget strangers have spent: the change request still
    // answers as for any address (a 429 here would tell free from taken).
    for _ in 0..3 {
        let mut stranger = Browser::default();
        let asked = post_from(
            &server,
            &mut stranger,
            "10.8.0.1",
            "/api/recovery/forgot",
            &[("email", "spent@example.com")],
        )
        .await;
        assert_eq!(asked.status(), StatusCode::OK);
    }
    let mut answers = Vec::new();
    for target in [
        "spent@example.com",
        "free@example.com",
        "other@example.com",
        "fourth@example.com",
    ] {
        let asked = post_from(
            &server,
            &mut ann,
            ip,
            "/api/email/change",
            &[("new_email", target)],
        )
        .await;
        answers.push(asked.status().as_u16());
    }
    assert_eq!(answers, [200, 200, 200, 429], "three an hour per account");
}

// ---- Strangers cannot lock the owner out of recovery (real SMTP server) ----

const PUBLIC_URL: &str = "https://gatehouse.test";

async fn post_as(
    client: &Client,
    browser: &mut Browser,
    ip: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post_to(&client.http, client.server.url(path), Some(ip), form)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_cannot_lock_the_owner_out_of_recovery() {
    let smtp = SmtpServer::start();
    let client = Client::on(TestServer::start(&[
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
        ("SMTP_URL", smtp.url.as_str()),
        ("PUBLIC_URL", PUBLIC_URL),
        ("MAIL_POLL_INTERVAL", "200ms"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ]));
    client.sign_up(VICTIM).await;
    verify_every_address(&client.db()).await;
    let mut strangers_refused = 0;
    for ip in 1..=25 {
        let ip = format!("10.4.0.{ip}");
        let mut stranger = Browser::default();
        for _ in 0..5 {
            let asked = post_as(
                &client,
                &mut stranger,
                &ip,
                "/api/recovery/forgot",
                &[("email", VICTIM)],
            )
            .await;
            assert_eq!(asked.status(), StatusCode::OK, "asking guesses nothing");
        }
        for k in 0..5 {
            let guess = format!("wrong-{ip}-{k}");
            let answer = post_as(
                &client,
                &mut stranger,
                &ip,
                "/api/auth/login",
                &[("email", VICTIM), ("password", &guess)],
            )
            .await;
            if answer.status() == StatusCode::TOO_MANY_REQUESTS {
                strangers_refused += 1;
            }
        }
    }
    assert!(strangers_refused > 0, "the account-wide lock engaged");
    // The owner was told, with a way back in.
    let notice = smtp
        .one(VICTIM, "Someone is trying to guess your password")
        .await;
    assert!(
        notice
            .link()
            .starts_with(&format!("{PUBLIC_URL}/reset?token="))
    );

    // The owner, from a new address and a new browser: the lock holds for password
    // sign-in, but asking for a reset is never refused.
    let mut owner = Browser::default();
    let owner_ip = "192.0.2.50";
    let locked = post_as(
        &client,
        &mut owner,
        owner_ip,
        "/api/auth/login",
        &[("email", VICTIM), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let asked = post_as(
        &client,
        &mut owner,
        owner_ip,
        "/api/recovery/forgot",
        &[("email", VICTIM)],
    )
    .await;
    assert_eq!(asked.status(), StatusCode::OK);

    // The newest link in the owner's inbox works, and lifts the lock for this browser.
    let link = smtp
        .messages_to(VICTIM)
        .into_iter()
        .rfind(|m| m.text.contains("/reset?token="))
        .unwrap()
        .link();
    let path = link.strip_prefix(PUBLIC_URL).unwrap();
    let opened = client
        .http
        .get(client.server.url(path))
        .header("cookie", owner.header())
        .header("x-forwarded-for", owner_ip)
        .send()
        .await
        .unwrap();
    owner.keep(&opened);
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    let new_password = "a brand new password";
    let reset = post_as(
        &client,
        &mut owner,
        owner_ip,
        "/api/recovery/reset",
        &[("new_password", new_password)],
    )
    .await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert!(
        owner.cookies.device.is_some(),
        "the reset marks this browser as the owner's"
    );
    let signed_in = post_as(
        &client,
        &mut owner,
        owner_ip,
        "/api/auth/login",
        &[("email", VICTIM), ("password", new_password)],
    )
    .await;
    assert_eq!(signed_in.status(), StatusCode::OK, "the owner is back in");
    // A browser without that proof is still held by the lock.
    let mut another = Browser::default();
    let still_locked = post_as(
        &client,
        &mut another,
        "192.0.2.51",
        "/api/auth/login",
        &[("email", VICTIM), ("password", new_password)],
    )
    .await;
    assert_eq!(still_locked.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// A thief who knows the password signs in again and again (each sign-in from a new
/// device is mailed), then turns on two-step sign-in with their own app. With one limit
/// for every mail, the sign-in notices used it up: the notice of the second factor and
/// the owner's reset link after it were dropped without a word. Each class of mail now
/// has its own budget.
#[tokio::test]
async fn a_thiefs_sign_ins_silence_neither_the_change_notice_nor_the_owners_reset_link() {
    let server = behind_a_proxy(&[]);
    let mut ann = Browser::default();
    let signed_up = post_from(
        &server,
        &mut ann,
        "198.51.100.1",
        "/api/auth/signup",
        &[("email", VICTIM), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(signed_up.status(), StatusCode::OK);
    verify_every_address(server.state().server.auth.core.db()).await;

    let step = [("email", VICTIM), ("password", PASSWORD)];
    let mut thief = Browser::default();
    for i in 1..=12 {
        // A browser not seen before on the account each time.
        thief = Browser::default();
        let signed_in = server
            .http
            .post(server.url("/api/auth/login"))
            .header("x-forwarded-for", format!("10.66.0.{i}"))
            .header(
                "user-agent",
                format!("Mozilla/5.0 (X11; Linux x86_64) Firefox/{}.0", 100 + i),
            )
            .form(&step)
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), StatusCode::OK);
        thief.keep(&signed_in);
    }
    let sign_in_notices = outbox_count(&server, "new_device_sign_in").await;
    assert!(
        (1..12).contains(&sign_in_notices),
        "the sign-in notices are limited ({sign_in_notices})"
    );

    let ip = "10.66.0.12";
    turn_on_two_step(&server, &mut thief, ip).await;
    assert_eq!(
        outbox_count(&server, "second_factor_enabled").await,
        1,
        "ann is told of the second factor"
    );

    let asked = post_from(
        &server,
        &mut Browser::default(),
        "203.0.113.7",
        "/api/recovery/forgot",
        &[("email", VICTIM)],
    )
    .await;
    assert_eq!(asked.status(), StatusCode::OK);
    assert_eq!(
        outbox_count(&server, "password_reset").await,
        1,
        "ann's reset link is queued"
    );
}
