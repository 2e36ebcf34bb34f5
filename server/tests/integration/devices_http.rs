//! `/api/devices/*` over HTTP: listing, signing out one device or all others, and the
//! rule that another user's session (or an unknown id) is a 404 that changes nothing.

use crate::support;

use reqwest::StatusCode;
use support::{Client, Cookies};

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

async fn list(client: &Client, cookies: &Cookies) -> serde_json::Value {
    let response = client.post("/api/devices/list", cookies, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn devices_are_listed_with_the_current_one_first() {
    let client = Client::new(&[]);
    let laptop = client.sign_up("ann@example.com").await;
    client.log_in("ann@example.com", FIREFOX).await;
    let body = list(&client, &laptop).await;
    let devices = body["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0]["current"], true);
    assert_eq!(devices[1]["label"], "Firefox 133 on Windows 10");
    assert_eq!(devices[1]["ip"], "127.0.0.1");
    assert!(body["now"].as_i64().unwrap() >= devices[0]["last_seen_at"].as_i64().unwrap());
}

#[tokio::test]
async fn listing_devices_requires_a_session() {
    let client = Client::new(&[]);
    let response = client
        .post("/api/devices/list", &Cookies::default(), &[])
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoking_a_device_refuses_its_very_next_request() {
    let client = Client::new(&[]);
    let laptop = client.sign_up("ann@example.com").await;
    let phone = client.log_in("ann@example.com", FIREFOX).await;
    let body = list(&client, &laptop).await;
    let phone_id = body["devices"][1]["id"].as_str().unwrap().to_owned();

    let response = client
        .post("/api/devices/revoke", &laptop, &[("session_id", &phone_id)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let refused = client.post("/api/session/me", &phone, &[]).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // The browser's server-function client reads this and leaves for the login page.
    assert_eq!(
        refused.headers()["www-authenticate"],
        r#"Bearer error="invalid_token", error_description="revoked""#
    );
    assert_eq!(
        client.post("/api/auth/refresh", &phone, &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(client.me(&laptop).await, StatusCode::OK);
}

#[tokio::test]
async fn revoking_other_users_device_or_an_unknown_id_is_not_found() {
    let client = Client::new(&[]);
    let ann = client.sign_up("ann@example.com").await;
    let bob = client.sign_up("bob@example.com").await;
    let bobs_id = list(&client, &bob).await["devices"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    for id in [bobs_id.as_str(), "no-such-session", ""] {
        let response = client
            .post("/api/devices/revoke", &ann, &[("session_id", id)])
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id:?}");
    }
    assert_eq!(
        client.me(&bob).await,
        StatusCode::OK,
        "bob must be unaffected"
    );
    assert_eq!(client.me(&ann).await, StatusCode::OK);
}

#[tokio::test]
async fn signing_out_all_other_devices_keeps_this_one() {
    let client = Client::new(&[]);
    let this = client.sign_up("ann@example.com").await;
    let others = [
        client.log_in("ann@example.com", FIREFOX).await,
        client.log_in("ann@example.com", FIREFOX).await,
    ];

    let response = client.post("/api/devices/revoke_others", &this, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["count"], 2);
    for other in &others {
        assert_eq!(client.me(other).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        list(&client, &this).await["devices"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn signing_out_this_device_clears_its_cookies() {
    let client = Client::new(&[]);
    let this = client.sign_up("ann@example.com").await;
    let id = list(&client, &this).await["devices"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = client
        .post("/api/devices/revoke", &this, &[("session_id", &id)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut after = this.clone();
    after.update(&response);
    assert!(after.access.is_none() && after.refresh.is_none());
    assert_eq!(client.me(&this).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn last_active_is_written_at_most_once_a_minute_per_session() {
    use app::store::schema::device_sessions;
    use diesel::prelude::*;

    let client = Client::new(&[]);
    let cookies = client.sign_up("ann@example.com").await;
    let db = client.db();
    let last_seen = || {
        let db = db.clone();
        async move {
            db.run(|conn| {
                Ok(device_sessions::table
                    .select(device_sessions::last_seen_at)
                    .first::<chrono::NaiveDateTime>(conn)?)
            })
            .await
            .unwrap()
        }
    };
    let signed_in = last_seen().await;

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(client.me(&cookies).await, StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let first_write = loop {
        let seen = last_seen().await;
        if seen > signed_in {
            break seen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "an authenticated request did not update last_seen_at"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for _ in 0..5 {
        assert_eq!(client.me(&cookies).await, StatusCode::OK);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        last_seen().await,
        first_write,
        "requests within the minute must not write again"
    );
}

#[tokio::test]
async fn the_session_limit_is_configurable_and_evicts_the_least_recently_active() {
    let client = Client::new(&[("MAX_SESSIONS_PER_USER", "2")]);
    let first = client.sign_up("ann@example.com").await;
    let second = client.log_in("ann@example.com", FIREFOX).await;
    let third = client.log_in("ann@example.com", FIREFOX).await;
    assert_eq!(
        client.me(&first).await,
        StatusCode::UNAUTHORIZED,
        "the oldest session made room"
    );
    assert_eq!(client.me(&second).await, StatusCode::OK);
    assert_eq!(
        list(&client, &third).await["devices"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// The times are listed in Unix seconds as stored, on either engine (SQLite works them
/// out itself): sign-in and last activity are now, and the session ends at the sooner of
/// its idle and its absolute expiry.
#[tokio::test]
async fn listed_times_are_the_stored_ones_and_the_end_is_the_sooner_expiry() {
    let unix_now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    for (idle, absolute, lifetime) in [
        ("7days", "30days", 7 * 86_400),
        ("7days", "2days", 2 * 86_400),
    ] {
        let client = Client::new(&[("REFRESH_TOKEN_TTL", idle), ("SESSION_MAX_AGE", absolute)]);
        let before = unix_now();
        let cookies = client.sign_up("ann@example.com").await;
        let after = unix_now();
        let body = list(&client, &cookies).await;
        let device = &body["devices"][0];
        let time = |name: &str| device[name].as_i64().unwrap();
        for name in ["signed_in_at", "last_seen_at"] {
            assert!((before..=after).contains(&time(name)), "{name}: {device}");
        }
        let ends_in = time("expires_at") - time("signed_in_at");
        assert!(
            (ends_in - lifetime).abs() <= 1,
            "idle {idle}, absolute {absolute}: {device}"
        );
    }
}
