//! Two-step sign-in and sudo mode over HTTP: enrolment with a code computed from the
//! shown secret (as an authenticator app would), the code step of signing in, replay,
//! recovery codes, throttling, and every sensitive action inside and outside the window.

use crate::support;

use std::time::Duration;

use app::store::schema::device_sessions;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use reqwest::StatusCode;
use support::smtp::SmtpServer;
use support::{Browser, Client, Cookies, PASSWORD, TestServer, code_for, json, now_unix};

fn client(extra: &[(&str, &str)]) -> Client {
    let mut env = vec![("INSECURE_FAST_PASSWORD_HASHING", "true")];
    env.extend_from_slice(extra);
    Client::on(TestServer::start(&env))
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

/// A moment `ago` before now, in whole seconds (as every backend stores it exactly).
fn ago(ago: Duration) -> NaiveDateTime {
    let at = chrono::Utc::now().timestamp() - i64::try_from(ago.as_secs()).unwrap();
    chrono::DateTime::from_timestamp(at, 0).unwrap().naive_utc()
}

/// Moves the last proof of identity of every device session to `at`: the time control
/// of these tests (the sudo window is measured from it).
async fn proven_at(client: &Client, at: NaiveDateTime) {
    client
        .db()
        .run(move |conn| {
            Ok(diesel::update(device_sessions::table)
                .set(device_sessions::proven_at.eq(Some(at)))
                .execute(conn)?)
        })
        .await
        .unwrap();
}

/// The last proof of identity of each device session.
async fn proofs(client: &Client) -> Vec<Option<NaiveDateTime>> {
    client
        .db()
        .run(|conn| {
            Ok(device_sessions::table
                .select(device_sessions::proven_at)
                .load(conn)?)
        })
        .await
        .unwrap()
}

/// Whether the device of `cookies` is in sudo mode, as `/account` is told.
async fn in_sudo(client: &Client, cookies: &Cookies) -> bool {
    let status = json(client.post("/api/security/status", cookies, &[]).await).await;
    status["sudo"].as_bool().unwrap()
}

/// Asserts a 403 `sudo_required`.
async fn assert_sudo_required(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "{what}");
    assert_eq!(json(response).await["error"], "sudo_required", "{what}");
}

/// Rows in the tables a sensitive action writes: a refused one must leave them as they
/// were.
async fn footprint(client: &Client) -> Vec<(&'static str, i64)> {
    let db = client.db();
    let mut counts = Vec::new();
    for (table, condition) in [
        ("users", "1 = 1"),
        ("device_sessions", "revoked_at IS NULL"),
        ("security_events", "1 = 1"),
        ("mail_outbox", "1 = 1"),
        ("totp_factors", "1 = 1"),
        ("recovery_codes", "1 = 1"),
        ("email_tokens", "purpose = 'email_change'"),
    ] {
        let n = support::count(&db, move |c| {
            app::store::testing::count_where(c, table, condition)
        })
        .await;
        counts.push((table, n));
    }
    counts
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
    let other = client.log_in("ann@example.com", "curl/8").await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let before = footprint(&client).await;
    for (path, fields) in SENSITIVE {
        assert_sudo_required(client.post(path, &ann, fields).await, path).await;
    }
    // Refused, and nothing done: no row written or deleted, both devices still signed
    // in, the password and the address as they were.
    assert_eq!(footprint(&client).await, before);
    assert_eq!(client.me(&ann).await, StatusCode::OK, "not deleted");
    assert_eq!(client.me(&other).await, StatusCode::OK, "not signed out");
    let settings = json(client.post("/api/email/settings", &ann, &[]).await).await;
    assert_eq!(settings["email"], "ann@example.com");
    let status = json(client.post("/api/security/status", &ann, &[]).await).await;
    assert_eq!(
        (
            status["second_factor"].as_bool(),
            status["codes_left"].as_i64()
        ),
        (Some(false), Some(0))
    );
    client.log_in("ann@example.com", "curl/8").await;
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

/// Sudo mode belongs to the device that proved it is the user, not to the account: a
/// password confirmed on the laptop lets the laptop act without asking again, while the
/// account's phone, signed in too, is still asked (and its refused action does nothing).
/// (Defence: a proof is recorded on the one device session, `set_proven_at`.)
#[tokio::test]
async fn sudo_mode_belongs_to_the_device_that_proved_it_not_to_the_account() {
    let client = client(&[]);
    let laptop = client.sign_up("ann@example.com").await;
    let phone = client.log_in("ann@example.com", "curl/8").await;
    // Both signed in an hour ago: neither is in sudo mode any more.
    proven_at(&client, ago(Duration::from_secs(3600))).await;
    assert!(!in_sudo(&client, &laptop).await && !in_sudo(&client, &phone).await);

    // The laptop confirms the password for one action.
    let begun = client
        .post(
            "/api/security/totp_begin",
            &laptop,
            &[("sudo_password", PASSWORD)],
        )
        .await;
    assert_eq!(begun.status(), StatusCode::OK);
    assert!(in_sudo(&client, &laptop).await);
    assert!(!in_sudo(&client, &phone).await, "the phone proved nothing");

    // The phone is still asked, and its refused action signs nobody out.
    let before = footprint(&client).await;
    let refused = client.post("/api/devices/revoke_others", &phone, &[]).await;
    assert_sudo_required(refused, "the phone").await;
    assert_eq!(footprint(&client).await, before);
    assert_eq!(client.me(&laptop).await, StatusCode::OK);
    // The laptop goes straight through.
    let revoked = client
        .post("/api/devices/revoke_others", &laptop, &[])
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(client.me(&phone).await, StatusCode::UNAUTHORIZED);
}

/// A token refresh is not a proof of identity: it keeps the device signed in, but the
/// sudo window still ends where the last password or code put it. (Defence: the refresh
/// rotation never writes `proven_at`.)
#[tokio::test]
async fn a_token_refresh_does_not_renew_the_sudo_window() {
    let client = client(&[]);
    let mut ann = client.sign_up("ann@example.com").await;
    let refresh = async |cookies: &mut Cookies| {
        let response = client.post("/api/auth/refresh", cookies, &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        cookies.update(&response);
    };

    // Nine of the window's ten minutes are gone: a refresh leaves the proof where it was.
    let proven = ago(Duration::from_secs(9 * 60));
    proven_at(&client, proven).await;
    refresh(&mut ann).await;
    assert_eq!(proofs(&client).await, [Some(proven)]);
    assert!(in_sudo(&client, &ann).await, "still inside the window");

    // Past the window, a refresh does not bring sudo mode back.
    proven_at(&client, ago(Duration::from_secs(11 * 60))).await;
    refresh(&mut ann).await;
    assert!(!in_sudo(&client, &ann).await);
    let before = footprint(&client).await;
    let refused = client.post("/api/security/totp_begin", &ann, &[]).await;
    assert_sudo_required(refused, "after a refresh").await;
    assert_eq!(footprint(&client).await, before);
}

/// Turning two-step sign-in off outside the sudo window is refused, and the refusal
/// changes nothing: the authenticator app and the recovery codes stay, and the next
/// sign-in still asks for a code. (Defence: `totp_disable` starts with `sudo_caller`,
/// before anything is written.)
#[tokio::test]
async fn turning_two_step_sign_in_off_outside_the_sudo_window_is_refused_and_changes_nothing() {
    let client = client(&[]);
    let ann = client.sign_up("ann@example.com").await;
    enrol(&client, &ann).await;
    proven_at(&client, ago(Duration::from_secs(3600))).await;

    let before = footprint(&client).await;
    let refused = client.post("/api/security/totp_disable", &ann, &[]).await;
    assert_sudo_required(refused, "totp_disable").await;
    assert_eq!(footprint(&client).await, before);
    let status = json(client.post("/api/security/status", &ann, &[]).await).await;
    assert_eq!(status["second_factor"], true);
    assert_eq!(status["codes_left"], 10);
    // The password alone still does not sign in.
    Browser::default()
        .password(&client, "ann@example.com")
        .await;
}

/// Two browsers past the password step of `email` (an account with two-step sign-in) send
/// `code` at the same moment; the two statuses, in order.
async fn the_same_code_at_once(client: &Client, email: &str, code: &str) -> [StatusCode; 2] {
    let (mut first, mut second) = (Browser::default(), Browser::default());
    first.password(client, email).await;
    second.password(client, email).await;
    let form = [("code", code)];
    let (a, b) = tokio::join!(
        first.post(client, "/api/auth/code", &form),
        second.post(client, "/api/auth/code", &form),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    statuses
}

/// The same authenticator code sent twice at once signs in once: the code's step is
/// taken by a conditional write (`last_used_step < step`), so of two requests that both
/// read the step as unused, the slower matches nothing. Raced on four accounts, so the
/// two requests overlap on some.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_code_sent_twice_at_once_signs_in_once() {
    let client = client(&[]);
    for i in 0..4 {
        let email = format!("user{i}@example.com");
        let cookies = client.sign_up(&email).await;
        let (secret, _) = enrol(&client, &cookies).await;
        // The next step's code: the current one confirmed the enrolment.
        let code = code_for(&secret, now_unix() + 30);
        let statuses = the_same_code_at_once(&client, &email, &code).await;
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::BAD_REQUEST],
            "{email}"
        );
    }
}

/// The same recovery code sent twice at once signs in once, and is then gone: only the
/// request whose DELETE removed the code's row gets through. Raced on four accounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_recovery_code_sent_twice_at_once_signs_in_once() {
    let client = client(&[]);
    for i in 0..4 {
        let email = format!("user{i}@example.com");
        let cookies = client.sign_up(&email).await;
        let (_, codes) = enrol(&client, &cookies).await;
        let statuses = the_same_code_at_once(&client, &email, &codes[0]).await;
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::BAD_REQUEST],
            "{email}"
        );
        let status = json(client.post("/api/security/status", &cookies, &[]).await).await;
        assert_eq!(status["codes_left"], 9, "{email}");
    }
}
