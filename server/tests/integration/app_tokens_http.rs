//! An app without a browser (a fork's mobile or desktop client) signs in, passes the code
//! step and refreshes with the tokens in the answer's body (`tokens=body`) instead of
//! cookies, and is named on the devices page by the name it gives (`app`); its refresh
//! token rotates and a replay is theft exactly as in the cookie.

use crate::support;

use std::time::Duration;

use reqwest::StatusCode;
use support::{Browser, Client, PASSWORD, TestServer, code_for, now_unix};

fn client(extra: &[(&str, &str)]) -> Client {
    let mut env = vec![("INSECURE_FAST_PASSWORD_HASHING", "true")];
    env.extend_from_slice(extra);
    Client::on(TestServer::start(&env))
}

async fn post(
    client: &Client,
    path: &str,
    bearer: Option<&str>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = client.http.post(client.server.url(path)).form(form);
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.send().await.unwrap()
}

fn session_cookies_set(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split('=').next().unwrap().to_owned())
        .filter(|name| name != "__Host-session")
        .collect()
}

async fn me_status(client: &Client, access: &str) -> StatusCode {
    client
        .http
        .get(client.server.url("/api/v1/me"))
        .header("authorization", format!("Bearer {access}"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn an_app_signs_in_refreshes_and_is_named_on_the_devices_page() {
    let client = client(&[("REFRESH_GRACE", "1s")]);
    client.sign_up("ann@example.com").await;
    let response = post(
        &client,
        "/api/auth/login",
        None,
        &[
            ("email", "ann@example.com"),
            ("password", PASSWORD),
            ("tokens", "body"),
            ("app", "Notes for iOS"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        session_cookies_set(&response),
        Vec::<String>::new(),
        "no cookies for an app"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["signed_in"], true);
    let access = body["tokens"]["access_token"].as_str().unwrap().to_owned();
    let first_refresh = body["tokens"]["refresh_token"].as_str().unwrap().to_owned();
    assert!(body["tokens"]["access_expires_at"].as_i64().unwrap() > now_unix() as i64);
    assert_eq!(me_status(&client, &access).await, StatusCode::OK);

    let devices: serde_json::Value = post(&client, "/api/devices/list", Some(&access), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices["devices"][0]["label"], "Notes for iOS");

    // Refresh with the token in the form: a new pair, the refresh token rotated.
    let refreshed = post(
        &client,
        "/api/auth/refresh",
        None,
        &[("refresh_token", &first_refresh), ("tokens", "body")],
    )
    .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    assert_eq!(session_cookies_set(&refreshed), Vec::<String>::new());
    let refreshed: serde_json::Value = refreshed.json().await.unwrap();
    let access = refreshed["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let second_refresh = refreshed["tokens"]["refresh_token"].as_str().unwrap();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(me_status(&client, &access).await, StatusCode::OK);

    // The first refresh token replayed after the grace window: theft; the session ends.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let replay = post(
        &client,
        "/api/auth/refresh",
        None,
        &[("refresh_token", &first_refresh), ("tokens", "body")],
    )
    .await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&client, &access).await, StatusCode::UNAUTHORIZED);
    // A refresh without a token, or a made-up one, is a plain 401.
    for form in [
        vec![("tokens", "body")],
        vec![("tokens", "body"), ("refresh_token", "nope")],
    ] {
        let response = post(&client, "/api/auth/refresh", None, &form).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{form:?}");
    }
}

#[tokio::test]
async fn the_code_step_gives_an_app_its_tokens() {
    let client = client(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    let setup: serde_json::Value = client
        .post("/api/security/totp_begin", &cookies, &[])
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let code = code_for(&secret, now_unix());
    client
        .post("/api/security/totp_confirm", &cookies, &[("code", &code)])
        .await;

    // The app keeps the pre-login web session cookie between the two steps.
    let mut app = Browser::default();
    let response = app
        .post(
            &client,
            "/api/auth/login",
            &[
                ("email", "ann@example.com"),
                ("password", PASSWORD),
                ("tokens", "body"),
                ("app", "Notes for Android"),
            ],
        )
        .await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["signed_in"], false);
    assert!(body.get("tokens").is_none());
    let code = code_for(&secret, now_unix() + 30);
    let response = app
        .post(
            &client,
            "/api/auth/code",
            &[
                ("code", &code),
                ("tokens", "body"),
                ("app", "Notes for Android"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    let access = body["tokens"]["access_token"].as_str().unwrap();
    assert!(app.cookies.access.is_none(), "no cookies for an app");
    assert_eq!(me_status(&client, access).await, StatusCode::OK);
    let devices: serde_json::Value = post(&client, "/api/devices/list", Some(access), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices["devices"][0]["label"], "Notes for Android");
}

#[tokio::test]
async fn the_tokens_field_is_body_or_cookies() {
    let client = client(&[]);
    client.sign_up("ann@example.com").await;
    let response = post(
        &client,
        "/api/auth/login",
        None,
        &[
            ("email", "ann@example.com"),
            ("password", PASSWORD),
            ("tokens", "json"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
