//! A fork's own axum route behind `SignedIn` (`GET /api/v1/me`, the example of
//! `server/src/fork_api.rs`): the access token from `Authorization: Bearer` or the
//! cookie, and the same 401s as a server function: not signed in, expired (refresh and
//! retry), revoked (signed out elsewhere, refused on the very next request).

use crate::support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::{Client, TestServer, own_session_id};

fn client(extra: &[(&str, &str)]) -> Client {
    let mut env = vec![("INSECURE_FAST_PASSWORD_HASHING", "true")];
    env.extend_from_slice(extra);
    Client::on(TestServer::start(&env))
}

async fn me(
    client: &Client,
    authorization: Option<&str>,
    cookie: Option<&str>,
) -> reqwest::Response {
    me_in(client, authorization, cookie, "en").await
}

/// `GET /api/v1/me`, asking for answers in `language`.
async fn me_in(
    client: &Client,
    authorization: Option<&str>,
    cookie: Option<&str>,
    language: &str,
) -> reqwest::Response {
    let mut request = client
        .http
        .get(client.server.url("/api/v1/me"))
        .header("accept-language", language);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some(value) = cookie {
        request = request.header("cookie", value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_route_knows_the_device_by_bearer_token_or_cookie() {
    let client = client(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    let token = cookies.access.clone().unwrap();
    let session_id = own_session_id(&client, &cookies).await;

    for response in [
        me(&client, Some(&format!("Bearer {token}")), None).await,
        me(&client, None, Some(&cookies.header())).await,
    ] {
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["session_id"], session_id);
        assert!(body["user_id"].as_str().is_some_and(|id| !id.is_empty()));
    }
}

#[tokio::test]
async fn strangers_get_the_contracts_401_in_their_language() {
    let client = client(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    let token = cookies.access.unwrap();
    let mut forged = token.clone();
    forged.pop();
    for authorization in [
        None,
        Some("Bearer nonsense".to_owned()),
        Some(format!("Bearer {forged}")),
    ] {
        let response = me(&client, authorization.as_deref(), None).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{authorization:?}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized");
        assert_eq!(body["message"], "You are not signed in.");
    }
    let german = me_in(&client, None, None, "de").await;
    let body: serde_json::Value = german.json().await.unwrap();
    assert_eq!(body["message"], "Sie sind nicht angemeldet.");
}

#[tokio::test]
async fn a_device_signed_out_elsewhere_is_refused_on_its_next_request() {
    let client = client(&[]);
    let laptop = client.sign_up("ann@example.com").await;
    let phone = client.log_in("ann@example.com", "Firefox").await;
    let bearer = format!("Bearer {}", phone.access.clone().unwrap());
    assert_eq!(
        me(&client, Some(&bearer), None).await.status(),
        StatusCode::OK
    );
    let phone_id = own_session_id(&client, &phone).await;
    let response = client
        .post("/api/devices/revoke", &laptop, &[("session_id", &phone_id)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = me(&client, Some(&bearer), None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token", error_description="revoked""#
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "session_revoked");
    assert_eq!(body["message"], "This device was signed out.");
    // In the reader's language, though a plain handler has no page to take it from.
    let german = me_in(&client, Some(&bearer), None, "de").await;
    let body: serde_json::Value = german.json().await.unwrap();
    assert_eq!(body["message"], "Dieses Gerät wurde abgemeldet.");
}

#[tokio::test]
async fn an_expired_token_says_refresh_and_retry() {
    let client = client(&[("ACCESS_TOKEN_TTL", "1s")]);
    let cookies = client.sign_up("ann@example.com").await;
    let bearer = format!("Bearer {}", cookies.access.unwrap());
    let started = Instant::now();
    let response = loop {
        let response = me(&client, Some(&bearer), None).await;
        if response.status() != StatusCode::OK {
            break response;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "never expired");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token", error_description="expired""#
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "access_token_expired");
    let german = me_in(&client, Some(&bearer), None, "de").await;
    let body: serde_json::Value = german.json().await.unwrap();
    assert_eq!(body["message"], "Ihre Sitzung muss erneuert werden.");
}

#[tokio::test]
async fn a_path_of_the_api_that_no_route_takes_is_a_json_404_with_the_security_headers() {
    let client = client(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    let response = client
        .http
        .get(client.server.url("/api/v1/nothing-here"))
        .header("cookie", cookies.header())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let headers = response.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("x-request-id"));
    assert!(headers.get("set-cookie").is_none(), "{headers:?}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    let german = client
        .http
        .get(client.server.url("/api/v1/nothing-here"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = german.json().await.unwrap();
    assert_eq!(body["message"], "Nicht gefunden.");
}

#[tokio::test]
async fn a_write_to_the_api_from_another_site_is_refused_before_it_arrives() {
    let client = client(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let response = client
            .http
            .post(client.server.url("/api/v1/me"))
            .header("cookie", cookies.header())
            .header(name, value)
            .send()
            .await
            .unwrap();
        // The same-site check's 403, not the route's 405 for a POST.
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
}
