//! The auth endpoints (docs/HTTP.md) over real HTTP, against the server started in this
//! process on a temporary database: status codes, cookies, rotation, theft detection,
//! logout, cleanup.

use crate::support;

use std::time::Duration;

use app::auth::events::EventKind;
use app::auth::session::RevokeReason;
use app::store::schema::{device_sessions, refresh_tokens, security_events, token_blacklist};
use diesel::prelude::*;
use reqwest::StatusCode;
use support::{Client, Cookies, PASSWORD, TestServer, count};

#[tokio::test]
async fn sign_up_sets_http_only_cookies_scoped_as_designed() {
    let client = Client::new(&[]);
    let response = client
        .post(
            "/api/auth/signup",
            &Cookies::default(),
            &[("email", " Ann@Example.com "), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let access = cookies
        .iter()
        .find(|c| c.starts_with("__Host-access="))
        .expect("access cookie");
    let refresh = cookies
        .iter()
        .find(|c| c.starts_with("__Secure-refresh="))
        .expect("refresh cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(access.contains(attr), "{access}");
    }
    assert!(
        refresh.contains("Path=/api/auth") && refresh.contains("HttpOnly"),
        "{refresh}"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["email"], "ann@example.com");
}

#[tokio::test]
async fn login_refresh_and_logout_follow_the_contract() {
    let client = Client::new(&[]);
    client.sign_up("ann@example.com").await;

    let mut cookies = Cookies::default();
    let response = client
        .post(
            "/api/auth/login",
            &cookies,
            &[("email", "ANN@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    cookies.update(&response);
    assert_eq!(client.me(&cookies).await, StatusCode::OK);

    let before = cookies.clone();
    let response = client.post("/api/auth/refresh", &cookies, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    cookies.update(&response);
    assert_ne!(
        cookies.refresh, before.refresh,
        "refresh must rotate the token"
    );
    assert_ne!(cookies.access, before.access);
    assert_eq!(client.me(&cookies).await, StatusCode::OK);

    let response = client.post("/api/auth/logout", &cookies, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut after = cookies.clone();
    after.update(&response);
    assert!(
        after.access.is_none() && after.refresh.is_none(),
        "logout must clear both cookies"
    );

    // The old access token, replayed as curl would (Bearer), is refused at once.
    let replay = client
        .http
        .post(client.server.url("/api/session/me"))
        .bearer_auth(cookies.access.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    // So is the old refresh token.
    assert_eq!(
        client
            .post("/api/auth/refresh", &cookies, &[])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let client = Client::new(&[]);
    client.sign_up("ann@example.com").await;
    let wrong = client
        .post(
            "/api/auth/login",
            &Cookies::default(),
            &[
                ("email", "ann@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    let unknown = client
        .post(
            "/api/auth/login",
            &Cookies::default(),
            &[("email", "zed@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
}

/// An unknown address costs what a known one does: one Argon2 verification each (against
/// a dummy hash when there is no account), so the time a wrong login takes does not tell
/// whether the address has an account. (Defence: `PasswordHasher::verify` hashes the
/// dummy for a missing account.)
#[tokio::test]
async fn unknown_and_known_addresses_each_cost_one_argon2_verification() {
    let server = TestServer::start(&[]);
    let response = server
        .http
        .post(server.url("/api/auth/signup"))
        .form(&[("email", "ann@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let log_in = async |email: &str, password: &str| {
        let before = server.verifications();
        let response = server
            .http
            .post(server.url("/api/auth/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{email}");
        server.verifications() - before
    };
    assert_eq!(log_in("ann@example.com", "not the password").await, 1);
    assert_eq!(log_in("zed@example.com", PASSWORD).await, 1);
    assert_eq!(log_in("zed@example.com", "not the password").await, 1);
}

#[tokio::test]
async fn bad_input_gets_a_400_with_a_message_never_a_500() {
    let client = Client::new(&[]);
    let none = Cookies::default();
    let long_email = format!("{}@example.com", "a".repeat(10_000));
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("missing password", vec![("email", "ann@example.com")]),
        ("missing everything", vec![]),
        (
            "10,000-character e-mail",
            vec![("email", &long_email), ("password", PASSWORD)],
        ),
        (
            "not an e-mail",
            vec![("email", "ann"), ("password", PASSWORD)],
        ),
        (
            "short password",
            vec![("email", "ann@example.com"), ("password", "short")],
        ),
    ];
    let long_password = "x".repeat(129);
    let mut cases = cases;
    cases.push((
        "129-character password",
        vec![("email", "ann@example.com"), ("password", &long_password)],
    ));
    for (case, form) in cases {
        let response = client.post("/api/auth/signup", &none, &form).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{case}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains("\"bad_request\"") && body.len() < 1000,
            "{case}: {body}"
        );
    }
    let non_utf8 = client
        .http
        .post(client.server.url("/api/auth/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"email=\xff\xfe&password=\xc3\x28".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(non_utf8.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_or_forged_cookies_get_401_not_500() {
    let client = Client::new(&[]);
    for cookie in [
        "__Host-access=garbage",
        "__Host-access=a.b.c",
        "__Host-access=eyJhbGciOiJub25lIn0.e30.",
        "__Secure-refresh=%%%",
        "=;;;",
    ] {
        let response = client
            .http
            .post(client.server.url("/api/session/me"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{cookie}");
        let refresh = client
            .http
            .post(client.server.url("/api/auth/refresh"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED, "{cookie}");
    }
}

/// Another cookie on the host with bytes outside ASCII (a UTF-8 value, as some sites
/// write them) must not hide the session cookies: the reader used to give up on the
/// whole `Cookie` header, and the browser looked signed out.
#[tokio::test]
async fn a_stray_non_ascii_cookie_does_not_sign_the_browser_out() {
    let client = Client::new(&[]);
    let cookies = client.sign_up("stray@example.com").await;
    let mut header = b"theme=\xc3\xa9t\xc3\xa9; ".to_vec();
    header.extend_from_slice(cookies.header().as_bytes());
    let response = client
        .http
        .post(client.server.url("/api/session/viewer"))
        .header(
            "cookie",
            reqwest::header::HeaderValue::from_bytes(&header).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"SignedIn":{"email":"stray@example.com"}}"#
    );
}

#[tokio::test]
async fn twenty_parallel_refreshes_with_one_token_give_no_theft_flag_and_one_live_chain() {
    let client = std::sync::Arc::new(Client::new(&[]));
    let cookies = client.sign_up("ann@example.com").await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let client = std::sync::Arc::clone(&client);
            let cookies = cookies.clone();
            tokio::spawn(async move {
                client
                    .post("/api/auth/refresh", &cookies, &[])
                    .await
                    .status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    let db = client.db();
    let flags = count(&db, |c| {
        security_events::table
            .filter(security_events::kind.eq(EventKind::TokenReuseDetected.as_str()))
            .count()
            .get_result(c)
    })
    .await;
    assert_eq!(flags, 0);
    let live = count(&db, |c| {
        refresh_tokens::table
            .filter(refresh_tokens::used_at.is_null())
            .count()
            .get_result(c)
    })
    .await;
    assert_eq!(live, 1, "exactly one unused link in the chain");
    let revoked = count(&db, |c| {
        device_sessions::table
            .filter(device_sessions::revoked_at.is_not_null())
            .count()
            .get_result(c)
    })
    .await;
    assert_eq!(revoked, 0);
}

#[tokio::test]
async fn reused_refresh_token_after_grace_revokes_the_session_and_records_the_event() {
    let client = Client::new(&[("REFRESH_GRACE", "0s")]);
    let stolen = client.sign_up("ann@example.com").await;
    let mut victim = stolen.clone();
    let response = client.post("/api/auth/refresh", &victim, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    victim.update(&response);
    tokio::time::sleep(Duration::from_millis(50)).await;

    let replay = client.post("/api/auth/refresh", &stolen, &[]).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    // Both sides are signed out: the victim's fresh access token and refresh token die too.
    assert_eq!(client.me(&victim).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        client
            .post("/api/auth/refresh", &victim, &[])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let db = client.db();
    let flags = count(&db, |c| {
        security_events::table
            .filter(security_events::kind.eq(EventKind::TokenReuseDetected.as_str()))
            .count()
            .get_result(c)
    })
    .await;
    assert_eq!(flags, 1);
    let blacklisted = count(&db, |c| {
        token_blacklist::table
            .filter(token_blacklist::reason.eq(RevokeReason::TokenReuse.as_str()))
            .count()
            .get_result(c)
    })
    .await;
    assert_eq!(blacklisted, 1);
}

#[tokio::test]
async fn cleanup_job_leaves_no_expired_rows() {
    let client = Client::new(&[
        ("ACCESS_TOKEN_TTL", "1s"),
        ("REFRESH_TOKEN_TTL", "2s"),
        ("CLEANUP_INTERVAL", "300ms"),
    ]);
    for i in 0..6 {
        let cookies = client.sign_up(&format!("user{i}@example.com")).await;
        let response = client.post("/api/auth/refresh", &cookies, &[]).await;
        let mut cookies = cookies;
        cookies.update(&response);
        if i % 2 == 0 {
            client.post("/api/auth/logout", &cookies, &[]).await;
        }
    }
    // Past every expiry: refresh tokens 2 s, blacklist 1 s + 5 s leeway, then a tick.
    tokio::time::sleep(Duration::from_millis(7_500)).await;
    let db = client.db();
    let now = chrono::Utc::now().naive_utc();
    let expired_tokens = count(&db, move |c| {
        refresh_tokens::table
            .filter(refresh_tokens::expires_at.lt(now))
            .count()
            .get_result(c)
    })
    .await;
    let expired_blacklist = count(&db, move |c| {
        token_blacklist::table
            .filter(token_blacklist::expires_at.lt(now))
            .count()
            .get_result(c)
    })
    .await;
    let expired_sessions = count(&db, move |c| {
        device_sessions::table
            .filter(device_sessions::expires_at.lt(now))
            .count()
            .get_result(c)
    })
    .await;
    assert_eq!(
        (expired_tokens, expired_blacklist, expired_sessions),
        (0, 0, 0)
    );
    let sessions = count(&db, |c| device_sessions::table.count().get_result(c)).await;
    assert_eq!(
        sessions, 0,
        "every session has expired or was revoked long enough ago"
    );
}

#[tokio::test]
async fn jwks_lists_the_signing_key() {
    let client = Client::new(&[]);
    let jwks: serde_json::Value = reqwest::get(client.server.url("/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert!(key.get("d").is_none(), "private key material in the JWKS");
}

#[test]
fn production_mode_without_a_signing_key_refuses_to_start() {
    let finished = support::run_to_exit(&[
        ("GATEHOUSE_MODE", "production"),
        ("SMTP_URL", "smtp://127.0.0.1:1"),
        ("PUBLIC_URL", "https://gatehouse.test"),
    ]);
    assert_eq!(finished.status.code(), Some(1));
    assert!(
        finished
            .stderr
            .contains("production mode needs a signing key"),
        "{}",
        finished.stderr
    );
}

/// Every `Set-Cookie` for the web session, whole (attributes included).
fn web_session_set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with("__Host-session="))
        .map(str::to_owned)
        .collect()
}

/// The value of the web-session cookie set by `response`, if any.
fn web_session_cookie(response: &reqwest::Response) -> Option<String> {
    let set = web_session_set_cookies(response).into_iter().next()?;
    let pair = set.split(';').next().unwrap_or_default();
    pair.strip_prefix("__Host-session=").map(str::to_owned)
}

#[tokio::test]
async fn login_and_logout_cycle_the_web_session_id() {
    let client = Client::new(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    let logout = client.post("/api/auth/logout", &cookies, &[]).await;
    let before = web_session_cookie(&logout).expect("logout leaves a notice in a web session");

    let login = client
        .http
        .post(client.server.url("/api/auth/login"))
        .header("cookie", format!("__Host-session={before}"))
        .form(&[("email", "ann@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let after = web_session_cookie(&login).expect("login must issue a new web session id");
    assert_ne!(
        before, after,
        "a web session id known before login must not survive it"
    );
}

#[tokio::test]
async fn the_web_session_cookie_is_set_only_when_needed_and_deleted_when_unknown() {
    let client = Client::new(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    // Reading who is signed in stores nothing: no web session, no cookie.
    let viewer = client.post("/api/session/viewer", &cookies, &[]).await;
    assert_eq!(viewer.status(), StatusCode::OK);
    assert!(web_session_set_cookies(&viewer).is_empty());

    // A notice is stored: the cookie comes with the attributes of every session cookie.
    let logout = client.post("/api/auth/logout", &cookies, &[]).await;
    let [set] = web_session_set_cookies(&logout).try_into().unwrap();
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=3600",
    ] {
        assert!(set.contains(attribute), "{set} lacks {attribute}");
    }

    // The login page takes the notice of a session the server does not know (forged,
    // expired or malformed): the browser is told to delete that cookie.
    for unknown in ["AAAAAAAAAAAAAAAAAAAAAA", "not-an-id"] {
        let page = client
            .http
            .get(client.server.url("/login"))
            .header("cookie", format!("__Host-session={unknown}"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let [deleted] = web_session_set_cookies(&page).try_into().unwrap();
        assert!(
            deleted.starts_with("__Host-session=;") && deleted.contains("Max-Age=0"),
            "{unknown}: {deleted}"
        );
    }
}

#[tokio::test]
async fn signing_in_again_on_a_signed_in_browser_ends_its_previous_session() {
    let client = Client::new(&[("INSECURE_FAST_PASSWORD_HASHING", "true")]);
    let first = client.sign_up("ann@example.com").await;
    let again = client
        .post(
            "/api/auth/login",
            &first,
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let mut second = first.clone();
    second.update(&again);
    assert_eq!(client.me(&second).await, StatusCode::OK);
    assert_eq!(
        client.me(&first).await,
        StatusCode::UNAUTHORIZED,
        "the browser's previous session is over"
    );
    let devices: serde_json::Value = client
        .post("/api/devices/list", &second, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1, "{devices}");
}

#[tokio::test]
async fn a_lost_refresh_reply_keeps_the_session_alive_past_the_grace_window() {
    let client = Client::new(&[
        ("REFRESH_GRACE", "1s"),
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
    ]);
    let mut device = client.sign_up("ann@example.com").await;
    // The rotation commits, but its reply never reaches the device.
    let lost = client.post("/api/auth/refresh", &device, &[]).await;
    assert_eq!(lost.status(), StatusCode::OK);
    // The device retries with the token it still holds, inside the grace window.
    let retry = client.post("/api/auth/refresh", &device, &[]).await;
    assert_eq!(retry.status(), StatusCode::OK);
    let before = device.refresh.clone();
    device.update(&retry);
    assert_ne!(
        device.refresh, before,
        "the retry hands the device the next token"
    );
    // Past the grace window the device's token still works: no theft, no sign-out.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let later = client.post("/api/auth/refresh", &device, &[]).await;
    assert_eq!(later.status(), StatusCode::OK);
    device.update(&later);
    assert_eq!(client.me(&device).await, StatusCode::OK);
}
