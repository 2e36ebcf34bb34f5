//! Device-bound sessions (DBSC, docs/DBSC.md) over HTTP, with a software ES256 key
//! playing the browser: registration, refresh by proof, and every way a thief holding
//! the cookies (but not the key) might try to keep the session alive.

use crate::support;

use std::sync::Arc;

use app::store::schema::{dbsc_challenges, mail_outbox, security_events};
use diesel::prelude::*;
use reqwest::StatusCode;
use support::dbsc::{BrowserKey, b64, refresh_challenge, registration_challenge};
use support::{Client, Cookies, PASSWORD, count, own_session_id, two_instances};

const REGISTER: &str = "/api/auth/dbsc/register";
const REFRESH: &str = "/api/auth/dbsc/refresh";

/// A browser bound to its session: its cookies, its key and its session's id.
struct Bound {
    cookies: Cookies,
    key: BrowserKey,
    session_id: String,
}

/// Signs up `email` as a browser: the cookies, and the registration challenge the
/// answer invites it with.
async fn sign_up(client: &Client, email: &str) -> (Cookies, String) {
    let response = client
        .post(
            "/api/auth/signup",
            &Cookies::default(),
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let header = response
        .headers()
        .get("secure-session-registration")
        .expect("a new browser session is invited to bind")
        .to_str()
        .unwrap()
        .to_owned();
    let mut cookies = Cookies::default();
    cookies.update(&response);
    (cookies, registration_challenge(&header))
}

/// A POST as the browser makes it for a device-bound session: no `Origin`, no body,
/// the cookies it holds and the DBSC `headers`.
async fn dbsc_post(
    client: &Client,
    path: &str,
    cookies: &Cookies,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = client
        .http
        .post(client.server.url(path))
        .header("cookie", cookies.header());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn register(client: &Client, cookies: &Cookies, proof: &str) -> reqwest::Response {
    dbsc_post(
        client,
        REGISTER,
        cookies,
        &[("secure-session-response", proof)],
    )
    .await
}

/// Asks for a refresh challenge for `session_id`.
async fn ask(client: &Client, cookies: &Cookies, session_id: &str) -> reqwest::Response {
    let id = format!("\"{session_id}\"");
    dbsc_post(client, REFRESH, cookies, &[("sec-secure-session-id", &id)]).await
}

/// A refresh with `proof`.
async fn prove(
    client: &Client,
    cookies: &Cookies,
    session_id: &str,
    proof: &str,
) -> reqwest::Response {
    let id = format!("\"{session_id}\"");
    dbsc_post(
        client,
        REFRESH,
        cookies,
        &[
            ("sec-secure-session-id", &id),
            ("secure-session-response", proof),
        ],
    )
    .await
}

/// The challenge of a refresh's 403.
async fn challenge_for(client: &Client, cookies: &Cookies, session_id: &str) -> String {
    let response = ask(client, cookies, session_id).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let header = response.headers()["secure-session-challenge"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        header.ends_with(&format!(";id=\"{session_id}\"")),
        "{header}"
    );
    refresh_challenge(&header)
}

/// Signs up and binds the session to a new key.
async fn bound(client: &Client, email: &str) -> Bound {
    let (mut cookies, challenge) = sign_up(client, email).await;
    let key = BrowserKey::generate();
    let response = register(client, &cookies, &key.registration(&challenge)).await;
    assert_eq!(response.status(), StatusCode::OK);
    cookies.update(&response);
    let session_id = own_session_id(client, &cookies).await;
    Bound {
        cookies,
        key,
        session_id,
    }
}

/// Signs `challenge` with `bound`'s own key and sends the proof to `client`, keeping
/// whatever cookies the answer sets.
async fn sign(client: &Client, bound: &mut Bound, challenge: &str) -> reqwest::Response {
    let proof = bound.key.refresh(challenge);
    let response = prove(client, &bound.cookies, &bound.session_id, &proof).await;
    bound.cookies.update(&response);
    response
}

/// Renews `bound` by proof, as the browser does when its access cookie expires.
async fn renew(client: &Client, bound: &mut Bound) -> reqwest::Response {
    let challenge = challenge_for(client, &bound.cookies, &bound.session_id).await;
    sign(client, bound, &challenge).await
}

async fn events_of(client: &Client, kind: &'static str) -> i64 {
    count(&client.db(), move |conn| {
        security_events::table
            .filter(security_events::kind.eq(kind))
            .count()
            .get_result(conn)
    })
    .await
}

async fn mails_of(client: &Client, kind: &'static str) -> i64 {
    count(&client.db(), move |conn| {
        mail_outbox::table
            .filter(mail_outbox::kind.eq(kind))
            .count()
            .get_result(conn)
    })
    .await
}

fn max_age(response: &reqwest::Response, cookie: &str) -> Option<u64> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with(&format!("{cookie}=")))
        .and_then(|v| {
            v.split(';')
                .find_map(|part| part.trim().strip_prefix("Max-Age="))
                .map(|n| n.parse().unwrap())
        })
}

async fn devices(client: &Client, cookies: &Cookies) -> serde_json::Value {
    let response = client.post("/api/devices/list", cookies, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_new_session_is_invited_and_a_proof_binds_it_to_the_key() {
    let client = Client::new(&[]);
    let (cookies, challenge) = sign_up(&client, "ann@example.com").await;
    let key = BrowserKey::generate();
    let response = register(&client, &cookies, &key.registration(&challenge)).await;
    assert_eq!(response.status(), StatusCode::OK);
    // The access cookie is now one the browser renews by proof: it lives no longer
    // than the token in it (15 minutes), not as long as the session.
    let lifetime = max_age(&response, "__Host-access").expect("a new access cookie");
    assert!((880..=900).contains(&lifetime), "{lifetime}");
    let config: serde_json::Value = response.json().await.unwrap();
    let session_id = own_session_id(&client, &cookies).await;
    assert_eq!(config["session_identifier"], session_id.as_str());
    assert_eq!(config["refresh_url"], REFRESH);
    assert_eq!(config["credentials"][0]["name"], "__Host-access");
    assert_eq!(
        config["credentials"][0]["attributes"],
        "Path=/; Secure; HttpOnly; SameSite=Lax"
    );
    assert_eq!(events_of(&client, "dbsc_bound").await, 1);
    let list = devices(&client, &cookies).await;
    assert_eq!(list["devices"][0]["bound"], true);

    // The challenge was single use: the same registration again binds nothing.
    let again = register(&client, &cookies, &key.registration(&challenge)).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_bound_session_is_renewed_by_proof_and_its_refresh_token_rotates() {
    let client = Client::new(&[]);
    let mut ann = bound(&client, "ann@example.com").await;
    let before = ann.cookies.clone();
    let response = renew(&client, &mut ann).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(ann.cookies.access, before.access, "a new access token");
    assert_ne!(
        ann.cookies.refresh, before.refresh,
        "the refresh token rotated"
    );
    assert!(max_age(&response, "__Host-access").unwrap() <= 900);
    assert_eq!(client.me(&ann.cookies).await, StatusCode::OK);
    // And again, with the rotated refresh token, under the draft's earlier header names.
    let id = ann.session_id.clone();
    let asked = dbsc_post(&client, REFRESH, &ann.cookies, &[("sec-session-id", &id)]).await;
    assert_eq!(asked.status(), StatusCode::FORBIDDEN);
    let challenge = refresh_challenge(
        asked.headers()["secure-session-challenge"]
            .to_str()
            .unwrap(),
    );
    let proof = ann.key.refresh(&challenge);
    let response = dbsc_post(
        &client,
        REFRESH,
        &ann.cookies,
        &[("sec-session-id", &id), ("sec-session-response", &proof)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    // The old refresh token is spent: outside the grace window it would be theft.
    assert_eq!(events_of(&client, "dbsc_proof_failed").await, 0);
}

#[tokio::test]
async fn stolen_cookies_cannot_renew_a_bound_session_and_the_owner_is_told() {
    let client = Client::new(&[]);
    let ann = bound(&client, "ann@example.com").await;
    client.verify_all_addresses().await;
    // The thief copied both cookies off the disk, but not the key.
    let stolen = ann.cookies.clone();
    let plain = client.post("/api/auth/refresh", &stolen, &[]).await;
    assert_eq!(plain.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(events_of(&client, "dbsc_proof_failed").await, 1);
    assert_eq!(mails_of(&client, "dbsc_proof_failed").await, 1);

    // Through the DBSC endpoint with a key of its own: refused too.
    let challenge = challenge_for(&client, &stolen, &ann.session_id).await;
    let thief = BrowserKey::generate();
    let forged = prove(
        &client,
        &stolen,
        &ann.session_id,
        &thief.refresh(&challenge),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(events_of(&client, "dbsc_proof_failed").await, 2);

    // The device that holds the key keeps its session.
    let mut ann = ann;
    assert_eq!(renew(&client, &mut ann).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_replayed_proof_renews_nothing() {
    let client = Client::new(&[]);
    let mut ann = bound(&client, "ann@example.com").await;
    let challenge = challenge_for(&client, &ann.cookies, &ann.session_id).await;
    let proof = ann.key.refresh(&challenge);
    let first = prove(&client, &ann.cookies, &ann.session_id, &proof).await;
    assert_eq!(first.status(), StatusCode::OK);
    ann.cookies.update(&first);
    // The challenge is spent: the same proof only gets a new challenge to sign, which
    // whoever replayed it cannot.
    let replay = prove(&client, &ann.cookies, &ann.session_id, &proof).await;
    assert_eq!(replay.status(), StatusCode::FORBIDDEN);
    assert!(replay.headers().get("set-cookie").is_none());
    assert!(replay.headers().get("secure-session-challenge").is_some());
}

/// Whoever knows a bound session's id (it is in every access token) may ask for
/// challenges and push the device's own out: the device's proof over it then gets a
/// new challenge to sign, and no alarm goes off.
#[tokio::test]
async fn challenges_asked_by_someone_else_cannot_make_the_device_fail_its_renewal() {
    let client = Client::new(&[]);
    let mut ann = bound(&client, "ann@example.com").await;
    client.verify_all_addresses().await;
    let mine = challenge_for(&client, &ann.cookies, &ann.session_id).await;
    for _ in 0..6 {
        ask(&client, &Cookies::default(), &ann.session_id).await;
    }
    let response = sign(&client, &mut ann, &mine).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let again = refresh_challenge(
        response.headers()["secure-session-challenge"]
            .to_str()
            .unwrap(),
    );
    let response = sign(&client, &mut ann, &again).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(client.me(&ann.cookies).await, StatusCode::OK);
    assert_eq!(events_of(&client, "dbsc_proof_failed").await, 0);
    assert_eq!(mails_of(&client, "dbsc_proof_failed").await, 0);
}

/// The sign-in's own sudo mode belongs to whoever holds the cookies; once the session is
/// bound it ends, so a copy of the access cookie cannot change the address (and then
/// reset the password) in the minutes it still works.
#[tokio::test]
async fn binding_ends_the_sudo_mode_a_copy_of_the_cookies_would_inherit() {
    let client = Client::new(&[]);
    let (unbound, _) = sign_up(&client, "bob@example.com").await;
    let sensitive = |cookies: Cookies, proof: Option<&'static str>| {
        let form: Vec<(&str, &str)> = proof
            .map(|p| vec![("sudo_password", p)])
            .unwrap_or_default();
        let client = &client;
        async move {
            client
                .post("/api/security/totp_begin", &cookies, &form)
                .await
                .status()
        }
    };
    assert_eq!(
        sensitive(unbound, None).await,
        StatusCode::OK,
        "unbound: as before"
    );
    let ann = bound(&client, "ann@example.com").await;
    assert_eq!(
        sensitive(ann.cookies.clone(), None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sensitive(ann.cookies.clone(), Some(PASSWORD)).await,
        StatusCode::OK,
        "the owner proves it is them"
    );
}

/// A refresh that names another session (the browser's stale one) must not clear the
/// cookies of the session the browser holds.
#[tokio::test]
async fn a_refused_dbsc_refresh_clears_no_cookies() {
    let client = Client::new(&[]);
    let ann = bound(&client, "ann@example.com").await;
    let response = ask(&client, &ann.cookies, "AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(client.me(&ann.cookies).await, StatusCode::OK);
}

#[tokio::test]
async fn bad_proofs_fill_neither_the_activity_page_nor_the_inbox() {
    let client = Client::new(&[]);
    let ann = bound(&client, "ann@example.com").await;
    client.verify_all_addresses().await;
    for _ in 0..15 {
        let junk = prove(
            &client,
            &Cookies::default(),
            &ann.session_id,
            "junk.junk.junk",
        )
        .await;
        assert_eq!(junk.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(events_of(&client, "dbsc_proof_failed").await, 10);
    assert_eq!(mails_of(&client, "dbsc_proof_failed").await, 3);
    // Junk sent first does not hide a copy of the cookies: its refresh is recorded.
    let stolen = client.post("/api/auth/refresh", &ann.cookies, &[]).await;
    assert_eq!(stolen.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(events_of(&client, "dbsc_proof_failed").await, 11);
}

/// A proof captured once (a log that kept its header) gets a new challenge each time it
/// is replayed; each of those spends the client's writes, so it cannot ask without end.
#[tokio::test]
async fn a_captured_proof_replayed_spends_the_clients_writes() {
    let client = Client::new(&[("REFUSAL_DELAY", "0s")]);
    let mut ann = bound(&client, "ann@example.com").await;
    let captured = {
        let challenge = challenge_for(&client, &ann.cookies, &ann.session_id).await;
        ann.key.refresh(&challenge)
    };
    let used = prove(&client, &ann.cookies, &ann.session_id, &captured).await;
    assert_eq!(used.status(), StatusCode::OK);
    ann.cookies.update(&used);
    let mut statuses = std::collections::BTreeMap::new();
    for _ in 0..60 {
        let replay = prove(&client, &Cookies::default(), &ann.session_id, &captured).await;
        *statuses.entry(replay.status().as_u16()).or_insert(0) += 1;
    }
    assert!(statuses.get(&503).is_some_and(|n| *n >= 25), "{statuses:?}");
}

/// Sudo mode rests on the session; on a bound one a proof covers only the tokens minted
/// from then on. A copy of the access cookie taken before the owner typed their password
/// gets none of it, while the owner's browser (given a new token with the proof) keeps it.
#[tokio::test]
async fn a_copy_of_an_older_token_does_not_share_the_owners_sudo_mode() {
    let client = Client::new(&[]);
    let mut ann = bound(&client, "ann@example.com").await;
    let stolen = ann.cookies.clone();
    // A second later, so the owner's proof is newer than the copied token.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let proven = client
        .post(
            "/api/email/notifications",
            &ann.cookies,
            &[("on", "false"), ("sudo_password", PASSWORD)],
        )
        .await;
    assert_eq!(proven.status(), StatusCode::OK);
    ann.cookies.update(&proven);
    assert_ne!(
        ann.cookies.access, stolen.access,
        "a new token came with the proof"
    );
    let sensitive = |cookies: &Cookies| {
        let cookies = cookies.clone();
        let client = &client;
        async move {
            client
                .post("/api/security/totp_begin", &cookies, &[])
                .await
                .status()
        }
    };
    assert_eq!(sensitive(&stolen).await, StatusCode::FORBIDDEN, "the copy");
    assert_eq!(sensitive(&ann.cookies).await, StatusCode::OK, "the owner");
}

/// Any other key's proof is refused, whether or not its header names that key (a `jwk`
/// smuggled into a refresh proof): a refresh is checked with the stored key only.
#[tokio::test]
async fn a_proof_by_another_key_is_refused_even_with_that_key_in_its_header() {
    let client = Client::new(&[]);
    let ann = bound(&client, "ann@example.com").await;
    let thief = BrowserKey::generate();
    let forgeries: [fn(&BrowserKey, &str) -> String; 2] =
        [BrowserKey::refresh, BrowserKey::registration];
    for (failures, forge) in (1..).zip(forgeries) {
        let challenge = challenge_for(&client, &ann.cookies, &ann.session_id).await;
        let forged = forge(&thief, &challenge);
        let response = prove(&client, &ann.cookies, &ann.session_id, &forged).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(events_of(&client, "dbsc_proof_failed").await, failures);
    }
}

/// A JWT with `alg` and no real signature, or an HMAC one keyed with the public key's
/// text (the classic algorithm confusion).
fn unsigned(alg: &str, key: &BrowserKey, challenge: &str) -> String {
    let header = serde_json::json!({"alg": alg, "typ": "dbsc+jwt", "jwk": key.jwk()});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(serde_json::json!({"jti": challenge}).to_string().as_bytes())
    );
    if alg == "none" {
        return format!("{input}.");
    }
    let mac = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            key.jwk().to_string().as_bytes(),
        ),
        input.as_bytes(),
    );
    format!("{input}.{}", b64(mac.as_ref()))
}

#[tokio::test]
async fn alg_none_and_hs256_proofs_bind_nothing_and_renew_nothing() {
    let client = Client::new(&[]);
    let (cookies, challenge) = sign_up(&client, "ann@example.com").await;
    let key = BrowserKey::generate();
    for alg in ["none", "HS256"] {
        let response = register(&client, &cookies, &unsigned(alg, &key, &challenge)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{alg}");
    }
    let list = devices(&client, &cookies).await;
    assert_eq!(list["devices"][0]["bound"], false);

    let ann = bound(&client, "bob@example.com").await;
    for alg in ["none", "HS256"] {
        let challenge = challenge_for(&client, &ann.cookies, &ann.session_id).await;
        let response = prove(
            &client,
            &ann.cookies,
            &ann.session_id,
            &unsigned(alg, &ann.key, &challenge),
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{alg}");
    }
}

#[tokio::test]
async fn twenty_parallel_proofs_for_one_challenge_renew_once() {
    let client = Arc::new(Client::new(&[]));
    let ann = bound(&client, "ann@example.com").await;
    let challenge = challenge_for(&client, &ann.cookies, &ann.session_id).await;
    let proof = Arc::new(ann.key.refresh(&challenge));
    let (cookies, session_id) = (
        Arc::new(ann.cookies.clone()),
        Arc::new(ann.session_id.clone()),
    );
    let tries = (0..20).map(|_| {
        let (client, cookies, session_id, proof) = (
            Arc::clone(&client),
            Arc::clone(&cookies),
            Arc::clone(&session_id),
            Arc::clone(&proof),
        );
        tokio::spawn(async move { prove(&client, &cookies, &session_id, &proof).await.status() })
    });
    let statuses = futures_util::future::join_all(tries).await;
    let won = statuses
        .iter()
        .filter(|s| *s.as_ref().unwrap() == StatusCode::OK)
        .count();
    assert_eq!(won, 1, "{statuses:?}");
}

#[tokio::test]
async fn parallel_registrations_with_one_challenge_bind_one_key() {
    let client = Arc::new(Client::new(&[]));
    let (cookies, challenge) = sign_up(&client, "ann@example.com").await;
    let tries = (0..10).map(|_| {
        let (client, cookies, challenge) =
            (Arc::clone(&client), cookies.clone(), challenge.clone());
        tokio::spawn(async move {
            let key = BrowserKey::generate();
            register(&client, &cookies, &key.registration(&challenge))
                .await
                .status()
        })
    });
    let statuses = futures_util::future::join_all(tries).await;
    let won = statuses
        .iter()
        .filter(|s| *s.as_ref().unwrap() == StatusCode::OK)
        .count();
    assert_eq!(won, 1, "{statuses:?}");
    assert_eq!(events_of(&client, "dbsc_bound").await, 1);
}

#[tokio::test]
async fn a_revoked_session_gets_401_and_stays_revoked() {
    let client = Client::new(&[]);
    let mut ann = bound(&client, "ann@example.com").await;
    let challenge = challenge_for(&client, &ann.cookies, &ann.session_id).await;
    let logout = client.post("/api/auth/logout", &ann.cookies, &[]).await;
    assert!(logout.status().is_success() || logout.status().is_redirection());
    // A challenge asked for before the sign-out does not bring it back.
    let proof = ann.key.refresh(&challenge);
    let response = prove(&client, &ann.cookies, &ann.session_id, &proof).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // Nor does a new one: there is none for an ended session.
    assert_eq!(
        ask(&client, &ann.cookies, &ann.session_id).await.status(),
        StatusCode::UNAUTHORIZED
    );
    ann.cookies.update(&response);
    assert_eq!(client.me(&ann.cookies).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn strangers_get_no_challenges_and_one_session_holds_only_a_few() {
    let client = Client::new(&[]);
    let ann = bound(&client, "ann@example.com").await;
    let db = client.db();
    let challenges = || count(&db, |conn| dbsc_challenges::table.count().get_result(conn));
    let before = challenges().await;
    // Made-up and unbound sessions: 401, nothing written.
    for id in ["nobody", "AAAAAAAAAAAAAAAAAAAAAA", ""] {
        assert_eq!(
            ask(&client, &Cookies::default(), id).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let (bob, _) = sign_up(&client, "bob@example.com").await;
    let bob_id = own_session_id(&client, &bob).await;
    assert_eq!(
        ask(&client, &bob, &bob_id).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        challenges().await,
        before + 1,
        "only Bob's registration challenge"
    );
    // Whoever holds a bound session's id may ask again and again: it holds at most four.
    for _ in 0..12 {
        assert_eq!(
            ask(&client, &Cookies::default(), &ann.session_id)
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
    }
    let session_id = ann.session_id.clone();
    let held = count(&client.db(), move |conn| {
        dbsc_challenges::table
            .filter(dbsc_challenges::session_id.eq(session_id))
            .count()
            .get_result(conn)
    })
    .await;
    assert_eq!(held, 4);
}

#[tokio::test]
async fn the_same_site_check_spares_exactly_the_two_endpoints() {
    let client = Client::new(&[]);
    let foreign = |path: &'static str| {
        client
            .http
            .post(client.server.url(path))
            .header("origin", "https://evil.example")
            .send()
    };
    // The browser's own requests there: past the same-site check, refused for want
    // of a proof or a session (401), never 403 for coming from elsewhere.
    for path in [REGISTER, REFRESH] {
        assert_eq!(
            foreign(path).await.unwrap().status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    // Anything else from another site is still refused.
    for path in [
        "/api/auth/refresh",
        "/api/auth/dbsc/register/x",
        "/api/auth/dbsc",
    ] {
        assert_eq!(
            foreign(path).await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
}

#[tokio::test]
async fn with_dbsc_off_nobody_is_invited_and_the_endpoints_are_not_there() {
    let client = Client::new(&[("DBSC", "off")]);
    let response = client
        .post(
            "/api/auth/signup",
            &Cookies::default(),
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("secure-session-registration")
            .is_none()
    );
    let key = BrowserKey::generate();
    let register = register(&client, &Cookies::default(), &key.registration("x")).await;
    assert_eq!(register.status(), StatusCode::NOT_FOUND);
    for path in [REGISTER, REFRESH] {
        let bare = dbsc_post(&client, path, &Cookies::default(), &[]).await;
        assert_eq!(bare.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn an_app_is_not_invited() {
    let client = Client::new(&[]);
    client.sign_up("ann@example.com").await;
    let response = client
        .post(
            "/api/auth/login",
            &Cookies::default(),
            &[
                ("email", "ann@example.com"),
                ("password", PASSWORD),
                ("tokens", "body"),
                ("app", "Notes for iOS"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("secure-session-registration")
            .is_none()
    );
    // Nor with no name: the tokens go in the body, so no challenge waits for anyone.
    let response = client
        .post(
            "/api/auth/login",
            &Cookies::default(),
            &[
                ("email", "ann@example.com"),
                ("password", PASSWORD),
                ("tokens", "body"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let challenges = count(&client.db(), |conn| {
        dbsc_challenges::table.count().get_result(conn)
    })
    .await;
    assert_eq!(challenges, 1, "only the browser sign-up's");
}

/// A browser that answered the invitation with a proof that failed (so it supports
/// DBSC): `opportunistic` renews it with its refresh cookie as before, `required` does
/// not. A browser that never answered (Firefox, Safari) is renewed under both.
#[tokio::test]
async fn required_refuses_the_plain_refresh_of_a_browser_that_answered_and_failed() {
    for (mode, expected) in [
        ("opportunistic", StatusCode::OK),
        ("required", StatusCode::UNAUTHORIZED),
    ] {
        let client = Client::new(&[("DBSC", mode)]);
        let (cookies, challenge) = sign_up(&client, "ann@example.com").await;
        // Signed by one key, naming another.
        let signer = BrowserKey::generate();
        let named = BrowserKey::generate();
        let proof = signer.sign(
            serde_json::json!({"alg": "ES256", "typ": "dbsc+jwt", "jwk": named.jwk()}),
            serde_json::json!({"jti": challenge}),
        );
        assert_eq!(
            register(&client, &cookies, &proof).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let refreshed = client.post("/api/auth/refresh", &cookies, &[]).await;
        assert_eq!(refreshed.status(), expected, "{mode}");

        let (firefox, _) = sign_up(&client, "bob@example.com").await;
        let refreshed = client.post("/api/auth/refresh", &firefox, &[]).await;
        assert_eq!(
            refreshed.status(),
            StatusCode::OK,
            "{mode}: a browser without DBSC"
        );
    }
}

#[tokio::test]
async fn a_session_bound_on_one_instance_is_renewed_across_both() {
    let Some((a, b)) = two_instances(&[]) else {
        return;
    };
    let mut ann = bound(&a, "ann@example.com").await;
    // The challenge from B, the proof to A, and the other way round.
    let challenge = challenge_for(&b, &ann.cookies, &ann.session_id).await;
    assert_eq!(
        sign(&a, &mut ann, &challenge).await.status(),
        StatusCode::OK
    );
    let challenge = challenge_for(&a, &ann.cookies, &ann.session_id).await;
    assert_eq!(
        sign(&b, &mut ann, &challenge).await.status(),
        StatusCode::OK
    );
    assert_eq!(b.me(&ann.cookies).await, StatusCode::OK);
    // The plain refresh is refused on either.
    for instance in [&a, &b] {
        let plain = instance.post("/api/auth/refresh", &ann.cookies, &[]).await;
        assert_eq!(plain.status(), StatusCode::UNAUTHORIZED);
    }
}
