//! Passkeys over HTTP, with a software authenticator making real signatures: adding,
//! listing and removing one, signing in with it (no address, no second step), and every
//! way a ceremony can fail: replayed, parallel, expired, unknown, removed, of a deleted
//! account, from another origin, malformed, past the limit.

use crate::support;

use std::time::Duration;

use app::store::schema::passkey_challenges;
use diesel::prelude::*;
use reqwest::StatusCode;
use support::passkey::{ClonableAuthenticator, SoftAuthenticator};
use support::{Browser, Client, PASSWORD, TestServer, json};

fn client(extra: &[(&str, &str)]) -> Client {
    let mut env = vec![("INSECURE_FAST_PASSWORD_HASHING", "true")];
    env.extend_from_slice(extra);
    Client::on(TestServer::start(&env))
}

/// The origin passkeys belong to: the development default of `PUBLIC_URL`, which names
/// the loopback address `localhost` (browsers refuse an IP address).
fn origin(client: &Client) -> String {
    client.server.base_url.replace("127.0.0.1", "localhost")
}

async fn signed_up(client: &Client, email: &str) -> Browser {
    let mut browser = Browser::default();
    let response = browser
        .post(
            client,
            "/api/auth/signup",
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    browser
}

/// Adds a passkey made by `authenticator` to the account `browser` is signed in to.
async fn add_passkey(
    client: &Client,
    browser: &mut Browser,
    authenticator: &mut SoftAuthenticator,
    name: &str,
) -> reqwest::Response {
    add_passkey_from(client, browser, name, |origin, options| {
        authenticator.register(origin, options)
    })
    .await
}

/// Adds a passkey answered by `register` (origin, options → answer).
async fn add_passkey_from(
    client: &Client,
    browser: &mut Browser,
    name: &str,
    register: impl FnOnce(&str, &str) -> String,
) -> reqwest::Response {
    support::passkey::add_passkey_with(client, browser, &origin(client), name, register).await
}

/// Ann, signed up and signed in, with a passkey "Phone" made by the returned
/// authenticator.
async fn ann_with_a_phone_passkey(client: &Client) -> (Browser, SoftAuthenticator) {
    let mut ann = signed_up(client, "ann@example.com").await;
    let mut phone = SoftAuthenticator::new();
    let added = add_passkey(client, &mut ann, &mut phone, "Phone").await;
    assert_eq!(added.status(), StatusCode::OK);
    (ann, phone)
}

/// A ceremony begun: its id and the options for the authenticator.
struct Begun {
    id: String,
    options: String,
}

impl From<serde_json::Value> for Begun {
    fn from(begun: serde_json::Value) -> Self {
        Self {
            id: begun["id"].as_str().unwrap().to_owned(),
            options: begun["options"].as_str().unwrap().to_owned(),
        }
    }
}

/// Begins a sign-in on `browser`.
async fn begin_sign_in(client: &Client, browser: &mut Browser) -> Begun {
    let begun = browser
        .post(client, "/api/passkeys/sign_in_begin", &[])
        .await;
    assert_eq!(begun.status(), StatusCode::OK);
    Begun::from(json(begun).await)
}

/// Answers the ceremony `ceremony` with `answer` from `browser`.
async fn finish_sign_in(
    client: &Client,
    browser: &mut Browser,
    ceremony: &str,
    answer: &str,
) -> reqwest::Response {
    browser
        .post(
            client,
            "/api/passkeys/sign_in_finish",
            &[("ceremony", ceremony), ("credential", answer)],
        )
        .await
}

/// A whole sign-in with `authenticator`'s newest passkey, on a fresh browser.
async fn sign_in(
    client: &Client,
    authenticator: &mut SoftAuthenticator,
) -> (Browser, reqwest::Response) {
    let mut browser = Browser::default();
    let begun = begin_sign_in(client, &mut browser).await;
    let answer = authenticator.sign_in(&origin(client), &begun.options);
    let response = finish_sign_in(client, &mut browser, &begun.id, &answer).await;
    (browser, response)
}

/// Sends every request at once; their statuses, in order.
async fn all_at_once(requests: Vec<reqwest::RequestBuilder>) -> Vec<StatusCode> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| tokio::spawn(async move { request.send().await.unwrap().status() }))
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses
}

async fn passkey_list(client: &Client, browser: &mut Browser) -> serde_json::Value {
    let list = browser.post(client, "/api/passkeys/list", &[]).await;
    assert_eq!(list.status(), StatusCode::OK);
    json(list).await
}

#[tokio::test]
async fn a_passkey_is_added_and_signs_in_without_a_password_like_a_password_sign_in() {
    let client = client(&[]);
    let mut ann = signed_up(&client, "ann@example.com").await;
    let mut phone = SoftAuthenticator::new();

    let added = add_passkey(&client, &mut ann, &mut phone, "  My   phone ").await;
    assert_eq!(added.status(), StatusCode::OK);
    let list = passkey_list(&client, &mut ann).await;
    assert_eq!(list["max"], 20);
    assert_eq!(list["origin"], origin(&client));
    let passkeys = list["passkeys"].as_array().unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0]["name"], "My phone");
    assert!(passkeys[0]["created_at"].as_i64().unwrap() > 0);
    assert!(passkeys[0]["last_used_at"].is_null());

    // Another browser, no address typed: the passkey alone signs in.
    let (mut laptop, signed_in) = sign_in(&client, &mut phone).await;
    assert_eq!(
        signed_in.status(),
        StatusCode::OK,
        "{}",
        signed_in.text().await.unwrap()
    );
    assert_eq!(
        laptop.post(&client, "/api/session/me", &[]).await.status(),
        StatusCode::OK
    );
    // It is a device session like any other, and says how it signed in.
    let devices = json(laptop.post(&client, "/api/devices/list", &[]).await).await;
    let current = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["current"] == true)
        .unwrap()
        .clone();
    assert_eq!(current["sign_in_method"], "passkey");
    // The sign-in is a fresh proof: a sensitive action needs no password now.
    let sensitive = laptop.post(&client, "/api/passkeys/add_begin", &[]).await;
    assert_eq!(sensitive.status(), StatusCode::OK);
    // The activity log has the addition and the sign-in; the list the time of use.
    let activity = laptop.post(&client, "/api/account/activity", &[]).await;
    let activity = activity.text().await.unwrap();
    assert!(
        activity.contains("passkey_added") || activity.contains("Passkey added"),
        "{activity}"
    );
    let list = passkey_list(&client, &mut laptop).await;
    assert!(list["passkeys"][0]["last_used_at"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn a_passkey_satisfies_two_step_sign_in() {
    let client = client(&[]);
    let mut ann = signed_up(&client, "ann@example.com").await;
    let setup = json(ann.post(&client, "/api/security/totp_begin", &[]).await).await;
    let secret = setup["secret"].as_str().unwrap().replace(' ', "");
    let code = totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        0,
        30,
        totp_rs::Secret::Encoded(secret).to_bytes().unwrap(),
        None,
        String::new(),
    )
    .generate_current()
    .unwrap();
    let confirmed = ann
        .post(&client, "/api/security/totp_confirm", &[("code", &code)])
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let mut key = SoftAuthenticator::new();
    assert_eq!(
        add_passkey(&client, &mut ann, &mut key, "Key")
            .await
            .status(),
        StatusCode::OK
    );

    // The password alone asks for a code; the passkey signs in at once.
    let password = Browser::default()
        .post(
            &client,
            "/api/auth/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(password.status(), StatusCode::OK);
    assert_eq!(
        json(password).await["signed_in"],
        false,
        "a code is asked for"
    );
    let (mut browser, signed_in) = sign_in(&client, &mut key).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert_eq!(
        browser.post(&client, "/api/session/me", &[]).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_challenge_is_answered_once_even_in_parallel_and_never_from_another_browser() {
    let client = client(&[]);
    let (_ann, mut phone) = ann_with_a_phone_passkey(&client).await;

    let mut browser = Browser::default();
    let begun = begin_sign_in(&client, &mut browser).await;
    let answer = phone.sign_in(&origin(&client), &begun.options);
    // Another browser cannot finish this browser's ceremony, even naming it.
    let mut stranger = Browser::default();
    let stolen = finish_sign_in(&client, &mut stranger, &begun.id, &answer).await;
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    assert!(
        json(stolen).await["message"]
            .as_str()
            .unwrap()
            .contains("took too long")
    );

    // The same answer sent eight times at once signs in once.
    let header = browser.header();
    let sends = (0..8)
        .map(|_| {
            client
                .http
                .post(client.server.url("/api/passkeys/sign_in_finish"))
                .header("cookie", header.clone())
                .form(&[
                    ("ceremony", begun.id.as_str()),
                    ("credential", answer.as_str()),
                ])
        })
        .collect();
    let statuses = all_at_once(sends).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [
            StatusCode::OK,
            StatusCode::BAD_REQUEST,
            StatusCode::TOO_MANY_REQUESTS
        ]
        .contains(s)),
        "{statuses:?}"
    );

    // An answer to an old challenge does not finish it again, nor a new one (replay).
    let fresh = begin_sign_in(&client, &mut browser).await;
    for ceremony in [&begun.id, &fresh.id] {
        let replayed = finish_sign_in(&client, &mut browser, ceremony, &answer).await;
        assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn an_expired_challenge_is_refused_and_the_cleanup_job_deletes_it() {
    let client = client(&[("CLEANUP_INTERVAL", "200ms")]);
    let (_ann, mut phone) = ann_with_a_phone_passkey(&client).await;
    let mut browser = Browser::default();
    let begun = begin_sign_in(&client, &mut browser).await;
    let answer = phone.sign_in(&origin(&client), &begun.options);
    let db = client.db();
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
    db.run(move |conn| {
        Ok(diesel::update(passkey_challenges::table)
            .set(passkey_challenges::expires_at.eq(past))
            .execute(conn)?)
    })
    .await
    .unwrap();
    let expired = finish_sign_in(&client, &mut browser, &begun.id, &answer).await;
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert!(
        json(expired).await["message"]
            .as_str()
            .unwrap()
            .contains("took too long")
    );

    // A ceremony never finished lapses and goes.
    let _abandoned = begin_sign_in(&client, &mut Browser::default()).await;
    db.run(move |conn| {
        Ok(diesel::update(passkey_challenges::table)
            .set(passkey_challenges::expires_at.eq(past))
            .execute(conn)?)
    })
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = support::count(&db, |conn| {
            passkey_challenges::table.count().get_result(conn)
        })
        .await;
        if left == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{left} challenges left"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn failures_are_one_clear_400_that_says_nothing_about_accounts() {
    let client = client(&[]);
    let (mut ann, mut phone) = ann_with_a_phone_passkey(&client).await;
    let failed = |body: serde_json::Value| {
        assert_eq!(body["error"], "bad_request");
        body["message"].as_str().unwrap().to_owned()
    };

    // Unknown: a passkey made for this site that the server never saved.
    let mut stray = SoftAuthenticator::new();
    let mut bob = signed_up(&client, "bob@example.com").await;
    let begun = json(bob.post(&client, "/api/passkeys/add_begin", &[]).await).await;
    stray.register(&origin(&client), begun["options"].as_str().unwrap());
    let (_, unknown) = sign_in(&client, &mut stray).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let unknown = failed(json(unknown).await);
    assert!(unknown.contains("did not work"), "{unknown}");

    // Another origin: a page on another port of the same host, which the browser
    // would sign for (the relying-party id matches), and the server must refuse.
    let mut browser = Browser::default();
    let begun = begin_sign_in(&client, &mut browser).await;
    let elsewhere = "http://localhost:1";
    let answer = phone.sign_in(elsewhere, &begun.options);
    let phished = finish_sign_in(&client, &mut browser, &begun.id, &answer).await;
    assert_eq!(phished.status(), StatusCode::BAD_REQUEST);
    assert_eq!(failed(json(phished).await), unknown);

    // A cancelled prompt sends nothing usable; malformed answers are 400s.
    for garbage in ["", "{}", "not json", "{\"id\":\"x\",\"rawId\":\"!!\"}"] {
        let mut browser = Browser::default();
        let begun = begin_sign_in(&client, &mut browser).await;
        let response = finish_sign_in(&client, &mut browser, &begun.id, garbage).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{garbage:?}");
        assert_eq!(failed(json(response).await), unknown);
    }

    // Removed (sudo mode): it no longer signs in, with the same answer.
    let id = passkey_list(&client, &mut ann).await["passkeys"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let removed = ann
        .post(&client, "/api/passkeys/remove", &[("id", &id)])
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    let (_, gone) = sign_in(&client, &mut phone).await;
    assert_eq!(gone.status(), StatusCode::BAD_REQUEST);
    assert_eq!(failed(json(gone).await), unknown);

    // Of a deleted account: the same again.
    let mut carol = signed_up(&client, "carol@example.com").await;
    let mut carols = SoftAuthenticator::new();
    assert_eq!(
        add_passkey(&client, &mut carol, &mut carols, "Laptop")
            .await
            .status(),
        StatusCode::OK
    );
    let deleted = carol.post(&client, "/api/account/delete", &[]).await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let (_, orphan) = sign_in(&client, &mut carols).await;
    assert_eq!(orphan.status(), StatusCode::BAD_REQUEST);
    assert_eq!(failed(json(orphan).await), unknown);

    // Removing someone else's passkey, or none: 404, nothing removed.
    let bobs_view = bob
        .post(&client, "/api/passkeys/remove", &[("id", "bm9uZQ")])
        .await;
    assert_eq!(bobs_view.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn removing_a_passkey_needs_sudo_mode() {
    let client = client(&[("SUDO_WINDOW", "1s")]);
    let (mut ann, _phone) = ann_with_a_phone_passkey(&client).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let id = passkey_list(&client, &mut ann).await["passkeys"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = ann
        .post(&client, "/api/passkeys/remove", &[("id", &id)])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(refused).await["error"], "sudo_required");
    let begin = ann.post(&client, "/api/passkeys/add_begin", &[]).await;
    assert_eq!(begin.status(), StatusCode::FORBIDDEN, "adding needs it too");
    client.verify_all_addresses().await;
    let removed = ann
        .post(
            &client,
            "/api/passkeys/remove",
            &[("id", &id), ("sudo_password", PASSWORD)],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert_eq!(
        passkey_list(&client, &mut ann).await["passkeys"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let told = support::count(&client.db(), |c| {
        app::store::testing::count_where(c, "mail_outbox", "kind = 'passkey_removed'")
    })
    .await;
    assert_eq!(told, 1, "the owner is told a passkey was removed");
}

#[tokio::test]
async fn an_account_has_at_most_twenty_passkeys_even_when_added_in_parallel() {
    let client = client(&[]);
    let mut ann = signed_up(&client, "ann@example.com").await;
    for n in 0..18 {
        let mut key = SoftAuthenticator::new();
        let added = add_passkey(&client, &mut ann, &mut key, &format!("Key {n}")).await;
        assert_eq!(added.status(), StatusCode::OK);
    }
    // Two more ceremonies, begun in two browsers of the same session, and three
    // answers racing for the last two places: two win.
    let mut ceremonies = Vec::new();
    for _ in 0..3 {
        let mut tab = Browser {
            session: None,
            cookies: ann.cookies.clone(),
        };
        let begun =
            Begun::from(json(tab.post(&client, "/api/passkeys/add_begin", &[]).await).await);
        let answer = SoftAuthenticator::new().register(&origin(&client), &begun.options);
        ceremonies.push((tab.header(), begun.id, answer));
    }
    let sends = ceremonies
        .iter()
        .map(|(header, ceremony, answer)| {
            client
                .http
                .post(client.server.url("/api/passkeys/add_finish"))
                .header("cookie", header.clone())
                .form(&[
                    ("ceremony", ceremony.as_str()),
                    ("credential", answer.as_str()),
                    ("name", "Racing key"),
                ])
        })
        .collect();
    let statuses = all_at_once(sends).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        2,
        "{statuses:?}"
    );
    let list = passkey_list(&client, &mut ann).await;
    assert_eq!(list["passkeys"].as_array().unwrap().len(), 20);
    // At the limit, adding is refused up front with a way forward.
    let full = ann.post(&client, "/api/passkeys/add_begin", &[]).await;
    assert_eq!(full.status(), StatusCode::BAD_REQUEST);
    assert!(
        json(full).await["message"]
            .as_str()
            .unwrap()
            .contains("Remove one")
    );
}

#[tokio::test]
async fn the_same_authenticator_cannot_add_its_passkey_twice() {
    let client = client(&[]);
    let (mut ann, _phone) = ann_with_a_phone_passkey(&client).await;
    // The second registration excludes the first credential.
    let begun = Begun::from(json(ann.post(&client, "/api/passkeys/add_begin", &[]).await).await);
    let options: serde_json::Value = serde_json::from_str(&begun.options).unwrap();
    assert_eq!(
        options["publicKey"]["excludeCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Answering a ceremony twice does not add twice.
    let answer = SoftAuthenticator::new().register(&origin(&client), &begun.options);
    let finish = [
        ("ceremony", begun.id.as_str()),
        ("credential", &answer),
        ("name", "Again"),
    ];
    let first = ann.post(&client, "/api/passkeys/add_finish", &finish).await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = ann.post(&client, "/api/passkeys/add_finish", &finish).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_pages_with_passkey_controls_render_in_parallel_without_a_panic() {
    // Rendered on a multi-threaded runtime, a page's state may be dropped on another
    // thread than the one that made it: nothing browser-only may be created there.
    let server = TestServer::start_process(&[("INSECURE_FAST_PASSWORD_HASHING", "true")]);
    let http = support::http_client();
    let pages = (0..40).map(|n| {
        let url = server.url(if n % 2 == 0 { "/login" } else { "/account" });
        let http = http.clone();
        tokio::spawn(async move { http.get(url).send().await.unwrap().status() })
    });
    for page in pages.collect::<Vec<_>>() {
        let status = page.await.unwrap();
        assert!(!status.is_server_error(), "{status}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
}

#[tokio::test]
async fn a_browser_that_begins_again_and_again_leaves_four_ceremonies_behind() {
    let client = client(&[]);
    let db = client.db();
    let waiting = || {
        support::count(&db, |conn| {
            passkey_challenges::table.count().get_result(conn)
        })
    };
    // The login page starts a ceremony on every visit; a browser keeps four waiting
    // (a few tabs), and the older ones go with their rows.
    let mut browser = Browser::default();
    for _ in 0..6 {
        begin_sign_in(&client, &mut browser).await;
    }
    assert_eq!(waiting().await, 4);
    begin_sign_in(&client, &mut Browser::default()).await;
    assert_eq!(waiting().await, 5);
}

/// Two login tabs of one browser each begin their autofill ceremony; the user signs in
/// in the older one. With one ceremony per browser, the newer tab's had replaced it and
/// the sign-in failed ("That took too long").
#[tokio::test]
async fn the_older_of_two_tabs_still_signs_in_and_the_dropped_ones_do_not() {
    let client = client(&[]);
    let (_ann, mut phone) = ann_with_a_phone_passkey(&client).await;
    let mut browser = Browser::default();
    let first_tab = begin_sign_in(&client, &mut browser).await;
    let second_tab = begin_sign_in(&client, &mut browser).await;
    let answer = phone.sign_in(&origin(&client), &first_tab.options);
    let signed_in = finish_sign_in(&client, &mut browser, &first_tab.id, &answer).await;
    assert_eq!(
        signed_in.status(),
        StatusCode::OK,
        "{}",
        signed_in.text().await.unwrap()
    );

    // The other tab's ceremony still waits (a second device sign-in of this browser).
    let answer = phone.sign_in(&origin(&client), &second_tab.options);
    let again = finish_sign_in(&client, &mut browser, &second_tab.id, &answer).await;
    assert_eq!(again.status(), StatusCode::OK);

    // Four wait at most: the first of five begun is gone, the second still answers.
    let mut browser = Browser::default();
    let mut begun = Vec::new();
    for _ in 0..5 {
        begun.push(begin_sign_in(&client, &mut browser).await);
    }
    let answer = phone.sign_in(&origin(&client), &begun[0].options);
    let dropped = finish_sign_in(&client, &mut browser, &begun[0].id, &answer).await;
    assert_eq!(dropped.status(), StatusCode::BAD_REQUEST);
    let answer = phone.sign_in(&origin(&client), &begun[1].options);
    let kept = finish_sign_in(&client, &mut browser, &begun[1].id, &answer).await;
    assert_eq!(kept.status(), StatusCode::OK);

    // An answer that names no ceremony is a plain 400.
    let answer = phone.sign_in(&origin(&client), &begun[2].options);
    let unnamed = browser
        .post(
            &client,
            "/api/passkeys/sign_in_finish",
            &[("credential", &answer)],
        )
        .await;
    assert_eq!(unnamed.status(), StatusCode::BAD_REQUEST);
}

/// The login page after signing out takes its notice while it begins a passkey ceremony:
/// two requests on one web session at once. Neither may undo the other's change. (The
/// end-to-end suite saw "That took too long" when the notice's save, made from the
/// session as it was before the ceremony, landed last.)
#[tokio::test]
async fn a_notice_taken_while_a_ceremony_begins_undoes_neither() {
    let client = client(&[]);
    let (mut browser, mut phone) = ann_with_a_phone_passkey(&client).await;
    for round in 0..20 {
        let out = browser.post(&client, "/api/auth/logout", &[]).await;
        assert_eq!(out.status(), StatusCode::OK);
        let send = |path: &str| {
            client
                .http
                .post(client.server.url(path))
                .header("cookie", browser.header())
                .send()
        };
        let (notice, begun) = tokio::join!(
            send("/api/session/notice"),
            send("/api/passkeys/sign_in_begin")
        );
        let notice = json(notice.unwrap()).await;
        assert!(notice.as_str().is_some(), "round {round}: {notice}");
        let begun = begun.unwrap();
        assert_eq!(begun.status(), StatusCode::OK);
        let begun = Begun::from(json(begun).await);

        // The notice was shown once: the ceremony's save did not bring it back.
        let again = browser.post(&client, "/api/session/notice", &[]).await;
        assert_eq!(json(again).await, serde_json::Value::Null, "round {round}");
        // The ceremony survived the notice's save.
        let answer = phone.sign_in(&origin(&client), &begun.options);
        let finished = finish_sign_in(&client, &mut browser, &begun.id, &answer).await;
        let status = finished.status();
        assert_eq!(
            status,
            StatusCode::OK,
            "round {round}: {}",
            finished.text().await.unwrap()
        );
    }
}

// ---- Answers that must fail (issue 31) ----

/// A browser that was refused holds no session: no session cookie was set, and the
/// server sees it signed out.
async fn assert_signed_out(client: &Client, browser: &mut Browser, what: &str) {
    let cookies = &browser.cookies;
    assert!(
        cookies.access.is_none() && cookies.refresh.is_none() && cookies.device.is_none(),
        "{what}: cookies were set: {cookies:?}"
    );
    for path in ["/api/session/me", "/api/devices/list"] {
        let status = browser.post(client, path, &[]).await.status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {path}");
    }
}

/// Sends five answers made by `answer` (origin, options → answer), each to a ceremony
/// of its own in a fresh browser: every one must be the one 400 of a failed passkey and
/// start no session.
async fn refused_five_times(client: &Client, mut answer: impl FnMut(&str, &str) -> String) {
    for attempt in 1..=5 {
        let mut browser = Browser::default();
        let begun = begin_sign_in(client, &mut browser).await;
        let answer = answer(&origin(client), &begun.options);
        let refused = finish_sign_in(client, &mut browser, &begun.id, &answer).await;
        let status = refused.status();
        let body = refused.text().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "attempt {attempt}: {body}");
        assert!(body.contains("did not work"), "attempt {attempt}: {body}");
        assert_signed_out(client, &mut browser, &format!("attempt {attempt}")).await;
    }
}

/// After [`refused_five_times`], the genuine answer of the same passkey from the same
/// address (made by `genuine`) is held back for a moment, because the five failures were
/// counted as guesses; once that backoff is over, it signs in (so the refusals were
/// about what was wrong with the answers, not about the passkey).
async fn counted_then_signs_in(client: &Client, mut genuine: impl FnMut(&str, &str) -> String) {
    let mut browser = Browser::default();
    let begun = begin_sign_in(client, &mut browser).await;
    let answer = genuine(&origin(client), &begun.options);
    let held = finish_sign_in(client, &mut browser, &begun.id, &answer).await;
    assert_eq!(
        held.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the five failures were not counted: {}",
        held.text().await.unwrap()
    );
    assert_signed_out(client, &mut browser, "held back").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut browser = Browser::default();
        let begun = begin_sign_in(client, &mut browser).await;
        let answer = genuine(&origin(client), &begun.options);
        let response = finish_sign_in(client, &mut browser, &begun.id, &answer).await;
        if response.status() != StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(
                browser.post(client, "/api/session/me", &[]).await.status(),
                StatusCode::OK
            );
            return;
        }
        assert!(std::time::Instant::now() < deadline, "still held back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The signature defence: an answer changed after the authenticator signed it (a byte
/// of the signature, of the authenticator data, or of the client data) is refused,
/// starts no session, and counts as a guess.
#[tokio::test]
async fn an_answer_altered_after_signing_is_refused() {
    let client = client(&[]);
    let (_ann, mut phone) = ann_with_a_phone_passkey(&client).await;
    let mut attempt = 0;
    refused_five_times(&client, |origin, options| {
        attempt += 1;
        phone.sign_in_altered(origin, options, |answer| {
            let response = &mut answer.response;
            match attempt % 3 {
                // The last byte of S: the DER form stays valid, the value does not.
                1 => *response.signature.last_mut().unwrap() ^= 0x01,
                // The counter's second byte: 256 more, a value the key never signed.
                2 => response.authenticator_data[35] ^= 0x01,
                // A member added to the client data, which stays valid JSON.
                _ => {
                    let mut data: serde_json::Value =
                        serde_json::from_slice(&response.client_data_json).unwrap();
                    data["tampered"] = true.into();
                    response.client_data_json = serde_json::to_vec(&data).unwrap();
                }
            }
        })
    })
    .await;
    counted_then_signs_in(&client, |origin, options| phone.sign_in(origin, options)).await;
}

/// The user-verification defence: a genuine signature from an authenticator that did
/// not verify its user (the UV flag clear: a touch, no PIN or biometric) is refused,
/// starts no session, and counts as a guess; the passkey is one factor less without it.
#[tokio::test]
async fn an_answer_without_user_verification_is_refused() {
    let client = client(&[]);
    let (_ann, mut phone) = ann_with_a_phone_passkey(&client).await;
    refused_five_times(&client, |origin, options| {
        phone.sign_in_unverified(origin, options)
    })
    .await;
    counted_then_signs_in(&client, |origin, options| phone.sign_in(origin, options)).await;
}

/// The signature-counter defence (README, "a cloned passkey"): a copy of the
/// authenticator made earlier, whose counter is behind or level with the one the
/// server last saw, is refused, starts no session and counts as a guess, while the
/// original keeps working.
#[tokio::test]
async fn a_cloned_authenticator_whose_counter_is_not_ahead_is_refused() {
    let client = client(&[]);
    let mut ann = signed_up(&client, "ann@example.com").await;
    let mut original = ClonableAuthenticator::new();
    let added = add_passkey_from(&client, &mut ann, "Key", |origin, options| {
        original.register(origin, options)
    })
    .await;
    assert_eq!(added.status(), StatusCode::OK);
    let mut snapshots = Vec::new();
    for _ in 0..3 {
        snapshots.push(original.clone());
        let mut browser = Browser::default();
        let begun = begin_sign_in(&client, &mut browser).await;
        let answer = original.sign_in(&origin(&client), &begun.options);
        let signed_in = finish_sign_in(&client, &mut browser, &begun.id, &answer).await;
        assert_eq!(signed_in.status(), StatusCode::OK);
    }
    assert_eq!(original.counter, 3);
    // Copies taken at 1 and 2 sign with 2 (behind the 3 seen) and 3 (level with it).
    let (behind, level) = (snapshots[1].clone(), snapshots[2].clone());
    let mut attempt = 0;
    refused_five_times(&client, |origin, options| {
        attempt += 1;
        let mut copy = if attempt % 2 == 1 { &behind } else { &level }.clone();
        copy.sign_in(origin, options)
    })
    .await;
    counted_then_signs_in(&client, |origin, options| original.sign_in(origin, options)).await;
}

/// The user-handle defence: one account's passkey answering with the user handle of
/// another account (which an attacker can learn, and which nothing signs) is refused,
/// starts no session for either account, and counts as a guess.
#[tokio::test]
async fn a_passkey_with_another_accounts_user_handle_is_refused() {
    let client = client(&[]);
    let (_ann, mut anns_phone) = ann_with_a_phone_passkey(&client).await;
    let mut bob = signed_up(&client, "bob@example.com").await;
    let mut bobs_phone = SoftAuthenticator::new();
    let added = add_passkey(&client, &mut bob, &mut bobs_phone, "Phone").await;
    assert_eq!(added.status(), StatusCode::OK);
    let bobs_handle = bobs_phone.user_handle();
    assert_ne!(bobs_handle, anns_phone.user_handle());
    refused_five_times(&client, |origin, options| {
        anns_phone.sign_in_altered(origin, options, |answer| {
            answer.response.user_handle = Some(bobs_handle.clone());
        })
    })
    .await;
    counted_then_signs_in(&client, |origin, options| {
        anns_phone.sign_in(origin, options)
    })
    .await;
}
