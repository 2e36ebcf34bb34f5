//! Why the server could not start.

use std::net::SocketAddr;

/// A start-up failure. `main` prints it as one line and exits with status 1, so an
/// operator sees the cause at once instead of a panic and a backtrace.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The log filter in `LOG_LEVEL` does not parse.
    #[error("LOG_LEVEL {value:?} is not a valid log filter: {reason}")]
    LogLevel {
        /// The filter as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The data directory cannot be created.
    #[error("cannot create the data directory {}: {source}", path.display())]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why the operating system refused.
        source: std::io::Error,
    },

    /// The database URL is wrong, or the database cannot be opened or migrated.
    #[error(transparent)]
    Database(#[from] app::store::DbError),

    /// A signing or verification key is malformed.
    #[error(transparent)]
    Key(#[from] app::auth::keys::KeyError),

    /// A key file cannot be read.
    #[error("cannot read the key file {}: {source}", path.display())]
    KeyFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// Production mode without a configured signing key.
    #[error(
        "production mode needs a signing key: set JWT_SIGNING_KEY_FILE (create one with `server keygen --out FILE`) or JWT_SIGNING_KEY"
    )]
    MissingSigningKey,

    /// Weak test-only password hashing asked for in production.
    #[error("INSECURE_FAST_PASSWORD_HASHING is for test suites and is refused in production mode")]
    InsecureHashingInProduction,

    /// `OIDC_PROVIDERS_FILE` cannot be read or is refused.
    #[error("OIDC_PROVIDERS_FILE: {0}")]
    OidcProviders(#[from] app::oidc::config::ConfigError),

    /// The OpenID providers cannot be set up.
    #[error(transparent)]
    OidcSetup(#[from] app::oidc::SetupError),

    /// Production mode without a mail server.
    #[error(
        "production mode needs a mail server for account recovery: set SMTP_URL (e.g. smtps://USER:PASSWORD@smtp.example.com:465)"
    )]
    MissingSmtpUrl,

    /// Production mode without the public address that links in mails point to.
    #[error(
        "production mode needs PUBLIC_URL, the address people reach Gatehouse at (e.g. https://auth.example.com)"
    )]
    MissingPublicUrl,

    /// `PUBLIC_URL` is not an http(s) URL.
    #[error("PUBLIC_URL {0:?} is not an http:// or https:// URL")]
    PublicUrl(String),

    /// `SMTP_URL` or `MAIL_FROM` cannot be used.
    #[error(transparent)]
    Mail(#[from] app::mail::transport::MailError),

    /// The revocation list could not be loaded.
    #[error("cannot load the revocation list: {0}")]
    Revocations(app::auth::error::AuthError),

    /// The listening address is taken or not ours to use.
    #[error("cannot listen on {addr}: {}", describe_bind_error(source))]
    Bind {
        /// The address from `LEPTOS_SITE_ADDR`.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },

    /// The server stopped with an I/O error while serving.
    #[error("the server stopped unexpectedly: {0}")]
    Serve(std::io::Error),
}

fn describe_bind_error(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::AddrInUse => {
            "the address is already in use (is another server running? set LEPTOS_SITE_ADDR to another port)".into()
        }
        std::io::ErrorKind::AddrNotAvailable => "the address does not belong to this machine".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied (ports below 1024 need privileges)".into(),
        _ => err.to_string(),
    }
}
