//! The domain's services against a real, temporary database: SQLite, and in `make
//! test`'s PostgreSQL pass a database of the test cluster (`testing::scratch_database`).
//! One file per service; the fixtures they share are here.

use std::sync::Arc;
use std::time::Duration;

use argon2::Params;
use chrono::Utc;

use super::Auth;
use super::access_token::AccessTokens;
use super::client_info::ClientInfo;
use super::error::AuthError;
use super::events::EventKind;
use super::keys::{KeySet, SigningKey};
use super::password::Passwords;
use super::session::SignedIn;
use super::settings::SessionSettings;
use super::transactions::now;
use crate::store::{Database, DatabaseOptions, DatabaseUrl, accounts, testing};

mod account;
mod devices;
mod passkeys;
mod recovery;
mod second_factor;
mod sessions;

struct TestAuth {
    _dir: tempfile::TempDir,
    auth: Arc<Auth>,
}

fn client() -> ClientInfo {
    ClientInfo::new(
        "127.0.0.1",
        "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36",
    )
}

/// Ann signs up from the usual browser.
async fn sign_up_ann(auth: &Auth) -> SignedIn {
    auth.sessions
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap()
}

/// Ann signs in from `browser`.
async fn log_in_ann(auth: &Auth, browser: ClientInfo) -> SignedIn {
    auth.sessions
        .log_in("ann@example.com", "correct horse".into(), browser)
        .await
        .unwrap()
}

fn test_auth(settings: SessionSettings) -> TestAuth {
    test_auth_with(settings, Duration::from_secs(900))
}

fn test_auth_with(settings: SessionSettings, access_ttl: Duration) -> TestAuth {
    let dir = tempfile::tempdir().unwrap();
    let options = DatabaseOptions {
        pool_size: 4,
        timeout: Duration::from_secs(5),
    };
    let db = Database::open(&testing::scratch_database(dir.path()), options).unwrap();
    let (key, _) = SigningKey::generate();
    let tokens = AccessTokens::new(
        KeySet::new(key, vec![]),
        "http://gatehouse.test",
        access_ttl,
    );
    let passwords = Passwords::new(Params::new(1024, 1, 1, None).unwrap(), 2);
    TestAuth {
        _dir: dir,
        auth: Arc::new(Auth::new(db, passwords, tokens, settings)),
    }
}

async fn count_events(auth: &Auth, kind: EventKind) -> i64 {
    let condition = format!("kind = '{}'", kind.as_str());
    auth.core
        .db()
        .run(move |conn| Ok(testing::count_where(conn, "security_events", &condition)?))
        .await
        .unwrap()
}

async fn live_tokens_of(auth: &Auth, session_id: &str) -> i64 {
    let condition = format!("session_id = '{session_id}' AND used_at IS NULL");
    auth.core
        .db()
        .run(move |conn| Ok(testing::count_where(conn, "refresh_tokens", &condition)?))
        .await
        .unwrap()
}

/// A second kind of browser, for tests that tell devices apart.
const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

fn ua(browser: &str) -> ClientInfo {
    ClientInfo::new("10.0.0.1", browser)
}

/// A second instance on the same database as `t`, with its own memory and its own
/// access-token lifetime (the signing key is shared, as in a real deployment).
fn other_instance(t: &TestAuth, access_ttl: Duration) -> Auth {
    Auth::new(
        t.auth.core.db.clone(),
        t.auth.core.passwords.clone(),
        AccessTokens::new(
            t.auth.core.tokens.keys().clone(),
            "http://gatehouse.test",
            access_ttl,
        ),
        SessionSettings::default(),
    )
}

async fn rows(auth: &Auth, table: &'static str, condition: &'static str) -> i64 {
    auth.core
        .db()
        .run(move |conn| Ok(testing::count_where(conn, table, condition)?))
        .await
        .unwrap()
}

/// A sender on the development mailbox: real outbox, no SMTP.
fn dev_sender(auth: &Auth) -> crate::mail::sender::MailSender {
    crate::mail::sender::MailSender::new(
        auth.core.db().clone(),
        crate::mail::transport::MailTransport::DevMailbox,
        crate::mail::transport::parse_from("Gatehouse <no-reply@gatehouse.test>").unwrap(),
        "https://gatehouse.test/",
        auth.core.mail_wakeup(),
    )
}

/// Gives every account a confirmed authenticator app, as a finished enrolment would.
async fn with_confirmed_totp(auth: &Auth) {
    auth.core.db()
        .run(|conn| {
            Ok(testing::execute(
                conn,
                "INSERT INTO totp_factors (user_id, secret_sealed, key_id, confirmed_at, last_used_step, created_at, expires_at) \
                 SELECT id, 'sealed', 'kid', created_at, 0, created_at, NULL FROM users",
            )?)
        })
        .await
        .unwrap();
}

/// The code an authenticator app shows for the key the page showed, `steps_ahead`
/// 30-second steps from now.
fn app_code(secret: &str, steps_ahead: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.replace(' ', ""))
        .to_bytes()
        .unwrap();
    let at = (Utc::now().timestamp() + 30 * steps_ahead) as u64;
    totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        0,
        30,
        bytes,
        None,
        String::new(),
    )
    .generate(at)
}

/// The password, then `code`, on `auth`.
async fn second_step(auth: &Auth, code: &str) -> Result<SignedIn, AuthError> {
    let verified = auth
        .sessions
        .verify_login("ann@example.com", "correct horse".into())
        .await?;
    let pending = auth
        .second_factor
        .pending_sign_in(&verified)
        .await?
        .unwrap();
    auth.second_factor
        .complete_second_factor(&pending, code, client())
        .await
}
