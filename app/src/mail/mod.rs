//! Mail: what Gatehouse writes to people, how it is rendered, and how it reaches them.
//! Server-only (`ssr`). ARCHITECTURE: "Mail and account recovery".
//!
//! Which mail the domain sends, and the facts it names, are the domain's
//! ([`crate::auth::notices`]). A change that causes a mail queues it in the
//! `mail_outbox` table inside its own transaction (`store::outbox::queue`); a background [`sender::MailSender`] delivers it through a
//! [`transport::MailTransport`] (SMTP, or the development mailbox), with retries. So a
//! request never waits on SMTP, and an outage delays mail but loses none.

pub mod render;
pub mod sender;
pub mod transport;

/// How long pending mail is retried before the sender gives up on it.
pub const DELIVERY_DEADLINE: chrono::Duration = chrono::Duration::days(2);
