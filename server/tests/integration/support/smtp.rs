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
    options: Option<SmtpOptions>,
}

/// How a server started with [`SmtpServer::start_with`] (our script,
/// `smtp_server.py`, on aiosmtpd) differs from the plain one.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    pub tls: SmtpTls,
    /// The certificate (chain, PEM) and key it presents for TLS.
    pub certificate: Option<(PathBuf, PathBuf)>,
    /// AUTH is required, for this user and password.
    pub user: Option<(String, String)>,
    /// The AUTH mechanisms it offers (`LOGIN`, `PLAIN`); both when empty.
    pub mechanisms: Vec<&'static str>,
    /// A recipient it refuses for good (`550 5.1.1`).
    pub reject: Option<String>,
}

/// The TLS a test SMTP server speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SmtpTls {
    #[default]
    None,
    /// TLS from the first byte (`smtps://`, port 465 in production).
    Implicit,
    /// Plain text until STARTTLS (`?tls=required`, port 587 in production).
    StartTls,
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
    /// How it arrived, from a server started with [`SmtpServer::start_with`]: `yes` if
    /// over TLS, else `no`.
    pub tls: Option<String>,
    /// The AUTH mechanism and user it was sent under (`LOGIN ann`), or `none`.
    pub auth: Option<String>,
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
            options: None,
        };
        server.restart();
        server
    }

    /// Starts our script with `options` (see [`SmtpOptions`]); `url` is still plain
    /// SMTP, the tests write the one they mean.
    pub fn start_with(options: SmtpOptions) -> Self {
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
            options: Some(options),
        };
        server.restart();
        server
    }

    /// The recipients it has refused with 550, one line each.
    pub fn rejected(&self) -> Vec<String> {
        std::fs::read_to_string(self.maildir.path().join("rejected"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn command(&self) -> Command {
        let mut command = Command::new(python());
        let Some(options) = &self.options else {
            command
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{}", self.port))
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                // A path that does not exist yet: Python's Maildir creates it with its
                // tmp/new/cur folders (it would not add them to an existing folder).
                .arg(self.inbox());
            return command;
        };
        command
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/integration/support/smtp_server.py"
            ))
            .arg(format!("--listen=127.0.0.1:{}", self.port))
            .arg("--maildir")
            .arg(self.inbox());
        if let Some((cert, key)) = &options.certificate {
            command.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        match options.tls {
            SmtpTls::None => {}
            SmtpTls::Implicit => {
                command.arg("--implicit-tls");
            }
            SmtpTls::StartTls => {
                command.arg("--starttls");
            }
        }
        if let Some((user, password)) = &options.user {
            command.arg(format!("--user={user}"));
            command.arg(format!("--password={password}"));
        }
        if !options.mechanisms.is_empty() {
            command.arg(format!("--mechanisms={}", options.mechanisms.join(",")));
        }
        if let Some(address) = &options.reject {
            command.arg(format!("--reject={address}"));
        }
        command
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
        let child = self
            .command()
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
        tls: message
            .header_raw("X-Test-TLS")
            .map(|v| v.trim().to_owned()),
        auth: message
            .header_raw("X-Test-Auth")
            .map(|v| v.trim().to_owned()),
        file,
    })
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A private certificate authority and a certificate it issued for `localhost` and
/// `127.0.0.1`, made with the `openssl` command in a temporary folder: what a mail
/// server inside a company might present.
pub struct TestCa {
    dir: tempfile::TempDir,
    /// The authority's certificate (PEM): what `SMTP_CA_FILE` names.
    pub ca_file: PathBuf,
    /// The server's certificate (PEM) and key.
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl TestCa {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        std::fs::write(
            path("server.ext"),
            "basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\n\
             subjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            dir.path(),
            &["req", "-x509"],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=Gatehouse test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        openssl(
            dir.path(),
            &["req"],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        );
        openssl(
            dir.path(),
            &["x509", "-req"],
            &[],
            &[
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        );
        Self {
            ca_file: path("ca.pem"),
            cert_file: path("server.pem"),
            key_file: path("server.key"),
            dir,
        }
    }

    /// The server's certificate and key, for [`SmtpOptions::certificate`].
    pub fn server_certificate(&self) -> Option<(PathBuf, PathBuf)> {
        Some((self.cert_file.clone(), self.key_file.clone()))
    }
}

fn openssl(dir: &std::path::Path, command: &[&str], key: &[&str], args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(command)
        .args(key)
        .args(args)
        .output()
        .expect("the openssl command makes the test certificates");
    assert!(
        output.status.success(),
        "openssl {command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
