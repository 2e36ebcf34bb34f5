//! How mail leaves: SMTP through `lettre` (rustls on aws-lc-rs), or, in development
//! without `SMTP_URL`, the development mailbox, which keeps each mail in the outbox for
//! `/dev/mailbox` to show.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::render::Rendered;

/// How long one SMTP conversation may take before the attempt counts as failed (and is
/// retried later): a hanging server must not stall the sender.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The ways mail can fail, for the sender to decide between retrying and giving up.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `SMTP_URL` cannot be used.
    #[error("SMTP_URL is not usable: {0}")]
    InvalidUrl(String),
    /// `SMTP_CA_FILE` cannot be used.
    #[error("SMTP_CA_FILE is not usable: {0}")]
    InvalidCa(String),
    /// `MAIL_FROM` or a recipient is not an address.
    #[error("not a usable e-mail address: {0}")]
    InvalidAddress(String),
    /// The server refused the mail for good (e.g. no such mailbox): retrying is useless.
    #[error("the mail server refused the message: {0}")]
    Rejected(String),
    /// The server could not be reached or answered with a temporary error: retry later.
    #[error("the mail server is unavailable: {0}")]
    Unavailable(String),
}

/// Where delivered mail goes.
#[derive(Clone)]
pub enum MailTransport {
    /// A real SMTP server (`SMTP_URL`), through a small connection pool.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Development without `SMTP_URL`: nothing leaves the machine; the outbox keeps each
    /// mail for `/dev/mailbox`.
    DevMailbox,
}

impl std::fmt::Debug for MailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SMTP URL may hold credentials: never printed.
        f.write_str(match self {
            Self::Smtp(_) => "MailTransport::Smtp",
            Self::DevMailbox => "MailTransport::DevMailbox",
        })
    }
}

impl MailTransport {
    /// An SMTP transport for `url` (call inside the tokio runtime: its connection pool
    /// runs a task): `smtps://user:pass@host:465` (TLS),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), or plain `smtp://host:port`
    /// (only for a server on the same machine or a test). The server's certificate must
    /// chain to a public root (webpki-roots) or, when given, to one of the PEM
    /// certificates in `ca_pem` (`SMTP_CA_FILE`: a private CA).
    pub fn smtp(url: &str, ca_pem: Option<&[u8]>) -> Result<Self, MailError> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::InvalidUrl(e.to_string()))?;
        if let Some(tls) = tls_for(url, ca_pem)? {
            builder = builder.tls(tls);
        }
        let transport = builder.timeout(Some(SMTP_TIMEOUT)).build();
        Ok(Self::Smtp(transport))
    }

    /// Whether delivered mail is kept for the development mailbox.
    pub fn keeps_copies(&self) -> bool {
        matches!(self, Self::DevMailbox)
    }

    /// Delivers `mail` from `from` to `to`.
    pub async fn send(&self, from: &Mailbox, to: &str, mail: &Rendered) -> Result<(), MailError> {
        let message = message(from, to, mail)?;
        match self {
            Self::Smtp(transport) => transport.send(message).await.map(drop).map_err(|e| {
                if e.is_permanent() {
                    MailError::Rejected(e.to_string())
                } else {
                    MailError::Unavailable(e.to_string())
                }
            }),
            Self::DevMailbox => Ok(()),
        }
    }
}

/// The TLS of `url` (as lettre reads it: `smtps` is TLS from the first byte,
/// `tls=required` is STARTTLS or nothing, `tls=opportunistic` STARTTLS if offered)
/// trusting the public roots and `ca_pem`'s certificates; `None` when `url` uses no TLS
/// and no CA is given.
fn tls_for(url: &str, ca_pem: Option<&[u8]>) -> Result<Option<Tls>, MailError> {
    let url = url::Url::parse(url).map_err(|e| MailError::InvalidUrl(e.to_string()))?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let mode = url
        .query_pairs()
        .find(|(key, _)| key == "tls")
        .map(|(_, mode)| mode.into_owned());
    let mut parameters = TlsParameters::builder(host);
    if let Some(pem) = ca_pem {
        let pem_text = String::from_utf8_lossy(pem);
        if !pem_text.contains("-----BEGIN CERTIFICATE-----") {
            return Err(MailError::InvalidCa("no PEM certificate in it".into()));
        }
        let certificates =
            Certificate::from_pem(pem).map_err(|e| MailError::InvalidCa(e.to_string()))?;
        parameters = parameters.add_root_certificate(certificates);
    }
    let parameters = || {
        parameters
            .build_rustls()
            .map_err(|e| MailError::InvalidCa(e.to_string()))
    };
    Ok(match (url.scheme(), mode.as_deref()) {
        ("smtps", _) => Some(Tls::Wrapper(parameters()?)),
        ("smtp", Some("required")) => Some(Tls::Required(parameters()?)),
        ("smtp", Some("opportunistic")) => Some(Tls::Opportunistic(parameters()?)),
        _ if ca_pem.is_some() => {
            return Err(MailError::InvalidCa(
                "SMTP_URL uses no TLS (smtps://, or ?tls=required for STARTTLS)".into(),
            ));
        }
        _ => None,
    })
}

/// A multipart/alternative message: plain text first, HTML second, as mail clients
/// expect.
pub fn message(from: &Mailbox, to: &str, mail: &Rendered) -> Result<Message, MailError> {
    let to: Mailbox = to
        .parse()
        .map_err(|_| MailError::InvalidAddress(to.to_owned()))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| MailError::InvalidAddress(e.to_string()))
}

/// Parses `MAIL_FROM` (`Gatehouse <no-reply@example.com>` or a bare address).
pub fn parse_from(value: &str) -> Result<Mailbox, MailError> {
    value
        .parse()
        .map_err(|_| MailError::InvalidAddress(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A runtime: the transport's connection pool starts a task of its own.
    #[tokio::test]
    async fn urls_for_tls_starttls_and_plain_smtp_are_accepted() {
        for url in [
            "smtps://user:pass@smtp.example.com:465",
            "smtp://user:pass@smtp.example.com:587?tls=required",
            "smtp://127.0.0.1:2525",
        ] {
            assert!(MailTransport::smtp(url, None).is_ok(), "{url}");
        }
        assert!(matches!(
            MailTransport::smtp("http://example.com", None),
            Err(MailError::InvalidUrl(_))
        ));
        let debug = format!(
            "{:?}",
            MailTransport::smtp("smtps://u:hunter2@h:465", None).unwrap()
        );
        assert!(!debug.contains("hunter2"));
    }

    // SMTP_CA_FILE: a file without a certificate, or beside an SMTP_URL without TLS,
    // stops the start rather than being ignored.
    #[tokio::test]
    async fn a_ca_file_must_hold_a_certificate_and_go_with_tls() {
        assert!(matches!(
            MailTransport::smtp("smtps://h:465", Some(b"not a certificate")),
            Err(MailError::InvalidCa(_))
        ));
        let mangled = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            MailTransport::smtp("smtps://h:465", Some(mangled)),
            Err(MailError::InvalidCa(_))
        ));
        assert!(matches!(
            MailTransport::smtp("smtp://127.0.0.1:2525", Some(mangled)),
            Err(MailError::InvalidCa(_))
        ));
    }

    #[test]
    fn messages_carry_both_bodies() {
        let from = parse_from("Gatehouse <no-reply@example.com>").unwrap();
        let mail = Rendered {
            subject: "Hi".into(),
            text: "plain words".into(),
            html: "<p>html words</p>".into(),
        };
        let raw = String::from_utf8(
            message(&from, "ann@example.com", &mail)
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("plain words") && raw.contains("html words"));
        assert!(matches!(
            message(&from, "not an address", &mail),
            Err(MailError::InvalidAddress(_))
        ));
    }
}
