//! Protections that hold for every request: CSRF, security headers, body limit.

use crate::support;

use std::time::Duration;

use reqwest::StatusCode;
use support::{Client, Cookies};

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

async fn live_devices(client: &Client, cookies: &Cookies) -> usize {
    let body: serde_json::Value = client
        .post("/api/devices/list", cookies, &[])
        .await
        .json()
        .await
        .unwrap();
    body["devices"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_cross_site_form_post_with_valid_cookies_is_refused_and_changes_nothing() {
    let client = Client::new(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    client.log_in("ann@example.com", FIREFOX).await;

    for (name, value) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let response = client
            .http
            .post(client.server.url("/api/devices/revoke_others"))
            .header("cookie", cookies.header())
            .header(name, value)
            .form(&[("x", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    assert_eq!(
        live_devices(&client, &cookies).await,
        2,
        "nothing was signed out"
    );

    // The same request from the site itself goes through.
    let origin = client.server.base_url.clone();
    let response = client
        .http
        .post(client.server.url("/api/devices/revoke_others"))
        .header("cookie", cookies.header())
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(live_devices(&client, &cookies).await, 1);
}

#[tokio::test]
async fn server_functions_are_not_reachable_with_get() {
    let client = Client::new(&[]);
    for path in [
        "/api/auth/login",
        "/api/auth/logout",
        "/api/devices/revoke_others",
        "/api/account/delete",
    ] {
        let response = client
            .http
            .get(client.server.url(path))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{path}: {}",
            response.status()
        );
        assert_ne!(
            response.status(),
            StatusCode::NOT_FOUND,
            "{path} should exist, for POST only"
        );
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let client = Client::new(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    let page = client
        .http
        .get(client.server.url("/"))
        .send()
        .await
        .unwrap();
    let api = client.post("/api/session/me", &cookies, &[]).await;
    for response in [&page, &api] {
        let h = response.headers();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(
            h["cache-control"], "no-store",
            "pages and API answers depend on who asks"
        );
    }
}

#[tokio::test]
async fn hsts_is_sent_only_when_a_trusted_proxy_terminated_tls() {
    let get = |client: &Client, proto: Option<&'static str>| {
        let mut request = client.http.get(client.server.url("/login"));
        if let Some(proto) = proto {
            request = request.header("x-forwarded-proto", proto);
        }
        request.send()
    };
    let behind_proxy = Client::new(&[("TRUSTED_PROXIES", "127.0.0.1")]);
    let over_tls = get(&behind_proxy, Some("https")).await.unwrap();
    assert_eq!(
        over_tls.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    let plain = get(&behind_proxy, Some("http")).await.unwrap();
    assert!(plain.headers().get("strict-transport-security").is_none());

    // Without a trusted proxy, a client cannot switch HSTS on by claiming https.
    let direct = Client::new(&[]);
    let spoofed = get(&direct, Some("https")).await.unwrap();
    assert!(spoofed.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let client = Client::new(&[]);
    let big = "x".repeat(64 * 1024);
    let response = client
        .post(
            "/api/auth/login",
            &Cookies::default(),
            &[("email", "a@b.co"), ("password", &big)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn login_from(client: &Client, ip: &str, email: &str, password: &str) -> reqwest::Response {
    client
        .http
        .post(client.server.url("/api/auth/login"))
        .header("x-forwarded-for", ip)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn brute_force_is_throttled_without_locking_out_the_real_user() {
    // The test client plays a reverse proxy so that requests can come "from" two addresses.
    let client = Client::new(&[("TRUSTED_PROXIES", "127.0.0.1")]);
    client.sign_up("ann@example.com").await;

    for _ in 0..5 {
        let response = login_from(&client, "10.0.0.66", "ann@example.com", "guess guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let throttled = login_from(&client, "10.0.0.66", "ann@example.com", "guess guess").await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        throttled.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let throttled_body = throttled.text().await.unwrap();
    // Even the right password waits out the backoff from that address.
    let right = login_from(&client, "10.0.0.66", "ann@example.com", support::PASSWORD).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);

    // The same for an account that does not exist: nothing tells them apart.
    for _ in 0..5 {
        login_from(&client, "10.0.0.66", "nobody@example.com", "guess guess").await;
    }
    let unknown = login_from(&client, "10.0.0.66", "nobody@example.com", "guess guess").await;
    assert_eq!(unknown.status(), StatusCode::TOO_MANY_REQUESTS);
    let unknown_body = unknown.text().await.unwrap();
    assert_eq!(strip_seconds(&unknown_body), strip_seconds(&throttled_body));

    // The real user, elsewhere, signs in at once.
    let user = login_from(&client, "192.0.2.7", "ann@example.com", support::PASSWORD).await;
    assert_eq!(user.status(), StatusCode::OK);
}

fn strip_seconds(body: &str) -> String {
    body.chars().filter(|c| !c.is_ascii_digit()).collect()
}

#[tokio::test]
async fn pages_get_a_nonce_policy_that_matches_their_scripts() {
    let client = Client::new(&[]);
    let response = client
        .http
        .get(client.server.url("/"))
        .send()
        .await
        .unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a script nonce in the policy");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script must carry the policy's nonce"
    );
    assert!(!policy.contains("unsafe-inline"));
    // Every response gets its own nonce.
    let again = client
        .http
        .get(client.server.url("/"))
        .send()
        .await
        .unwrap();
    assert!(
        !again.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains(nonce)
    );
}

/// Building a router lists the app's routes by running the app once, and Leptos keeps
/// resources from loading meanwhile with a process-wide flag. A page whose resource
/// first ran during another router's build used to wait forever (a 408 after 30 s):
/// one process with several servers (these tests, or an app that builds routers on
/// demand) hung now and then. Pages rendered while routers are built must all answer.
#[tokio::test]
async fn pages_render_while_other_routers_are_built() {
    let client = Client::new(&[]);
    let http = support::http_client_builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let building = std::thread::spawn(|| {
        for _ in 0..30 {
            drop(support::TestServer::start(&[]));
        }
    });
    let mut answered = 0;
    while !building.is_finished() {
        let mut pages = tokio::task::JoinSet::new();
        for _ in 0..8 {
            pages.spawn(http.get(client.server.url("/login")).send());
        }
        while let Some(result) = pages.join_next().await {
            let response = result
                .unwrap()
                .expect("a page hung while a router was being built");
            assert_eq!(response.status(), StatusCode::OK);
            answered += 1;
        }
    }
    building.join().unwrap();
    assert!(answered > 0);
}

/// A thief who holds a stolen access cookie cannot keep it working past a sign-out by
/// sending a request's headers early and its last byte later: who is calling is decided
/// when the function reads it, after the body, not when the headers arrived.
#[tokio::test]
async fn a_request_whose_body_arrives_after_a_sign_out_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let client = Client::new(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    let body = "held=1";
    let head = format!(
        "POST /api/devices/list HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        client.server.base_url.trim_start_matches("http://"),
        cookies.header(),
        body.len()
    );
    let mut held =
        tokio::net::TcpStream::connect(client.server.base_url.trim_start_matches("http://"))
            .await
            .unwrap();
    held.write_all(head.as_bytes()).await.unwrap();
    held.write_all(&body.as_bytes()[..body.len() - 1])
        .await
        .unwrap();
    held.flush().await.unwrap();
    // Let the server read the head (and start on the request) before the sign-out.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signed_out = client.post("/api/auth/logout", &cookies, &[]).await;
    assert_eq!(signed_out.status(), StatusCode::OK);

    held.write_all(&body.as_bytes()[body.len() - 1..])
        .await
        .unwrap();
    let mut answer = String::new();
    held.read_to_string(&mut answer).await.unwrap();
    let status = answer.split_whitespace().nth(1).unwrap_or_default();
    assert_eq!(status, "401", "{answer}");
    assert!(answer.contains("session_revoked"), "{answer}");
}

/// A miss under the static bundle's folder is the app's 404 page, rendered for whoever
/// asked (the header shows the signed-in address): never cacheable, unlike the files.
#[tokio::test]
async fn a_missing_static_file_is_not_cacheable() {
    let client = Client::new(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    let response = client
        .http
        .get(client.server.url("/pkg/nothing-here.js"))
        .header("cookie", cookies.header())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()["cache-control"], "no-store");
}
