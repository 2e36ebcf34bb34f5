//! Mail and account recovery (`Recovery`, the outbox and its sender). ARCHITECTURE: "Mail and account recovery".

use super::*;

#[tokio::test]
async fn mail_is_queued_with_its_change_and_only_if_that_commits() {
    let t = test_auth(SessionSettings::default());
    sign_up_ann(&t.auth).await;
    assert_eq!(
        rows(&t.auth, "mail_outbox", "kind = 'email_verification'").await,
        1
    );
    let taken = t
        .auth
        .sessions
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
    sign_up_ann(&t.auth).await;
    t.auth
        .recovery
        .request_password_reset("ann@example.com", client())
        .await
        .unwrap();
    t.auth
        .recovery
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
        .core
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
        .sessions
        .register("ann@example.com", "correct horse".into(), client())
        .await
        .unwrap();
    let again = t
        .auth
        .sessions
        .register("ann@example.com", "another password".into(), client())
        .await
        .unwrap();
    assert!(matches!(
        first,
        crate::auth::sessions::Registered::CheckInbox
    ));
    assert!(matches!(
        again,
        crate::auth::sessions::Registered::CheckInbox
    ));
    assert_eq!(
        rows(&t.auth, "mail_outbox", "kind = 'address_in_use'").await,
        1
    );
    let login = t
        .auth
        .sessions
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
    sign_up_ann(&t.auth).await;
    t.auth
        .recovery
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

#[tokio::test]
async fn a_link_mail_voided_while_the_sender_holds_it_is_not_sent() {
    let t = test_auth(SessionSettings::default());
    let ann = sign_up_ann(&t.auth).await;
    let current = t.auth.core.authenticate(ann.access.token.expose()).unwrap();
    t.auth
        .accounts
        .request_email_change(&current, "mallory@evil.test", client())
        .await
        .unwrap();
    // The sender claims the mail (as a round of deliveries does) ...
    let now = Utc::now().naive_utc();
    let claimed = t
        .auth
        .core
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
        .accounts
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
