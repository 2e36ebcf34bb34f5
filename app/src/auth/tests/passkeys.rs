//! Passkeys (`Passkeys`).

use super::*;

#[tokio::test]
async fn a_passkey_counter_only_grows_even_when_two_sign_ins_overlap() {
    use crate::store::models::PasskeyRow;
    use crate::store::passkeys;
    let t = test_auth(SessionSettings::default());
    let ann = sign_up_ann(&t.auth).await;
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
        .core
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
        .core
        .db()
        .run(move |conn| {
            // An authenticator that does not count (synced passkeys) always sends 0.
            Ok(passkeys::record_use(conn, "cred-1", "{}", 0, true, now)?)
        })
        .await
        .unwrap();
    assert!(synced);
}
