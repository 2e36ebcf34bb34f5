//! The session life cycle against a real, temporary database: SQLite, and in `make
//! test`'s PostgreSQL pass a database of the test cluster (`testing::scratch_database`).

use std::time::Duration;

use argon2::Params;
use chrono::Utc;

use super::*;
use crate::auth::events::EventKind;
use crate::auth::keys::{KeySet, SigningKey};
use crate::store::{DatabaseOptions, DatabaseUrl, accounts, testing};

struct TestAuth {
    _dir: tempfile::TempDir,
    auth: Arc<AuthService>,
}

fn client() -> ClientInfo {
    ClientInfo::new(
        "127.0.0.1",
        "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36",
    )
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
        auth: Arc::new(AuthService::new(db, passwords, tokens, settings)),
    }
}

async fn count_events(auth: &AuthService, kind: EventKind) -> i64 {
    let condition = format!("kind = '{}'", kind.as_str());
    auth.db()
        .run(move |conn| Ok(testing::count_where(conn, "security_events", &condition)?))
        .await
        .unwrap()
}

async fn live_tokens_of(auth: &AuthService, session_id: &str) -> i64 {
    let condition = format!("session_id = '{session_id}' AND used_at IS NULL");
    auth.db()
        .run(move |conn| Ok(testing::count_where(conn, "refresh_tokens", &condition)?))
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_up_then_log_in_gives_tokens_that_authenticate() {
    let t = test_auth(SessionSettings::default());
    let signed_up = t
        .auth
        .sign_up(" Ann@Example.com ", "correct horse".into(), client())
        .await
        .unwrap();
    assert_eq!(signed_up.account.email, "ann@example.com");
    let current = t
        .auth
        .authenticate(signed_up.access.token.expose())
        .unwrap();
    assert_eq!(current.user_id, signed_up.account.id);
    assert_eq!(current.session_id, signed_up.session_id);

    let logged_in = t
        .auth
        .log_in("ANN@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    assert_eq!(logged_in.account.id, signed_up.account.id);
    assert_ne!(
        logged_in.session_id, signed_up.session_id,
        "each login is a new device session"
    );
    assert!(logged_in.refresh.is_some());
}

#[tokio::test]
async fn wrong_password_and_unknown_email_give_the_same_error() {
    let t = test_auth(SessionSettings::default());
    t.auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let wrong = t
        .auth
        .log_in("ann@example.com", "wrong horse".into(), client())
        .await
        .unwrap_err();
    let unknown = t
        .auth
        .log_in("bob@example.com", "correct horse".into(), client())
        .await
        .unwrap_err();
    let malformed = t
        .auth
        .log_in("not-an-email", "correct horse".into(), client())
        .await
        .unwrap_err();
    assert!(matches!(wrong, AuthError::InvalidCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert_eq!(wrong.to_string(), malformed.to_string());
}

#[tokio::test]
async fn signing_up_twice_with_the_same_email_in_another_case_is_refused() {
    let t = test_auth(SessionSettings::default());
    t.auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let err = t
        .auth
        .sign_up("ANN@example.com", "another pass".into(), client())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::EmailTaken), "{err:?}");
}

#[tokio::test]
async fn sign_up_rejects_bad_email_and_short_or_long_passwords() {
    let t = test_auth(SessionSettings::default());
    assert!(matches!(
        t.auth
            .sign_up("nope", "correct horse".into(), client())
            .await,
        Err(AuthError::InvalidEmail)
    ));
    assert!(matches!(
        t.auth.sign_up("a@b.co", "short".into(), client()).await,
        Err(AuthError::PasswordPolicy(_))
    ));
    assert!(matches!(
        t.auth
            .sign_up("a@b.co", "x".repeat(129).into(), client())
            .await,
        Err(AuthError::PasswordPolicy(_))
    ));
}

#[tokio::test]
async fn refresh_rotates_the_token_and_keeps_one_live_link() {
    let t = test_auth(SessionSettings::default());
    let first = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let token = first.refresh.unwrap().token;
    let second = t.auth.refresh(&token, client()).await.unwrap();
    let next = second
        .refresh
        .expect("a rotation issues a new refresh token");
    assert_ne!(next.token, token);
    assert_eq!(second.session_id, first.session_id);
    assert_eq!(live_tokens_of(&t.auth, &first.session_id).await, 1);
    // The new one works in turn.
    t.auth.refresh(&next.token, client()).await.unwrap();
}

#[tokio::test]
async fn reused_token_within_grace_gets_an_access_token_but_no_fork() {
    let t = test_auth(SessionSettings::default());
    let first = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let token = first.refresh.unwrap().token;
    let rotated = t.auth.refresh(&token, client()).await.unwrap();
    let again = t.auth.refresh(&token, client()).await.unwrap();
    assert_eq!(
        again.refresh.map(|r| r.token),
        rotated.refresh.map(|r| r.token),
        "the grace answer is the chain's one head, not a fork"
    );
    t.auth.authenticate(again.access.token.expose()).unwrap();
    assert_eq!(
        count_events(&t.auth, EventKind::TokenReuseDetected).await,
        0
    );
    assert_eq!(live_tokens_of(&t.auth, &first.session_id).await, 1);
}

#[tokio::test]
async fn reused_refresh_token_after_grace_revokes_session_and_records_the_event() {
    let t = test_auth(SessionSettings {
        refresh_grace: Duration::ZERO,
        ..SessionSettings::default()
    });
    let first = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let stolen = first.refresh.unwrap().token;
    let victim = t.auth.refresh(&stolen, client()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;

    let err = t.auth.refresh(&stolen, client()).await.unwrap_err();
    assert!(matches!(err, AuthError::TokenReuse), "{err:?}");
    assert_eq!(
        count_events(&t.auth, EventKind::TokenReuseDetected).await,
        1
    );
    // Both the thief's and the victim's tokens are dead now.
    assert!(matches!(
        t.auth.authenticate(victim.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    let victims_refresh = victim.refresh.unwrap().token;
    assert!(matches!(
        t.auth.refresh(&victims_refresh, client()).await,
        Err(AuthError::SessionEnded)
    ));
    // A second replay does not record a second event.
    assert!(t.auth.refresh(&stolen, client()).await.is_err());
    assert_eq!(
        count_events(&t.auth, EventKind::TokenReuseDetected).await,
        1
    );
}

#[tokio::test]
async fn twenty_parallel_refreshes_of_one_token_give_one_chain_and_no_theft_flag() {
    let t = test_auth(SessionSettings::default());
    let first = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let token = first.refresh.unwrap().token;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let auth = Arc::clone(&t.auth);
            let token = token.clone();
            tokio::spawn(async move { auth.refresh(&token, client()).await })
        })
        .collect();
    let mut successors = std::collections::HashSet::new();
    for task in tasks {
        let signed_in = task
            .await
            .unwrap()
            .expect("every concurrent refresh succeeds");
        let next = signed_in.refresh.expect("every one gets the successor");
        successors.insert(next.token.expose().to_owned());
    }
    assert_eq!(successors.len(), 1, "all twenty get the same successor");
    assert_eq!(
        count_events(&t.auth, EventKind::TokenReuseDetected).await,
        0
    );
    assert_eq!(live_tokens_of(&t.auth, &first.session_id).await, 1);
}

#[tokio::test]
async fn logout_revokes_the_session_and_its_access_token() {
    let t = test_auth(SessionSettings::default());
    let signed_in = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    t.auth
        .log_out(Some(signed_in.session_id.clone()), None, client())
        .await
        .unwrap();
    assert!(matches!(
        t.auth.authenticate(signed_in.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    let refresh = signed_in.refresh.unwrap().token;
    assert!(matches!(
        t.auth.refresh(&refresh, client()).await,
        Err(AuthError::SessionEnded)
    ));
    assert_eq!(count_events(&t.auth, EventKind::SignedOut).await, 1);
    // Logging out twice is harmless.
    t.auth
        .log_out(Some(signed_in.session_id), None, client())
        .await
        .unwrap();
}

#[tokio::test]
async fn logout_by_refresh_token_alone_ends_the_session() {
    let t = test_auth(SessionSettings::default());
    let signed_in = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let refresh = signed_in.refresh.unwrap().token;
    t.auth
        .log_out(None, Some(&refresh), client())
        .await
        .unwrap();
    assert!(matches!(
        t.auth.authenticate(signed_in.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
}

#[tokio::test]
async fn revocations_are_reloaded_from_the_blacklist_after_a_restart() {
    let t = test_auth(SessionSettings::default());
    let signed_in = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    t.auth
        .log_out(Some(signed_in.session_id.clone()), None, client())
        .await
        .unwrap();

    // A new service on the same database and keys, as after a restart.
    let restarted = AuthService::new(
        t.auth.db().clone(),
        Passwords::new(Params::new(1024, 1, 1, None).unwrap(), 1),
        AccessTokens::new(
            t.auth.tokens().keys().clone(),
            "http://gatehouse.test",
            Duration::from_secs(900),
        ),
        SessionSettings::default(),
    );
    assert!(
        restarted
            .authenticate(signed_in.access.token.expose())
            .is_ok(),
        "empty set before loading"
    );
    assert_eq!(restarted.load_revocations().await.unwrap(), 1);
    assert!(matches!(
        restarted.authenticate(signed_in.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
}

#[tokio::test]
async fn cleanup_leaves_no_expired_rows_and_keeps_live_ones() {
    let t = test_auth_with(SessionSettings::default(), Duration::from_secs(60));
    let kept = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    for _ in 0..5 {
        let s = t
            .auth
            .log_in("ann@example.com", "correct horse".into(), client())
            .await
            .unwrap();
        let r = t
            .auth
            .refresh(&s.refresh.unwrap().token, client())
            .await
            .unwrap();
        t.auth
            .log_out(Some(r.session_id), None, client())
            .await
            .unwrap();
    }
    // Nothing has expired yet: nothing is deleted.
    assert_eq!(t.auth.cleanup().await.unwrap().deleted.total(), 0);

    // Two hours on, the revoked sessions' access tokens have all expired.
    let later = Utc::now().naive_utc() + chrono::Duration::hours(2);
    let report = t.auth.cleanup_at(later).await.unwrap();
    assert_eq!(report.deleted.sessions, 5);
    assert_eq!(report.deleted.blacklist, 5);
    assert_eq!(report.revocations, 5);
    let (sessions, tokens, blacklist) = t
        .auth
        .db()
        .run(move |conn| {
            let sessions = testing::count_where(conn, "device_sessions", "1 = 1")?;
            let tokens = testing::count_where(conn, "refresh_tokens", "1 = 1")?;
            let blacklist = testing::count_where(conn, "token_blacklist", "1 = 1")?;
            Ok((sessions, tokens, blacklist))
        })
        .await
        .unwrap();
    assert_eq!(
        (sessions, tokens, blacklist),
        (1, 1, 0),
        "only the live session and its token remain"
    );
    t.auth
        .refresh(&kept.refresh.unwrap().token, client())
        .await
        .unwrap();

    // Past every expiry, everything goes, in batches.
    let much_later = Utc::now().naive_utc() + chrono::Duration::days(400);
    let report = t.auth.cleanup_at(much_later).await.unwrap();
    assert!(
        report.deleted.sessions == 1 && report.deleted.events >= 11,
        "{report:?}"
    );
}

fn ua(browser: &str) -> ClientInfo {
    ClientInfo::new("10.0.0.1", browser)
}

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

#[tokio::test]
async fn devices_are_listed_current_first_then_by_last_activity() {
    let t = test_auth(SessionSettings::default());
    t.auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let firefox = t
        .auth
        .log_in("ann@example.com", "correct horse".into(), ua(FIREFOX))
        .await
        .unwrap();
    let current = t.auth.authenticate(firefox.access.token.expose()).unwrap();
    let devices = t.auth.list_devices(&current).await.unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0].id, firefox.session_id);
    assert_eq!(devices[0].device_label, "Firefox 133 on Windows 10");
    assert_eq!(devices[1].device_label, "Chrome 131 on Linux");
}

#[tokio::test]
async fn revoking_other_users_device_is_not_found_and_changes_nothing() {
    let t = test_auth(SessionSettings::default());
    let ann = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let bob = t
        .auth
        .sign_up("bob@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let ann_session = t.auth.authenticate(ann.access.token.expose()).unwrap();
    let err = t
        .auth
        .revoke_device(&ann_session, &bob.session_id, client())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::NotFound), "{err:?}");
    let err = t
        .auth
        .revoke_device(&ann_session, "no-such-session", client())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::NotFound), "{err:?}");
    t.auth
        .authenticate(bob.access.token.expose())
        .expect("bob is still signed in");
}

#[tokio::test]
async fn a_revoked_device_is_refused_on_its_very_next_request() {
    let t = test_auth(SessionSettings::default());
    let laptop = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let phone = t
        .auth
        .log_in("ann@example.com", "correct horse".into(), ua(FIREFOX))
        .await
        .unwrap();
    let from_laptop = t.auth.authenticate(laptop.access.token.expose()).unwrap();
    t.auth
        .revoke_device(&from_laptop, &phone.session_id, client())
        .await
        .unwrap();
    assert!(matches!(
        t.auth.authenticate(phone.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    let refresh = phone.refresh.unwrap().token;
    assert!(matches!(
        t.auth.refresh(&refresh, ua(FIREFOX)).await,
        Err(AuthError::SessionEnded)
    ));
    assert_eq!(count_events(&t.auth, EventKind::DeviceSignedOut).await, 1);
    t.auth
        .authenticate(laptop.access.token.expose())
        .expect("the laptop stays signed in");
}

#[tokio::test]
async fn signing_out_all_other_devices_keeps_only_this_one() {
    let t = test_auth(SessionSettings::default());
    let this = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(
            t.auth
                .log_in("ann@example.com", "correct horse".into(), ua(FIREFOX))
                .await
                .unwrap(),
        );
    }
    let current = t.auth.authenticate(this.access.token.expose()).unwrap();
    assert_eq!(
        t.auth
            .revoke_other_devices(&current, client())
            .await
            .unwrap(),
        3
    );
    for other in &others {
        assert!(matches!(
            t.auth.authenticate(other.access.token.expose()),
            Err(AuthError::SessionRevoked)
        ));
    }
    assert_eq!(t.auth.list_devices(&current).await.unwrap().len(), 1);
    assert_eq!(
        t.auth
            .revoke_other_devices(&current, client())
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn signing_in_beyond_the_session_limit_ends_the_least_recently_active() {
    let t = test_auth(SessionSettings {
        max_sessions: 3,
        ..SessionSettings::default()
    });
    let oldest = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = t
        .auth
        .log_in("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let third = t
        .auth
        .log_in("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    // The oldest one is used again, so the second is now the least recently active.
    t.auth
        .refresh(&oldest.refresh.clone().unwrap().token, client())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let fourth = t
        .auth
        .log_in("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();

    assert!(matches!(
        t.auth.authenticate(second.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    for kept in [&third, &fourth] {
        t.auth.authenticate(kept.access.token.expose()).unwrap();
    }
    assert_eq!(count_events(&t.auth, EventKind::SessionEvicted).await, 1);
    let current = t.auth.authenticate(fourth.access.token.expose()).unwrap();
    assert_eq!(t.auth.list_devices(&current).await.unwrap().len(), 3);
}

#[tokio::test]
async fn changing_the_password_signs_out_every_other_device() {
    let t = test_auth(SessionSettings::default());
    let this = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let other = t
        .auth
        .log_in("ann@example.com", "correct horse".into(), ua(FIREFOX))
        .await
        .unwrap();
    let current = t.auth.authenticate(this.access.token.expose()).unwrap();

    // A proof of identity offered for a sensitive action is checked, sudo mode or not.
    let wrong = t
        .auth
        .require_sudo(
            &current,
            crate::auth::second_factor::Proof::from_fields(Some("not it at all".into()), None),
        )
        .await;
    assert!(matches!(wrong, Err(AuthError::WrongPassword)), "{wrong:?}");
    let short = t
        .auth
        .change_password(&current, "short".into(), client())
        .await;
    assert!(
        matches!(short, Err(AuthError::PasswordPolicy(_))),
        "{short:?}"
    );

    let count = t
        .auth
        .change_password(&current, "new password 1".into(), client())
        .await
        .unwrap();
    assert_eq!(count, 1);
    assert!(matches!(
        t.auth.authenticate(other.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    t.auth
        .authenticate(this.access.token.expose())
        .expect("this device stays signed in");
    assert!(
        t.auth
            .log_in("ann@example.com", "correct horse".into(), client())
            .await
            .is_err()
    );
    t.auth
        .log_in("ann@example.com", "new password 1".into(), client())
        .await
        .unwrap();
    assert_eq!(count_events(&t.auth, EventKind::PasswordChanged).await, 1);
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_removes_everything() {
    let t = test_auth(SessionSettings::default());
    let this = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let other = t
        .auth
        .log_in("ann@example.com", "correct horse".into(), ua(FIREFOX))
        .await
        .unwrap();
    let current = t.auth.authenticate(this.access.token.expose()).unwrap();
    assert!(matches!(
        t.auth
            .require_sudo(
                &current,
                crate::auth::second_factor::Proof::from_fields(Some("wrong one!".into()), None),
            )
            .await,
        Err(AuthError::WrongPassword)
    ));
    t.auth.delete_account(&current, client()).await.unwrap();

    for token in [this.access.token.expose(), other.access.token.expose()] {
        assert!(matches!(
            t.auth.authenticate(token),
            Err(AuthError::SessionRevoked)
        ));
    }
    assert!(matches!(
        t.auth
            .log_in("ann@example.com", "correct horse".into(), client())
            .await,
        Err(AuthError::InvalidCredentials)
    ));
    let (sessions, events) = t
        .auth
        .db()
        .run(|conn| {
            let sessions = testing::count_where(conn, "device_sessions", "1 = 1")?;
            let events = testing::count_where(conn, "security_events", "1 = 1")?;
            Ok((sessions, events))
        })
        .await
        .unwrap();
    assert_eq!((sessions, events), (0, 0));
    // The address is free again.
    t.auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
}

#[tokio::test]
async fn activity_lists_events_newest_first_and_pages_back() {
    let t = test_auth(SessionSettings::default());
    let this = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    for _ in 0..60 {
        let s = t
            .auth
            .log_in("ann@example.com", "correct horse".into(), client())
            .await
            .unwrap();
        t.auth
            .log_out(Some(s.session_id), None, client())
            .await
            .unwrap();
    }
    let current = t.auth.authenticate(this.access.token.expose()).unwrap();
    let first = t.auth.activity(&current, None).await.unwrap();
    assert_eq!(
        first.len() as i64,
        crate::auth::account::ACTIVITY_PAGE + 1,
        "one extra tells there is more"
    );
    assert_eq!(first[0].kind, "signed_out");
    assert!(first.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    // Walk every page the way the activity page does: 50 shown, the 51st means "older".
    let page = crate::auth::account::ACTIVITY_PAGE as usize;
    let (mut seen, mut cursor) = (0, None::<String>);
    loop {
        let events = t.auth.activity(&current, cursor.clone()).await.unwrap();
        if let Some(before) = &cursor {
            assert!(
                events.iter().all(|e| &e.id < before),
                "a page only holds older events"
            );
        }
        seen += events.len().min(page);
        if events.len() <= page {
            break;
        }
        cursor = Some(events[page - 1].id.clone());
    }
    assert_eq!(seen, 121, "1 sign-up + 60 sign-ins + 60 sign-outs");
}

#[tokio::test]
async fn the_first_sign_in_from_a_kind_of_device_is_flagged_as_new() {
    let t = test_auth(SessionSettings::default());
    t.auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    t.auth
        .log_in("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    t.auth
        .log_in("ann@example.com", "correct horse".into(), ua(FIREFOX))
        .await
        .unwrap();
    assert_eq!(
        count_events(&t.auth, EventKind::NewDeviceSignIn).await,
        1,
        "only Firefox: sign-up is the first sign-in, not news"
    );
    assert_eq!(count_events(&t.auth, EventKind::SignedIn).await, 2);
}

/// A second instance on the same database as `t`, with its own memory and its own
/// access-token lifetime (the signing key is shared, as in a real deployment).
fn other_instance(t: &TestAuth, access_ttl: Duration) -> AuthService {
    AuthService::new(
        t.auth.db.clone(),
        t.auth.passwords.clone(),
        AccessTokens::new(
            t.auth.tokens.keys().clone(),
            "http://gatehouse.test",
            access_ttl,
        ),
        SessionSettings::default(),
    )
}

#[tokio::test]
async fn the_revocation_feed_brings_in_revocations_made_by_another_instance() {
    let t = test_auth(SessionSettings::default());
    let other = other_instance(&t, Duration::from_secs(900));
    other.load_revocations().await.unwrap();
    let signed_in = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let claims = &signed_in.access.claims;
    t.auth
        .log_out(Some(signed_in.session_id.clone()), None, client())
        .await
        .unwrap();
    assert!(!other.revocations().is_revoked(&claims.sid));

    assert_eq!(other.sync_revocations().await.unwrap(), 1);
    assert!(other.revocations().is_revoked(&claims.sid));
    let again = other.sync_revocations().await.unwrap();
    if testing::on_postgres() {
        // The cursor is the cluster's oldest running transaction: one running elsewhere
        // (another test's database on the same cluster) makes the next poll read the
        // row again, which changes nothing.
        assert!(again <= 1, "read {again}");
    } else {
        assert_eq!(again, 0, "the next poll starts after what it has read");
    }
}

#[tokio::test]
async fn the_feed_reads_by_sequence_so_a_clock_far_behind_hides_nothing() {
    let t = test_auth(SessionSettings::default());
    let other = other_instance(&t, Duration::from_secs(900));
    other.load_revocations().await.unwrap();
    let signed_in = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    t.auth
        .log_out(Some(signed_in.session_id.clone()), None, client())
        .await
        .unwrap();
    // The revoking instance's clock was an hour slow: a time-window feed would have
    // looked past this row for good.
    t.auth
        .db()
        .run(|conn| {
            let an_hour_ago = now() - chrono::Duration::hours(1);
            let sql = format!(
                "UPDATE token_blacklist SET created_at = '{}'",
                an_hour_ago.format("%Y-%m-%d %H:%M:%S")
            );
            Ok(testing::execute(conn, &sql)?)
        })
        .await
        .unwrap();
    assert_eq!(other.sync_revocations().await.unwrap(), 1);
    let claims = &signed_in.access.claims;
    assert!(other.revocations().is_revoked(&claims.sid));
}

#[tokio::test]
async fn a_lost_refresh_reply_does_not_sign_the_device_out() {
    let t = test_auth(SessionSettings {
        refresh_grace: Duration::from_millis(300),
        ..SessionSettings::default()
    });
    let first = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let held = first.refresh.unwrap().token;
    // The rotation commits, but its reply never reaches the device.
    let _lost = t.auth.refresh(&held, client()).await.unwrap();
    // The device retries with the only token it has, inside the grace window...
    let retry = t.auth.refresh(&held, client()).await.unwrap();
    let held = retry
        .refresh
        .expect("the retry hands the device a token")
        .token;
    // ...and after the window that token still works.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let later = t.auth.refresh(&held, client()).await;
    assert!(later.is_ok(), "signed out after a lost reply: {later:?}");
    assert_eq!(
        count_events(&t.auth, EventKind::TokenReuseDetected).await,
        0
    );
    assert_eq!(live_tokens_of(&t.auth, &first.session_id).await, 1);
}

#[tokio::test]
async fn a_login_still_hashing_when_the_password_changes_gets_no_session() {
    let t = test_auth(SessionSettings::default());
    let laptop = t
        .auth
        .sign_up("ann@example.com", "old password".into(), client())
        .await
        .unwrap();
    // The attacker's login with the old password has passed its hash check...
    let verified = t
        .auth
        .verify_login("ann@example.com", "old password".into())
        .await
        .unwrap();
    // ...when Ann changes her password ("sign out everywhere else").
    let current = t.auth.authenticate(laptop.access.token.expose()).unwrap();
    t.auth
        .change_password(&current, "new password".into(), client())
        .await
        .unwrap();
    let late = t.auth.complete_login(verified, ua(FIREFOX)).await;
    assert!(
        matches!(late, Err(AuthError::InvalidCredentials)),
        "{late:?}"
    );
    let live = t
        .auth
        .db()
        .run(|conn| {
            Ok(testing::count_where(
                conn,
                "device_sessions",
                "revoked_at IS NULL",
            )?)
        })
        .await
        .unwrap();
    assert_eq!(live, 1, "only Ann's own laptop");
}

#[tokio::test]
async fn a_rehash_at_login_never_overwrites_a_newer_password() {
    let t = test_auth(SessionSettings::default());
    let laptop = t
        .auth
        .sign_up("ann@example.com", "old password".into(), client())
        .await
        .unwrap();
    // An instance with stronger parameters rehashes at login.
    let stronger = AuthService::new(
        t.auth.db.clone(),
        Passwords::new(Params::new(2048, 1, 1, None).unwrap(), 1),
        AccessTokens::new(
            t.auth.tokens.keys().clone(),
            "http://gatehouse.test",
            Duration::from_secs(900),
        ),
        SessionSettings::default(),
    );
    let verified = stronger
        .verify_login("ann@example.com", "old password".into())
        .await
        .unwrap();
    let current = t.auth.authenticate(laptop.access.token.expose()).unwrap();
    t.auth
        .change_password(&current, "new password".into(), client())
        .await
        .unwrap();
    assert!(stronger.complete_login(verified, client()).await.is_err());
    t.auth
        .log_in("ann@example.com", "new password".into(), client())
        .await
        .expect("the new password still works");
    assert!(
        t.auth
            .log_in("ann@example.com", "old password".into(), client())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn no_access_token_outlives_its_session() {
    let t = test_auth(SessionSettings {
        session_max_age: Duration::from_secs(30),
        ..SessionSettings::default()
    });
    let signed_in = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let claims = &signed_in.access.claims;
    assert!(
        claims.exp <= claims.iat + 31,
        "a 15-minute token on a 30-second session: {claims:?}"
    );
    let refreshed = t
        .auth
        .refresh(&signed_in.refresh.unwrap().token, client())
        .await
        .unwrap();
    assert!(refreshed.access.claims.exp <= claims.iat + 31);
}

#[tokio::test]
async fn a_revocation_lasts_as_long_as_the_longest_token_whoever_revokes() {
    // Instance A mints hour-long tokens; instance B, configured with one minute, revokes.
    let t = test_auth_with(SessionSettings::default(), Duration::from_secs(3600));
    let b = other_instance(&t, Duration::from_secs(60));
    let signed_in = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    b.log_out(Some(signed_in.session_id.clone()), None, client())
        .await
        .unwrap();
    let expires = t
        .auth
        .db()
        .run(|conn| {
            let long_ago = now() - chrono::Duration::days(1);
            let mut expires = Vec::new();
            crate::store::blacklist::read_revocations(conn, None, long_ago, |_, _, at| {
                expires.push(at)
            })?;
            Ok(expires[0])
        })
        .await
        .unwrap();
    assert!(
        expires >= signed_in.access.claims.exp,
        "the blacklist row ends before A's token does"
    );
    // And the cleanup job keeps the session's row until then too.
    let in_ten_minutes = now() + chrono::Duration::minutes(10);
    assert_eq!(
        t.auth
            .cleanup_at(in_ten_minutes)
            .await
            .unwrap()
            .deleted
            .blacklist,
        0
    );
    assert_eq!(
        t.auth
            .cleanup_at(in_ten_minutes)
            .await
            .unwrap()
            .deleted
            .sessions,
        0
    );
}

#[tokio::test]
async fn signing_in_again_on_a_signed_in_browser_ends_its_previous_session() {
    let t = test_auth(SessionSettings::default());
    let first = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let mut same_browser = client();
    same_browser.held_session = Some(crate::auth::client::HeldSession::RefreshHash(
        first
            .refresh
            .as_ref()
            .unwrap()
            .token
            .hash()
            .as_str()
            .to_owned(),
    ));
    let second = t
        .auth
        .log_in("ann@example.com", "correct horse".into(), same_browser)
        .await
        .unwrap();
    assert!(matches!(
        t.auth.authenticate(first.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    t.auth.authenticate(second.access.token.expose()).unwrap();
    assert!(
        t.auth
            .refresh(&first.refresh.unwrap().token, client())
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_revocation_committed_after_a_newer_one_is_still_read() {
    let Some(admin) = testing::postgres_admin_url() else {
        return;
    };
    let url = testing::fresh_postgres_database(&admin);
    let db = Database::open(
        &DatabaseUrl::Postgres(url.clone()),
        DatabaseOptions::default(),
    )
    .unwrap();
    let keys = KeySet::new(SigningKey::generate().0, vec![]);
    let instance = |db: &Database| {
        AuthService::new(
            db.clone(),
            Passwords::new(Params::new(1024, 1, 1, None).unwrap(), 1),
            AccessTokens::new(
                keys.clone(),
                "http://gatehouse.test",
                Duration::from_secs(900),
            ),
            SessionSettings::default(),
        )
    };
    let (a, b) = (instance(&db), instance(&db));
    b.load_revocations().await.unwrap();
    let ann = a
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let bob = a
        .sign_up("bob@example.com", "correct horse".into(), client())
        .await
        .unwrap();

    // A slow transaction revokes Ann's session (stamped an hour in the past, as by a
    // skewed clock) and stays open...
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let ann_sid = ann.session_id.clone();
    let slow = std::thread::spawn(move || {
        let mut conn = testing::connect(&DatabaseUrl::Postgres(url));
        testing::execute(&mut conn, "BEGIN").unwrap();
        let insert = format!(
            "INSERT INTO token_blacklist (token_id, kind, session_id, reason, created_at, \
             expires_at, seq) VALUES ('{ann_sid}', 'sid', '{ann_sid}', 'logout', \
             now() - interval '1 hour', now() + interval '1 hour', \
             pg_current_xact_id()::text::bigint)"
        );
        testing::execute(&mut conn, &insert).unwrap();
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        testing::execute(&mut conn, "COMMIT").unwrap();
    });
    started_rx.recv().unwrap();
    // ...while a later one revokes Bob's and commits first.
    a.log_out(Some(bob.session_id.clone()), None, client())
        .await
        .unwrap();
    assert_eq!(b.sync_revocations().await.unwrap(), 1);
    let (ann_claims, bob_claims) = (&ann.access.claims, &bob.access.claims);
    assert!(b.revocations().is_revoked(&bob_claims.sid));
    assert!(!b.revocations().is_revoked(&ann_claims.sid));

    release_tx.send(()).unwrap();
    slow.join().unwrap();
    b.sync_revocations().await.unwrap();
    assert!(
        b.revocations().is_revoked(&ann_claims.sid),
        "the revocation that committed last was skipped"
    );
}

#[tokio::test]
async fn no_secret_shows_in_debug_output() {
    use crate::api::account::{ChangePassword, DeleteAccount};
    use crate::api::auth::{Login, Signup};
    let t = test_auth(SessionSettings::default());
    let password = "correct horse battery";
    let signed_in = t
        .auth
        .sign_up("ann@example.com", password.into(), client())
        .await
        .unwrap();
    let refresh = signed_in
        .refresh
        .as_ref()
        .unwrap()
        .token
        .expose()
        .to_owned();
    let verified = t
        .auth
        .verify_login("ann@example.com", password.into())
        .await
        .unwrap();
    let user = t
        .auth
        .db()
        .run(|conn| Ok(accounts::find_by_email(conn, "ann@example.com")?))
        .await
        .unwrap()
        .expect("the account exists");
    let hash = user.password_hash.expose().to_owned();
    let secrets = [password, &refresh, signed_in.access.token.expose(), &hash];
    let printed = [
        format!("{signed_in:?}"),
        format!("{:?}", signed_in.access),
        format!("{verified:?}"),
        format!("{user:?}"),
        format!("{:?}", t.auth),
        format!(
            "{:?}",
            Login {
                email: "ann@example.com".into(),
                password: password.into(),
                next: None
            }
        ),
        format!(
            "{:?}",
            Signup {
                email: "ann@example.com".into(),
                password: password.into(),
                next: None
            }
        ),
        format!(
            "{:?}",
            ChangePassword {
                new_password: password.into(),
                sudo_password: Some(password.into()),
                sudo_code: None,
            }
        ),
        format!(
            "{:?}",
            DeleteAccount {
                sudo_password: Some(password.into()),
                sudo_code: None,
            }
        ),
    ];
    for text in &printed {
        for secret in secrets {
            assert!(!text.contains(secret), "a secret in {text}");
        }
    }
    assert!(
        printed[0].contains(&signed_in.session_id),
        "the rest still shows"
    );
}

// ---- Mail and account recovery (ARCHITECTURE: "Mail and account recovery") ----

async fn rows(auth: &AuthService, table: &'static str, condition: &'static str) -> i64 {
    auth.db()
        .run(move |conn| Ok(testing::count_where(conn, table, condition)?))
        .await
        .unwrap()
}

/// A sender on the development mailbox: real outbox, no SMTP.
fn dev_sender(auth: &AuthService) -> crate::mail::sender::MailSender {
    crate::mail::sender::MailSender::new(
        auth.db().clone(),
        crate::mail::transport::MailTransport::DevMailbox,
        crate::mail::transport::parse_from("Gatehouse <no-reply@gatehouse.test>").unwrap(),
        "https://gatehouse.test/",
        auth.mail_wakeup(),
    )
}

#[tokio::test]
async fn mail_is_queued_with_its_change_and_only_if_that_commits() {
    let t = test_auth(SessionSettings::default());
    t.auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    assert_eq!(
        rows(&t.auth, "mail_outbox", "kind = 'email_verification'").await,
        1
    );
    let taken = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await;
    assert!(matches!(taken, Err(AuthError::EmailTaken)));
    assert_eq!(
        rows(&t.auth, "mail_outbox", "kind = 'email_verification'").await,
        1,
        "the failed sign-up's mail was rolled back with it"
    );
}

#[tokio::test]
async fn the_sender_makes_links_at_delivery_and_drops_what_has_no_account() {
    let t = test_auth(SessionSettings::default());
    t.auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    t.auth
        .request_password_reset("ann@example.com", client())
        .await
        .unwrap();
    t.auth
        .request_password_reset("nobody@example.com", client())
        .await
        .unwrap();
    assert_eq!(
        rows(&t.auth, "email_tokens", "1 = 1").await,
        0,
        "no token exists before delivery"
    );
    let sender = dev_sender(&t.auth);
    let report = sender.deliver_due().await.unwrap();
    assert_eq!((report.sent, report.dropped), (2, 1));
    assert_eq!(
        sender.deliver_due().await.unwrap(),
        Default::default(),
        "sent once"
    );
    assert_eq!(
        rows(&t.auth, "email_tokens", "purpose = 'password_reset'").await,
        1
    );
    let copies = t
        .auth
        .db()
        .run(|conn| Ok(crate::store::outbox::delivered_copies(conn, 10)?))
        .await
        .unwrap();
    let reset = copies.iter().find(|m| m.kind == "password_reset").unwrap();
    assert!(
        reset
            .text_body
            .as_deref()
            .unwrap()
            .contains("https://gatehouse.test/reset?token=")
    );
}

#[tokio::test]
async fn with_required_verification_sign_up_answers_alike_and_login_waits() {
    let t = test_auth(SessionSettings {
        require_verified_email: true,
        ..SessionSettings::default()
    });
    let first = t
        .auth
        .register("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let again = t
        .auth
        .register("ann@example.com", "another password".into(), client())
        .await
        .unwrap();
    assert!(matches!(
        first,
        crate::auth::recovery::Registered::CheckInbox
    ));
    assert!(matches!(
        again,
        crate::auth::recovery::Registered::CheckInbox
    ));
    assert_eq!(
        rows(&t.auth, "mail_outbox", "kind = 'address_in_use'").await,
        1
    );
    let login = t
        .auth
        .log_in("ann@example.com", "correct horse".into(), client())
        .await;
    assert!(matches!(login, Err(AuthError::EmailNotVerified)));
    assert_eq!(
        rows(&t.auth, "device_sessions", "1 = 1").await,
        0,
        "no session before verification"
    );
}

#[tokio::test]
async fn cleanup_bounds_mailed_links_and_the_outbox() {
    let t = test_auth(SessionSettings::default());
    t.auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    t.auth
        .request_password_reset("ann@example.com", client())
        .await
        .unwrap();
    dev_sender(&t.auth).deliver_due().await.unwrap();
    assert_eq!(rows(&t.auth, "email_tokens", "1 = 1").await, 2);
    let report = t
        .auth
        .cleanup_at(Utc::now().naive_utc() + chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(report.deleted.email_tokens, 1, "the 30-minute reset link");
    assert_eq!(report.deleted.mails, 0);
    let report = t
        .auth
        .cleanup_at(Utc::now().naive_utc() + chrono::Duration::days(8))
        .await
        .unwrap();
    assert_eq!(
        report.deleted.email_tokens, 1,
        "the day-long verification link"
    );
    assert_eq!(report.deleted.mails, 2);
    assert_eq!(rows(&t.auth, "mail_outbox", "1 = 1").await, 0);
}

// ---- Second factor (ARCHITECTURE: "Second factor and sudo mode") ----

#[tokio::test]
async fn cleanup_removes_unconfirmed_enrolments_and_keeps_confirmed_factors() {
    let t = test_auth(SessionSettings::default());
    let ann = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let current = t.auth.authenticate(ann.access.token.expose()).unwrap();
    t.auth
        .begin_totp(&current, "ann@example.com")
        .await
        .unwrap();
    assert_eq!(
        rows(&t.auth, "totp_factors", "confirmed_at IS NULL").await,
        1
    );
    let report = t
        .auth
        .cleanup_at(Utc::now().naive_utc() + chrono::Duration::minutes(16))
        .await
        .unwrap();
    assert_eq!(report.deleted.totp_enrolments, 1);
    assert_eq!(rows(&t.auth, "totp_factors", "1 = 1").await, 0);
    // A confirmed factor has no expiry: the cleanup job never removes it.
    with_confirmed_totp(&t.auth).await;
    let report = t
        .auth
        .cleanup_at(Utc::now().naive_utc() + chrono::Duration::days(400))
        .await
        .unwrap();
    assert_eq!(report.deleted.totp_enrolments, 0);
    assert_eq!(
        rows(&t.auth, "totp_factors", "confirmed_at IS NOT NULL").await,
        1
    );
}

/// Gives every account a confirmed authenticator app, as a finished enrolment would.
async fn with_confirmed_totp(auth: &AuthService) {
    auth.db()
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

#[tokio::test]
async fn after_a_key_rotation_the_authenticator_and_recovery_codes_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let url = testing::scratch_database(dir.path());
    let service = |keys: KeySet| {
        let db = Database::open(&url, DatabaseOptions::default()).unwrap();
        let tokens = AccessTokens::new(keys, "http://gatehouse.test", Duration::from_secs(900));
        let passwords = Passwords::new(Params::new(1024, 1, 1, None).unwrap(), 2);
        AuthService::new(db, passwords, tokens, SessionSettings::default())
    };
    let (old_key, _) = SigningKey::generate();
    let (new_key, _) = SigningKey::generate();
    let before = service(KeySet::new(old_key.clone(), vec![]));
    let ann = before
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let current = before.authenticate(ann.access.token.expose()).unwrap();
    let enrolment = before
        .begin_totp(&current, "ann@example.com")
        .await
        .unwrap();
    let codes = before
        .confirm_totp(&current, &app_code(&enrolment.secret, 0), client())
        .await
        .unwrap();

    // Without the old private key, nothing it made works any more.
    let forgotten = service(KeySet::new(new_key.clone(), vec![]));
    assert!(second_step(&forgotten, &codes[0]).await.is_err());
    // With it kept as a retired key, both still work.
    let rotated = service(KeySet::new(new_key, vec![]).with_retired(vec![old_key]));
    second_step(&rotated, &codes[0])
        .await
        .expect("a recovery code made before the rotation");
    second_step(&rotated, &app_code(&enrolment.secret, 1))
        .await
        .expect("the authenticator app enrolled before the rotation");
}

/// The password, then `code`, on `auth`.
async fn second_step(auth: &AuthService, code: &str) -> Result<SignedIn, AuthError> {
    let verified = auth
        .verify_login("ann@example.com", "correct horse".into())
        .await?;
    let pending = auth.pending_sign_in(&verified).await?.unwrap();
    auth.complete_second_factor(&pending, code, client()).await
}

/// A blacklist row's expiry reaches the revocation set as Unix seconds worked out by
/// the database (chrono parsing them was a quarter of the start-up load): the same
/// second on both engines, with the fraction dropped as `timestamp()` drops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blacklist_expiries_are_read_to_the_second_on_both_engines() {
    use crate::store::blacklist;
    use crate::store::models::BlacklistEntry;
    let expires_at = chrono::NaiveDate::from_ymd_opt(2030, 1, 2)
        .and_then(|day| day.and_hms_micro_opt(3, 4, 5, 999_999))
        .unwrap();
    let read_back = |db: Database| async move {
        db.run(move |conn| {
            blacklist::insert(
                conn,
                BlacklistEntry {
                    token_id: "0190a8e5-7b0c-7d5e-8f00-000000000001".into(),
                    kind: Revoked::Session.as_str().into(),
                    session_id: "s".into(),
                    reason: "test".into(),
                    created_at: expires_at - chrono::Duration::days(1),
                    expires_at,
                    seq: 1,
                },
            )?;
            let mut read = Vec::new();
            let now = expires_at - chrono::Duration::hours(1);
            blacklist::read_revocations(conn, None, now, |kind, id, until| {
                read.push((kind.to_owned(), id.to_owned(), until));
            })?;
            Ok(read)
        })
        .await
        .unwrap()
    };
    let expected = vec![(
        "sid".to_owned(),
        "0190a8e5-7b0c-7d5e-8f00-000000000001".to_owned(),
        expires_at.and_utc().timestamp(),
    )];
    assert_eq!(expected[0].2, 1_893_553_445);
    let t = test_auth(SessionSettings::default());
    assert_eq!(read_back(t.auth.db().clone()).await, expected, "SQLite");
    let Some(admin) = testing::postgres_admin_url() else {
        return;
    };
    let url = DatabaseUrl::Postgres(testing::fresh_postgres_database(&admin));
    let db = Database::open(&url, DatabaseOptions::default()).unwrap();
    assert_eq!(read_back(db).await, expected, "PostgreSQL");
}

#[tokio::test]
async fn a_passkey_counter_only_grows_even_when_two_sign_ins_overlap() {
    use crate::store::models::PasskeyRow;
    use crate::store::passkeys;
    let t = test_auth(SessionSettings::default());
    let ann = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let now = Utc::now().naive_utc();
    let row = PasskeyRow {
        credential_id: "cred-1".into(),
        user_id: ann.account.id.clone(),
        name: "Phone".into(),
        passkey: "{}".into(),
        sign_count: 5,
        backup_eligible: false,
        backed_up: false,
        created_at: now,
        last_used_at: None,
    };
    let used = t
        .auth
        .db()
        .run(move |conn| {
            passkeys::insert(conn, &row)?;
            // Two sign-ins that both read 5 and both answer 6: only the first moves it.
            let first = passkeys::record_use(conn, "cred-1", "{}", 6, false, now)?;
            let overlapping = passkeys::record_use(conn, "cred-1", "{}", 6, false, now)?;
            // A slow one cannot move it back, nor a clone's older counter pass.
            let backwards = passkeys::record_use(conn, "cred-1", "{}", 3, false, now)?;
            let next = passkeys::record_use(conn, "cred-1", "{}", 7, false, now)?;
            Ok((first, overlapping, backwards, next))
        })
        .await
        .unwrap();
    assert_eq!(used, (true, false, false, true));
    let synced = t
        .auth
        .db()
        .run(move |conn| {
            // An authenticator that does not count (synced passkeys) always sends 0.
            Ok(passkeys::record_use(conn, "cred-1", "{}", 0, true, now)?)
        })
        .await
        .unwrap();
    assert!(synced);
}

#[tokio::test]
async fn a_password_change_from_a_device_signed_out_meanwhile_changes_nothing() {
    let t = test_auth(SessionSettings::default());
    let laptop = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let phone = t
        .auth
        .log_in("ann@example.com", "correct horse".into(), ua(FIREFOX))
        .await
        .unwrap();
    // The phone's request was checked (its token is fine), then the laptop signed it
    // out while the new hash was being made.
    let from_phone = t.auth.authenticate(phone.access.token.expose()).unwrap();
    let from_laptop = t.auth.authenticate(laptop.access.token.expose()).unwrap();
    t.auth
        .revoke_device(&from_laptop, &phone.session_id, client())
        .await
        .unwrap();
    let changed = t
        .auth
        .change_password(&from_phone, "the thief's password".into(), client())
        .await;
    assert!(
        matches!(changed, Err(AuthError::SessionRevoked)),
        "{changed:?}"
    );
    t.auth
        .log_in("ann@example.com", "correct horse".into(), client())
        .await
        .expect("the password is still ann's");
}

#[tokio::test]
async fn a_link_mail_voided_while_the_sender_holds_it_is_not_sent() {
    let t = test_auth(SessionSettings::default());
    let ann = t
        .auth
        .sign_up("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let current = t.auth.authenticate(ann.access.token.expose()).unwrap();
    t.auth
        .request_email_change(&current, "mallory@evil.test", client())
        .await
        .unwrap();
    // The sender claims the mail (as a round of deliveries does) ...
    let now = Utc::now().naive_utc();
    let claimed = t
        .auth
        .db()
        .run(move |conn| {
            Ok(conn.write_transaction(|conn| {
                crate::store::outbox::claim_due(
                    conn,
                    now + chrono::Duration::seconds(1),
                    now + chrono::Duration::minutes(1),
                    10,
                )
            })?)
        })
        .await
        .unwrap();
    let change = claimed
        .into_iter()
        .find(|m| m.kind == "email_change")
        .expect("the address-change mail was due");
    // ... and before it makes the link, the owner changes the password.
    t.auth
        .change_password(&current, "a new password".into(), client())
        .await
        .unwrap();
    let mut report = crate::mail::sender::Delivered::default();
    dev_sender(&t.auth)
        .deliver(change, &mut report)
        .await
        .unwrap();
    assert_eq!((report.sent, report.dropped), (0, 1));
    assert_eq!(
        rows(&t.auth, "email_tokens", "purpose = 'email_change'").await,
        0,
        "no link was made for it"
    );
}
