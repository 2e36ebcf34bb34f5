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
