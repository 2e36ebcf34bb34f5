//! The account's settings (`Accounts`).

use super::*;

#[tokio::test]
async fn changing_the_password_signs_out_every_other_device() {
    let t = test_auth(SessionSettings::default());
    let this = sign_up_ann(&t.auth).await;
    let other = log_in_ann(&t.auth, ua(FIREFOX)).await;
    let current = t
        .auth
        .core
        .authenticate(this.access.token.expose())
        .unwrap();

    // A proof of identity offered for a sensitive action is checked, sudo mode or not.
    let wrong = t
        .auth
        .second_factor
        .require_sudo(
            &current,
            crate::auth::second_factor::Proof::from_fields(Some("not it at all".into()), None),
        )
        .await;
    assert!(matches!(wrong, Err(AuthError::WrongPassword)), "{wrong:?}");
    let short = t
        .auth
        .accounts
        .change_password(&current, "short".into(), client())
        .await;
    assert!(
        matches!(short, Err(AuthError::PasswordPolicy(_))),
        "{short:?}"
    );

    let count = t
        .auth
        .accounts
        .change_password(&current, "new password 1".into(), client())
        .await
        .unwrap();
    assert_eq!(count, 1);
    assert!(matches!(
        t.auth.core.authenticate(other.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    t.auth
        .core
        .authenticate(this.access.token.expose())
        .expect("this device stays signed in");
    assert!(
        t.auth
            .sessions
            .log_in("ann@example.com", "correct horse".into(), client())
            .await
            .is_err()
    );
    t.auth
        .sessions
        .log_in("ann@example.com", "new password 1".into(), client())
        .await
        .unwrap();
    assert_eq!(count_events(&t.auth, EventKind::PasswordChanged).await, 1);
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_removes_everything() {
    let t = test_auth(SessionSettings::default());
    let this = sign_up_ann(&t.auth).await;
    let other = log_in_ann(&t.auth, ua(FIREFOX)).await;
    let current = t
        .auth
        .core
        .authenticate(this.access.token.expose())
        .unwrap();
    assert!(matches!(
        t.auth
            .second_factor
            .require_sudo(
                &current,
                crate::auth::second_factor::Proof::from_fields(Some("wrong one!".into()), None),
            )
            .await,
        Err(AuthError::WrongPassword)
    ));
    t.auth
        .accounts
        .delete_account(&current, client())
        .await
        .unwrap();

    for token in [this.access.token.expose(), other.access.token.expose()] {
        assert!(matches!(
            t.auth.core.authenticate(token),
            Err(AuthError::SessionRevoked)
        ));
    }
    assert!(matches!(
        t.auth
            .sessions
            .log_in("ann@example.com", "correct horse".into(), client())
            .await,
        Err(AuthError::InvalidCredentials)
    ));
    let (sessions, events) = t
        .auth
        .core
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
    sign_up_ann(&t.auth).await;
}

#[tokio::test]
async fn activity_lists_events_newest_first_and_pages_back() {
    let t = test_auth(SessionSettings::default());
    let this = sign_up_ann(&t.auth).await;
    for _ in 0..60 {
        let s = log_in_ann(&t.auth, client()).await;
        t.auth
            .sessions
            .log_out(Some(s.session_id), None, client())
            .await
            .unwrap();
    }
    let current = t
        .auth
        .core
        .authenticate(this.access.token.expose())
        .unwrap();
    let first = t.auth.accounts.activity(&current, None).await.unwrap();
    let page = crate::auth::account::ACTIVITY_PAGE as usize;
    assert_eq!(
        first.entries.len(),
        page,
        "a page holds ACTIVITY_PAGE events"
    );
    assert!(first.older.is_some(), "and says there is more");
    assert_eq!(first.entries[0].kind, EventKind::SignedOut);
    assert!(
        first.entries.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    // Walk every page the way the activity page does.
    let (mut seen, mut cursor) = (0, None::<String>);
    loop {
        let activity = t
            .auth
            .accounts
            .activity(&current, cursor.clone())
            .await
            .unwrap();
        if let Some(before) = &cursor {
            assert!(
                activity.entries.iter().all(|e| &e.id < before),
                "a page only holds older events"
            );
        }
        seen += activity.entries.len();
        match activity.older {
            Some(older) => {
                assert_eq!(activity.entries.len(), page);
                assert_eq!(Some(&older), activity.entries.last().map(|e| &e.id));
                cursor = Some(older);
            }
            None => break,
        }
    }
    assert_eq!(seen, 121, "1 sign-up + 60 sign-ins + 60 sign-outs");
}

#[tokio::test]
async fn a_password_change_from_a_device_signed_out_meanwhile_changes_nothing() {
    let t = test_auth(SessionSettings::default());
    let laptop = sign_up_ann(&t.auth).await;
    let phone = log_in_ann(&t.auth, ua(FIREFOX)).await;
    // The phone's request was checked (its token is fine), then the laptop signed it
    // out while the new hash was being made.
    let from_phone = t
        .auth
        .core
        .authenticate(phone.access.token.expose())
        .unwrap();
    let from_laptop = t
        .auth
        .core
        .authenticate(laptop.access.token.expose())
        .unwrap();
    t.auth
        .devices
        .revoke_device(&from_laptop, &phone.session_id, client())
        .await
        .unwrap();
    let changed = t
        .auth
        .accounts
        .change_password(&from_phone, "the thief's password".into(), client())
        .await;
    assert!(
        matches!(changed, Err(AuthError::SessionRevoked)),
        "{changed:?}"
    );
    t.auth
        .sessions
        .log_in("ann@example.com", "correct horse".into(), client())
        .await
        .expect("the password is still ann's");
}
