//! What every request handler can reach.

use app::store::Database;
use app::web::context::ServerContext;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

/// Shared, cheap-to-clone state of the running server.
///
/// Server functions get [`ServerContext`] from Leptos' context (see
/// [`crate::router::app`]); plain axum handlers get the state with the `State` extractor.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Leptos' rendering settings (site root, output name, address).
    pub leptos_options: LeptosOptions,
    /// The database pool.
    pub db: Database,
    /// The session service and cookie settings.
    pub server: ServerContext,
    /// Delivers the mail outbox (and says whether the development mailbox is on).
    pub mail: std::sync::Arc<app::mail::sender::MailSender>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
