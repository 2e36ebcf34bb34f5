//! Gatehouse's server: configuration, the router and its middleware, and start-up.
//!
//! `main.rs` only parses the configuration and reports a start-up error; everything
//! else is here so integration tests can reach it.

pub mod config;
pub mod error;
pub mod health;
pub mod router;
pub mod shutdown;
pub mod state;
pub mod telemetry;

use app::store::Database;
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
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartupError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;

    let url = config.database_url()?;
    let options = config.database_options();
    tracing::debug!(%url, "opening the database");
    let db = tokio::task::spawn_blocking(move || Database::open(&url, options))
        .await
        .map_err(|e| StartupError::Serve(std::io::Error::other(e)))??;

    let listener = TcpListener::bind(config.site_addr)
        .await
        .map_err(|source| StartupError::Bind {
            addr: config.site_addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(StartupError::Serve)?;

    let pkg = config.site_root.join("pkg");
    if !pkg.join(format!("{}.wasm", app::SITE_NAME)).exists() {
        tracing::warn!(
            "no browser bundle in {}: pages render but will not become interactive; run `cargo leptos build` first",
            pkg.display()
        );
    }

    let state = AppState {
        leptos_options: leptos_options(&config, addr),
        db,
    };
    tracing::info!("Gatehouse listening on http://{addr}");
    axum::serve(listener, router::app(state))
        .with_graceful_shutdown(shutdown::signal())
        .await
        .map_err(StartupError::Serve)?;
    tracing::info!("stopped");
    Ok(())
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
