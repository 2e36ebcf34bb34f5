//! Sign-up, sign-in, refresh rotation, sign-out and the revocation set and feed (`Sessions`, `Core`).

use super::*;

#[tokio::test]
async fn sign_up_then_log_in_gives_tokens_that_authenticate() {
    let t = test_auth(SessionSettings::default());
    let signed_up = t
        .auth
        .sessions
        .sign_up(" Ann@Example.com ", "correct horse".into(), client())
        .await
        .unwrap();
    assert_eq!(signed_up.account.email, "ann@example.com");
    let current = t
        .auth
        .core
        .authenticate(signed_up.access.token.expose())
        .unwrap();
    assert_eq!(current.user_id, signed_up.account.id);
    assert_eq!(current.session_id, signed_up.session_id);

    let logged_in = t
        .auth
        .sessions
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
    sign_up_ann(&t.auth).await;
    let wrong = t
        .auth
        .sessions
        .log_in("ann@example.com", "wrong horse".into(), client())
        .await
        .unwrap_err();
    let unknown = t
        .auth
        .sessions
        .log_in("bob@example.com", "correct horse".into(), client())
        .await
        .unwrap_err();
    let malformed = t
        .auth
        .sessions
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
    sign_up_ann(&t.auth).await;
    let err = t
        .auth
        .sessions
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
            .sessions
            .sign_up("nope", "correct horse".into(), client())
            .await,
        Err(AuthError::InvalidEmail)
    ));
    assert!(matches!(
        t.auth
            .sessions
            .sign_up("a@b.co", "short".into(), client())
            .await,
        Err(AuthError::PasswordPolicy(_))
    ));
    assert!(matches!(
        t.auth
            .sessions
            .sign_up("a@b.co", "x".repeat(129).into(), client())
            .await,
        Err(AuthError::PasswordPolicy(_))
    ));
}

#[tokio::test]
async fn refresh_rotates_the_token_and_keeps_one_live_link() {
    let t = test_auth(SessionSettings::default());
    let first = sign_up_ann(&t.auth).await;
    let token = first.refresh.unwrap().token;
    let second = t.auth.sessions.refresh(&token, client()).await.unwrap();
    let next = second
        .refresh
        .expect("a rotation issues a new refresh token");
    assert_ne!(next.token, token);
    assert_eq!(second.session_id, first.session_id);
    assert_eq!(live_tokens_of(&t.auth, &first.session_id).await, 1);
    // The new one works in turn.
    t.auth
        .sessions
        .refresh(&next.token, client())
        .await
        .unwrap();
}

#[tokio::test]
async fn reused_token_within_grace_gets_an_access_token_but_no_fork() {
    let t = test_auth(SessionSettings::default());
    let first = sign_up_ann(&t.auth).await;
    let token = first.refresh.unwrap().token;
    let rotated = t.auth.sessions.refresh(&token, client()).await.unwrap();
    let again = t.auth.sessions.refresh(&token, client()).await.unwrap();
    assert_eq!(
        again.refresh.map(|r| r.token),
        rotated.refresh.map(|r| r.token),
        "the grace answer is the chain's one head, not a fork"
    );
    t.auth
        .core
        .authenticate(again.access.token.expose())
        .unwrap();
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
    let first = sign_up_ann(&t.auth).await;
    let stolen = first.refresh.unwrap().token;
    let victim = t.auth.sessions.refresh(&stolen, client()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;

    let err = t
        .auth
        .sessions
        .refresh(&stolen, client())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::TokenReuse), "{err:?}");
    assert_eq!(
        count_events(&t.auth, EventKind::TokenReuseDetected).await,
        1
    );
    // Both the thief's and the victim's tokens are dead now.
    assert!(matches!(
        t.auth.core.authenticate(victim.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    let victims_refresh = victim.refresh.unwrap().token;
    assert!(matches!(
        t.auth.sessions.refresh(&victims_refresh, client()).await,
        Err(AuthError::SessionEnded)
    ));
    // A second replay does not record a second event.
    assert!(t.auth.sessions.refresh(&stolen, client()).await.is_err());
    assert_eq!(
        count_events(&t.auth, EventKind::TokenReuseDetected).await,
        1
    );
}

#[tokio::test]
async fn twenty_parallel_refreshes_of_one_token_give_one_chain_and_no_theft_flag() {
    let t = test_auth(SessionSettings::default());
    let first = sign_up_ann(&t.auth).await;
    let token = first.refresh.unwrap().token;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let auth = Arc::clone(&t.auth);
            let token = token.clone();
            tokio::spawn(async move { auth.sessions.refresh(&token, client()).await })
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
    let signed_in = sign_up_ann(&t.auth).await;
    t.auth
        .sessions
        .log_out(Some(signed_in.session_id.clone()), None, client())
        .await
        .unwrap();
    assert!(matches!(
        t.auth.core.authenticate(signed_in.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    let refresh = signed_in.refresh.unwrap().token;
    assert!(matches!(
        t.auth.sessions.refresh(&refresh, client()).await,
        Err(AuthError::SessionEnded)
    ));
    assert_eq!(count_events(&t.auth, EventKind::SignedOut).await, 1);
    // Logging out twice is harmless.
    t.auth
        .sessions
        .log_out(Some(signed_in.session_id), None, client())
        .await
        .unwrap();
}

#[tokio::test]
async fn logout_by_refresh_token_alone_ends_the_session() {
    let t = test_auth(SessionSettings::default());
    let signed_in = sign_up_ann(&t.auth).await;
    let refresh = signed_in.refresh.unwrap().token;
    t.auth
        .sessions
        .log_out(None, Some(&refresh), client())
        .await
        .unwrap();
    assert!(matches!(
        t.auth.core.authenticate(signed_in.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
}

#[tokio::test]
async fn revocations_are_reloaded_from_the_blacklist_after_a_restart() {
    let t = test_auth(SessionSettings::default());
    let signed_in = sign_up_ann(&t.auth).await;
    t.auth
        .sessions
        .log_out(Some(signed_in.session_id.clone()), None, client())
        .await
        .unwrap();

    // A new service on the same database and keys, as after a restart.
    let restarted = Auth::new(
        t.auth.core.db().clone(),
        Passwords::new(Params::new(1024, 1, 1, None).unwrap(), 1),
        AccessTokens::new(
            t.auth.core.tokens().keys().clone(),
            "http://gatehouse.test",
            Duration::from_secs(900),
        ),
        SessionSettings::default(),
    );
    assert!(
        restarted
            .core
            .authenticate(signed_in.access.token.expose())
            .is_ok(),
        "empty set before loading"
    );
    assert_eq!(restarted.core.load_revocations().await.unwrap(), 1);
    assert!(matches!(
        restarted.core.authenticate(signed_in.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
}

#[tokio::test]
async fn cleanup_leaves_no_expired_rows_and_keeps_live_ones() {
    let t = test_auth_with(SessionSettings::default(), Duration::from_secs(60));
    let kept = sign_up_ann(&t.auth).await;
    for _ in 0..5 {
        let s = log_in_ann(&t.auth, client()).await;
        let r = t
            .auth
            .sessions
            .refresh(&s.refresh.unwrap().token, client())
            .await
            .unwrap();
        t.auth
            .sessions
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
        .core
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
        .sessions
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

#[tokio::test]
async fn the_revocation_feed_brings_in_revocations_made_by_another_instance() {
    let t = test_auth(SessionSettings::default());
    let other = other_instance(&t, Duration::from_secs(900));
    other.core.load_revocations().await.unwrap();
    let signed_in = sign_up_ann(&t.auth).await;
    let claims = &signed_in.access.claims;
    t.auth
        .sessions
        .log_out(Some(signed_in.session_id.clone()), None, client())
        .await
        .unwrap();
    assert!(!other.core.revocations().is_revoked(&claims.sid));

    assert_eq!(other.core.sync_revocations().await.unwrap(), 1);
    assert!(other.core.revocations().is_revoked(&claims.sid));
    let again = other.core.sync_revocations().await.unwrap();
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
    other.core.load_revocations().await.unwrap();
    let signed_in = sign_up_ann(&t.auth).await;
    t.auth
        .sessions
        .log_out(Some(signed_in.session_id.clone()), None, client())
        .await
        .unwrap();
    // The revoking instance's clock was an hour slow: a time-window feed would have
    // looked past this row for good.
    t.auth
        .core
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
    assert_eq!(other.core.sync_revocations().await.unwrap(), 1);
    let claims = &signed_in.access.claims;
    assert!(other.core.revocations().is_revoked(&claims.sid));
}

#[tokio::test]
async fn a_lost_refresh_reply_does_not_sign_the_device_out() {
    let t = test_auth(SessionSettings {
        refresh_grace: Duration::from_millis(300),
        ..SessionSettings::default()
    });
    let first = sign_up_ann(&t.auth).await;
    let held = first.refresh.unwrap().token;
    // The rotation commits, but its reply never reaches the device.
    let _lost = t.auth.sessions.refresh(&held, client()).await.unwrap();
    // The device retries with the only token it has, inside the grace window...
    let retry = t.auth.sessions.refresh(&held, client()).await.unwrap();
    let held = retry
        .refresh
        .expect("the retry hands the device a token")
        .token;
    // ...and after the window that token still works.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let later = t.auth.sessions.refresh(&held, client()).await;
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
        .sessions
        .sign_up("ann@example.com", "old password".into(), client())
        .await
        .unwrap();
    // The attacker's login with the old password has passed its hash check...
    let verified = t
        .auth
        .sessions
        .verify_login("ann@example.com", "old password".into())
        .await
        .unwrap();
    // ...when Ann changes her password ("sign out everywhere else").
    let current = t
        .auth
        .core
        .authenticate(laptop.access.token.expose())
        .unwrap();
    t.auth
        .accounts
        .change_password(&current, "new password".into(), client())
        .await
        .unwrap();
    let late = t.auth.sessions.complete_login(verified, ua(FIREFOX)).await;
    assert!(
        matches!(late, Err(AuthError::InvalidCredentials)),
        "{late:?}"
    );
    let live = t
        .auth
        .core
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
        .sessions
        .sign_up("ann@example.com", "old password".into(), client())
        .await
        .unwrap();
    // An instance with stronger parameters rehashes at login.
    let stronger = Auth::new(
        t.auth.core.db.clone(),
        Passwords::new(Params::new(2048, 1, 1, None).unwrap(), 1),
        AccessTokens::new(
            t.auth.core.tokens.keys().clone(),
            "http://gatehouse.test",
            Duration::from_secs(900),
        ),
        SessionSettings::default(),
    );
    let verified = stronger
        .sessions
        .verify_login("ann@example.com", "old password".into())
        .await
        .unwrap();
    let current = t
        .auth
        .core
        .authenticate(laptop.access.token.expose())
        .unwrap();
    t.auth
        .accounts
        .change_password(&current, "new password".into(), client())
        .await
        .unwrap();
    assert!(
        stronger
            .sessions
            .complete_login(verified, client())
            .await
            .is_err()
    );
    t.auth
        .sessions
        .log_in("ann@example.com", "new password".into(), client())
        .await
        .expect("the new password still works");
    assert!(
        t.auth
            .sessions
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
    let signed_in = sign_up_ann(&t.auth).await;
    let claims = &signed_in.access.claims;
    assert!(
        claims.exp <= claims.iat + 31,
        "a 15-minute token on a 30-second session: {claims:?}"
    );
    let refreshed = t
        .auth
        .sessions
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
    let signed_in = sign_up_ann(&t.auth).await;
    b.sessions
        .log_out(Some(signed_in.session_id.clone()), None, client())
        .await
        .unwrap();
    let expires = t
        .auth
        .core
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
    let first = sign_up_ann(&t.auth).await;
    let mut same_browser = client();
    same_browser.held_session = Some(crate::auth::client_info::HeldSession::RefreshHash(
        first
            .refresh
            .as_ref()
            .unwrap()
            .token
            .hash()
            .as_str()
            .to_owned(),
    ));
    let second = log_in_ann(&t.auth, same_browser).await;
    assert!(matches!(
        t.auth.core.authenticate(first.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    t.auth
        .core
        .authenticate(second.access.token.expose())
        .unwrap();
    assert!(
        t.auth
            .sessions
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
        Auth::new(
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
    b.core.load_revocations().await.unwrap();
    let ann = sign_up_ann(&a).await;
    let bob = a
        .sessions
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
    a.sessions
        .log_out(Some(bob.session_id.clone()), None, client())
        .await
        .unwrap();
    assert_eq!(b.core.sync_revocations().await.unwrap(), 1);
    let (ann_claims, bob_claims) = (&ann.access.claims, &bob.access.claims);
    assert!(b.core.revocations().is_revoked(&bob_claims.sid));
    assert!(!b.core.revocations().is_revoked(&ann_claims.sid));

    release_tx.send(()).unwrap();
    slow.join().unwrap();
    b.core.sync_revocations().await.unwrap();
    assert!(
        b.core.revocations().is_revoked(&ann_claims.sid),
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
        .sessions
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
        .sessions
        .verify_login("ann@example.com", password.into())
        .await
        .unwrap();
    let user = t
        .auth
        .core
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
        // The tokens an app gets in the answer's body.
        format!(
            "{:?}",
            crate::api::auth::SignedInView {
                email: "ann@example.com".into(),
                next: "/".into(),
                signed_in: true,
                tokens: Some(crate::api::auth::TokenPair {
                    access_token: signed_in.access.token.clone(),
                    access_expires_at: 0,
                    refresh_token: Some(refresh.clone().into()),
                    refresh_expires_at: None,
                }),
            }
        ),
        format!(
            "{:?}",
            Login {
                email: "ann@example.com".into(),
                password: password.into(),
                next: None,
                tokens: Some("body".into()),
                app: None,
            }
        ),
        format!(
            "{:?}",
            Signup {
                email: "ann@example.com".into(),
                password: password.into(),
                next: None,
                tokens: None,
                app: None,
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
                    kind: super::super::revocation::Revoked::Session.as_str().into(),
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
    assert_eq!(
        read_back(t.auth.core.db().clone()).await,
        expected,
        "SQLite"
    );
    let Some(admin) = testing::postgres_admin_url() else {
        return;
    };
    let url = DatabaseUrl::Postgres(testing::fresh_postgres_database(&admin));
    let db = Database::open(&url, DatabaseOptions::default()).unwrap();
    assert_eq!(read_back(db).await, expected, "PostgreSQL");
}
