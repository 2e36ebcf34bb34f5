//! Languages over HTTP: which language a page and an error are written in, and the
//! switcher's endpoint (its cookie, its redirect, and what it refuses).

use crate::support;

use reqwest::StatusCode;
use support::{Client, Cookies, PASSWORD};

async fn page(client: &Client, path: &str, headers: &[(&str, &str)]) -> String {
    let mut request = client.http.get(client.server.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

/// The message of a server function's error answer.
async fn message(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
        body["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn a_page_speaks_the_cookies_language_else_the_browsers_else_english() {
    let client = Client::new(&[]);

    let german = page(
        &client,
        "/login",
        &[("accept-language", "de-DE,de;q=0.9,en;q=0.5")],
    )
    .await;
    assert!(german.contains(r#"<html lang="de""#), "lang attribute");
    assert!(german.contains("<h1>Anmelden</h1>"));
    assert!(german.contains("Passwort vergessen?"));
    assert!(german.contains("<title>Anmelden · Gatehouse</title>"));
    assert!(!german.contains("Forgot your password?"));

    // A language we do not have: English.
    let french = page(&client, "/login", &[("accept-language", "fr-FR,fr;q=0.9")]).await;
    assert!(french.contains(r#"<html lang="en""#));
    assert!(french.contains("<h1>Sign in</h1>"));

    // The reader's choice beats the browser's, both ways.
    let chosen = page(
        &client,
        "/login",
        &[("accept-language", "de-DE"), ("cookie", "language=en")],
    )
    .await;
    assert!(chosen.contains(r#"<html lang="en""#) && chosen.contains("<h1>Sign in</h1>"));
    let chosen = page(
        &client,
        "/signup",
        &[("accept-language", "en-US"), ("cookie", "language=de")],
    )
    .await;
    assert!(chosen.contains("<h1>Konto erstellen</h1>"));

    // A cookie naming no language of ours, or garbage headers, fall through quietly.
    let odd = page(
        &client,
        "/",
        &[("accept-language", ";;q=x,,*"), ("cookie", "language=xx")],
    )
    .await;
    assert!(odd.contains(r#"<html lang="en""#));
    // The 404 page too.
    let missing = client
        .http
        .get(client.server.url("/no-such-page"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("Seite nicht gefunden")
    );
}

#[tokio::test]
async fn the_switcher_remembers_the_choice_and_returns_to_the_same_page() {
    let client = Client::new(&[]);
    let response = client
        .http
        .post(client.server.url("/api/language"))
        .header("accept", "text/html")
        .form(&[("language", "de"), ("to", "/devices?confirm=abc")])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/devices?confirm=abc");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("language=de;"), "{cookie}");
    for attribute in ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=31536000"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }

    // Somewhere else is not a place to return to: home instead.
    for to in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "",
    ] {
        let response = client
            .http
            .post(client.server.url("/api/language"))
            .header("accept", "text/html")
            .form(&[("language", "en"), ("to", to)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["location"], "/", "to={to:?}");
    }

    // A language we do not have: a clear 400, in the reader's language, and no cookie.
    let (status, code, text) = {
        let response = client
            .http
            .post(client.server.url("/api/language"))
            .header("accept-language", "de")
            .form(&[("language", "klingon"), ("to", "/")])
            .send()
            .await
            .unwrap();
        assert!(response.headers().get("set-cookie").is_none());
        message(response).await
    };
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code, "bad_request");
    assert_eq!(text, "Diese Sprache ist nicht verfügbar.");

    // It is a state change like any other: another site cannot make it.
    let response = client
        .http
        .post(client.server.url("/api/language"))
        .header("origin", "https://evil.example")
        .header("accept-language", "de")
        .form(&[("language", "de"), ("to", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(
        response.text().await.unwrap(),
        "Anfragen von anderen Websites sind nicht erlaubt."
    );
}

#[tokio::test]
async fn server_function_errors_are_in_the_readers_language_with_the_same_codes() {
    let client = Client::new(&[("INSECURE_FAST_PASSWORD_HASHING", "true")]);
    client.sign_up("ann@example.com").await;

    let wrong = |language: &'static str| {
        client
            .http
            .post(client.server.url("/api/auth/login"))
            .header("accept-language", language)
            .form(&[
                ("email", "ann@example.com"),
                ("password", "not the password"),
            ])
            .send()
    };
    let (status, code, text) = message(wrong("de").await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert_eq!(text, "E-Mail-Adresse oder Passwort ist falsch.");
    let (_, code, text) = message(wrong("en").await.unwrap()).await;
    assert_eq!(code, "unauthorized");
    assert_eq!(text, "Wrong e-mail address or password.");

    // The cookie decides for server functions too, and a validation error is worded.
    let (status, _, text) = message(
        client
            .http
            .post(client.server.url("/api/auth/signup"))
            .header("cookie", "language=de")
            .header("accept-language", "en")
            .form(&[("email", "bob@example.com"), ("password", "short")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(text, "Ihr Passwort muss mindestens 8 Zeichen haben.");

    // Undecodable input: the framework's complaint, introduced in German.
    let (status, _, text) = message(
        client
            .http
            .post(client.server.url("/api/auth/login"))
            .header("accept-language", "de")
            .form(&[("email", "ann@example.com")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        text.starts_with("Die Anfrage konnte nicht gelesen werden"),
        "{text}"
    );

    // A protected function called without a session says so in the reader's language.
    let (status, code, text) = message(
        client
            .http
            .post(client.server.url("/api/session/me"))
            .header("cookie", "language=de")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert_eq!(text, "Sie sind nicht angemeldet.");
}

#[tokio::test]
async fn signed_in_pages_show_devices_and_activity_in_the_language() {
    let client = Client::new(&[("INSECURE_FAST_PASSWORD_HASHING", "true")]);
    let cookies: Cookies = client.sign_up("ann@example.com").await;
    let firefox =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
    let response = client
        .http
        .post(client.server.url("/api/auth/login"))
        .header("user-agent", firefox)
        .form(&[("email", "ann@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let devices = page(
        &client,
        "/devices",
        &[("cookie", &cookies.header()), ("accept-language", "de")],
    )
    .await;
    assert!(devices.contains("<h1>Ihre Geräte</h1>"));
    assert!(
        devices.contains("Firefox 133 unter Windows 10"),
        "device labels are translated"
    );
    assert!(
        devices.contains("gerade eben"),
        "relative times are translated"
    );
    assert!(
        devices.contains(">Passwort<"),
        "the sign-in method is translated"
    );
    assert!(!devices.contains("Last active"));

    let activity = page(
        &client,
        "/activity",
        &[("cookie", &cookies.header()), ("accept-language", "de")],
    )
    .await;
    assert!(activity.contains("<h1>Kontoaktivität</h1>"));
    assert!(
        activity.contains("Anmeldung auf einem neuen Gerät"),
        "event titles"
    );
    assert!(activity.contains("Angemeldet mit Passwort."), "{activity}");
}
