//! The background sender: takes due mails from the outbox, makes their links, renders
//! and delivers them, and retries with backoff when the mail server is away.
//!
//! Delivery is at least once: a mail is marked sent after the server accepted it, so a
//! crash between the two sends it again after its lease runs out. Every instance may run
//! a sender; a claimed mail is leased to one of them (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), so parallel senders never take the same mail.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use lettre::message::Mailbox;
use tokio::sync::Notify;

use super::DELIVERY_DEADLINE;
use super::render::{MailContext, render};
use super::transport::{MailError, MailTransport};
use crate::auth::email_link::{LinkPurpose, LinkToken};
use crate::auth::notices::{MailFacts, MailKind};
use crate::store::models::{EmailToken, OutboxMail};
use crate::store::outbox::{self, Copy};
use crate::store::{Database, DbConnection, DbError, QueryResult, accounts, email_tokens};

/// Mails claimed per round.
const BATCH: i64 = 10;
/// How long a claimed mail is reserved for the sender that took it: longer than a batch
/// of SMTP conversations can take ([`super::transport::SMTP_TIMEOUT`] each).
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// The longest wait between two attempts at one mail.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);

/// Waits before attempt `attempts + 1`: 1 s, 2 s, 4 s… up to five minutes, so a short
/// outage costs seconds and a long one costs the server little.
pub fn retry_delay(attempts: i32) -> Duration {
    let exponent = attempts.clamp(1, 20) as u32 - 1;
    Duration::from_secs(1u64 << exponent).min(MAX_RETRY_DELAY)
}

/// What one round of deliveries did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Accepted by the mail server (or kept by the development mailbox).
    pub sent: usize,
    /// Nothing to send after all (a reset for an address without an account, a
    /// verification of an address already verified or changed).
    pub dropped: usize,
    /// To be tried again later.
    pub retrying: usize,
    /// Given up: refused for good, or undeliverable past the deadline.
    pub failed: usize,
}

/// Delivers the outbox. One per process; see the module comment.
#[derive(Debug, Clone)]
pub struct MailSender {
    db: Database,
    transport: MailTransport,
    from: Mailbox,
    public_url: String,
    wake: Arc<Notify>,
}

/// What to do with a claimed mail once its link (if any) is made.
enum Prepared {
    Send { link: Option<String> },
    Drop(&'static str),
}

impl MailSender {
    /// A sender delivering through `transport` as `from`, with links under `public_url`.
    /// `wake` is notified by requests that queued mail, so it goes out at once.
    pub fn new(
        db: Database,
        transport: MailTransport,
        from: Mailbox,
        public_url: &str,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            db,
            transport,
            from,
            public_url: public_url.trim_end_matches('/').to_owned(),
            wake,
        }
    }

    /// Whether mail stays in the development mailbox instead of leaving.
    pub fn keeps_copies(&self) -> bool {
        self.transport.keeps_copies()
    }

    /// Delivers due mail now and whenever woken, and at least every `poll` (mail queued
    /// by other instances, and retries), for the life of the process.
    pub async fn run(self, poll: Duration) {
        let mut failing = false;
        loop {
            match self.deliver_due().await {
                Ok(report) => {
                    if std::mem::take(&mut failing) {
                        tracing::info!("mail sender resumed");
                    }
                    if report != Delivered::default() {
                        tracing::info!(?report, "mail delivered");
                    }
                }
                Err(err) if !failing => {
                    failing = true;
                    tracing::warn!(error = %err, "mail sender cannot reach the database; retrying");
                }
                Err(_) => {}
            }
            let _ = tokio::time::timeout(poll, self.wake.notified()).await;
        }
    }

    /// Delivers every mail that is due, in rounds of [`BATCH`].
    pub async fn deliver_due(&self) -> Result<Delivered, DbError> {
        let mut report = Delivered::default();
        loop {
            let now = now();
            let claimed = self
                .db
                .run(move |conn| {
                    Ok(conn.write_transaction(|conn| {
                        outbox::claim_due(conn, now, now + LEASE, BATCH)
                    })?)
                })
                .await?;
            let full = claimed.len() as i64 == BATCH;
            for mail in claimed {
                self.deliver(mail, &mut report).await?;
            }
            if !full {
                return Ok(report);
            }
        }
    }

    pub(crate) async fn deliver(
        &self,
        mail: OutboxMail,
        report: &mut Delivered,
    ) -> Result<(), DbError> {
        let Ok(kind) = mail.kind.parse::<MailKind>() else {
            report.failed += 1;
            return self
                .finish(&mail.id, "failed", Some("unknown kind"), None)
                .await;
        };
        let facts: MailFacts = serde_json::from_str(&mail.data).unwrap_or_default();
        let link = match kind.link() {
            None => None,
            Some(purpose) => {
                let (job, public_url) = (mail.clone(), self.public_url.clone());
                let prepared = self
                    .db
                    .run(move |conn| {
                        Ok(conn.write_transaction(|conn| {
                            prepare_link(conn, &job, purpose, &public_url, now())
                        })?)
                    })
                    .await?;
                match prepared {
                    Prepared::Send { link } => link,
                    Prepared::Drop(reason) => {
                        report.dropped += 1;
                        return self.finish(&mail.id, "dropped", Some(reason), None).await;
                    }
                }
            }
        };
        let rendered = render(
            kind,
            &MailContext {
                recipient: &mail.recipient,
                facts: &facts,
                at: mail.created_at,
                link: link.as_deref(),
                public_url: &self.public_url,
            },
        );
        match self
            .transport
            .send(&self.from, &mail.recipient, &rendered)
            .await
        {
            Ok(()) => {
                report.sent += 1;
                let copy = self.transport.keeps_copies().then_some(Copy {
                    subject: rendered.subject,
                    text: rendered.text,
                    html: rendered.html,
                });
                self.finish(&mail.id, "sent", None, copy).await
            }
            Err(MailError::Unavailable(reason)) if now() - mail.created_at < DELIVERY_DEADLINE => {
                report.retrying += 1;
                let at = now()
                    + chrono::Duration::from_std(retry_delay(mail.attempts)).unwrap_or_default();
                tracing::debug!(id = %mail.id, attempts = mail.attempts, %reason, "mail will be retried");
                let id = mail.id.clone();
                self.db
                    .run(move |conn| Ok(outbox::retry_at(conn, &id, at, &reason)?))
                    .await
            }
            Err(err) => {
                report.failed += 1;
                tracing::warn!(id = %mail.id, kind = mail.kind, error = %err, "mail given up");
                self.finish(&mail.id, "failed", Some(&err.to_string()), None)
                    .await
            }
        }
    }

    async fn finish(
        &self,
        id: &str,
        status: &'static str,
        error: Option<&str>,
        copy: Option<Copy>,
    ) -> Result<(), DbError> {
        let (id, error) = (id.to_owned(), error.map(str::to_owned));
        self.db
            .run(move |conn| {
                Ok(outbox::finish(
                    conn,
                    &id,
                    status,
                    now(),
                    error.as_deref(),
                    copy,
                )?)
            })
            .await
    }
}

/// Makes the link of a link mail at delivery, so the token is never stored in the
/// clear, and decides whether there is anything to send: a reset for an address without
/// an account, or a verification that is no longer needed, is dropped without a word
/// (the request that queued it answered the same either way).
fn prepare_link(
    conn: &mut DbConnection,
    mail: &OutboxMail,
    purpose: LinkPurpose,
    public_url: &str,
    now: NaiveDateTime,
) -> QueryResult<Prepared> {
    // Dropped since it was claimed (its account's links were voided): no link is made.
    if outbox::lock_status(conn, &mail.id)?.as_deref() != Some(outbox::PENDING) {
        return Ok(Prepared::Drop("voided"));
    }
    let user = match purpose {
        LinkPurpose::PasswordReset => accounts::find_by_email(conn, &mail.recipient)?,
        _ => match &mail.user_id {
            Some(id) => accounts::find_by_id(conn, id)?,
            None => None,
        },
    };
    let Some(user) = user else {
        return Ok(Prepared::Drop("no account"));
    };
    if purpose == LinkPurpose::EmailVerification
        && (user.email != mail.recipient || user.email_verified_at.is_some())
    {
        return Ok(Prepared::Drop("no longer needed"));
    }
    let token = issue_link(conn, &user.id, purpose, &mail.recipient, now)?;
    Ok(Prepared::Send {
        link: Some(format!(
            "{public_url}{}?{}={}",
            purpose.page().path(),
            crate::paths::param::TOKEN,
            token.expose()
        )),
    })
}

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Issues the link a mail carries, at delivery: a new link token of `purpose` for `user_id`, sent to `email`, voiding the
/// account's earlier unused links of that purpose. Runs inside the
/// sender's transaction. (Checking and redeeming links is the domain's:
/// `auth::email_link`.)
fn issue_link(
    conn: &mut DbConnection,
    user_id: &str,
    purpose: LinkPurpose,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<LinkToken> {
    email_tokens::void_unused(conn, user_id, &[purpose.as_str()])?;
    let token = LinkToken::generate();
    email_tokens::insert(
        conn,
        &EmailToken {
            token_hash: token.hash(),
            user_id: user_id.to_owned(),
            purpose: purpose.as_str().to_owned(),
            email: email.to_owned(),
            created_at: now,
            expires_at: now + chrono::Duration::from_std(purpose.lifetime()).unwrap_or_default(),
            used_at: None,
        },
    )?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_five_minutes() {
        let delays: Vec<u64> = (1..=12).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(retry_delay(0), Duration::from_secs(1));
        assert_eq!(retry_delay(i32::MAX), MAX_RETRY_DELAY);
    }
}
