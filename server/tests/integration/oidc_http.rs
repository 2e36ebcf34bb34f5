//! Sign-in with an OpenID provider over HTTP, against a real one (panva's
//! `oidc-provider`, started by the test): a new account, a returning identity, an
//! address that has an account (linked only after signing in to it), the second step,
//! connected accounts (link, unlink, the last way in), re-authentication for sudo mode,
//! and every attack on the redirect dance: a replayed or foreign `state`, a wrong nonce,
//! another issuer's answer, a provider that is down, rotated keys, two instances.

use crate::support;

use app::store::schema::{device_sessions, oidc_flows, oidc_identities, users};
use diesel::prelude::*;
use reqwest::StatusCode;
use support::oidc::{
    OidcProvider, ProviderAccount, ProviderBrowser, finish, providers_file, sign_in_with, start,
};
use support::{Browser, Client, PASSWORD, TestServer, count};

/// Where the test server says it lives: the provider's redirect URIs name it. The tests
/// carry the callbacks to the server themselves, so it need not resolve.
const PUBLIC_URL: &str = "http://gatehouse.test";

fn callback_uri(id: &str) -> String {
    format!("{PUBLIC_URL}/auth/oidc/{id}/callback")
}

/// A provider registered for the provider ids `ids`, and a server that knows it as
/// the first of them (with `trust_email`).
fn setup(trust_email: bool) -> (OidcProvider, Client) {
    let provider = OidcProvider::start(&[callback_uri("test")]);
    let client = server_for(&[("test", &provider.issuer, trust_email)], &[]);
    (provider, client)
}

fn server_for(providers: &[(&str, &str, bool)], extra: &[(&str, &str)]) -> Client {
    let dir = tempfile::tempdir().unwrap();
    let file = providers_file(dir.path(), providers);
    let mut env = vec![
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
        ("PUBLIC_URL", PUBLIC_URL),
        ("OIDC_PROVIDERS_FILE", file.as_str()),
    ];
    env.extend_from_slice(extra);
    let client = Client::on(TestServer::start(&env));
    // The file was read at start-up.
    drop(dir);
    client
}

async fn me(client: &Client, browser: &Browser) -> (StatusCode, serde_json::Value) {
    let response = client
        .http
        .post(client.server.url("/api/session/me"))
        .header("cookie", browser.header())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

async fn sessions(client: &Client) -> i64 {
    count(&client.db(), |conn| {
        device_sessions::table.count().get_result(conn)
    })
    .await
}

async fn identities(client: &Client) -> i64 {
    count(&client.db(), |conn| {
        oidc_identities::table.count().get_result(conn)
    })
    .await
}

/// The JSON a server function answers `cookies` with.
async fn json(client: &Client, path: &str, cookies: &support::Cookies) -> serde_json::Value {
    client.post(path, cookies, &[]).await.json().await.unwrap()
}

/// Rows in the outbox of mail `kind`.
async fn mails(client: &Client, kind: &'static str) -> i64 {
    count(&client.db(), move |conn| {
        use app::store::schema::mail_outbox;
        mail_outbox::table
            .filter(mail_outbox::kind.eq(kind))
            .count()
            .get_result(conn)
    })
    .await
}

/// The one-time notice the login page would show this browser.
async fn notice(client: &Client, browser: &mut Browser) -> String {
    let response = browser.post(client, "/api/session/notice", &[]).await;
    response
        .json::<Option<String>>()
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_provider_makes_an_account_without_a_password_and_signs_it_in() {
    let (_provider, client) = setup(false);
    let mut browser = Browser::default();
    let next = sign_in_with(
        &client,
        &mut browser,
        "test",
        &ProviderAccount::verified("new@example.com"),
    )
    .await;
    assert_eq!(next, "/devices");
    let (status, who) = me(&client, &browser).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(who["email"], "new@example.com");
    // The devices page says how.
    let list: serde_json::Value = json(&client, "/api/devices/list", &browser.cookies).await;
    assert_eq!(list["devices"][0]["sign_in_method"], "TEST ID");
    // The provider verified the address; there is no password to guess.
    let verified = count(&client.db(), |conn| {
        users::table
            .filter(users::email_verified_at.is_not_null())
            .count()
            .get_result(conn)
    })
    .await;
    assert_eq!(verified, 1);
    for password in ["", PASSWORD] {
        let response = client
            .post(
                "/api/auth/login",
                &Default::default(),
                &[("email", "new@example.com"), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{password:?}");
    }
    // The same identity again: the same account, a second device session.
    let mut other = Browser::default();
    let account = ProviderAccount::verified("new@example.com");
    assert_eq!(
        sign_in_with(&client, &mut other, "test", &account).await,
        "/devices"
    );
    assert_eq!(me(&client, &other).await.1["user_id"], who["user_id"]);
    assert_eq!(sessions(&client).await, 2);
    assert_eq!(identities(&client).await, 1);
}

/// An identity whose address has an account links nothing by itself, not even when
/// that browser then signs in to the account (the browser may carry a stranger's
/// provider session, or a stranger's web session): its owner connects the provider from
/// the account page, signing in at the provider again.
#[tokio::test]
async fn an_address_with_an_account_is_linked_only_by_its_owner_from_the_account_page() {
    let (_provider, client) = setup(false);
    let owner = client.sign_up("ann@example.com").await;
    client.verify_all_addresses().await;
    let before = sessions(&client).await;

    // Someone whose provider account has Ann's address is not signed in...
    let mut browser = Browser::default();
    let account = ProviderAccount::verified("ann@example.com");
    let next = sign_in_with(&client, &mut browser, "test", &account).await;
    assert!(next.starts_with("/login"), "{next}");
    assert_eq!(me(&client, &browser).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sessions(&client).await, before);
    assert!(
        notice(&client, &mut browser)
            .await
            .contains("already exists")
    );

    // ...and when Ann then signs in in that browser (a planted web session, or a
    // shared computer signed in at the provider as someone else), nothing is linked.
    let response = browser
        .post(
            &client,
            "/api/auth/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(identities(&client).await, 0, "linked by the address alone");

    // Ann connects it from the account page: the provider asks her to sign in again,
    // though this browser is signed in there.
    let mut at_provider = ProviderBrowser::default();
    let authorize = start(&client, &mut browser, "test", &[("purpose", "link")]).await;
    assert!(authorize.contains("prompt=login"), "{authorize}");
    let callback = at_provider.authorize(&authorize, &account).await;
    assert_eq!(finish(&client, &mut browser, &callback).await, "/account");
    assert_eq!(identities(&client).await, 1);
    let ann = me(&client, &browser).await.1["user_id"].clone();

    // From now on the provider signs in to Ann's account.
    let mut later = Browser::default();
    assert_eq!(
        sign_in_with(&client, &mut later, "test", &account).await,
        "/devices"
    );
    assert_eq!(me(&client, &later).await.1["user_id"], ann);
    // The owner was told, and it is on the activity page.
    let activity = json(&client, "/api/account/activity", &owner).await;
    assert!(
        activity["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "provider_linked"),
        "{activity}"
    );
    assert_eq!(mails(&client, "provider_linked").await, 1);
}

/// A link (and a re-authentication) counts only with a sign-in at the provider made
/// after the redirect left: an answer from a provider session that was already there
/// (the `prompt=login` stripped, or a provider that ignores it) is refused.
#[tokio::test]
async fn a_link_needs_a_fresh_sign_in_at_the_provider() {
    let (_provider, client) = setup(false);
    let mut browser = Browser::default();
    browser
        .post(
            &client,
            "/api/auth/signup",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    // Someone else signed in at the provider in this browser a while ago.
    let mut at_provider = ProviderBrowser::default();
    let stranger = ProviderAccount::verified("mallory@example.com");
    let mut other = Browser::default();
    let authorize = start(&client, &mut other, "test", &[("next", "/devices")]).await;
    at_provider.authorize(&authorize, &stranger).await;
    tokio::time::sleep(std::time::Duration::from_secs(12)).await;

    let authorize = start(&client, &mut browser, "test", &[("purpose", "link")]).await;
    let callback = at_provider
        .authorize(&without_fresh_sign_in(&authorize), &stranger)
        .await;
    assert_eq!(finish(&client, &mut browser, &callback).await, "/account");
    assert!(notice(&client, &mut browser).await.contains("did not work"));
    assert_eq!(identities(&client).await, 0);
}

/// `authorize` without `prompt=login` and `max_age=0`: what a tampered redirect asks,
/// so a provider answers from the session it already has, with its old `auth_time`.
fn without_fresh_sign_in(authorize: &str) -> String {
    let mut url = url::Url::parse(authorize).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "prompt" && k != "max_age")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(&pairs);
    url.into()
}

#[tokio::test]
async fn a_trusted_provider_links_by_verified_address_and_only_then() {
    let (_provider, client) = setup(true);
    client.sign_up("ann@example.com").await;
    client.sign_up("unverified@example.com").await;
    // Ann's address is verified on both sides: linked and signed in at once.
    client.verify_all_addresses().await;
    client
        .db()
        .run(|conn| {
            Ok(
                diesel::update(users::table.filter(users::email.eq("unverified@example.com")))
                    .set(users::email_verified_at.eq(None::<chrono::NaiveDateTime>))
                    .execute(conn)?,
            )
        })
        .await
        .unwrap();
    let mut browser = Browser::default();
    let ann = ProviderAccount::verified("ann@example.com");
    assert_eq!(
        sign_in_with(&client, &mut browser, "test", &ann).await,
        "/devices"
    );
    assert_eq!(me(&client, &browser).await.1["email"], "ann@example.com");
    // An account whose address nobody verified here: not linked by address.
    let mut other = Browser::default();
    let account = ProviderAccount::verified("unverified@example.com");
    let next = sign_in_with(&client, &mut other, "test", &account).await;
    assert!(next.starts_with("/login"), "{next}");
    // Nor an address the provider did not verify.
    let mut third = Browser::default();
    let unverified = ProviderAccount {
        verified: false,
        ..ProviderAccount::verified("carol@example.com")
    };
    let next = sign_in_with(&client, &mut third, "test", &unverified).await;
    assert!(next.starts_with("/login"), "{next}");
    assert!(notice(&client, &mut third).await.contains("not confirmed"));
    assert_eq!(identities(&client).await, 1);
}

#[tokio::test]
async fn a_state_is_answered_once_and_only_in_the_browser_that_left() {
    let (_provider, client) = setup(false);
    let account = ProviderAccount::verified("ann@example.com");
    let mut browser = Browser::default();
    let authorize = start(&client, &mut browser, "test", &[("next", "/devices")]).await;
    let callback = ProviderBrowser::default()
        .authorize(&authorize, &account)
        .await;

    // Another browser cannot bring it back (login CSRF: the attacker's code).
    let mut stranger = Browser::default();
    let next = finish(&client, &mut stranger, &callback).await;
    assert!(next.starts_with("/login"), "{next}");
    assert_eq!(me(&client, &stranger).await.0, StatusCode::UNAUTHORIZED);

    // Its own browser can, once.
    assert_eq!(finish(&client, &mut browser, &callback).await, "/devices");
    let sessions_after = sessions(&client).await;
    let mut replay = browser.clone();
    replay.cookies = Default::default();
    let next = finish(&client, &mut replay, &callback).await;
    assert!(next.starts_with("/login"), "{next}");
    assert_eq!(sessions(&client).await, sessions_after);
    assert!(notice(&client, &mut replay).await.contains("did not work"));

    // No state, or one nobody issued.
    for query in [
        "",
        "?code=x",
        "?code=x&state=made-up",
        "?error=access_denied&state=x",
    ] {
        let mut fresh = Browser::default();
        let next = finish(
            &client,
            &mut fresh,
            &format!("{PUBLIC_URL}/auth/oidc/test/callback{query}"),
        )
        .await;
        assert!(next.starts_with("/login"), "{query}: {next}");
    }
    assert_eq!(sessions(&client).await, sessions_after);
    let waiting = count(&client.db(), |conn| {
        oidc_flows::table.count().get_result(conn)
    })
    .await;
    assert_eq!(waiting, 0, "every redirect was used");
}

#[tokio::test]
async fn parallel_answers_to_one_state_sign_in_once() {
    let (_provider, client) = setup(false);
    let mut browser = Browser::default();
    let authorize = start(&client, &mut browser, "test", &[("next", "/devices")]).await;
    let account = ProviderAccount::verified("ann@example.com");
    let callback = ProviderBrowser::default()
        .authorize(&authorize, &account)
        .await;
    let tries = (0..8).map(|_| {
        let (client, mut browser, callback) = (&client, browser.clone(), callback.clone());
        async move {
            finish(client, &mut browser, &callback).await;
            browser.cookies.access.is_some()
        }
    });
    let signed_in = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .filter(|s| *s)
        .count();
    assert_eq!(signed_in, 1);
    assert_eq!(sessions(&client).await, 1);
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let (_provider, client) = setup(false);
    let mut browser = Browser::default();
    let authorize = start(&client, &mut browser, "test", &[("next", "/devices")]).await;
    // The provider is asked for a token with another nonce (state and PKCE intact).
    let mut url = url::Url::parse(&authorize).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "nonce" {
                "an-attackers-nonce".into()
            } else {
                v
            };
            (k.into_owned(), v.into_owned())
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(&pairs);
    let account = ProviderAccount::verified("ann@example.com");
    let callback = ProviderBrowser::default()
        .authorize(url.as_str(), &account)
        .await;
    let next = finish(&client, &mut browser, &callback).await;
    assert!(next.starts_with("/login"), "{next}");
    assert_eq!(me(&client, &browser).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sessions(&client).await, 0);
}

/// A mix-up (RFC 9207): the browser left for provider B, but its request was sent on
/// to A, whose answer comes back to B's callback. Gatehouse must notice the issuer
/// before it sends A's code (and the PKCE verifier) to B's token endpoint.
#[tokio::test]
async fn another_issuers_answer_is_refused_before_its_code_goes_anywhere() {
    let a = OidcProvider::start(&[callback_uri("a"), callback_uri("b")]);
    let b = OidcProvider::start(&[callback_uri("a"), callback_uri("b")]);
    let client = server_for(&[("a", &a.issuer, false), ("b", &b.issuer, false)], &[]);
    let exchanges = || client.server.state().server.providers.code_exchanges();
    let account = ProviderAccount::verified("ann@example.com");
    for strip_iss in [false, true] {
        let mut browser = Browser::default();
        let authorize = start(&client, &mut browser, "b", &[("next", "/devices")]).await;
        let at_a = authorize.replacen(&b.issuer, &a.issuer, 1);
        let mut callback = ProviderBrowser::default().authorize(&at_a, &account).await;
        assert!(callback.contains("/auth/oidc/b/callback"), "{callback}");
        assert!(callback.contains("iss="), "{callback}");
        if strip_iss {
            // B's discovery says it sends `iss`: an answer without it is refused too.
            let mut url = url::Url::parse(&callback).unwrap();
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != "iss")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.query_pairs_mut().clear().extend_pairs(&pairs);
            callback = url.to_string();
        }
        let next = finish(&client, &mut browser, &callback).await;
        assert!(next.starts_with("/login"), "strip_iss={strip_iss}: {next}");
        assert_eq!(me(&client, &browser).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(exchanges(), 0, "strip_iss={strip_iss}: a code went to B");
    }
    assert_eq!(sessions(&client).await, 0);
    // The same two providers answer their own requests.
    let mut browser = Browser::default();
    assert_eq!(
        sign_in_with(&client, &mut browser, "b", &account).await,
        "/devices"
    );
    assert_eq!(exchanges(), 1);
}

#[tokio::test]
async fn a_provider_that_is_down_is_a_plain_message_and_comes_back() {
    let mut provider = OidcProvider::start(&[callback_uri("test")]);
    let port = provider.port;
    provider.stop();
    // Down at start-up: the server starts anyway.
    let client = server_for(&[("test", &provider.issuer, false)], &[]);
    let mut browser = Browser::default();
    let response = browser
        .post(&client, "/auth/oidc/test/start", &[("next", "/devices")])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");
    assert!(
        notice(&client, &mut browser)
            .await
            .contains("not answering")
    );

    // Back up (on its port, with new keys): within seconds (the background retry, or
    // a sign-in's own try, at most one each 5 s) signing in works.
    let mut provider = OidcProvider::start_on(port, &[callback_uri("test")]);
    let account = ProviderAccount::verified("ann@example.com");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let authorize = loop {
        let response = browser
            .post(&client, "/auth/oidc/test/start", &[("next", "/devices")])
            .await;
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        if location.starts_with(&provider.issuer) {
            break location;
        }
        assert!(std::time::Instant::now() < deadline, "still not answering");
        // Each try costs one of the client's writes without a session.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    };
    let callback = ProviderBrowser::default()
        .authorize(&authorize, &account)
        .await;
    assert_eq!(finish(&client, &mut browser, &callback).await, "/devices");

    // Down between the redirect and the answer: the code cannot be exchanged.
    let mut browser = Browser::default();
    let authorize = start(&client, &mut browser, "test", &[("next", "/devices")]).await;
    let callback = ProviderBrowser::default()
        .authorize(&authorize, &account)
        .await;
    provider.stop();
    let next = finish(&client, &mut browser, &callback).await;
    assert!(next.starts_with("/login"), "{next}");
    assert!(
        notice(&client, &mut browser)
            .await
            .contains("not answering")
    );
}

#[tokio::test]
async fn new_keys_at_the_provider_are_fetched_when_a_token_names_them() {
    let (mut provider, client) = setup(false);
    let account = ProviderAccount::verified("ann@example.com");
    let mut browser = Browser::default();
    assert_eq!(
        sign_in_with(&client, &mut browser, "test", &account).await,
        "/devices"
    );
    // The provider rotates its signing key (a restart makes a new one, new kid).
    provider.restart();
    let mut browser = Browser::default();
    assert_eq!(
        sign_in_with(&client, &mut browser, "test", &account).await,
        "/devices"
    );
    assert_eq!(me(&client, &browser).await.0, StatusCode::OK);
}

/// The code step still comes after a provider, for an account with two-step sign-in,
/// and the devices page names both.
#[tokio::test]
async fn two_step_sign_in_asks_for_the_code_after_a_provider() {
    let (_provider, client) = setup(true);
    let mut owner = Browser::default();
    let response = owner
        .post(
            &client,
            "/api/auth/signup",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    client.verify_all_addresses().await;
    let setup = client
        .post("/api/security/totp_begin", &owner.cookies, &[])
        .await;
    let secret: serde_json::Value = setup.json().await.unwrap();
    let secret = secret["secret"].as_str().unwrap().to_owned();
    let code = support::code_for(&secret, support::now_unix());
    let confirmed = client
        .post(
            "/api/security/totp_confirm",
            &owner.cookies,
            &[("code", &code)],
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);

    let mut browser = Browser::default();
    let account = ProviderAccount::verified("ann@example.com");
    let next = sign_in_with(&client, &mut browser, "test", &account).await;
    assert!(next.starts_with("/sign-in-code"), "{next}");
    assert!(
        browser.cookies.access.is_none(),
        "no session before the code"
    );
    // The code of the next 30-second step (the current one was used to confirm).
    let code = support::code_for(&secret, support::now_unix() + 30);
    let response = browser
        .post(&client, "/api/auth/code", &[("code", &code)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: serde_json::Value = json(&client, "/api/devices/list", &browser.cookies).await;
    assert_eq!(
        list["devices"][0]["sign_in_method"],
        "TEST ID and authenticator app"
    );
}

/// Connecting a provider from the account page: sudo mode first, only the session that
/// left may finish, and an identity connected elsewhere stays there.
#[tokio::test]
async fn a_signed_in_user_connects_a_provider_in_sudo_mode_only() {
    let (_provider, client) = setup(false);
    let mut ann = Browser::default();
    ann.post(
        &client,
        "/api/auth/signup",
        &[("email", "ann@example.com"), ("password", PASSWORD)],
    )
    .await;
    let account = ProviderAccount::verified("ann-elsewhere@example.com");

    // Outside the sudo window, and no proof in the form: not sent anywhere.
    set_proven_at(&client, None).await;
    let response = ann
        .post(&client, "/auth/oidc/test/start", &[("purpose", "link")])
        .await;
    assert_eq!(response.headers()["location"], "/account");
    assert!(
        notice(&client, &mut ann)
            .await
            .contains("confirm it is you")
    );

    // With the password in the form, it goes.
    let authorize = start(
        &client,
        &mut ann,
        "test",
        &[("purpose", "link"), ("sudo_password", PASSWORD)],
    )
    .await;
    let callback = ProviderBrowser::default()
        .authorize(&authorize, &account)
        .await;
    // Another signed-in browser cannot bring the answer back, even with the web session.
    let mut bob = ann.clone();
    bob.cookies = client.sign_up("bob@example.com").await;
    let next = finish(&client, &mut bob, &callback).await;
    assert_eq!(next, "/account");
    assert_eq!(identities(&client).await, 0);
    // A fresh link, brought back by Ann.
    let authorize = start(&client, &mut ann, "test", &[("purpose", "link")]).await;
    let callback = ProviderBrowser::default()
        .authorize(&authorize, &account)
        .await;
    assert_eq!(finish(&client, &mut ann, &callback).await, "/account");
    assert!(notice(&client, &mut ann).await.contains("now connected"));
    let connected: serde_json::Value = json(&client, "/api/oidc/connected", &ann.cookies).await;
    assert_eq!(connected["connected"][0]["provider"], "TEST ID");
    assert_eq!(
        connected["connected"][0]["email"],
        "ann-elsewhere@example.com"
    );
    assert_eq!(connected["available"], serde_json::json!([]));

    // Bob cannot take the same identity.
    let mut bob = Browser {
        cookies: bob.cookies,
        session: None,
    };
    let authorize = start(&client, &mut bob, "test", &[("purpose", "link")]).await;
    let callback = ProviderBrowser::default()
        .authorize(&authorize, &account)
        .await;
    finish(&client, &mut bob, &callback).await;
    assert!(notice(&client, &mut bob).await.contains("another account"));
    assert_eq!(identities(&client).await, 1);
    // Signing in with it still reaches Ann.
    let mut later = Browser::default();
    sign_in_with(&client, &mut later, "test", &account).await;
    assert_eq!(me(&client, &later).await.1["email"], "ann@example.com");
}

/// The last way into an account cannot be disconnected; another can, in sudo mode,
/// recorded and mailed.
#[tokio::test]
async fn the_last_way_in_cannot_be_disconnected() {
    let (_provider, client) = setup(false);
    let mut browser = Browser::default();
    let account = ProviderAccount::verified("new@example.com");
    sign_in_with(&client, &mut browser, "test", &account).await;
    let connected: serde_json::Value = json(&client, "/api/oidc/connected", &browser.cookies).await;
    assert_eq!(connected["has_password"], false);
    assert_eq!(connected["last_is_only_way_in"], true);
    let id = connected["connected"][0]["id"].as_str().unwrap().to_owned();
    let response = client
        .post("/api/oidc/unlink", &browser.cookies, &[("id", &id)])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("only way"),
        "{body}"
    );
    assert_eq!(identities(&client).await, 1);

    // Ann has a password as well: hers can go.
    let (_, client) = (0, client);
    let mut ann = Browser::default();
    ann.post(
        &client,
        "/api/auth/signup",
        &[("email", "ann@example.com"), ("password", PASSWORD)],
    )
    .await;
    client.verify_all_addresses().await;
    let ann_account = ProviderAccount::verified("ann-elsewhere@example.com");
    let authorize = start(&client, &mut ann, "test", &[("purpose", "link")]).await;
    let callback = ProviderBrowser::default()
        .authorize(&authorize, &ann_account)
        .await;
    finish(&client, &mut ann, &callback).await;
    let connected: serde_json::Value = json(&client, "/api/oidc/connected", &ann.cookies).await;
    assert_eq!(connected["last_is_only_way_in"], false);
    let id = connected["connected"][0]["id"].as_str().unwrap().to_owned();
    // Outside sudo mode it asks for a proof first.
    set_proven_at(&client, None).await;
    let response = client
        .post("/api/oidc/unlink", &ann.cookies, &[("id", &id)])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = client
        .post(
            "/api/oidc/unlink",
            &ann.cookies,
            &[("id", &id), ("sudo_password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        identities(&client).await,
        1,
        "only the provider-made account's is left"
    );
    assert_eq!(mails(&client, "provider_unlinked").await, 1);
    // And it no longer signs in to Ann's account: it makes no account either, since
    // the address it gives is not Ann's... it is a new one.
    let mut later = Browser::default();
    sign_in_with(&client, &mut later, "test", &ann_account).await;
    assert_eq!(
        me(&client, &later).await.1["email"],
        "ann-elsewhere@example.com"
    );
}

/// Signing in again at the provider (`prompt=login`) renews sudo mode; an answer whose
/// `auth_time` is older than the redirect does not.
#[tokio::test]
async fn signing_in_again_at_the_provider_renews_sudo_mode() {
    let (_provider, client) = setup(false);
    let mut browser = Browser::default();
    let account = ProviderAccount::verified("new@example.com");
    let mut at_provider = ProviderBrowser::default();
    let authorize = start(&client, &mut browser, "test", &[("next", "/devices")]).await;
    let callback = at_provider.authorize(&authorize, &account).await;
    finish(&client, &mut browser, &callback).await;

    set_proven_at(&client, None).await;
    let status: serde_json::Value = json(&client, "/api/security/status", &browser.cookies).await;
    assert_eq!(status["sudo"], false);
    let reauthenticate = [("purpose", "reauthenticate")];

    // An answer from the provider's session of 12 s ago (older than the redirect, past
    // the 10 s allowed for skew) renews nothing, even for the right identity.
    tokio::time::sleep(std::time::Duration::from_secs(12)).await;
    let authorize = start(&client, &mut browser, "test", &reauthenticate).await;
    let callback = at_provider
        .authorize(&without_fresh_sign_in(&authorize), &account)
        .await;
    assert_eq!(finish(&client, &mut browser, &callback).await, "/account");
    assert!(notice(&client, &mut browser).await.contains("did not work"));
    let status: serde_json::Value = json(&client, "/api/security/status", &browser.cookies).await;
    assert_eq!(status["sudo"], false);

    let authorize = start(&client, &mut browser, "test", &reauthenticate).await;
    assert!(authorize.contains("prompt=login"), "{authorize}");
    assert!(authorize.contains("max_age=0"), "{authorize}");
    // The provider shows its login page again, though this browser is signed in there.
    let callback = at_provider.authorize(&authorize, &account).await;
    assert_eq!(finish(&client, &mut browser, &callback).await, "/account");
    let status: serde_json::Value = json(&client, "/api/security/status", &browser.cookies).await;
    assert_eq!(status["sudo"], true);
}

/// Every failed answer spends one of the client's writes without a session; once they
/// are spent, no code is exchanged on its behalf. Other clients are not affected.
#[tokio::test]
async fn forged_answers_are_throttled_per_client_address() {
    let provider = OidcProvider::start(&[callback_uri("test")]);
    let client = server_for(
        &[("test", &provider.issuer, false)],
        &[("TRUSTED_PROXIES", "127.0.0.1")],
    );
    let forged = |ip: &'static str, i: usize| {
        let client = &client;
        async move {
            let response = client
                .http
                .get(client.server.url(&format!(
                    "/auth/oidc/test/callback?code=c{i}&state=forged-{i}"
                )))
                .header("x-forwarded-for", ip)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 303);
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            let mut browser = Browser::default();
            browser.keep(&response);
            (location, browser.session.is_some())
        }
    };
    for i in 0..app::auth::throttle::ANONYMOUS_WRITES as usize {
        let (location, stored) = forged("198.51.100.7", i).await;
        assert_eq!(location, "/login", "{i}");
        assert!(stored, "each paid failure may leave its notice");
    }
    // Spent: said in the address, and no more web sessions made.
    let sessions_before = web_sessions(&client).await;
    for i in 0..20 {
        let (location, stored) = forged("198.51.100.7", 100 + i).await;
        assert_eq!(location, "/login?next=/&reason=throttled");
        assert!(!stored);
    }
    assert_eq!(web_sessions(&client).await, sessions_before);
    let page = client
        .http
        .get(client.server.url("/login?next=/&reason=throttled"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Too many attempts from your network"),
        "the login page says why"
    );
    // Another client address is not affected.
    assert_eq!(forged("198.51.100.8", 0).await.0, "/login");
}

async fn web_sessions(client: &Client) -> i64 {
    count(&client.db(), |conn| {
        app::store::schema::web_sessions::table
            .count()
            .get_result(conn)
    })
    .await
}

/// The redirect leaves from one instance and the answer lands on the other (two
/// instances behind a load balancer, one PostgreSQL database).
#[tokio::test]
async fn the_answer_may_land_on_the_other_instance() {
    let provider = OidcProvider::start(&[callback_uri("test")]);
    let dir = tempfile::tempdir().unwrap();
    let file = providers_file(dir.path(), &[("test", &provider.issuer, false)]);
    let env = [
        ("PUBLIC_URL", PUBLIC_URL),
        ("OIDC_PROVIDERS_FILE", file.as_str()),
    ];
    let Some((a, b)) = support::two_instances(&env) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the PostgreSQL pass"
        );
        return;
    };
    let mut browser = Browser::default();
    let account = ProviderAccount::verified("ann@example.com");
    let authorize = start(&a, &mut browser, "test", &[("next", "/devices")]).await;
    let callback = ProviderBrowser::default()
        .authorize(&authorize, &account)
        .await;
    assert_eq!(finish(&b, &mut browser, &callback).await, "/devices");
    assert_eq!(me(&a, &browser).await.0, StatusCode::OK);
    // Replayed on the first instance: used.
    let mut replay = browser.clone();
    replay.cookies = Default::default();
    assert!(
        finish(&a, &mut replay, &callback)
            .await
            .starts_with("/login")
    );
    // Signed out everywhere from instance A: the provider's session ends on B too.
    let response = a.post("/api/auth/logout", &browser.cookies, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    support::time_until_refused(&b, &browser.cookies, std::time::Duration::from_secs(5)).await;
}

/// Moves every device session's last proof of identity (`None`: never).
async fn set_proven_at(client: &Client, at: Option<chrono::NaiveDateTime>) {
    client
        .db()
        .run(move |conn| {
            Ok(diesel::update(device_sessions::table)
                .set(device_sessions::proven_at.eq(at))
                .execute(conn)?)
        })
        .await
        .unwrap();
}

/// The pages let their forms lead to the provider (a browser checks `form-action`
/// against the redirect a form's answer makes: without it the button does nothing),
/// and to nowhere else.
#[tokio::test]
async fn pages_let_forms_lead_to_the_provider_and_nowhere_else() {
    let (provider, client) = setup(false);
    let response = client
        .http
        .get(client.server.url("/login"))
        .send()
        .await
        .unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let form_action = policy
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("form-action"))
        .unwrap();
    assert_eq!(
        form_action,
        format!("form-action 'self' {}", provider.issuer)
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("Sign in with TEST ID"), "the button");
    assert!(page.contains(r#"action="/auth/oidc/test/start""#));
}

/// An account a provider made gets its password through the reset link, which also
/// ends its sessions (the provider's included), as for any account.
#[tokio::test]
async fn a_reset_gives_an_account_made_by_a_provider_its_password_and_ends_its_sessions() {
    let smtp = support::smtp::SmtpServer::start();
    let provider = OidcProvider::start(&[callback_uri("test")]);
    let client = server_for(
        &[("test", &provider.issuer, false)],
        &[
            ("SMTP_URL", smtp.url.as_str()),
            ("MAIL_POLL_INTERVAL", "200ms"),
        ],
    );
    let mut browser = Browser::default();
    let account = ProviderAccount::verified("new@example.com");
    sign_in_with(&client, &mut browser, "test", &account).await;
    assert_eq!(me(&client, &browser).await.0, StatusCode::OK);

    reset_by_mail(&client, &smtp, "new@example.com").await;

    assert_eq!(me(&client, &browser).await.0, StatusCode::UNAUTHORIZED);
    let login = client
        .post(
            "/api/auth/login",
            &Default::default(),
            &[
                ("email", "new@example.com"),
                ("password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    let mut cookies = support::Cookies::default();
    cookies.update(&login);
    let connected: serde_json::Value = json(&client, "/api/oidc/connected", &cookies).await;
    assert_eq!(connected["has_password"], true);
    assert_eq!(connected["last_is_only_way_in"], false);
}

/// Resets `email`'s password with the link mailed through `smtp`, in a new browser
/// (which then holds the reset's review).
async fn reset_by_mail(client: &Client, smtp: &support::smtp::SmtpServer, email: &str) -> Browser {
    let response = client
        .post(
            "/api/recovery/forgot",
            &Default::default(),
            &[("email", email)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mail = smtp.one(email, "Reset your Gatehouse password").await;
    let mut browser = Browser::default();
    browser
        .get(client, mail.link().strip_prefix(PUBLIC_URL).unwrap())
        .await;
    let reset = browser
        .post(
            client,
            "/api/recovery/reset",
            &[("new_password", "a brand new password")],
        )
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    browser
}

/// A failed answer is told in the reader's language.
#[tokio::test]
async fn a_failure_is_told_in_the_readers_language() {
    let (_provider, client) = setup(false);
    let response = client
        .http
        .get(
            client
                .server
                .url("/auth/oidc/test/callback?code=x&state=made-up"),
        )
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let mut browser = Browser::default();
    browser.keep(&response);
    assert_eq!(
        notice(&client, &mut browser).await,
        "Die Anmeldung über diesen Anbieter hat nicht funktioniert. Bitte versuchen Sie es erneut."
    );
}

/// Someone who held the account (its password) connected their own provider account.
/// The owner's reset disconnects it at once and says so: left for the review, it could
/// sign in right after the reset (sudo mode fresh) and change the password before the
/// owner got there (both found by outside attacks). One connected before the days the
/// reset reaches back stays, listed in the notice and the review (to be removed after
/// signing in, as an old passkey is).
#[tokio::test]
async fn a_reset_disconnects_a_provider_a_thief_connected_lately() {
    let smtp = support::smtp::SmtpServer::start();
    let provider = OidcProvider::start(&[callback_uri("test")]);
    let client = server_for(
        &[("test", &provider.issuer, false)],
        &[
            ("SMTP_URL", smtp.url.as_str()),
            ("MAIL_POLL_INTERVAL", "200ms"),
        ],
    );
    client.sign_up("ann@example.com").await;
    client.verify_all_addresses().await;
    // The thief signs in with Ann's password and connects two provider accounts; one of
    // them is made to look connected long ago.
    let mut thief = Browser::default();
    thief
        .post(
            &client,
            "/api/auth/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    let mallory = ProviderAccount::verified("mallory@example.com");
    let old = ProviderAccount::verified("old@example.com");
    for account in [&old, &mallory] {
        let authorize = start(&client, &mut thief, "test", &[("purpose", "link")]).await;
        let callback = ProviderBrowser::default()
            .authorize(&authorize, account)
            .await;
        finish(&client, &mut thief, &callback).await;
    }
    assert_eq!(identities(&client).await, 2);
    client
        .db()
        .run(|conn| {
            Ok(diesel::update(
                oidc_identities::table.filter(oidc_identities::email.eq("old@example.com")),
            )
            .set(
                oidc_identities::created_at
                    .eq(chrono::Utc::now().naive_utc() - chrono::Duration::days(8)),
            )
            .execute(conn)?)
        })
        .await
        .unwrap();

    // Ann resets her password: the recent one is disconnected at once.
    let mut ann = reset_by_mail(&client, &smtp, "ann@example.com").await;
    assert_eq!(identities(&client).await, 1);
    // The thief's provider account no longer reaches Ann's, even before she looks.
    let mut later = Browser::default();
    sign_in_with(&client, &mut later, "test", &mallory).await;
    assert_eq!(me(&client, &later).await.1["email"], "mallory@example.com");

    let notice = smtp
        .one("ann@example.com", "Your Gatehouse password was reset")
        .await;
    assert!(
        notice.text.contains("(mallory@example.com)")
            && notice.text.contains("disconnected by the reset"),
        "{}",
        notice.text
    );
    assert!(
        notice
            .text
            .contains("Your account at TEST ID (old@example.com)"),
        "{}",
        notice.text
    );
    let review: serde_json::Value = ann
        .post(&client, "/api/recovery/review", &[])
        .await
        .json()
        .await
        .unwrap();
    let listed = review["providers"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{review}");
    assert_eq!(listed[0]["email"], "old@example.com");
}

/// A signed-in user's redirects (links, re-authentications) wait a few at a time, and
/// cost their client's writes like anyone's: no table fills up from one account. (Found
/// by an outside attack: 300 starts made 300 rows.)
#[tokio::test]
async fn a_signed_in_user_cannot_fill_the_table_of_redirects() {
    let (_provider, client) = setup(false);
    let cookies = client.sign_up("ann@example.com").await;
    let db = client.db();
    let flows = || count(&db, |conn| oidc_flows::table.count().get_result(conn));
    for purpose in ["link", "reauthenticate"] {
        for _ in 0..6 {
            // No web-session cookie sent back: each starts afresh.
            let response = client
                .post("/auth/oidc/test/start", &cookies, &[("purpose", purpose)])
                .await;
            assert_eq!(response.status(), 303);
        }
    }
    assert_eq!(flows().await, app::auth::identities::FLOWS_PER_USER);
    let mut refused = false;
    for _ in 0..app::auth::throttle::ANONYMOUS_WRITES {
        let response = client
            .post("/auth/oidc/test/start", &cookies, &[("purpose", "link")])
            .await;
        refused |= response.headers()["location"] == "/login?next=/&reason=throttled"
            && !response.headers().contains_key("set-cookie");
    }
    assert!(refused, "the client's writes ran out");
    assert!(flows().await <= app::auth::identities::FLOWS_PER_USER);
}

/// A full table of waiting redirects (filled by anyone holding a few hundred client
/// addresses) pushes its oldest out instead of refusing every new sign-in for ten
/// minutes (an outside attack did exactly that with 10,000 starts from 334 /64s).
#[tokio::test]
async fn a_full_table_of_redirects_pushes_out_the_oldest_instead_of_refusing_everyone() {
    let (_provider, client) = setup(false);
    let max = app::auth::identities::MAX_LIVE_FLOWS;
    let now = chrono::Utc::now().naive_utc();
    let filler = |i: i64| app::store::models::OidcFlowRow {
        id: format!("filler-{i:05}"),
        provider_id: "test".into(),
        purpose: "sign_in".into(),
        user_id: None,
        session_id: None,
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        next: "/".into(),
        created_at: now - chrono::Duration::minutes(5) + chrono::Duration::milliseconds(i),
        expires_at: now + chrono::Duration::minutes(5),
    };
    let rows: Vec<_> = (0..max).map(filler).collect();
    client
        .db()
        .run(move |conn| {
            conn.transaction(|conn| {
                for row in &rows {
                    diesel::insert_into(oidc_flows::table)
                        .values(row)
                        .execute(conn)?;
                }
                QueryResult::Ok(())
            })?;
            Ok(())
        })
        .await
        .unwrap();
    let db = client.db();
    let flows = || count(&db, |conn| oidc_flows::table.count().get_result(conn));
    assert_eq!(flows().await, max);

    // A newcomer still reaches the provider and signs in.
    let mut browser = Browser::default();
    let account = ProviderAccount::verified("newcomer@example.com");
    assert_eq!(
        sign_in_with(&client, &mut browser, "test", &account).await,
        "/devices"
    );
    assert_eq!(me(&client, &browser).await.0, StatusCode::OK);
    // The table stayed at its bound: the oldest waiting redirect made room.
    assert_eq!(
        flows().await,
        max - 1,
        "the newcomer's own redirect was taken"
    );
    let oldest_left = count(&db, |conn| {
        oidc_flows::table
            .filter(oidc_flows::id.eq("filler-00000"))
            .count()
            .get_result(conn)
    })
    .await;
    assert_eq!(oldest_left, 0);
}
