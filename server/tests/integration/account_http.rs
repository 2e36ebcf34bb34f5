//! `/api/account/*` over HTTP: password change, account deletion, activity.

use crate::support;

use reqwest::StatusCode;
use support::{Client, Cookies, PASSWORD};

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

#[tokio::test]
async fn changing_the_password_signs_out_other_devices_and_says_how_many() {
    let client = Client::new(&[]);
    let this = client.sign_up("ann@example.com").await;
    let other = client.log_in("ann@example.com", FIREFOX).await;

    let wrong = client
        .post(
            "/api/account/password",
            &this,
            &[
                ("sudo_password", "not the password"),
                ("new_password", "brand new pass"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        client.me(&other).await,
        StatusCode::OK,
        "a failed change changes nothing"
    );

    let response = client
        .post(
            "/api/account/password",
            &this,
            &[
                ("sudo_password", PASSWORD),
                ("new_password", "brand new pass"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["signed_out"], 1);
    assert_eq!(client.me(&other).await, StatusCode::UNAUTHORIZED);
    assert_eq!(client.me(&this).await, StatusCode::OK);
}

#[tokio::test]
async fn deleting_the_account_signs_everything_out_and_frees_the_address() {
    let client = Client::new(&[]);
    let this = client.sign_up("ann@example.com").await;
    let other = client.log_in("ann@example.com", FIREFOX).await;
    let wrong = client
        .post(
            "/api/account/delete",
            &this,
            &[("sudo_password", "not the password"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);

    let response = client
        .post(
            "/api/account/delete",
            &this,
            &[("sudo_password", PASSWORD), ("confirm", "yes")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut after = this.clone();
    after.update(&response);
    assert!(after.access.is_none());
    for cookies in [&this, &other] {
        assert_eq!(client.me(cookies).await, StatusCode::UNAUTHORIZED);
    }
    let login = client
        .post(
            "/api/auth/login",
            &Cookies::default(),
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
    client.sign_up("ann@example.com").await;
}

#[tokio::test]
async fn activity_shows_sign_ins_and_remote_sign_outs_newest_first() {
    let client = Client::new(&[]);
    let this = client.sign_up("ann@example.com").await;
    client.log_in("ann@example.com", FIREFOX).await;
    client.post("/api/devices/revoke_others", &this, &[]).await;

    let response = client.post("/api/account/activity", &this, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    let titles: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "All other devices signed out",
            "Sign-in from a new device",
            "Signed in"
        ]
    );
    assert!(body["older"].is_null());
    assert_eq!(
        client
            .post("/api/account/activity", &Cookies::default(), &[])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
