//! After a reset, over HTTP with real mail: the notice lists every passkey and the
//! second factor with when each was added, and the browser that completed the reset
//! removes them right there, so a thief who added one is evicted with the password.

use crate::support;

use reqwest::StatusCode;
use support::passkey::SoftAuthenticator;
use support::smtp::SmtpServer;
use support::{Browser, Client, PASSWORD, TestServer, code_for, json, now_unix};

/// Links in mail and passkeys belong to this origin.
const PUBLIC_URL: &str = "https://gatehouse.test";
const ANN: &str = "ann@example.com";
const NEW_PASSWORD: &str = "ann's new password";
const RESET_DONE: &str = "Your Gatehouse password was reset";

fn server(smtp: &SmtpServer) -> Client {
    Client::on(TestServer::start(&[
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
        ("SMTP_URL", smtp.url.as_str()),
        ("PUBLIC_URL", PUBLIC_URL),
        ("MAIL_POLL_INTERVAL", "200ms"),
    ]))
}

/// A browser signed in as `email` with the password (a sign-in starts sudo mode).
async fn signed_in(client: &Client, email: &str, password: &str) -> Browser {
    let mut browser = Browser::default();
    let response = browser
        .post(
            client,
            "/api/auth/login",
            &[("email", email), ("password", password)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    browser
}

/// Adds a passkey called `name`, made by `authenticator`, from `browser` (in sudo mode).
async fn add_passkey(
    client: &Client,
    browser: &mut Browser,
    authenticator: &mut SoftAuthenticator,
    name: &str,
) {
    let added = authenticator
        .add_to(client, browser, PUBLIC_URL, name)
        .await;
    assert_eq!(added.status(), StatusCode::OK);
}

/// Turns on two-step sign-in from `browser` (in sudo mode) with a new authenticator app.
async fn turn_on_second_factor(client: &Client, browser: &mut Browser) {
    let setup = json(browser.post(client, "/api/security/totp_begin", &[]).await).await;
    let code = code_for(setup["secret"].as_str().unwrap(), now_unix());
    let confirmed = browser
        .post(client, "/api/security/totp_confirm", &[("code", &code)])
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
}

/// Asks for a reset link for `email`, opens it on a new browser and sets `password`;
/// returns that browser.
async fn reset(client: &Client, smtp: &SmtpServer, sent_before: usize, password: &str) -> Browser {
    let asked = Browser::default()
        .post(client, "/api/recovery/forgot", &[("email", ANN)])
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let mails = smtp
        .wait_for(
            ANN,
            "Reset your Gatehouse password",
            sent_before + 1,
            std::time::Duration::from_secs(10),
        )
        .await;
    let link = mails.iter().map(|m| m.link()).next_back().unwrap();
    let mut browser = Browser::default();
    browser
        .get(client, link.strip_prefix(PUBLIC_URL).unwrap())
        .await;
    let done = browser
        .post(client, "/api/recovery/reset", &[("new_password", password)])
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    browser
}

/// Whether a password sign-in as ann with `password` completes without a code.
async fn signs_in_without_a_code(client: &Client, password: &str) -> bool {
    let response = Browser::default()
        .post(
            client,
            "/api/auth/login",
            &[("email", ANN), ("password", password)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await["signed_in"] == true
}

/// A passkey sign-in with `authenticator`'s passkey, on a fresh browser.
async fn passkey_sign_in(client: &Client, authenticator: &mut SoftAuthenticator) -> StatusCode {
    let mut browser = Browser::default();
    let begun = json(
        browser
            .post(client, "/api/passkeys/sign_in_begin", &[])
            .await,
    )
    .await;
    let answer = authenticator.sign_in(PUBLIC_URL, begun["options"].as_str().unwrap());
    browser
        .post(
            client,
            "/api/passkeys/sign_in_finish",
            &[
                ("ceremony", begun["id"].as_str().unwrap()),
                ("credential", &answer),
            ],
        )
        .await
        .status()
}

#[tokio::test]
async fn a_reset_lists_what_a_thief_added_and_removes_it_right_there() {
    let smtp = SmtpServer::start();
    let client = server(&smtp);
    client.sign_up(ANN).await;
    client.verify_all_addresses().await;
    // The thief knows the password: signs in (sudo mode), adds a passkey of their own
    // and turns on two-step sign-in with their own app, which would keep ann out.
    let mut thief = signed_in(&client, ANN, PASSWORD).await;
    let mut thiefs_key = SoftAuthenticator::new();
    add_passkey(&client, &mut thief, &mut thiefs_key, "Thief's key").await;
    turn_on_second_factor(&client, &mut thief).await;

    let mut ann = reset(&client, &smtp, 0, NEW_PASSWORD).await;

    // The notice names both, with when each was added.
    let notice = smtp.one(ANN, RESET_DONE).await;
    assert!(
        notice.text.contains("Passkey “Thief's key”, added "),
        "{}",
        notice.text
    );
    assert!(
        notice
            .text
            .contains("Two-step sign-in with an authenticator app, turned on "),
        "{}",
        notice.text
    );
    // The reset alone does not evict the thief: their passkey still signs in.
    assert_eq!(
        passkey_sign_in(&client, &mut thiefs_key).await,
        StatusCode::OK
    );

    let review = json(ann.post(&client, "/api/recovery/review", &[]).await).await;
    assert_eq!(review["email"], ANN);
    let passkeys = review["passkeys"].as_array().unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0]["name"], "Thief's key");
    assert_eq!(passkeys[0]["removable"], true, "added just now");
    assert!(review["second_factor_since"].as_i64().unwrap() > 0);
    assert_eq!(review["second_factor_removable"], true);
    let key_id = passkeys[0]["id"].as_str().unwrap().to_owned();

    // Another browser (the thief's, which completed no reset) may neither see nor remove.
    let mut stranger = Browser::default();
    for (path, form) in [
        ("/api/recovery/review", vec![]),
        (
            "/api/recovery/review_remove_passkey",
            vec![("id", key_id.as_str())],
        ),
        ("/api/recovery/review_second_factor_off", vec![]),
    ] {
        let refused = stranger.post(&client, path, &form).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert!(!signs_in_without_a_code(&client, NEW_PASSWORD).await);

    // Ann removes both right there.
    let removed = ann
        .post(
            &client,
            "/api/recovery/review_remove_passkey",
            &[("id", &key_id)],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    let off = ann
        .post(&client, "/api/recovery/review_second_factor_off", &[])
        .await;
    assert_eq!(off.status(), StatusCode::OK);

    // The thief is out; ann signs in with the new password and no code.
    assert_eq!(
        passkey_sign_in(&client, &mut thiefs_key).await,
        StatusCode::BAD_REQUEST
    );
    assert!(signs_in_without_a_code(&client, NEW_PASSWORD).await);
    let review = json(ann.post(&client, "/api/recovery/review", &[]).await).await;
    assert_eq!(review["passkeys"].as_array().unwrap().len(), 0);
    assert!(review["second_factor_since"].is_null());
    // Signing in (or out) in this browser ends its review.
    let signed_in = ann
        .post(
            &client,
            "/api/auth/login",
            &[("email", ANN), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert_eq!(
        ann.post(&client, "/api/recovery/review", &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Each removal is told to ann as it would be from the account page.
    smtp.one(ANN, "A passkey was removed").await;
    smtp.one(ANN, "Two-step sign-in was turned off").await;
}

#[tokio::test]
async fn the_review_keeps_what_ann_has_had_for_long_and_closes_with_a_newer_reset() {
    let smtp = SmtpServer::start();
    let client = server(&smtp);
    client.sign_up(ANN).await;
    client.verify_all_addresses().await;
    let mut own = signed_in(&client, ANN, PASSWORD).await;
    let mut laptop = SoftAuthenticator::new();
    add_passkey(&client, &mut own, &mut laptop, "Laptop").await;
    turn_on_second_factor(&client, &mut own).await;
    // Ann added both long ago: whoever reads her mail can remove neither.
    let db = client.db();
    db.run(|conn| {
        use app::store::schema::{passkeys, totp_factors};
        use diesel::prelude::*;
        let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(8);
        diesel::update(totp_factors::table)
            .set(totp_factors::confirmed_at.eq(Some(long_ago)))
            .execute(conn)?;
        diesel::update(passkeys::table)
            .set(passkeys::created_at.eq(long_ago))
            .execute(conn)?;
        Ok(())
    })
    .await
    .unwrap();

    let mut first = reset(&client, &smtp, 0, NEW_PASSWORD).await;
    let review = json(first.post(&client, "/api/recovery/review", &[]).await).await;
    assert_eq!(review["second_factor_removable"], false);
    assert_eq!(review["passkeys"][0]["removable"], false);
    let key_id = review["passkeys"][0]["id"].as_str().unwrap().to_owned();
    let refused = first
        .post(&client, "/api/recovery/review_second_factor_off", &[])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let message = json(refused).await["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("more than 7 days before the reset"),
        "{message}"
    );
    let refused = first
        .post(
            &client,
            "/api/recovery/review_remove_passkey",
            &[("id", &key_id)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        !signs_in_without_a_code(&client, NEW_PASSWORD).await,
        "the code step stays"
    );
    assert_eq!(
        passkey_sign_in(&client, &mut laptop).await,
        StatusCode::OK,
        "ann's passkey stays"
    );

    // A newer reset (from another browser) closes the first browser's review.
    let mut second = reset(&client, &smtp, 1, "ann's newest password").await;
    assert_eq!(
        first
            .post(&client, "/api/recovery/review", &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        second
            .post(&client, "/api/recovery/review", &[])
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_javascript_the_reset_lands_on_the_review_and_each_removal_returns_to_it() {
    let smtp = SmtpServer::start();
    let client = server(&smtp);
    client.sign_up(ANN).await;
    client.verify_all_addresses().await;
    let mut own = signed_in(&client, ANN, PASSWORD).await;
    add_passkey(&client, &mut own, &mut SoftAuthenticator::new(), "Laptop").await;

    let asked = Browser::default()
        .post(&client, "/api/recovery/forgot", &[("email", ANN)])
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let link = smtp.one(ANN, "Reset your Gatehouse password").await.link();
    let mut ann = Browser::default();
    ann.get(&client, link.strip_prefix(PUBLIC_URL).unwrap())
        .await;
    let form_post = |path: &str| {
        client
            .http
            .post(client.server.url(path))
            .header("accept", "text/html")
    };
    let done = form_post("/api/recovery/reset")
        .header("cookie", ann.header())
        .form(&[("new_password", NEW_PASSWORD)])
        .send()
        .await
        .unwrap();
    ann.keep(&done);
    assert!(done.status().is_redirection(), "{}", done.status());
    assert_eq!(done.headers()["location"], "/reset-review");

    let page = ann.get(&client, "/reset-review").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Laptop"), "the page lists the passkey");
    let id = json(ann.post(&client, "/api/recovery/review", &[]).await).await["passkeys"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let removed = form_post("/api/recovery/review_remove_passkey")
        .header("cookie", ann.header())
        .form(&[("id", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.headers()["location"], "/reset-review");
    let html = ann
        .get(&client, "/reset-review")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("The account has no passkeys."), "{html}");
}
