//! The ways mail leaves in production, against a real SMTP server (aiosmtpd, driven by
//! `support/smtp_server.py`): TLS from the first byte and STARTTLS to a server whose
//! certificate a private CA issued (trusted through `SMTP_CA_FILE`, and refused without
//! it), AUTH PLAIN and AUTH LOGIN, a wrong password, and a recipient the server refuses
//! for good.

use crate::support;

use std::time::{Duration, Instant};

use app::store::schema::mail_outbox;
use diesel::prelude::*;
use support::smtp::{SmtpOptions, SmtpServer, SmtpTls, TestCa};
use support::{Client, TestServer};

const VERIFY: &str = "Confirm your e-mail address";
const USER: &str = "gatehouse";
const PASSWORD: &str = "smtp secret";
/// [`PASSWORD`] as `SMTP_URL` carries it (percent-encoded).
const PASSWORD_IN_URL: &str = "smtp%20secret";

/// A server in this process that mails through `smtp_url` (with `SMTP_CA_FILE` when
/// `ca` is given), with fast test hashing and a fast sender poll.
fn server(smtp_url: &str, ca: Option<&std::path::Path>) -> Client {
    let ca = ca.map(|path| path.to_str().unwrap().to_owned());
    let mut env = vec![
        ("INSECURE_FAST_PASSWORD_HASHING", "true"),
        ("SMTP_URL", smtp_url),
        ("PUBLIC_URL", "https://gatehouse.test"),
        ("MAIL_POLL_INTERVAL", "200ms"),
    ];
    if let Some(ca) = &ca {
        env.push(("SMTP_CA_FILE", ca));
    }
    Client::on(TestServer::start(&env))
}

/// An SMTP server that asks for AUTH with [`USER`] and [`PASSWORD`] by `mechanism` only,
/// over `tls` with `ca`'s certificate.
fn smtp_with_auth(ca: &TestCa, tls: SmtpTls, mechanism: &'static str) -> SmtpServer {
    SmtpServer::start_with(SmtpOptions {
        tls,
        certificate: ca.server_certificate(),
        user: Some((USER.into(), PASSWORD.into())),
        mechanisms: vec![mechanism],
        ..SmtpOptions::default()
    })
}

/// The outbox row of the mail to `to`: status, attempts, last error.
async fn outbox(client: &Client, to: &str) -> Option<(String, i32, Option<String>)> {
    let to = to.to_owned();
    client
        .db()
        .run(move |conn| {
            Ok(mail_outbox::table
                .filter(mail_outbox::recipient.eq(to))
                .select((
                    mail_outbox::status,
                    mail_outbox::attempts,
                    mail_outbox::last_error,
                ))
                .first(conn)
                .optional()?)
        })
        .await
        .unwrap()
}

/// Waits (up to 20 s) until the mail to `to` is in a state `done` accepts; returns it.
async fn wait_for_outbox(
    client: &Client,
    to: &str,
    done: impl Fn(&(String, i32, Option<String>)) -> bool,
) -> (String, i32, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = outbox(client, to).await;
        if let Some(row) = row.filter(|row| done(row)) {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "the mail to {to} is still {:?}",
            outbox(client, to).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// TLS from the first byte (`smtps://`) to a server whose certificate a private CA
/// issued: trusted through `SMTP_CA_FILE`, the mail goes out encrypted, after AUTH
/// PLAIN.
#[tokio::test]
async fn implicit_tls_to_a_private_ca_with_auth_plain_delivers() {
    let ca = TestCa::new();
    let smtp = smtp_with_auth(&ca, SmtpTls::Implicit, "PLAIN");
    let url = format!("smtps://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{}", smtp.port);
    let client = server(&url, Some(&ca.ca_file));
    client.sign_up("ann@example.com").await;
    let mail = smtp.one("ann@example.com", VERIFY).await;
    assert_eq!(mail.tls.as_deref(), Some("yes"));
    assert_eq!(mail.auth.as_deref(), Some("PLAIN gatehouse"));
    let (status, attempts, _) =
        wait_for_outbox(&client, "ann@example.com", |r| r.0 != "pending").await;
    assert_eq!((status.as_str(), attempts), ("sent", 1));
}

/// STARTTLS (`?tls=required`) to a server whose certificate a private CA issued: the
/// conversation turns to TLS before anything is sent, and AUTH LOGIN is used when it is
/// the only mechanism offered.
#[tokio::test]
async fn starttls_to_a_private_ca_with_auth_login_delivers() {
    let ca = TestCa::new();
    let smtp = smtp_with_auth(&ca, SmtpTls::StartTls, "LOGIN");
    let url = format!(
        "smtp://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{}?tls=required",
        smtp.port
    );
    let client = server(&url, Some(&ca.ca_file));
    client.sign_up("ann@example.com").await;
    let mail = smtp.one("ann@example.com", VERIFY).await;
    assert_eq!(mail.tls.as_deref(), Some("yes"));
    assert_eq!(mail.auth.as_deref(), Some("LOGIN gatehouse"));
}

/// Certificate checking: a server whose certificate chains to no trusted root (no
/// `SMTP_CA_FILE`, or one naming another CA) gets no mail, over either kind of TLS;
/// the mail waits in the outbox for a retry with the reason recorded.
#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_is_refused_and_the_mail_waits() {
    let ca = TestCa::new();
    let other_ca = TestCa::new();
    for (tls, scheme, query, trusted) in [
        (SmtpTls::Implicit, "smtps", "", None),
        (
            SmtpTls::StartTls,
            "smtp",
            "?tls=required",
            Some(&other_ca.ca_file),
        ),
    ] {
        let smtp = SmtpServer::start_with(SmtpOptions {
            tls,
            certificate: ca.server_certificate(),
            ..SmtpOptions::default()
        });
        let url = format!("{scheme}://127.0.0.1:{}{query}", smtp.port);
        let client = server(&url, trusted.map(|p| p.as_path()));
        client.sign_up("ann@example.com").await;
        let (status, _, error) =
            wait_for_outbox(&client, "ann@example.com", |r| r.2.is_some()).await;
        assert_eq!(status, "pending", "{tls:?}: retried later, not given up");
        let error = error.unwrap();
        assert!(
            error.to_lowercase().contains("certificate"),
            "{tls:?}: {error}"
        );
        assert!(smtp.messages().is_empty(), "{tls:?}: mail was sent");
    }
}

/// AUTH: a wrong SMTP password is refused by the server, and the mail is not marked
/// sent (nor received).
#[tokio::test]
async fn a_wrong_smtp_password_is_refused_and_the_mail_is_not_marked_sent() {
    let ca = TestCa::new();
    let smtp = smtp_with_auth(&ca, SmtpTls::StartTls, "PLAIN");
    let url = format!("smtp://{USER}:wrong@127.0.0.1:{}?tls=required", smtp.port);
    let client = server(&url, Some(&ca.ca_file));
    client.sign_up("ann@example.com").await;
    let (status, attempts, error) =
        wait_for_outbox(&client, "ann@example.com", |r| r.2.is_some()).await;
    assert_ne!(status, "sent");
    assert!(attempts >= 1);
    let error = error.unwrap();
    assert!(error.contains("535"), "{error}");
    assert!(smtp.messages().is_empty());
}

/// A permanent refusal (`550 no such mailbox`) is not retried: the mail is given up
/// after its one attempt, with the server's answer recorded, while other mail flows.
#[tokio::test]
async fn a_permanent_refusal_is_given_up_after_one_attempt_and_recorded() {
    let smtp = SmtpServer::start_with(SmtpOptions {
        reject: Some("bob@example.com".into()),
        ..SmtpOptions::default()
    });
    let client = server(&smtp.url, None);
    client.sign_up("bob@example.com").await;
    let (status, attempts, error) =
        wait_for_outbox(&client, "bob@example.com", |r| r.0 != "pending").await;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    let error = error.unwrap();
    assert!(error.contains("550"), "{error}");

    // Later mail goes out (the sender has run since), and Bob's was not tried again.
    client.sign_up("carol@example.com").await;
    smtp.one("carol@example.com", VERIFY).await;
    assert_eq!(smtp.rejected(), ["bob@example.com"]);
    assert_eq!(
        outbox(&client, "bob@example.com").await.unwrap().1,
        1,
        "not retried"
    );
}
