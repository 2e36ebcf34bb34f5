//! Mail over HTTP against a real SMTP server (`aiosmtpd`, its own process): forgotten
//! passwords, verified addresses, changing the address, security notices, and delivery
//! through an SMTP outage. Links are followed from the received mail.

use crate::support;

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::smtp::{ReceivedMail, SmtpServer};
use support::{Browser, Client, Cookies, PASSWORD, TestServer, count};

/// Links in mail point here; the tests prove they never come from the `Host` header.
const PUBLIC_URL: &str = "https://gatehouse.test";
const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const RESET: &str = "Reset your Gatehouse password";
const VERIFY: &str = "Confirm your e-mail address";

/// A server in this process that mails through `smtp`, with fast test hashing and a
/// fast sender poll.
fn server(smtp: &SmtpServer, extra: &[(&str, &str)]) -> Client {
    Client::on(TestServer::start(&mail_env(smtp, extra)))
}

/// The same as the real binary, in its own process.
fn binary(smtp: &SmtpServer, extra: &[(&str, &str)]) -> Client {
    Client::on(TestServer::start_process(&mail_env(smtp, extra)))
}

fn mail_env<'a>(smtp: &'a SmtpServer, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
        ("SMTP_URL", smtp.url.as_str()),
        ("PUBLIC_URL", PUBLIC_URL),
        ("MAIL_POLL_INTERVAL", "200ms"),
    ];
    env.extend_from_slice(extra);
    env
}

/// Opening a mailed link on the server under test (whatever host `PUBLIC_URL` names).
trait OpenLink {
    async fn open(&mut self, client: &Client, link: &str) -> reqwest::Response;
}

impl OpenLink for Browser {
    async fn open(&mut self, client: &Client, link: &str) -> reqwest::Response {
        let path = link
            .strip_prefix(PUBLIC_URL)
            .unwrap_or_else(|| panic!("{link} is not under PUBLIC_URL"));
        self.get(client, path).await
    }
}

async fn forgot(client: &Client, email: &str) -> reqwest::Response {
    client
        .post(
            "/api/recovery/forgot",
            &Cookies::default(),
            &[("email", email)],
        )
        .await
}

/// Opens `link` in a new browser and sends its page's one form to `endpoint`.
async fn use_link(client: &Client, link: &str, endpoint: &str) -> reqwest::Response {
    let mut browser = Browser::default();
    browser.open(client, link).await;
    browser.post(client, endpoint, &[]).await
}

async fn message(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.unwrap();
    body["message"].as_str().unwrap_or_default().to_owned()
}

async fn log_in_status(client: &Client, email: &str, password: &str) -> StatusCode {
    client
        .post(
            "/api/auth/login",
            &Cookies::default(),
            &[("email", email), ("password", password)],
        )
        .await
        .status()
}

#[tokio::test]
async fn forgot_mail_link_reset_then_sign_in_with_the_new_password() {
    let smtp = SmtpServer::start();
    let client = binary(&smtp, &[]);
    let first = client.sign_up("ann@example.com").await;
    let second = client.log_in("ann@example.com", FIREFOX).await;

    let answer = forgot(&client, "Ann@Example.com ").await;
    assert_eq!(answer.status(), StatusCode::OK);
    let mail = smtp.one("ann@example.com", RESET).await;
    let link = mail.link();
    assert!(
        link.starts_with(&format!("{PUBLIC_URL}/reset?token=")),
        "{link}"
    );
    assert!(
        mail.html.contains(&format!("href=\"{link}\"")),
        "HTML has the same link"
    );
    assert!(mail.text.contains("30 minutes"));

    // The link's token leaves the address bar at once.
    let mut browser = Browser::default();
    let opened = browser.open(&client, &link).await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    assert_eq!(opened.headers()["location"], "/reset");
    assert_eq!(opened.headers()["referrer-policy"], "no-referrer");
    let page = client
        .http
        .get(client.server.url("/reset"))
        .header("cookie", browser.header())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("ann@example.com") && html.contains("Set new password"));
    assert!(!html.contains("token="), "the page never carries the token");

    let weak = browser
        .post(&client, "/api/recovery/reset", &[("new_password", "short")])
        .await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let reset = browser
        .post(
            &client,
            "/api/recovery/reset",
            &[("new_password", "a brand new password")],
        )
        .await;
    assert_eq!(reset.status(), StatusCode::OK);

    // Every device is signed out; only the new password works.
    assert_eq!(client.me(&first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(client.me(&second).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        log_in_status(&client, "ann@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        log_in_status(&client, "ann@example.com", "a brand new password").await,
        StatusCode::OK
    );
    let notice = smtp.one("ann@example.com", "password was reset").await;
    assert!(notice.text.contains(&format!("{PUBLIC_URL}/account")));

    // The link works once.
    let mut again = Browser::default();
    again.open(&client, &link).await;
    let reused = again
        .post(
            &client,
            "/api/recovery/reset",
            &[("new_password", "yet another password")],
        )
        .await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(message(reused).await, "This link has already been used.");

    // The reset proved the address and is in the activity log.
    let signed_in = client
        .log_in_with("ann@example.com", "a brand new password")
        .await;
    let settings: serde_json::Value = client
        .post("/api/email/settings", &signed_in, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["verified"], true);
    let activity: serde_json::Value = client
        .post("/api/account/activity", &signed_in, &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(
        activity["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "password_reset"),
        "{activity}"
    );
}

#[tokio::test]
async fn the_answer_is_the_same_whether_or_not_the_address_has_an_account() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[("TRUSTED_PROXIES", "127.0.0.1")]);
    client.sign_up("ann@example.com").await;
    // Every request from its own client address, so only the answers are compared (the
    // per-address throttle is tested below).
    let forgot = |email: String, ip: usize| {
        let request = client
            .http
            .post(client.server.url("/api/recovery/forgot"))
            .header("x-forwarded-for", format!("192.0.2.{ip}"))
            .form(&[("email", email)]);
        async move { request.send().await.unwrap() }
    };

    let known = forgot("ann@example.com".into(), 200).await;
    let unknown = forgot("nobody@example.com".into(), 201).await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());

    // Same work on the request path, so the same time: both only queue a mail. Medians
    // of interleaved requests (a loose bound: these machines are noisy).
    let mut times = [Vec::new(), Vec::new()];
    for i in 0..12 {
        for (which, email) in [
            (0, "ann@example.com".to_owned()),
            (1, format!("nobody{i}@example.com")),
        ] {
            let started = Instant::now();
            assert_eq!(forgot(email, i * 2 + which).await.status(), StatusCode::OK);
            times[which].push(started.elapsed());
        }
    }
    let median = |t: &mut Vec<Duration>| {
        t.sort();
        t[t.len() / 2]
    };
    let (a, b) = (median(&mut times[0]), median(&mut times[1]));
    assert!(
        a.abs_diff(b) < Duration::from_millis(25),
        "known {a:?} vs unknown {b:?}"
    );

    smtp.one("ann@example.com", RESET).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(smtp.messages_to("nobody@example.com").is_empty());
    let db = client.db();
    let dropped = count(&db, |c| {
        app::store::testing::count_where(
            c,
            "mail_outbox",
            "recipient = 'nobody@example.com' AND status = 'dropped'",
        )
    })
    .await;
    assert_eq!(
        dropped, 1,
        "queued like any other, then dropped at delivery"
    );
}

#[tokio::test]
async fn reset_mail_is_limited_per_address_even_in_parallel() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[("TRUSTED_PROXIES", "127.0.0.1")]);
    client.sign_up("ann@example.com").await;
    client.verify_all_addresses().await;
    // 20 parallel requests for one address from 20 client addresses.
    let answers = futures_join(20, |i| {
        let request = client
            .http
            .post(client.server.url("/api/recovery/forgot"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .form(&[("email", "ann@example.com")]);
        async move { request.send().await.unwrap().status() }
    })
    .await;
    assert!(
        answers
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::TOO_MANY_REQUESTS),
        "{answers:?}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let resets = smtp
        .messages_to("ann@example.com")
        .into_iter()
        .filter(|m| m.subject == RESET)
        .count();
    assert_eq!(
        resets, 3,
        "three an hour per address, however many ask at once"
    );

    // One client address asking for many addresses runs into the address budget.
    let mut statuses = Vec::new();
    for i in 0..30 {
        statuses.push(
            forgot(&client, &format!("spray{i}@example.com"))
                .await
                .status(),
        );
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

/// Runs `n` requests at once.
async fn futures_join<F, Fut>(n: usize, make: F) -> Vec<StatusCode>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = StatusCode> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(make(i))).collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

async fn open_reset_link(client: &Client, mail: &ReceivedMail) -> Browser {
    let mut browser = Browser::default();
    browser.open(client, &mail.link()).await;
    browser
}

#[tokio::test]
async fn a_newer_link_a_password_change_or_time_voids_a_link_and_one_link_works_once() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[]);
    let cookies = client.sign_up("ann@example.com").await;

    forgot(&client, "ann@example.com").await;
    let older = smtp
        .wait_for("ann@example.com", RESET, 1, Duration::from_secs(10))
        .await;
    forgot(&client, "ann@example.com").await;
    let both = smtp
        .wait_for("ann@example.com", RESET, 2, Duration::from_secs(10))
        .await;
    let newer = both.iter().find(|m| m.file != older[0].file).unwrap();

    let mut old_browser = open_reset_link(&client, &older[0]).await;
    let refused = old_browser
        .post(
            &client,
            "/api/recovery/reset",
            &[("new_password", "a brand new password")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(message(refused).await.starts_with("This link is not valid"));

    // The newer link, used by 10 tabs at once: exactly one sets the password.
    let browser = open_reset_link(&client, newer).await;
    let cookie = browser.header();
    let statuses = futures_join(10, |i| {
        let request = client
            .http
            .post(client.server.url("/api/recovery/reset"))
            .header("cookie", cookie.clone())
            .form(&[("new_password", format!("parallel password {i}"))]);
        async move { request.send().await.unwrap().status() }
    })
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST)
    );

    // A link past its 30 minutes says so.
    forgot(&client, "ann@example.com").await;
    let all = smtp
        .wait_for("ann@example.com", RESET, 3, Duration::from_secs(10))
        .await;
    let third = all.last().unwrap().clone();
    let db = client.db();
    db.run(|c| {
        Ok(app::store::testing::execute(
            c,
            "UPDATE email_tokens SET expires_at = created_at WHERE used_at IS NULL",
        )?)
    })
    .await
    .unwrap();
    let mut browser = open_reset_link(&client, &third).await;
    let expired = browser
        .post(
            &client,
            "/api/recovery/reset",
            &[("new_password", "a brand new password")],
        )
        .await;
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        message(expired).await,
        "This link has expired. Ask for a new one."
    );
    let _ = cookies;

    // A password change voids a link mailed before it (another account: three reset
    // mails an hour per address are spent).
    let bob = client.sign_up("bob@example.com").await;
    forgot(&client, "bob@example.com").await;
    let link = smtp.one("bob@example.com", RESET).await;
    let changed = client
        .post(
            "/api/account/password",
            &bob,
            &[
                ("sudo_password", PASSWORD),
                ("new_password", "changed on the account page"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let mut browser = open_reset_link(&client, &link).await;
    let void = browser
        .post(
            &client,
            "/api/recovery/reset",
            &[("new_password", "a brand new password")],
        )
        .await;
    assert_eq!(void.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        log_in_status(&client, "bob@example.com", "changed on the account page").await,
        StatusCode::OK,
        "the old link did not undo the change"
    );
}

trait LogInWith {
    async fn log_in_with(&self, email: &str, password: &str) -> Cookies;
}

impl LogInWith for Client {
    async fn log_in_with(&self, email: &str, password: &str) -> Cookies {
        let response = self
            .post(
                "/api/auth/login",
                &Cookies::default(),
                &[("email", email), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let mut cookies = Cookies::default();
        cookies.update(&response);
        cookies
    }
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_but_loses_none_and_sends_none_twice() {
    let mut smtp = SmtpServer::start();
    let client = binary(&smtp, &[("TRUSTED_PROXIES", "127.0.0.1")]);
    let emails: Vec<String> = (0..20).map(|i| format!("user{i}@example.com")).collect();
    for email in &emails {
        client.sign_up(email).await;
    }
    for email in &emails {
        smtp.one(email, VERIFY).await;
    }

    smtp.stop();
    let down = Instant::now();
    for (i, email) in emails.iter().enumerate() {
        let response = client
            .http
            .post(client.server.url("/api/recovery/forgot"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .form(&[("email", email.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "a request never waits on SMTP"
        );
    }
    assert!(
        down.elapsed() < Duration::from_secs(5),
        "requests took {:?}",
        down.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(down.elapsed())).await;
    let db = client.db();
    let pending = count(&db, |c| {
        app::store::testing::count_where(c, "mail_outbox", "status = 'pending' AND attempts > 0")
    })
    .await;
    assert_eq!(pending, 20, "tried, failed, waiting to be retried");
    smtp.restart();

    for email in &emails {
        smtp.wait_for(email, RESET, 1, Duration::from_secs(60))
            .await;
    }
    // Give a duplicate time to show up, then count.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for email in &emails {
        let resets = smtp
            .messages_to(email)
            .iter()
            .filter(|m| m.subject == RESET)
            .count();
        assert_eq!(resets, 1, "{email} got {resets} reset mails");
    }
}

#[tokio::test]
async fn sign_up_sends_a_verification_link_and_the_account_page_can_resend_it() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[]);
    let cookies = client.sign_up("ann@example.com").await;
    let settings = |cookies: Cookies| {
        let client = &client;
        async move {
            let body: serde_json::Value = client
                .post("/api/email/settings", &cookies, &[])
                .await
                .json()
                .await
                .unwrap();
            body
        }
    };
    assert_eq!(settings(cookies.clone()).await["verified"], false);
    let mail = smtp.one("ann@example.com", VERIFY).await;
    assert!(
        mail.link()
            .starts_with(&format!("{PUBLIC_URL}/verify-email?token="))
    );

    // Resend: within the per-address limit (3 an hour, the sign-up's included).
    for _ in 0..2 {
        let resent = client.post("/api/email/resend", &cookies, &[]).await;
        assert_eq!(resent.status(), StatusCode::OK);
    }
    let limited = client.post("/api/email/resend", &cookies, &[]).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let all = smtp
        .wait_for("ann@example.com", VERIFY, 3, Duration::from_secs(10))
        .await;

    // Only the newest link works; opened in another browser, not signed in.
    let mut stale = Browser::default();
    stale.open(&client, &all[0].link()).await;
    assert_eq!(
        stale.post(&client, "/api/email/verify", &[]).await.status(),
        StatusCode::BAD_REQUEST
    );
    let mut browser = Browser::default();
    browser.open(&client, &all[2].link()).await;
    let verified = browser.post(&client, "/api/email/verify", &[]).await;
    assert_eq!(verified.status(), StatusCode::OK);
    assert_eq!(verified.json::<String>().await.unwrap(), "ann@example.com");
    assert_eq!(settings(cookies.clone()).await["verified"], true);
}

#[tokio::test]
async fn with_require_verified_email_sign_in_waits_and_sign_up_reveals_nothing() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[("REQUIRE_VERIFIED_EMAIL", "true")]);
    let signup = |email: &'static str, password: &'static str| {
        let client = &client;
        async move {
            client
                .post(
                    "/api/auth/signup",
                    &Cookies::default(),
                    &[("email", email), ("password", password)],
                )
                .await
        }
    };
    let first = signup("ann@example.com", PASSWORD).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(
        first
            .headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("__Host-access"))
    );
    let first_body = first.text().await.unwrap();
    assert!(first_body.contains("\"signed_in\":false"), "{first_body}");

    // The same address again: the same answer; its owner is told instead.
    let taken = signup("ann@example.com", "another password").await;
    assert_eq!(taken.status(), StatusCode::OK);
    assert_eq!(taken.text().await.unwrap(), first_body);
    let warning = smtp
        .one(
            "ann@example.com",
            "Someone tried to use your e-mail address",
        )
        .await;
    assert!(warning.text.contains(&format!("{PUBLIC_URL}/login")));

    // Signing in waits for the address; a new link goes out.
    let refused = client
        .post(
            "/api/auth/login",
            &Cookies::default(),
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        message(refused)
            .await
            .contains("confirm your e-mail address")
    );
    let wrong = log_in_status(&client, "ann@example.com", "not the password").await;
    assert_eq!(
        wrong,
        StatusCode::UNAUTHORIZED,
        "a wrong password learns nothing more"
    );
    let links = smtp
        .wait_for("ann@example.com", VERIFY, 2, Duration::from_secs(10))
        .await;

    let mut browser = Browser::default();
    browser.open(&client, &links.last().unwrap().link()).await;
    assert_eq!(
        browser
            .post(&client, "/api/email/verify", &[])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        log_in_status(&client, "ann@example.com", PASSWORD).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn changing_the_address_needs_the_password_a_link_to_the_new_one_and_tells_the_old_one() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[]);
    let ann = client.sign_up("ann@example.com").await;
    client.sign_up("bob@example.com").await;
    // Notices go to verified addresses only.
    client.verify_all_addresses().await;
    let change = |new_email: &'static str, password: &'static str| {
        let (client, ann) = (&client, ann.clone());
        async move {
            client
                .post(
                    "/api/email/change",
                    &ann,
                    &[("new_email", new_email), ("sudo_password", password)],
                )
                .await
        }
    };
    assert_eq!(
        change("ann@new.example", "not the password").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        change("ann@example.com", PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );

    // A taken address: the same answer; its owner is warned; nothing changes.
    let taken = change("bob@example.com", PASSWORD).await;
    assert_eq!(taken.status(), StatusCode::OK);
    let taken_body = taken.text().await.unwrap();
    smtp.one(
        "bob@example.com",
        "Someone tried to use your e-mail address",
    )
    .await;

    let asked = change("ann@new.example", PASSWORD).await;
    assert_eq!(asked.status(), StatusCode::OK);
    assert_eq!(asked.text().await.unwrap(), taken_body);
    let mail = smtp
        .one("ann@new.example", "Confirm your new e-mail address")
        .await;
    // The current address hears of each request at once (the taken address's too, in
    // the same words), not only once it is done.
    let warned = smtp
        .wait_for(
            "ann@example.com",
            "Someone asked to move your account",
            2,
            Duration::from_secs(10),
        )
        .await;
    assert!(
        warned.iter().any(|m| m.text.contains("ann@new.example")),
        "{warned:?}"
    );
    assert_eq!(
        log_in_status(&client, "ann@example.com", PASSWORD).await,
        StatusCode::OK,
        "not yet changed"
    );

    let mut browser = Browser::default();
    let opened = browser.open(&client, &mail.link()).await;
    assert_eq!(opened.headers()["location"], "/confirm-email");
    let confirmed = browser.post(&client, "/api/email/confirm", &[]).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert_eq!(confirmed.json::<String>().await.unwrap(), "ann@new.example");

    assert_eq!(
        log_in_status(&client, "ann@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        log_in_status(&client, "ann@new.example", PASSWORD).await,
        StatusCode::OK
    );
    let told = smtp
        .one("ann@example.com", "e-mail address was changed")
        .await;
    assert!(told.text.contains("ann@new.example"), "{}", told.text);
    assert!(told.text.contains(&format!("{PUBLIC_URL}/devices")));
    let activity: serde_json::Value = client
        .post("/api/account/activity", &ann, &[])
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"email_changed") && kinds.contains(&"email_change_requested"),
        "{kinds:?}"
    );
    let me: serde_json::Value = client
        .post("/api/session/me", &ann, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["email"], "ann@new.example",
        "the header shows the new address"
    );
}

#[tokio::test]
async fn security_notices_name_device_ip_and_time_and_the_new_device_one_can_be_turned_off() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[("REFRESH_GRACE", "0s")]);
    let ann = client.sign_up("ann@example.com").await;
    // Notices go to verified addresses only.
    client.verify_all_addresses().await;

    client.log_in("ann@example.com", FIREFOX).await;
    let notice = smtp.one("ann@example.com", "New sign-in").await;
    for needle in [
        "Firefox 133",
        "Windows",
        "127.0.0.1",
        "UTC",
        &format!("{PUBLIC_URL}/devices"),
    ] {
        assert!(
            notice.text.contains(needle),
            "{needle} missing in:\n{}",
            notice.text
        );
    }

    let off = client
        .post("/api/email/notifications", &ann, &[("on", "false")])
        .await;
    assert_eq!(off.status(), StatusCode::OK);
    client
        .log_in("ann@example.com", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15")
        .await;

    // A refresh token used twice: theft.
    let refresh = |cookies: &Cookies| {
        let (client, cookies) = (&client, cookies.clone());
        async move {
            client
                .post("/api/auth/refresh", &cookies, &[])
                .await
                .status()
        }
    };
    assert_eq!(refresh(&ann).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(refresh(&ann).await, StatusCode::UNAUTHORIZED);
    let theft = smtp.one("ann@example.com", "We signed out a device").await;
    assert!(theft.text.contains("used twice"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        smtp.messages_to("ann@example.com")
            .iter()
            .filter(|m| m.subject.contains("New sign-in"))
            .count(),
        1,
        "the Safari sign-in was not mailed: alerts were off"
    );
}

#[tokio::test]
async fn the_development_mailbox_exists_only_without_smtp() {
    let dev = Client::new(&[("INSECURE_FAST_PASSWORD_HASHING", "true")]);
    dev.sign_up("ann@example.com").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let list = loop {
        let list = dev
            .http
            .get(dev.server.url("/dev/mailbox"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if list.contains(VERIFY) || Instant::now() > deadline {
            break list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(list.contains(VERIFY), "{list}");
    let id = list
        .split("/dev/mailbox/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let shown = dev
        .http
        .get(dev.server.url(&format!("/dev/mailbox/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Links are clickable and built from the server's own address (no PUBLIC_URL
    // given), with the loopback address named `localhost`.
    assert!(
        shown.contains(&format!(
            "<a href=\"{}/verify-email?token=",
            dev.server.base_url.replace("127.0.0.1", "localhost")
        )),
        "{shown}"
    );

    // A web page that pointed its own name at this machine (DNS rebinding) asks with its
    // own Host header: the mailbox is not there for it.
    for host in [
        "rebind.attacker.example",
        "rebind.attacker.example:3000",
        "10.0.0.5",
    ] {
        let rebound = dev
            .http
            .get(dev.server.url(&format!("/dev/mailbox/{id}")))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(rebound.status(), StatusCode::NOT_FOUND, "{host}");
    }
    // Nor through a tunnel or proxy on this machine, which says whom it relays.
    let relayed = dev
        .http
        .get(dev.server.url(&format!("/dev/mailbox/{id}")))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(relayed.status(), StatusCode::NOT_FOUND);

    let smtp = SmtpServer::start();
    let real = server(&smtp, &[]);
    let missing = real
        .http
        .get(real.server.url("/dev/mailbox"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[test]
fn production_refuses_to_start_without_smtp_or_public_url() {
    let key = app::auth::keys::SigningKey::generate().1;
    let base = [
        ("GATEHOUSE_MODE", "production"),
        ("JWT_SIGNING_KEY", key.as_str()),
    ];
    let without_smtp = support::run_to_exit(&[base[0], base[1], ("PUBLIC_URL", PUBLIC_URL)]);
    assert!(!without_smtp.status.success());
    assert_eq!(
        without_smtp.stderr.trim().lines().count(),
        1,
        "{}",
        without_smtp.stderr
    );
    assert!(
        without_smtp.stderr.contains("SMTP_URL"),
        "{}",
        without_smtp.stderr
    );
    let without_url = support::run_to_exit(&[base[0], base[1], ("SMTP_URL", "smtp://127.0.0.1:1")]);
    assert!(!without_url.status.success());
    assert!(
        without_url.stderr.contains("PUBLIC_URL"),
        "{}",
        without_url.stderr
    );
}

#[tokio::test]
async fn links_are_built_from_public_url_never_from_the_host_header() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[]);
    client.sign_up("ann@example.com").await;
    let response = client
        .http
        .post(client.server.url("/api/recovery/forgot"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .form(&[("email", "ann@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mail = smtp.one("ann@example.com", RESET).await;
    assert!(!mail.text.contains("evil.example") && !mail.html.contains("evil.example"));
    assert!(mail.link().starts_with(PUBLIC_URL));
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_each_mail_once_and_share_the_limit() {
    let smtp = SmtpServer::start();
    let Some((a, b)) = support::two_instances(&[
        ("SMTP_URL", smtp.url.as_str()),
        ("PUBLIC_URL", PUBLIC_URL),
        ("MAIL_POLL_INTERVAL", "100ms"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ]) else {
        return;
    };
    // Both senders poll the same outbox; every mail must still leave once.
    let emails: Vec<String> = (0..20).map(|i| format!("user{i}@example.com")).collect();
    for (i, email) in emails.iter().enumerate() {
        let instance = if i % 2 == 0 { &a } else { &b };
        instance.sign_up(email).await;
    }
    for email in &emails {
        smtp.one(email, VERIFY).await;
    }
    // (A verified address gets three resets an hour; an unverified one three mails a day.)
    a.verify_all_addresses().await;
    // Six reset requests for one address, alternating instances and in parallel: the
    // per-address limit of three holds across both.
    let statuses = futures_join(6, |i| {
        let instance = if i % 2 == 0 { &a } else { &b };
        let request = instance
            .http
            .post(instance.server.url("/api/recovery/forgot"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .form(&[("email", "user0@example.com")]);
        async move { request.send().await.unwrap().status() }
    })
    .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    for email in &emails {
        assert_eq!(
            smtp.messages_to(email)
                .iter()
                .filter(|m| m.subject == VERIFY)
                .count(),
            1,
            "{email}"
        );
    }
    let resets = smtp
        .messages_to("user0@example.com")
        .iter()
        .filter(|m| m.subject == RESET)
        .count();
    assert_eq!(resets, 3);
}

#[tokio::test]
async fn mail_is_written_in_the_language_of_the_request_that_caused_it() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[]);
    client.sign_up("ann@example.com").await;

    let german = client
        .http
        .post(client.server.url("/api/recovery/forgot"))
        .header("accept-language", "de-DE,de;q=0.9")
        .form(&[("email", "ann@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(german.status(), StatusCode::OK);
    let mail = smtp
        .one("ann@example.com", "Ihr Gatehouse-Passwort zurücksetzen")
        .await;
    assert!(mail.text.starts_with("Hallo,"), "{}", mail.text);
    assert!(mail.text.contains("innerhalb von 30 Minuten"));
    assert!(
        mail.text.contains(" um ") && mail.text.contains(" UTC"),
        "German time"
    );
    assert!(mail.html.contains(r#"<html lang="de">"#));
    assert!(
        mail.link()
            .starts_with(&format!("{PUBLIC_URL}/reset?token="))
    );

    // The reader's choice (the cookie) beats the browser's header here too.
    let english = client
        .http
        .post(client.server.url("/api/recovery/forgot"))
        .header("accept-language", "de")
        .header("cookie", "language=en")
        .form(&[("email", "ann@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(english.status(), StatusCode::OK);
    let mail = smtp.one("ann@example.com", RESET).await;
    assert!(mail.text.starts_with("Hello,"));
}

#[tokio::test]
async fn a_reset_voids_the_address_change_a_thief_asked_for() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[]);
    client.sign_up("ann@example.com").await;
    client.verify_all_addresses().await;
    // The thief holds a session of ann's (the password leaked) and, inside its sudo
    // window, asks to move the account to an address of their own.
    let thief = client.log_in("ann@example.com", FIREFOX).await;
    let asked = client
        .post(
            "/api/email/change",
            &thief,
            &[("new_email", "mallory@evil.test")],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let thiefs_link = smtp
        .one("mallory@evil.test", "Confirm your new e-mail address")
        .await
        .link();
    // Ann notices ("someone asked to move your account") and resets her password.
    smtp.one("ann@example.com", "Someone asked to move your account")
        .await;
    assert_eq!(
        forgot(&client, "ann@example.com").await.status(),
        StatusCode::OK
    );
    let reset_link = smtp.one("ann@example.com", RESET).await.link();
    let mut ann = Browser::default();
    ann.open(&client, &reset_link).await;
    let reset = ann
        .post(
            &client,
            "/api/recovery/reset",
            &[("new_password", "ann's new password")],
        )
        .await;
    assert_eq!(reset.status(), StatusCode::OK);

    // The thief's session is over, and so is the link it asked for.
    assert_eq!(client.me(&thief).await, StatusCode::UNAUTHORIZED);
    let confirmed = use_link(&client, &thiefs_link, "/api/email/confirm").await;
    assert_eq!(confirmed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        log_in_status(&client, "ann@example.com", "ann's new password").await,
        StatusCode::OK,
        "the account is still ann's"
    );
}

#[tokio::test]
async fn an_address_nobody_verified_gets_its_link_and_no_notices() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[]);
    // Someone signs up with an address that is not theirs, then changes the password
    // again and again: each change would mail "your password was changed".
    let cookies = client.sign_up("victim@example.net").await;
    for i in 0..8 {
        let new_password = format!("another password {i}");
        let changed = client
            .post(
                "/api/account/password",
                &cookies,
                &[("new_password", new_password.as_str())],
            )
            .await;
        assert_eq!(changed.status(), StatusCode::OK, "change {i}");
    }
    smtp.one("victim@example.net", VERIFY).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received: Vec<String> = smtp
        .messages_to("victim@example.net")
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert_eq!(
        received,
        [VERIFY],
        "the verification link, and nothing else"
    );

    // A display name, or anything else that would be delivered elsewhere, is refused.
    for address in [
        "a1<victim@example.net>",
        "\"a\"@example.net",
        "victim@example.net, x@y.z",
    ] {
        let refused = client
            .post(
                "/api/auth/signup",
                &Cookies::default(),
                &[("email", address), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{address}");
    }
}

const CHANGE: &str = "Confirm your new e-mail address";

/// Two browsers open the same mailed `link` and post `forms[0]` and `forms[1]` to `path`
/// at the same moment; the two statuses, in order.
async fn use_link_twice_at_once(
    client: &Client,
    link: &str,
    path: &str,
    forms: [&[(&str, &str)]; 2],
) -> [StatusCode; 2] {
    let (mut first, mut second) = (Browser::default(), Browser::default());
    first.open(client, link).await;
    second.open(client, link).await;
    let (a, b) = tokio::join!(
        first.post(client, path, forms[0]),
        second.post(client, path, forms[1]),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    statuses
}

/// How many security events of `kind` were recorded.
async fn events_of(client: &Client, kind: &str) -> i64 {
    let condition = format!("kind = '{kind}'");
    count(&client.db(), move |c| {
        app::store::testing::count_where(c, "security_events", &condition)
    })
    .await
}

/// A verification link used twice at once verifies once: the link's row is marked used
/// by a conditional write (`WHERE used_at IS NULL`), which the slower request finds
/// already done. Raced on three accounts, so the two requests overlap on some.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_verification_link_used_twice_at_once_verifies_once() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[]);
    for i in 0..3 {
        let email = format!("user{i}@example.com");
        client.sign_up(&email).await;
        let link = smtp.one(&email, VERIFY).await.link();
        let statuses =
            use_link_twice_at_once(&client, &link, "/api/email/verify", [&[], &[]]).await;
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::BAD_REQUEST],
            "{email}"
        );
        assert_eq!(events_of(&client, "email_verified").await, i + 1, "{email}");
    }
}

/// An address-change link used twice at once changes the address once (one change, one
/// event). Raced on three accounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_address_change_link_used_twice_at_once_changes_once() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[]);
    for i in 0..3 {
        let (old, new) = (
            format!("user{i}@example.com"),
            format!("moved{i}@example.net"),
        );
        // Just signed up: in sudo mode.
        let cookies = client.sign_up(&old).await;
        let asked = client
            .post("/api/email/change", &cookies, &[("new_email", &new)])
            .await;
        assert_eq!(asked.status(), StatusCode::OK);
        let link = smtp.one(&new, CHANGE).await.link();
        let statuses =
            use_link_twice_at_once(&client, &link, "/api/email/confirm", [&[], &[]]).await;
        assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST], "{new}");
        assert_eq!(events_of(&client, "email_changed").await, i + 1, "{new}");
        assert_eq!(log_in_status(&client, &new, PASSWORD).await, StatusCode::OK);
    }
}

/// A reset link used twice at once, with two new passwords, sets exactly one of them.
/// Raced on three accounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reset_link_used_twice_at_once_sets_one_password() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[]);
    for i in 0..3 {
        let email = format!("user{i}@example.com");
        client.sign_up(&email).await;
        assert_eq!(forgot(&client, &email).await.status(), StatusCode::OK);
        let link = smtp.one(&email, RESET).await.link();
        let (first, second) = ("the first new password", "the second new password");
        let statuses = use_link_twice_at_once(
            &client,
            &link,
            "/api/recovery/reset",
            [&[("new_password", first)], &[("new_password", second)]],
        )
        .await;
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::BAD_REQUEST],
            "{email}"
        );
        assert_eq!(events_of(&client, "password_reset").await, i + 1, "{email}");
        let signs_in = [
            log_in_status(&client, &email, first).await,
            log_in_status(&client, &email, second).await,
        ];
        assert!(
            signs_in.iter().filter(|s| **s == StatusCode::OK).count() == 1,
            "{email}: {signs_in:?}"
        );
    }
}

/// Verification and address-change links, like reset links, work once and not after
/// their lifetime, over HTTP: an expired or used link is refused with its reason, and
/// changes nothing. (Defences: `email_link::check` refuses `used_at` and `expires_at`,
/// and `mark_used` takes a link only once.)
#[tokio::test]
async fn verification_and_address_change_links_work_once_and_not_after_they_expire() {
    let smtp = SmtpServer::start();
    let client = server(&smtp, &[]);
    let ann = client.sign_up("ann@example.com").await;
    let expire_unused_links = async || {
        client
            .db()
            .run(|c| {
                Ok(app::store::testing::execute(
                    c,
                    "UPDATE email_tokens SET expires_at = created_at WHERE used_at IS NULL",
                )?)
            })
            .await
            .unwrap();
    };
    let verified = async || {
        let settings: serde_json::Value = client
            .post("/api/email/settings", &ann, &[])
            .await
            .json()
            .await
            .unwrap();
        settings["verified"].as_bool().unwrap()
    };

    // Verification: the sign-up's link, expired.
    let expired = smtp.one("ann@example.com", VERIFY).await.link();
    expire_unused_links().await;
    let refused = use_link(&client, &expired, "/api/email/verify").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        message(refused).await,
        "This link has expired. Ask for a new one."
    );
    assert!(!verified().await);
    // A fresh one works once.
    assert_eq!(
        client.post("/api/email/resend", &ann, &[]).await.status(),
        StatusCode::OK
    );
    let links = smtp
        .wait_for("ann@example.com", VERIFY, 2, Duration::from_secs(10))
        .await;
    let fresh = links
        .iter()
        .map(ReceivedMail::link)
        .find(|l| *l != expired)
        .unwrap();
    assert_eq!(
        use_link(&client, &fresh, "/api/email/verify")
            .await
            .status(),
        StatusCode::OK
    );
    assert!(verified().await);
    let reused = use_link(&client, &fresh, "/api/email/verify").await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(message(reused).await, "This link has already been used.");
    assert_eq!(events_of(&client, "email_verified").await, 1);

    // Address change: the first link, expired; the second works once.
    let change = async |new_email: &str| {
        let asked = client
            .post("/api/email/change", &ann, &[("new_email", new_email)])
            .await;
        assert_eq!(asked.status(), StatusCode::OK);
    };
    change("ann@new.example").await;
    let expired = smtp.one("ann@new.example", CHANGE).await.link();
    expire_unused_links().await;
    let refused = use_link(&client, &expired, "/api/email/confirm").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        message(refused).await,
        "This link has expired. Ask for a new one."
    );
    assert_eq!(
        log_in_status(&client, "ann@example.com", PASSWORD).await,
        StatusCode::OK,
        "not moved"
    );
    change("ann@new.example").await;
    let links = smtp
        .wait_for("ann@new.example", CHANGE, 2, Duration::from_secs(10))
        .await;
    let fresh = links
        .iter()
        .map(ReceivedMail::link)
        .find(|l| *l != expired)
        .unwrap();
    assert_eq!(
        use_link(&client, &fresh, "/api/email/confirm")
            .await
            .status(),
        StatusCode::OK
    );
    let reused = use_link(&client, &fresh, "/api/email/confirm").await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(message(reused).await, "This link has already been used.");
    assert_eq!(events_of(&client, "email_changed").await, 1);
}
