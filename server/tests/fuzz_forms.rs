//! Random bytes posted to the auth endpoints of the real server: never a 5xx, never a
//! session.

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use support::TestServer;

#[test]
fn random_form_bodies_never_cause_a_server_error_or_a_session() {
    let server = TestServer::start(&[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    let strategy = (
        prop::sample::select(vec![
            "/api/auth/login",
            "/api/auth/signup",
            "/api/auth/refresh",
            "/api/auth/logout",
        ]),
        prop::collection::vec(any::<u8>(), 0..300),
        prop::sample::select(vec![
            "application/x-www-form-urlencoded",
            "application/json",
            "text/plain",
            "multipart/form-data",
        ]),
    );
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(path, body, content_type)| {
            let response = runtime
                .block_on(
                    http.post(server.url(path))
                        .header("content-type", content_type)
                        .body(body.clone())
                        .send(),
                )
                .unwrap();
            let status = response.status();
            prop_assert!(
                !status.is_server_error(),
                "{} answered {} to {:?}",
                path,
                status,
                body
            );
            let sets_session = response.headers().get_all("set-cookie").iter().any(|c| {
                c.to_str()
                    .unwrap_or_default()
                    .starts_with("__Host-access=ey")
            });
            prop_assert!(!sets_session, "random bytes produced a session");
            Ok(())
        })
        .unwrap();
}

/// Every server function of the app, by path.
const SERVER_FUNCTIONS: &[&str] = &[
    "/api/auth/signup",
    "/api/auth/login",
    "/api/auth/refresh",
    "/api/auth/logout",
    "/api/session/notice",
    "/api/session/viewer",
    "/api/session/me",
    "/api/account/activity",
    "/api/account/password",
    "/api/account/delete",
    "/api/devices/list",
    "/api/devices/revoke",
    "/api/devices/revoke_others",
];

/// Percent-encodes a form field the way browsers do.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Checks one answer: a 4xx with a readable JSON error, or a success; never a 5xx and
/// never a dropped connection.
async fn assert_clear_answer(
    http: &reqwest::Client,
    url: &str,
    cookie: &str,
    body: String,
) -> Result<(), String> {
    let response = http
        .post(url)
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.clone())
        .send()
        .await
        .map_err(|e| format!("{url}: the connection failed ({e}) for {body:?}"))?;
    let status = response.status();
    if status.is_server_error() {
        return Err(format!("{url} answered {status} to {body:?}"));
    }
    if status.is_client_error() {
        let text = response.text().await.unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|_| format!("{url}: {status} without a JSON error: {text:?}"))?;
        if json["message"].as_str().is_none_or(str::is_empty) {
            return Err(format!("{url}: {status} without a message: {text}"));
        }
    }
    Ok(())
}

#[test]
fn arbitrary_unicode_fields_get_a_clear_answer_from_every_server_function() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(support::InProcess::start(&[
        "--insecure-fast-password-hashing",
        "true",
    ]));
    // Signed in, so protected functions get as far as decoding their input.
    let signup = runtime
        .block_on(
            server
                .http
                .post(server.url("/api/auth/signup"))
                .form(&[
                    ("email", "fuzz@example.com"),
                    ("password", support::PASSWORD),
                ])
                .send(),
        )
        .unwrap();
    let mut cookies = support::Cookies::default();
    cookies.update(&signup);
    let cookie = cookies.header();

    // The reported defect: a repeated field whose name has a multi-byte character
    // across byte 200 of the error message.
    for path in SERVER_FUNCTIONS {
        for pad in 150..200 {
            let name = format!("{}é€😀", "x".repeat(pad));
            let body = format!("{0}=1&{0}=2", encode(&name));
            runtime
                .block_on(assert_clear_answer(
                    &server.http,
                    &server.url(path),
                    &cookie,
                    body,
                ))
                .unwrap();
        }
    }

    let field = prop::collection::vec(any::<char>(), 0..260).prop_map(String::from_iter);
    let strategy = (
        prop::sample::select(SERVER_FUNCTIONS.to_vec()),
        prop::collection::vec((field.clone(), field), 0..4),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(path, fields, repeat)| {
            let mut pairs: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            if repeat {
                pairs.extend(pairs.clone());
            }
            let result = runtime.block_on(assert_clear_answer(
                &server.http,
                &server.url(path),
                &cookie,
                pairs.join("&"),
            ));
            prop_assert!(result.is_ok(), "{}", result.unwrap_err());
            Ok(())
        })
        .unwrap();
}
