//! Gatehouse's server: configuration, the router and its middleware, and start-up.
//!
//! `main.rs` only parses the configuration and reports a start-up error; everything
//! else is here so integration tests can reach it.

pub mod config;
pub mod csrf;
pub mod dbsc_routes;
pub mod dev_mailbox;
pub mod edge;
pub mod error;
pub mod fork_api;
pub mod headers;
pub mod health;
pub mod jobs;
pub mod keys;
pub mod oidc_routes;
pub mod pacer;
pub mod router;
pub mod serve;
pub mod server_fn_status;
pub mod server_fns;
pub mod shutdown;
pub mod state;
pub mod telemetry;
pub mod web_session;

use std::future::Future;
use std::sync::Arc;

use app::auth::Auth;
use app::auth::access_token::AccessTokens;
use app::auth::password::{Params, Passwords};
use app::auth::settings::SessionSettings;
use app::mail::sender::MailSender;
use app::mail::transport::{MailError, MailTransport};
use app::store::Database;
use app::web::context::ServerContext;
use app::web::cookies::CookieSettings;
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;

pub use config::Config;
pub use error::StartupError;
pub use state::AppState;

/// Starts Gatehouse and serves until Ctrl-C or SIGTERM.
///
/// Every step that can fail because of the environment (data directory, database,
/// port) fails here, before the first request, with a [`StartupError`] naming the cause.
pub async fn run(config: Config) -> Result<(), StartupError> {
    let db = prepare(&config).await?;
    let listener = TcpListener::bind(config.site_addr)
        .await
        .map_err(|source| StartupError::Bind {
            addr: config.site_addr,
            source,
        })?;
    serve_prepared(&config, listener, db, shutdown::signal(), |_| {}).await
}

/// Serves Gatehouse on a listener the caller has bound, until `shutdown` resolves: the
/// same start-up as [`run`] (data directory, database, keys, background jobs), for test
/// harnesses that run the server inside their own process.
pub async fn serve_on(
    config: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartupError> {
    serve_on_with(config, listener, shutdown, |_| {}).await
}

/// [`serve_on`], handing the state every request shares to `ready` once it is
/// assembled, before the first request: the test harness looks inside it.
pub async fn serve_on_with(
    config: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    ready: impl FnOnce(&AppState),
) -> Result<(), StartupError> {
    let db = prepare(config).await?;
    serve_prepared(config, listener, db, shutdown, ready).await
}

/// Checks the settings that can be refused, creates the data directory and opens (and
/// migrates) the database.
async fn prepare(config: &Config) -> Result<Database, StartupError> {
    // Settings that can be refused are checked before anything is created.
    password_params(config)?;
    mail_transport(config)?;
    config.public_url(config.site_addr)?;
    provider_configs(config)?;
    // 0700: the folder holds the SQLite database and, in development, the signing key.
    app::store::create_private_dir(&config.data_dir).map_err(|source| StartupError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let url = config.database_url()?;
    let options = config.database_options();
    tracing::debug!(%url, "opening the database");
    Ok(
        tokio::task::spawn_blocking(move || Database::open(&url, options))
            .await
            .map_err(|e| StartupError::Serve(std::io::Error::other(e)))??,
    )
}

/// The rest of start-up, then serving until `shutdown`.
async fn serve_prepared(
    config: &Config,
    listener: TcpListener,
    db: Database,
    shutdown: impl Future<Output = ()>,
    ready: impl FnOnce(&AppState),
) -> Result<(), StartupError> {
    let addr = listener.local_addr().map_err(StartupError::Serve)?;
    let pkg = config.site_root.join("pkg");
    if !pkg.join(format!("{}.wasm", app::SITE_NAME)).exists() {
        tracing::warn!(
            "no browser bundle in {}: pages render but will not become interactive; run `cargo leptos build` first",
            pkg.display()
        );
    }

    let state = app_state(config, addr, db).await?;
    ready(&state);
    let cleanup = jobs::spawn_cleanup(Arc::clone(&state.server.auth), config.cleanup_interval);
    let feed = jobs::spawn_revocation_feed(
        Arc::clone(&state.server.auth),
        config.revocation_poll_interval,
    );
    let mail = tokio::spawn(state.mail.as_ref().clone().run(config.mail_poll_interval));
    // A provider that does not answer yet is retried in the background, never fatal.
    let discovery = tokio::spawn(Arc::clone(&state.server.providers).discover_all());
    tracing::info!("Gatehouse listening on http://{addr}");
    if let Ok(public_url) = config.public_url(addr) {
        tracing::info!("open {public_url} in a browser");
    }
    serve::serve(
        listener,
        router::app(state),
        config.connection_limits(),
        shutdown,
    )
    .await;
    cleanup.abort();
    feed.abort();
    mail.abort();
    discovery.abort();
    tracing::info!("stopped");
    Ok(())
}

/// Assembles the state every request shares: keys, the session service with its
/// revocation list loaded, cookie settings and Leptos' options.
pub async fn app_state(
    config: &Config,
    addr: std::net::SocketAddr,
    db: Database,
) -> Result<AppState, StartupError> {
    let params = password_params(config)?;
    if config.insecure_fast_password_hashing {
        tracing::warn!("INSECURE_FAST_PASSWORD_HASHING is on: password hashes are weak");
    }
    let keys = keys::load(config)?;
    let public_url = config.public_url(addr)?;
    let mut auth = Auth::new(
        db.clone(),
        hasher(config, params),
        AccessTokens::new(keys, &config.token_issuer, config.access_token_ttl),
        session_settings(config),
    );
    // Passkeys belong to PUBLIC_URL's domain; without one (an IP address) they are off
    // and the pages say so, rather than the server refusing to start.
    match app::auth::passkeys::relying_party(&public_url) {
        Ok(relying_party) => auth = auth.with_relying_party(relying_party),
        Err(err) => tracing::warn!("passkeys are off: {err}"),
    }
    let auth = Arc::new(auth);
    let revoked = auth
        .core
        .load_revocations()
        .await
        .map_err(StartupError::Revocations)?;
    tracing::debug!(revoked, "revocation list loaded");
    let transport = mail_transport(config)?;
    let from = match &config.mail_from {
        Some(from) => app::mail::transport::parse_from(from)?,
        None => app::mail::transport::parse_from(&default_mail_from(&public_url))?,
    };
    if transport.keeps_copies() {
        tracing::info!(
            "no SMTP_URL: mail is kept in the development mailbox at {public_url}{}",
            app::paths::DEV_MAILBOX
        );
    }
    let mail = Arc::new(MailSender::new(
        db.clone(),
        transport,
        from,
        &public_url,
        auth.core.mail_wakeup(),
    ));
    let providers = Arc::new(app::oidc::Providers::new(
        provider_configs(config)?,
        &public_url,
    )?);
    for (id, uri) in providers.redirect_uris() {
        tracing::info!(provider = %id, "OpenID provider: register the redirect URI {uri}");
    }
    Ok(AppState::new(state::Shared {
        leptos_options: leptos_options(config, addr),
        mail,
        web_sessions: Arc::new(app::store::WebSessionStore::new(db.clone())),
        refusals: pacer::RefusalPacer::new(config.refusal_delay),
        db,
        server: ServerContext {
            auth,
            cookies: cookie_settings(config),
            trusted_proxies: config.trusted_proxies.clone(),
            providers,
        },
    }))
}

/// The providers of `OIDC_PROVIDERS_FILE` (none without it).
fn provider_configs(config: &Config) -> Result<Vec<app::oidc::ProviderConfig>, StartupError> {
    match &config.oidc_providers_file {
        Some(path) => Ok(app::oidc::config::load(path)?),
        None => Ok(Vec::new()),
    }
}

/// SMTP when `SMTP_URL` is set; else, in development only, the development mailbox.
pub fn mail_transport(config: &Config) -> Result<MailTransport, StartupError> {
    match (&config.smtp_url, config.mode) {
        (Some(url), _) => {
            let ca = match &config.smtp_ca_file {
                Some(path) => Some(std::fs::read(path).map_err(|e| {
                    MailError::InvalidCa(format!("cannot read {}: {e}", path.display()))
                })?),
                None => None,
            };
            Ok(MailTransport::smtp(url.expose(), ca.as_deref())?)
        }
        (None, config::Mode::Production) => Err(StartupError::MissingSmtpUrl),
        (None, config::Mode::Development) => Ok(MailTransport::DevMailbox),
    }
}

/// `Gatehouse <no-reply@HOST>`, HOST being `PUBLIC_URL`'s host (`localhost` when it is
/// an IP address, which is not a mail domain).
fn default_mail_from(public_url: &str) -> String {
    let host = public_url
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    let host = if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
        "localhost"
    } else {
        host
    };
    format!("Gatehouse <no-reply@{host}>")
}

/// Leptos' settings, built from [`Config`] rather than from cargo-leptos' environment
/// variables, so the binary also runs on its own.
pub fn leptos_options(config: &Config, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(app::SITE_NAME)
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// Argon2 parameters: OWASP's, unless a test suite asked for cheap ones (never in
/// production). A pure check, so [`run`] can refuse the setting before creating anything.
pub fn password_params(config: &Config) -> Result<Params, StartupError> {
    if !config.insecure_fast_password_hashing {
        return Ok(Passwords::owasp_params());
    }
    if config.mode == config::Mode::Production {
        return Err(StartupError::InsecureHashingInProduction);
    }
    Ok(Passwords::insecure_test_params())
}

/// The password hasher: its threads and its bounded queue.
fn hasher(config: &Config, params: Params) -> Passwords {
    let passwords = Passwords::new(params, config.password_hash_concurrency);
    match config.password_hash_queue {
        Some(limit) => passwords.with_queue_limit(limit),
        None => passwords,
    }
}

/// Session lifetimes from the configuration.
pub fn session_settings(config: &Config) -> SessionSettings {
    SessionSettings {
        refresh_ttl: config.refresh_token_ttl,
        session_max_age: config.session_max_age,
        refresh_grace: config.refresh_grace,
        event_retention: config.event_retention,
        max_sessions: config.max_sessions_per_user.max(1),
        require_verified_email: config.require_verified_email,
        sign_ups_per_hour: config.sign_ups_per_hour,
        dbsc: config.dbsc,
        sudo_window: config.sudo_window,
        ..SessionSettings::default()
    }
}

/// Cookie attributes from the configuration. The access cookie outlives its token by
/// design: it lives as long as a session can (ARCHITECTURE: "Transparent refresh").
pub fn cookie_settings(config: &Config) -> CookieSettings {
    CookieSettings {
        secure: config.cookie_secure,
        access_cookie_max_age: config.refresh_token_ttl.min(config.session_max_age),
    }
}

/// `server keygen`: writes a new signing key to `out` (mode 0600) or stdout.
pub fn keygen(out: Option<&std::path::Path>) -> Result<(), StartupError> {
    use app::auth::keys::SigningKey;
    match out {
        Some(path) => {
            let (key, _) = SigningKey::generate_into(path)?;
            eprintln!(
                "wrote {} (kid {})",
                path.display(),
                key.verifying_key().kid()
            );
        }
        None => print!("{}", SigningKey::generate().1),
    }
    Ok(())
}
