//! A real SMTP server for the mail tests: Debian's `aiosmtpd` (`python3-aiosmtpd`,
//! installed by `make test`), run as its own process and writing every message it
//! accepts into a Maildir. Tests read the mail from there, as a person would read their
//! inbox, and can stop and restart the server to play an outage.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python that has `aiosmtpd` (Debian's, not a pyenv one on PATH).
fn python() -> String {
    std::env::var("GATEHOUSE_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".to_owned())
}

/// A running SMTP server on 127.0.0.1. Stopped when dropped.
pub struct SmtpServer {
    pub port: u16,
    /// `SMTP_URL` for Gatehouse: plain SMTP on loopback.
    pub url: String,
    maildir: tempfile::TempDir,
    child: Option<Child>,
}

/// One message as received.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope recipient.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The file it is in (for counting).
    pub file: PathBuf,
}

impl ReceivedMail {
    /// The first link in the plain-text body that carries a token.
    pub fn link(&self) -> String {
        self.text
            .split_whitespace()
            .find(|word| word.starts_with("http") && word.contains("token="))
            .unwrap_or_else(|| panic!("no link in:\n{}", self.text))
            .to_owned()
    }
}

impl SmtpServer {
    /// Starts it on a free port and waits until it accepts connections.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Self {
            port,
            url: format!("smtp://127.0.0.1:{port}"),
            maildir: tempfile::tempdir().unwrap(),
            child: None,
        };
        server.restart();
        server
    }

    fn inbox(&self) -> PathBuf {
        self.maildir.path().join("inbox")
    }

    /// Stops the server (connections are refused until [`SmtpServer::restart`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and Maildir.
    pub fn restart(&mut self) {
        self.stop();
        let child = Command::new(python())
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // A path that does not exist yet: Python's Maildir creates it with its
            // tmp/new/cur folders (it would not add them to an existing folder).
            .arg(self.inbox())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start aiosmtpd: install python3-aiosmtpd (make test does)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let Ok(entries) = std::fs::read_dir(self.inbox().join("new")) else {
            return Vec::new();
        };
        let mut mails: Vec<ReceivedMail> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| parse(entry.path()))
            .collect();
        // In the order they arrived (Maildir names do not sort by time).
        mails.sort_by_key(|m| {
            (
                std::fs::metadata(&m.file).and_then(|m| m.modified()).ok(),
                m.file.clone(),
            )
        });
        mails
    }

    /// The messages to `to`.
    pub fn messages_to(&self, to: &str) -> Vec<ReceivedMail> {
        self.messages().into_iter().filter(|m| m.to == to).collect()
    }

    /// Waits (up to `limit`) until `to` has received `count` messages whose subject
    /// contains `subject`; returns them.
    pub async fn wait_for(
        &self,
        to: &str,
        subject: &str,
        count: usize,
        limit: Duration,
    ) -> Vec<ReceivedMail> {
        let started = Instant::now();
        loop {
            let found: Vec<ReceivedMail> = self
                .messages_to(to)
                .into_iter()
                .filter(|m| m.subject.contains(subject))
                .collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                started.elapsed() < limit,
                "{to} got {} of {count} mails \"{subject}\" within {limit:?}; inbox: {:?}",
                found.len(),
                self.messages_to(to)
                    .iter()
                    .map(|m| &m.subject)
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The one message to `to` with `subject` (waits up to 10 s for it).
    pub async fn one(&self, to: &str, subject: &str) -> ReceivedMail {
        let mut found = self.wait_for(to, subject, 1, Duration::from_secs(10)).await;
        found.pop().unwrap()
    }
}

fn parse(file: PathBuf) -> Option<ReceivedMail> {
    let raw = std::fs::read(&file).ok()?;
    let message = mail_parser::MessageParser::default().parse(&raw)?;
    let to = message
        .header_raw("X-RcptTo")
        .map(|v| v.trim().to_owned())
        .or_else(|| {
            message
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .map(str::to_owned)
        })?;
    Some(ReceivedMail {
        to,
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).unwrap_or_default().into_owned(),
        html: message.body_html(0).unwrap_or_default().into_owned(),
        file,
    })
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
