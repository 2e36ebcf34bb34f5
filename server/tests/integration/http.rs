//! The real server over HTTP: pages, health, request ids and graceful shutdown.

use crate::support;

use support::{Browser, Client, TestServer};

#[tokio::test]
async fn healthz_is_ok_when_the_database_answers() {
    let server = TestServer::start(&[]);
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn database_file_is_created_in_the_data_dir_on_first_start() {
    if support::on_postgres() {
        return; // about the SQLite default
    }
    let server = TestServer::start(&[]);
    assert!(server.data_dir.path().join("gatehouse.db").exists());
}

#[tokio::test]
async fn the_data_directory_and_the_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    if support::on_postgres() {
        return; // about the SQLite default
    }
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("fresh");
    let dir_text = data_dir.to_str().unwrap().to_owned();
    let server = TestServer::start(&[("DATA_DIR", &dir_text)]);
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data_dir), 0o700, "the data directory");
    // A request that writes, so the WAL files exist.
    support::http_client()
        .post(server.url("/api/auth/signup"))
        .form(&[
            ("email", "ann@example.com"),
            ("password", support::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    for file in ["gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm"] {
        let path = data_dir.join(file);
        assert!(path.exists(), "{file}");
        assert_eq!(mode(&path), 0o600, "{file}");
    }
}

#[tokio::test]
async fn home_page_is_rendered_on_the_server_with_the_hydration_script() {
    let server = TestServer::start(&[]);
    let response = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("<h1>Sessions done right</h1>"), "{html}");
    assert!(
        html.contains("/pkg/gatehouse.js"),
        "no hydration script in {html}"
    );
    assert!(html.contains("<header") && html.contains("<main") && html.contains("<footer"));
}

/// The data a page hands to the browser for hydration, in order: the JSON of each
/// resource the server loaded (`__RESOLVED_RESOURCES[i] = "…"`).
fn resolved_resources(html: &str) -> Vec<&str> {
    html.split("__RESOLVED_RESOURCES[")
        .skip(1)
        .filter_map(|part| part.split_once("] = \"")?.1.split_once("\";"))
        .map(|(json, _)| json)
        .collect()
}

/// Leptos runs the content of a `<Suspense>` up to three times while it renders on the
/// server (to find every resource read); a resource created there was loaded, and
/// shipped, once per run: `/devices` read its four queries three times and sent three
/// copies of the list. Pages create their resources outside the sign-in check.
#[tokio::test]
async fn protected_pages_load_each_of_their_data_once() {
    let client = Client::new(&[]);
    let mut browser = Browser {
        cookies: client.sign_up("ann@example.com").await,
        ..Browser::default()
    };
    client.log_in("ann@example.com", "Firefox").await;
    // viewer + what the page shows (and the sudo state where it has sensitive forms;
    // /account: the address, passkeys, connected providers and a one-time notice)
    for (path, loaded) in [("/devices", 3), ("/activity", 2), ("/account", 6)] {
        let response = browser.get(&client, path).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        let resources = resolved_resources(&html);
        assert_eq!(resources.len(), loaded, "{path} loaded {resources:#?}");
        for (i, json) in resources.iter().enumerate() {
            assert!(!resources[..i].contains(json), "{path} loaded {json} twice");
        }
    }
}

/// What the application logs while it serves a request names the request (its id, method
/// and path), whether the edge logs it (a refused cross-site post) or a layer further in
/// (a malformed web-session cookie), so one request's lines can be found from its
/// `x-request-id`.
#[tokio::test]
async fn the_lines_a_request_logs_name_its_id() {
    let server = TestServer::start_process(&[]);
    let client = support::http_client();
    let refused = client
        .post(server.url("/api/auth/login"))
        .header("x-request-id", "probe-cross-site")
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", "ann@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let page = client
        .get(server.url("/"))
        .header("x-request-id", "probe-bad-cookie")
        .header("cookie", "__Host-session=not-an-id; session=not-an-id")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let expected = [
        "request{id=probe-cross-site method=POST path=/api/auth/login}: cross-site request refused",
        "request{id=probe-bad-cookie method=GET path=/}: possibly suspicious activity: malformed web session id",
    ];
    server.wait_for_log(&expected).await;
}

#[tokio::test]
async fn unknown_page_is_a_404_with_a_friendly_page() {
    let server = TestServer::start(&[]);
    let response = reqwest::get(server.url("/no/such/page")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_that_is_logged() {
    let server = TestServer::start_process(&[]);
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "not a UUID: {id}");
    server.wait_for_log(&[&id]).await;
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = TestServer::start_process(&[]);
    let status = server.terminate();
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        server.log()
    );
    assert!(
        server.log().contains("SIGTERM received"),
        "{}",
        server.log()
    );
}

/// Server functions are served from the table made at start-up (`server::server_fns`),
/// inside the edge like everything else; the path of one with another method falls
/// through to the router, which answers 405 as before.
#[tokio::test]
async fn a_server_function_answers_its_own_method_and_the_edge_wraps_it() {
    let server = TestServer::start(&[]);
    let client = support::http_client();
    let viewer = client
        .post(server.url("/api/session/viewer"))
        .send()
        .await
        .unwrap();
    assert_eq!(viewer.status(), 200);
    assert_eq!(viewer.headers()["x-content-type-options"], "nosniff");
    assert_eq!(viewer.headers()["cache-control"], "no-store");
    assert!(viewer.headers().contains_key("x-request-id"));
    let body: serde_json::Value = viewer.json().await.unwrap();
    assert_eq!(body, serde_json::json!("SignedOut"));

    let wrong_method = client
        .get(server.url("/api/session/viewer"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert!(wrong_method.headers().contains_key("x-request-id"));
}
