//! The devices page (`Devices`).

use super::*;

#[tokio::test]
async fn devices_are_listed_current_first_then_by_last_activity() {
    let t = test_auth(SessionSettings::default());
    sign_up_ann(&t.auth).await;
    let firefox = log_in_ann(&t.auth, ua(FIREFOX)).await;
    let current = t
        .auth
        .core
        .authenticate(firefox.access.token.expose())
        .unwrap();
    let devices = t.auth.devices.list_devices(&current).await.unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0].id, firefox.session_id);
    assert!(devices[0].current && !devices[1].current);
    assert_eq!(devices[0].label, "Firefox 133 on Windows 10");
    assert_eq!(devices[1].label, "Chrome 131 on Linux");
}

#[tokio::test]
async fn revoking_other_users_device_is_not_found_and_changes_nothing() {
    let t = test_auth(SessionSettings::default());
    let ann = sign_up_ann(&t.auth).await;
    let bob = t
        .auth
        .sessions
        .sign_up("bob@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let ann_session = t.auth.core.authenticate(ann.access.token.expose()).unwrap();
    let err = t
        .auth
        .devices
        .revoke_device(&ann_session, &bob.session_id, client())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::NotFound), "{err:?}");
    let err = t
        .auth
        .devices
        .revoke_device(&ann_session, "no-such-session", client())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::NotFound), "{err:?}");
    t.auth
        .core
        .authenticate(bob.access.token.expose())
        .expect("bob is still signed in");
}

#[tokio::test]
async fn a_revoked_device_is_refused_on_its_very_next_request() {
    let t = test_auth(SessionSettings::default());
    let laptop = sign_up_ann(&t.auth).await;
    let phone = log_in_ann(&t.auth, ua(FIREFOX)).await;
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
    assert!(matches!(
        t.auth.core.authenticate(phone.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    let refresh = phone.refresh.unwrap().token;
    assert!(matches!(
        t.auth.sessions.refresh(&refresh, ua(FIREFOX)).await,
        Err(AuthError::SessionEnded)
    ));
    assert_eq!(count_events(&t.auth, EventKind::DeviceSignedOut).await, 1);
    t.auth
        .core
        .authenticate(laptop.access.token.expose())
        .expect("the laptop stays signed in");
}

#[tokio::test]
async fn signing_out_all_other_devices_keeps_only_this_one() {
    let t = test_auth(SessionSettings::default());
    let this = sign_up_ann(&t.auth).await;
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(log_in_ann(&t.auth, ua(FIREFOX)).await);
    }
    let current = t
        .auth
        .core
        .authenticate(this.access.token.expose())
        .unwrap();
    assert_eq!(
        t.auth
            .devices
            .revoke_other_devices(&current, client())
            .await
            .unwrap(),
        3
    );
    for other in &others {
        assert!(matches!(
            t.auth.core.authenticate(other.access.token.expose()),
            Err(AuthError::SessionRevoked)
        ));
    }
    assert_eq!(
        t.auth.devices.list_devices(&current).await.unwrap().len(),
        1
    );
    assert_eq!(
        t.auth
            .devices
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
    let oldest = sign_up_ann(&t.auth).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = log_in_ann(&t.auth, client()).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let third = log_in_ann(&t.auth, client()).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    // The oldest one is used again, so the second is now the least recently active.
    t.auth
        .sessions
        .refresh(&oldest.refresh.clone().unwrap().token, client())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let fourth = log_in_ann(&t.auth, client()).await;

    assert!(matches!(
        t.auth.core.authenticate(second.access.token.expose()),
        Err(AuthError::SessionRevoked)
    ));
    for kept in [&third, &fourth] {
        t.auth
            .core
            .authenticate(kept.access.token.expose())
            .unwrap();
    }
    assert_eq!(count_events(&t.auth, EventKind::SessionEvicted).await, 1);
    let current = t
        .auth
        .core
        .authenticate(fourth.access.token.expose())
        .unwrap();
    assert_eq!(
        t.auth.devices.list_devices(&current).await.unwrap().len(),
        3
    );
}

#[tokio::test]
async fn the_first_sign_in_from_a_kind_of_device_is_flagged_as_new() {
    let t = test_auth(SessionSettings::default());
    sign_up_ann(&t.auth).await;
    log_in_ann(&t.auth, client()).await;
    log_in_ann(&t.auth, ua(FIREFOX)).await;
    assert_eq!(
        count_events(&t.auth, EventKind::NewDeviceSignIn).await,
        1,
        "only Firefox: sign-up is the first sign-in, not news"
    );
    assert_eq!(count_events(&t.auth, EventKind::SignedIn).await, 2);
}
