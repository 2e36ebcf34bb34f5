//! Random bytes posted to the auth endpoints of the real server, and random fields to
//! every server function: never a 5xx, never a dropped connection, never a session.

use crate::support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use support::TestServer;

#[test]
fn random_form_bodies_never_cause_a_server_error_or_a_session() {
    let server = TestServer::start(&[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let http = support::http_client();
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
            // The request is made inside the runtime: its timeout is a tokio timer.
            let response = runtime
                .block_on(async {
                    http.post(server.url(path))
                        .header("content-type", content_type)
                        .body(body.clone())
                        .send()
                        .await
                })
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

/// Every server function of the app, by path: read from the server-function registry
/// (the table the server routes `/api/*` by), so a new function is fuzzed without anyone
/// adding it here. Checked against the `#[server(` declarations in `app/src/api`, so a
/// function that failed to register cannot drop out unnoticed either.
fn server_functions() -> Vec<&'static str> {
    let mut paths: Vec<&'static str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .filter(|path| path.starts_with("/api/"))
        .collect();
    paths.sort_unstable();
    paths.dedup();
    let api = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src/api");
    let declared: usize = std::fs::read_dir(&api)
        .unwrap()
        .map(|file| std::fs::read_to_string(file.unwrap().path()).unwrap())
        .map(|source| {
            source
                .lines()
                .filter(|line| line.trim_start().starts_with("#[server("))
                .count()
        })
        .sum();
    assert_eq!(
        paths.len(),
        declared,
        "registered server functions {paths:?} differ from the {declared} declared in {}",
        api.display()
    );
    paths
}

/// Signs up (or, when the address exists, signs in) as the fuzzing user; the cookies.
/// It comes from an address of its own (the server trusts the test as a proxy): the
/// fuzzed requests' wrong guesses fill 127.0.0.1's throttle bucket, and must not keep
/// the fuzzer from signing in again.
async fn signed_in(server: &TestServer) -> String {
    let mut cookies = support::Cookies::default();
    let mut last = String::new();
    for path in ["/api/auth/signup", "/api/auth/login"] {
        let response = server
            .http
            .post(server.url(path))
            .header("x-forwarded-for", "192.0.2.77")
            .form(&[
                ("email", "fuzz@example.com"),
                ("password", support::PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        if response.status().is_success() {
            cookies.update(&response);
            return cookies.header();
        }
        last = format!(
            "{path}: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    panic!("the fuzzing user cannot sign in ({last})");
}

/// Whether `cookie` is still signed in.
async fn still_signed_in(server: &TestServer, cookie: &str) -> bool {
    server
        .http
        .post(server.url("/api/session/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .is_success()
}

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
    // A case that deletes the account (any post to /api/account/delete in the sudo
    // window a fresh sign-in opens) is followed by a new sign-up: the harness lifts the
    // sign-up limit.
    let server = TestServer::start(&[
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ]);
    let functions = server_functions();
    // Signed in, so protected functions get past decoding their input to their checks.
    let cookie = std::cell::RefCell::new(runtime.block_on(signed_in(&server)));

    // The reported defect: a repeated field whose name has a multi-byte character
    // across byte 200 of the error message.
    for path in &functions {
        for pad in 150..200 {
            let name = format!("{}é€😀", "x".repeat(pad));
            let body = format!("{0}=1&{0}=2", encode(&name));
            runtime
                .block_on(assert_clear_answer(
                    &server.http,
                    &server.url(path),
                    &cookie.borrow(),
                    body,
                ))
                .unwrap();
        }
    }

    let field = prop::collection::vec(any::<char>(), 0..260).prop_map(String::from_iter);
    let strategy = (
        prop::sample::select(functions.clone()),
        prop::collection::vec((field.clone(), field), 0..4),
        any::<bool>(),
    );
    let signed_in_again = std::cell::Cell::new(0);
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
                &cookie.borrow(),
                pairs.join("&"),
            ));
            prop_assert!(result.is_ok(), "{}", result.unwrap_err());
            // A case that signed the user out (a logout, say) must not leave the rest
            // fuzzing the signed-out answers only.
            if !runtime.block_on(still_signed_in(&server, &cookie.borrow())) {
                *cookie.borrow_mut() = runtime.block_on(signed_in(&server));
                signed_in_again.set(signed_in_again.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "{} server functions fuzzed; signed in again {} times",
        functions.len(),
        signed_in_again.get()
    );
}
