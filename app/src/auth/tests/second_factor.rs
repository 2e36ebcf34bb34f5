//! Two-step sign-in (`SecondFactor`). ARCHITECTURE: "Second factor and sudo mode".

use super::*;

#[tokio::test]
async fn cleanup_removes_unconfirmed_enrolments_and_keeps_confirmed_factors() {
    let t = test_auth(SessionSettings::default());
    let ann = sign_up_ann(&t.auth).await;
    let current = t.auth.core.authenticate(ann.access.token.expose()).unwrap();
    t.auth
        .second_factor
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

#[tokio::test]
async fn after_a_key_rotation_the_authenticator_and_recovery_codes_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let url = testing::scratch_database(dir.path());
    let service = |keys: KeySet| {
        let db = Database::open(&url, DatabaseOptions::default()).unwrap();
        let tokens = AccessTokens::new(keys, "http://gatehouse.test", Duration::from_secs(900));
        let passwords = Passwords::new(Params::new(1024, 1, 1, None).unwrap(), 2);
        Auth::new(db, passwords, tokens, SessionSettings::default())
    };
    let (old_key, _) = SigningKey::generate();
    let (new_key, _) = SigningKey::generate();
    let before = service(KeySet::new(old_key.clone(), vec![]));
    let ann = sign_up_ann(&before).await;
    let current = before.core.authenticate(ann.access.token.expose()).unwrap();
    let enrolment = before
        .second_factor
        .begin_totp(&current, "ann@example.com")
        .await
        .unwrap();
    let codes = before
        .second_factor
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
