//! The server's settings, read once at start from command-line flags and environment
//! variables (flags win). `server --help` lists every one with its default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use app::secret::Secret;
use app::store::{DatabaseOptions, DatabaseUrl, DbError};
use clap::Parser;

/// Gatehouse: sign-up, login and per-device sessions done right.
#[derive(Debug, Clone, Parser)]
#[command(name = "server", version)]
pub struct Config {
    /// A one-off task instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address and port to listen on.
    #[arg(
        long = "site-addr",
        env = "LEPTOS_SITE_ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub site_addr: SocketAddr,

    /// Folder with the browser bundle built by `cargo leptos build` (holds pkg/).
    #[arg(
        long = "site-root",
        env = "LEPTOS_SITE_ROOT",
        default_value = "target/site"
    )]
    pub site_root: PathBuf,

    /// Folder for Gatehouse's own files: the SQLite database by default, and keys.
    /// Created on first start.
    #[arg(long = "data-dir", env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database to use: sqlite://PATH, or postgres://USER:PASSWORD@HOST:PORT/DATABASE to
    /// share one database between several instances.
    /// [default: sqlite://<data dir>/gatehouse.db]
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,

    /// Database connections kept in the pool.
    #[arg(
        long = "database-pool-size",
        env = "DATABASE_POOL_SIZE",
        default_value_t = 8
    )]
    pub database_pool_size: u32,

    /// How long a request waits for the database (a connection or a lock) before it is
    /// answered with 503, e.g. "2s" or "500ms".
    #[arg(long = "database-timeout", env = "DATABASE_TIMEOUT", default_value = "1500ms", value_parser = humantime::parse_duration)]
    pub database_timeout: Duration,

    /// Log filter: a level (error, warn, info, debug, trace) or tracing directives such
    /// as "info,server=debug".
    #[arg(long = "log-level", env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// "development" generates a signing key in the data dir when none is given;
    /// "production" refuses to start without one.
    #[arg(
        long = "mode",
        env = "GATEHOUSE_MODE",
        value_enum,
        default_value = "development"
    )]
    pub mode: Mode,

    /// File with the Ed25519 private key (PKCS#8 PEM) that signs access tokens.
    /// [default in development: <data dir>/jwt-signing-key.pem, generated once]
    #[arg(long = "jwt-signing-key-file", env = "JWT_SIGNING_KEY_FILE")]
    pub jwt_signing_key_file: Option<PathBuf>,

    /// The signing key's PEM text itself, for platforms that pass secrets as variables.
    #[arg(
        long = "jwt-signing-key",
        env = "JWT_SIGNING_KEY",
        hide_env_values = true
    )]
    pub jwt_signing_key: Option<Secret>,

    /// Comma-separated PEM files of retired keys whose tokens still verify (rotation).
    #[arg(
        long = "jwt-previous-key-files",
        env = "JWT_PREVIOUS_KEY_FILES",
        value_delimiter = ','
    )]
    pub jwt_previous_key_files: Vec<PathBuf>,

    /// The `iss` of access tokens (and, with "/api", their `aud`). Every instance of one
    /// deployment must use the same value.
    #[arg(
        long = "token-issuer",
        env = "TOKEN_ISSUER",
        default_value = "gatehouse"
    )]
    pub token_issuer: String,

    /// Lifetime of an access token, e.g. "15m" or "2s".
    #[arg(long = "access-token-ttl", env = "ACCESS_TOKEN_TTL", default_value = "15m", value_parser = humantime::parse_duration)]
    pub access_token_ttl: Duration,

    /// A session unused for this long ends (refresh-token idle lifetime).
    #[arg(long = "refresh-token-ttl", env = "REFRESH_TOKEN_TTL", default_value = "7days", value_parser = humantime::parse_duration)]
    pub refresh_token_ttl: Duration,

    /// No session lives longer than this from sign-in.
    #[arg(long = "session-max-age", env = "SESSION_MAX_AGE", default_value = "30days", value_parser = humantime::parse_duration)]
    pub session_max_age: Duration,

    /// A used refresh token presented again within this window is a concurrent refresh,
    /// not theft.
    #[arg(long = "refresh-grace", env = "REFRESH_GRACE", default_value = "10s", value_parser = humantime::parse_duration)]
    pub refresh_grace: Duration,

    /// Live sessions one account may have; signing in on one more device signs out the
    /// least recently active.
    #[arg(
        long = "max-sessions-per-user",
        env = "MAX_SESSIONS_PER_USER",
        default_value_t = 20
    )]
    pub max_sessions_per_user: usize,

    /// How long security events are kept.
    #[arg(long = "event-retention", env = "EVENT_RETENTION", default_value = "90days", value_parser = humantime::parse_duration)]
    pub event_retention: Duration,

    /// How often expired tokens, sessions and events are deleted.
    #[arg(long = "cleanup-interval", env = "CLEANUP_INTERVAL", default_value = "10m", value_parser = humantime::parse_duration)]
    pub cleanup_interval: Duration,

    /// How often this instance reads the revocations other instances made (several
    /// instances on one PostgreSQL database): a revoked device is refused everywhere
    /// within about this long.
    #[arg(long = "revocation-poll-interval", env = "REVOCATION_POLL_INTERVAL", default_value = "250ms", value_parser = humantime::parse_duration)]
    pub revocation_poll_interval: Duration,

    /// Threads that hash passwords, i.e. hashes computed at once (each thread keeps one
    /// 19 MiB Argon2 buffer; a hash takes one core for ~50 ms).
    #[arg(long = "password-hash-concurrency", env = "PASSWORD_HASH_CONCURRENCY", default_value_t = default_hash_concurrency())]
    pub password_hash_concurrency: usize,

    /// Test suites only: hash passwords with Argon2's smallest parameters so thousands of
    /// logins take seconds. Refused in production mode; hidden from `--help`.
    #[arg(
        long = "insecure-fast-password-hashing",
        env = "INSECURE_FAST_PASSWORD_HASHING",
        hide = true,
        default_value_t = false,
        action = clap::ArgAction::Set
    )]
    pub insecure_fast_password_hashing: bool,

    /// Comma-separated addresses of reverse proxies whose `X-Forwarded-For` header names
    /// the client. Empty: the socket address is the client (and the header is ignored).
    #[arg(
        long = "trusted-proxies",
        env = "TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Password checks that may wait for a hashing thread; past it a login is answered
    /// 503 with `Retry-After` at once. [default: 16 per hashing thread]
    #[arg(long = "password-hash-queue", env = "PASSWORD_HASH_QUEUE")]
    pub password_hash_queue: Option<usize>,

    /// A connection that has not sent a complete request head within this time (from
    /// its accept, for the first) is closed; so is a kept-alive connection idle this
    /// long, and an HTTP/2 connection with no request running this long (slow-client
    /// defence). HTTP/2 pings a quiet peer this often and closes the connection if one
    /// goes unanswered this long.
    #[arg(long = "header-read-timeout", env = "HEADER_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_read_timeout: Duration,

    /// A request (its body included) taking longer is answered 408.
    #[arg(long = "request-timeout", env = "REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,

    /// Connections served at once; more wait in the kernel's accept queue.
    #[arg(
        long = "max-connections",
        env = "MAX_CONNECTIONS",
        default_value_t = 1000
    )]
    pub max_connections: usize,

    /// Connections one client address (for IPv6, one /64) may hold at once; one more is
    /// closed as soon as it is accepted, so that one client cannot take every place under
    /// MAX_CONNECTIONS and leave the others waiting. 0 turns the limit off. The default is
    /// an eighth of MAX_CONNECTIONS' default: it takes eight addresses to fill the
    /// server, while a browser (at most six connections to a site) or an office behind
    /// one NAT address has ample room. Connections from TRUSTED_PROXIES are not counted:
    /// each carries many clients, whose connections the proxy should limit. Behind a
    /// proxy or load balancer that is not listed there, every client arrives from the
    /// proxy's address: set 0.
    #[arg(
        long = "max-connections-per-client",
        env = "MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 125
    )]
    pub max_connections_per_client: usize,

    /// The address people reach Gatehouse at, e.g. https://auth.example.com: every link
    /// in a mail is built from it, never from a request's Host header, and passkeys
    /// belong to its domain (an IP address turns passkeys off). Required in production.
    /// [default in development: http://localhost:<port>]
    #[arg(long = "public-url", env = "PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Mail server: smtps://USER:PASSWORD@HOST:465 (TLS), or
    /// smtp://USER:PASSWORD@HOST:587?tls=required (STARTTLS). Required in production; in
    /// development, without it mail goes to the mailbox at /dev/mailbox.
    #[arg(long = "smtp-url", env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret>,

    /// A PEM file of CA certificates to trust for SMTP_URL's TLS besides the public
    /// roots: for a mail server whose certificate a private CA issued. Needs a TLS
    /// SMTP_URL (smtps://, or ?tls=required).
    #[arg(long = "smtp-ca-file", env = "SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,

    /// A TOML file of OpenID Connect providers people may sign in with, one
    /// `[[provider]]` table each (id, name, issuer, client_id, client_secret or
    /// client_secret_file, optional scopes and trust_email): docs/OIDC.md. The redirect
    /// URI to register at each is PUBLIC_URL/auth/oidc/<id>/callback (printed at start).
    #[arg(long = "oidc-providers-file", env = "OIDC_PROVIDERS_FILE")]
    pub oidc_providers_file: Option<PathBuf>,

    /// The sender of every mail, e.g. "Gatehouse <no-reply@example.com>".
    /// [default: Gatehouse <no-reply@HOST of PUBLIC_URL>]
    #[arg(long = "mail-from", env = "MAIL_FROM")]
    pub mail_from: Option<String>,

    /// Sign-in waits until the address is verified (through the link mailed at
    /// sign-up), and sign-up no longer tells whether an address is taken.
    #[arg(long = "require-verified-email", env = "REQUIRE_VERIFIED_EMAIL", default_value_t = false, action = clap::ArgAction::Set)]
    pub require_verified_email: bool,

    /// Accounts one client address (an IPv6 /64) may create in an hour, whether or not
    /// each succeeds: every sign-up writes an account and a mail.
    #[arg(
        long = "sign-ups-per-hour",
        env = "SIGN_UPS_PER_HOUR",
        default_value_t = 10
    )]
    pub sign_ups_per_hour: u32,

    /// Sensitive actions (changing the password or address, deleting the account, the
    /// second factor, signing out all other devices) go through without asking again
    /// for this long after the last password or code on the device.
    #[arg(long = "sudo-window", env = "SUDO_WINDOW", default_value = "10m", value_parser = humantime::parse_duration)]
    pub sudo_window: Duration,

    /// How often the mail sender looks for mail queued by other instances and for
    /// retries (mail queued by this instance goes out at once).
    #[arg(long = "mail-poll-interval", env = "MAIL_POLL_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub mail_poll_interval: Duration,

    /// How long a refused request (429) waits before its answer is sent, so a flood of
    /// refused requests goes at the pace of its connections rather than taking the CPU
    /// from everyone else (at most 1,024 answers are held at once; `0s`: never).
    #[arg(long = "refusal-delay", env = "REFUSAL_DELAY", default_value = "250ms", value_parser = humantime::parse_duration)]
    pub refusal_delay: Duration,

    /// Device-bound sessions (docs/DBSC.md): `opportunistic` invites every browser to
    /// bind its session to a key it keeps, and renews a bound session only with a proof
    /// of that key; `required` also refuses to renew a session whose browser answered
    /// the invitation but never got bound; `off` never invites.
    #[arg(long = "dbsc", env = "DBSC", default_value = "opportunistic", value_parser = parse_dbsc_mode)]
    pub dbsc: app::auth::settings::DbscMode,

    /// Mark cookies `Secure` and use the `__Host-`/`__Secure-` names. Turn off only to
    /// serve plain HTTP on a host other than localhost.
    #[arg(long = "cookie-secure", env = "COOKIE_SECURE", default_value_t = true, action = clap::ArgAction::Set)]
    pub cookie_secure: bool,
}

/// `DBSC`'s value: `off`, `opportunistic` or `required`.
fn parse_dbsc_mode(value: &str) -> Result<app::auth::settings::DbscMode, String> {
    value
        .parse()
        .map_err(|_| format!("{value:?} is not one of off, opportunistic, required"))
}

/// One-off tasks.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Write a new Ed25519 signing key (PKCS#8 PEM) for JWT_SIGNING_KEY_FILE.
    Keygen {
        /// File to create (mode 0600); it must not exist. Without it the key goes to stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Whether missing secrets may be generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Convenient defaults for a developer machine.
    Development,
    /// Every secret must be configured.
    Production,
}

fn default_hash_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

impl Config {
    /// The database to open: `DATABASE_URL` if given, else `gatehouse.db` in the data dir.
    pub fn database_url(&self) -> Result<DatabaseUrl, DbError> {
        match &self.database_url {
            Some(url) => url.expose().parse(),
            None => Ok(DatabaseUrl::sqlite_in(&self.data_dir)),
        }
    }

    /// Connection limits for the accept loop.
    pub fn connection_limits(&self) -> crate::serve::ConnectionLimits {
        crate::serve::ConnectionLimits {
            header_read_timeout: self.header_read_timeout,
            request_timeout: self.request_timeout,
            max_connections: self.max_connections,
            max_connections_per_client: self.max_connections_per_client,
            unlimited_peers: self.trusted_proxies.clone(),
            shutdown_grace: Duration::from_secs(10),
        }
    }

    /// `PUBLIC_URL` without a trailing slash; in development, `http://` and the address
    /// the server listens on (`localhost` for an unspecified or loopback address).
    pub fn public_url(&self, listening: SocketAddr) -> Result<String, crate::StartupError> {
        match (&self.public_url, self.mode) {
            (Some(url), _) => {
                let url = url.trim_end_matches('/');
                if !(url.starts_with("https://") || url.starts_with("http://"))
                    || url.contains(char::is_whitespace)
                {
                    return Err(crate::StartupError::PublicUrl(url.to_owned()));
                }
                Ok(url.to_owned())
            }
            (None, Mode::Production) => Err(crate::StartupError::MissingPublicUrl),
            // `localhost` rather than 127.0.0.1: browsers offer passkeys only to a
            // domain name, and it is the same machine.
            (None, Mode::Development)
                if listening.ip().is_unspecified() || listening.ip().is_loopback() =>
            {
                Ok(format!("http://localhost:{}", listening.port()))
            }
            (None, Mode::Development) => Ok(format!("http://{listening}")),
        }
    }

    /// The most threads tokio's blocking pool may start (its default is 512). Nearly all
    /// of its work is database queries, and no more than `DATABASE_POOL_SIZE` of them
    /// can hold a connection at once: the rest would only wait for one, each on a
    /// thread of its own. A login flood used to grow the pool to 170 threads, and with
    /// them the resident memory; four per connection leave room for file reads and for
    /// queries waiting their turn.
    pub fn blocking_threads(&self) -> usize {
        (self.database_pool_size.max(1) as usize * 4).max(16)
    }

    /// Pool settings derived from the flags above.
    pub fn database_options(&self) -> DatabaseOptions {
        DatabaseOptions {
            pool_size: self.database_pool_size,
            timeout: self.database_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from(std::iter::once("server").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn database_defaults_to_a_file_in_the_data_dir() {
        let config = parse(&["--data-dir", "/tmp/gh"]);
        assert_eq!(
            config.database_url().unwrap(),
            DatabaseUrl::Sqlite("/tmp/gh/gatehouse.db".into())
        );
    }

    #[test]
    fn blocking_threads_follow_the_database_pool() {
        assert_eq!(parse(&[]).blocking_threads(), 32);
        assert_eq!(
            parse(&["--database-pool-size", "20"]).blocking_threads(),
            80
        );
        assert_eq!(parse(&["--database-pool-size", "1"]).blocking_threads(), 16);
    }

    #[test]
    fn one_client_may_hold_an_eighth_of_the_connections_by_default() {
        let config = parse(&[]);
        assert_eq!(
            config.max_connections_per_client * 8,
            config.max_connections
        );
        let limits = parse(&["--trusted-proxies", "10.0.0.1"]).connection_limits();
        assert_eq!(
            limits.unlimited_peers,
            ["10.0.0.1".parse::<std::net::IpAddr>().unwrap()]
        );
    }

    #[test]
    fn durations_are_human_readable() {
        let config = parse(&["--database-timeout", "750ms"]);
        assert_eq!(
            config.database_options().timeout,
            Duration::from_millis(750)
        );
    }

    #[test]
    fn help_lists_every_setting_with_its_environment_variable() {
        let help = <Config as clap::CommandFactory>::command()
            .render_long_help()
            .to_string();
        for env in [
            "LEPTOS_SITE_ADDR",
            "LEPTOS_SITE_ROOT",
            "DATA_DIR",
            "DATABASE_URL",
            "DATABASE_POOL_SIZE",
            "DATABASE_TIMEOUT",
            "LOG_LEVEL",
        ] {
            assert!(help.contains(env), "--help does not mention {env}");
        }
        assert!(help.contains("127.0.0.1:3000"));
    }
}

#[cfg(test)]
mod session_tests {
    use super::*;

    #[test]
    fn session_lifetimes_default_to_the_design() {
        let config = Config::try_parse_from(["server"]).unwrap();
        assert_eq!(config.access_token_ttl, Duration::from_secs(15 * 60));
        assert_eq!(config.refresh_token_ttl, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(config.session_max_age, Duration::from_secs(30 * 24 * 3600));
        assert_eq!(config.refresh_grace, Duration::from_secs(10));
        assert_eq!(config.cleanup_interval, Duration::from_secs(600));
        assert!(config.cookie_secure);
        assert_eq!(config.mode, Mode::Development);
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn the_configuration_never_prints_a_secret() {
        let (_, pem) = app::auth::keys::SigningKey::generate();
        let url = "postgres://gatehouse:s3cr3t-pw@db.internal:5432/gatehouse";
        let config = Config::try_parse_from([
            "server",
            &format!("--jwt-signing-key={pem}"),
            "--database-url",
            url,
        ])
        .unwrap();
        let key_body = pem.lines().nth(1).unwrap();
        let printed = format!(
            "{config:?} {:?} {}",
            config.database_url(),
            config.database_url().unwrap()
        );
        assert!(!printed.contains(key_body), "{printed}");
        assert!(!printed.contains("s3cr3t-pw"), "{printed}");
        assert!(
            printed.contains("db.internal"),
            "the rest still shows: {printed}"
        );
        // The real values are still there for the code that needs them.
        assert_eq!(config.jwt_signing_key.unwrap().expose(), pem);
    }
}
