//! Two-step sign-in and sudo mode over HTTP: enrolment with a code computed from the
//! shown secret (as an authenticator app would), the code step of signing in, replay,
//! recovery codes, throttling, and every sensitive action inside and outside the window.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use support::smtp::SmtpServer;
use support::{Browser, Client, Cookies, PASSWORD, TestServer, code_for, now_unix};

fn client(extra: &[(&str, &str)]) -> Client {
    let mut env = vec![("INSECURE_FAST_PASSWORD_HASHING", "true")];
    env.extend_from_slice(extra);
    Client::on(TestServer::start(&env))
}

async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.unwrap()
}

/// Turns two-step sign-in on for the account of `cookies`; returns the secret and the
/// recovery codes.
async fn enrol(client: &Client, cookies: &Cookies) -> (String, Vec<String>) {
    let setup = client.post("/api/security/totp_begin", cookies, &[]).await;
    assert_eq!(setup.status(), StatusCode::OK);
    let setup = json(setup).await;
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert!(
        setup["qr"]
            .as_str()
            .unwrap()
            .starts_with("data:image/svg+xml;base64,")
    );
    let wrong = client
        .post("/api/security/totp_confirm", cookies, &[("code", "000000")])
        .await;
    assert_eq!(
        wrong.status(),
        StatusCode::BAD_REQUEST,
        "a wrong code confirms nothing"
    );
    let code = code_for(&secret, now_unix());
    let confirmed = client
        .post("/api/security/totp_confirm", cookies, &[("code", &code)])
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let codes: Vec<String> = confirmed.json().await.unwrap();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// The password step of a sign-in on an account with two-step sign-in.
trait PasswordStep {
    async fn password(&mut self, client: &Client, email: &str);
}

impl PasswordStep for Browser {
    /// The password step; the account has two-step sign-in, so nobody is signed in yet.
    async fn password(&mut self, client: &Client, email: &str) {
        let response = self
            .post(
                client,
                "/api/auth/login",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = json(response).await;
        assert_eq!(body["signed_in"], false);
        assert!(
            body["next"].as_str().unwrap().starts_with("/sign-in-code"),
            "{body}"
        );
        assert!(self.cookies.access.is_none(), "no session before the code");
    }
}

#[tokio::test]
async fn enrolling_then_signing_in_needs_a_code_and_each_code_works_once() {
    let client = client(&[]);
    let ann = client.sign_up("ann@example.com").await;
    let (secret, codes) = enrol(&client, &ann).await;
    let status = json(client.post("/api/security/status", &ann, &[]).await).await;
    assert_eq!(status["second_factor"], true);
    assert_eq!(status["codes_left"], 10);

    // Password, then a wrong code, then the right one.
    let mut browser = Browser::default();
    browser.password(&client, "ann@example.com").await;
    let wrong = browser
        .post(&client, "/api/auth/code", &[("code", "123456")])
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    // The code that confirmed the enrolment was used: wait for the next one.
    let mut code = code_for(&secret, now_unix());
    let first = browser
        .post(&client, "/api/auth/code", &[("code", &code)])
        .await;
    if first.status() == StatusCode::BAD_REQUEST {
        tokio::time::sleep(Duration::from_secs(30 - now_unix() % 30 + 1)).await;
        code = code_for(&secret, now_unix());
        let again = browser
            .post(&client, "/api/auth/code", &[("code", &code)])
            .await;
        assert_eq!(again.status(), StatusCode::OK);
    } else {
        assert_eq!(first.status(), StatusCode::OK);
    }
    assert!(browser.cookies.access.is_some());
    let devices = json(
        client
            .post("/api/devices/list", &browser.cookies, &[])
            .await,
    )
    .await;
    assert_eq!(
        devices["devices"][0]["sign_in_method"],
        "password and authenticator app"
    );

    // The same code on another browser: a replay.
    let mut thief = Browser::default();
    thief.password(&client, "ann@example.com").await;
    let replay = thief
        .post(&client, "/api/auth/code", &[("code", &code)])
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);

    // A recovery code instead (typed loosely), once.
    let loose = codes[0].to_uppercase().replace('-', " ");
    let recovered = thief
        .post(&client, "/api/auth/code", &[("code", &loose)])
        .await;
    assert_eq!(recovered.status(), StatusCode::OK);
    let devices = json(client.post("/api/devices/list", &thief.cookies, &[]).await).await;
    assert_eq!(
        devices["devices"][0]["sign_in_method"],
        "password and recovery code"
    );
    let mut again = Browser::default();
    again.password(&client, "ann@example.com").await;
    let reused = again
        .post(&client, "/api/auth/code", &[("code", &codes[0])])
        .await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    let status = json(client.post("/api/security/status", &ann, &[]).await).await;
    assert_eq!(status["codes_left"], 9);

    let activity = json(client.post("/api/account/activity", &ann, &[]).await).await;
    let events = activity["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"totp_enabled") && kinds.contains(&"recovery_code_used"),
        "{kinds:?}"
    );
    assert!(
        events.iter().any(|e| e["description"]
            .as_str()
            .unwrap()
            .contains("Signed in with password and recovery code")),
        "{activity}"
    );
}

#[tokio::test]
async fn the_code_step_is_limited_to_five_tries_and_throttled_like_passwords() {
    let client = client(&[]);
    let ann = client.sign_up("ann@example.com").await;
    let (secret, _) = enrol(&client, &ann).await;
    let mut browser = Browser::default();
    browser.password(&client, "ann@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            browser
                .post(&client, "/api/auth/code", &[("code", "000000")])
                .await
                .status(),
        );
    }
    assert!(
        statuses[..5]
            .iter()
            .all(|s| *s == StatusCode::BAD_REQUEST || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // The sixth meets the throttle's backoff (five failures of this account here).
    assert!(
        statuses[5] == StatusCode::TOO_MANY_REQUESTS || statuses[5] == StatusCode::UNAUTHORIZED,
        "{statuses:?}"
    );
    // Once the backoff is over, even the right code is too late: five tries were spent,
    // and the password must be entered again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let right = code_for(&secret, now_unix() + 30);
    let late = browser
        .post(&client, "/api/auth/code", &[("code", &right)])
        .await;
    assert_eq!(late.status(), StatusCode::UNAUTHORIZED);
    assert!(
        json(late).await["message"]
            .as_str()
            .unwrap()
            .contains("sign in again")
    );
}

#[tokio::test]
async fn parallel_guesses_from_many_browsers_get_nowhere() {
    let client = client(&[]);
    let bob = client.sign_up("bob@example.com").await;
    enrol(&client, &bob).await;
    let mut browsers = Vec::new();
    for _ in 0..4 {
        let mut b = Browser::default();
        b.password(&client, "bob@example.com").await;
        browsers.push(b);
    }
    let tasks: Vec<_> = browsers
        .into_iter()
        .flat_map(|b| (0..5).map(move |i| (b.clone(), format!("{:06}", 100_000 + i))))
        .map(|(b, code)| {
            let request = client
                .http
                .post(client.server.url("/api/auth/code"))
                .header("cookie", b.header())
                .form(&[("code", code)]);
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    assert!(!answers.contains(&StatusCode::OK), "{answers:?}");
    assert!(
        answers.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{answers:?}"
    );
}

/// Every sensitive action: its path and its other fields.
const SENSITIVE: [(&str, &[(&str, &str)]); 6] = [
    (
        "/api/account/password",
        &[("new_password", "a brand new password")],
    ),
    ("/api/email/change", &[("new_email", "ann@new.example")]),
    ("/api/devices/revoke_others", &[]),
    ("/api/security/totp_begin", &[]),
    ("/api/security/recovery_codes", &[]),
    ("/api/account/delete", &[]),
];

#[tokio::test]
async fn outside_the_sudo_window_every_sensitive_action_asks_for_a_proof() {
    let client = client(&[("SUDO_WINDOW", "2s")]);
    let ann = client.sign_up("ann@example.com").await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    for (path, fields) in SENSITIVE {
        let refused = client.post(path, &ann, fields).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(json(refused).await["error"], "sudo_required", "{path}");
    }
    // A wrong password proves nothing (and counts as a failed guess).
    let mut wrong = SENSITIVE[0].1.to_vec();
    wrong.push(("sudo_password", "not the password"));
    assert_eq!(
        client.post(SENSITIVE[0].0, &ann, &wrong).await.status(),
        StatusCode::BAD_REQUEST
    );
    // The password given once opens the window for the next actions.
    let mut proved = SENSITIVE[0].1.to_vec();
    proved.push(("sudo_password", PASSWORD));
    assert_eq!(
        client.post(SENSITIVE[0].0, &ann, &proved).await.status(),
        StatusCode::OK
    );
    let begun = client.post("/api/security/totp_begin", &ann, &[]).await;
    assert_eq!(
        begun.status(),
        StatusCode::OK,
        "inside the window, no proof needed"
    );
}

#[tokio::test]
async fn inside_the_sudo_window_sensitive_actions_go_straight_through() {
    let client = client(&[]);
    let ann = client.sign_up("ann@example.com").await;
    let other = client.log_in("ann@example.com", "curl/8").await;
    for (path, fields) in SENSITIVE.iter().take(3) {
        let response = client.post(path, &ann, fields).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(client.me(&other).await, StatusCode::UNAUTHORIZED);
    let deleted = client.post("/api/account/delete", &ann, &[]).await;
    assert_eq!(deleted.status(), StatusCode::OK);
}

#[tokio::test]
async fn with_two_step_sign_in_a_code_also_proves_it_is_you_and_turning_it_off_is_mailed() {
    let smtp = SmtpServer::start();
    let client = client(&[
        ("SUDO_WINDOW", "2s"),
        ("SMTP_URL", smtp.url.as_str()),
        ("PUBLIC_URL", "https://gatehouse.test"),
        ("MAIL_POLL_INTERVAL", "200ms"),
    ]);
    let ann = client.sign_up("ann@example.com").await;
    // Notices go to verified addresses only.
    client.verify_all_addresses().await;
    let (secret, old_codes) = enrol(&client, &ann).await;
    tokio::time::sleep(Duration::from_millis(2200)).await;

    // New recovery codes, proven with a code from the app (the next step's: the
    // current one confirmed the enrolment).
    let next_step = now_unix() + 30;
    tokio::time::sleep(Duration::from_secs(30 - now_unix() % 30)).await;
    let code = code_for(&secret, next_step);
    let renewed = client
        .post(
            "/api/security/recovery_codes",
            &ann,
            &[("sudo_code", &code)],
        )
        .await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let new_codes: Vec<String> = renewed.json().await.unwrap();
    assert_ne!(new_codes, old_codes);
    let mut browser = Browser::default();
    browser.password(&client, "ann@example.com").await;
    let old = browser
        .post(&client, "/api/auth/code", &[("code", &old_codes[1])])
        .await;
    assert_eq!(
        old.status(),
        StatusCode::BAD_REQUEST,
        "the old set stopped working"
    );
    let new = browser
        .post(&client, "/api/auth/code", &[("code", &new_codes[1])])
        .await;
    assert_eq!(new.status(), StatusCode::OK);

    // Turning it off: sudo (still open from the code), an event and a mail.
    let off = client.post("/api/security/totp_disable", &ann, &[]).await;
    assert_eq!(off.status(), StatusCode::OK);
    smtp.one("ann@example.com", "Two-step sign-in was turned off")
        .await;
    let status = json(client.post("/api/security/status", &ann, &[]).await).await;
    assert_eq!(status["second_factor"], false);
    assert_eq!(status["codes_left"], 0);
    let plain = client.log_in("ann@example.com", "curl/8").await;
    assert!(plain.access.is_some(), "the password alone signs in again");
    let activity = json(client.post("/api/account/activity", &ann, &[]).await).await;
    let kinds: Vec<&str> = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"totp_disabled") && kinds.contains(&"recovery_codes_regenerated"),
        "{kinds:?}"
    );
}
