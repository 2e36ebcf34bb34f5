//! What every request handler can reach.

use app::store::{Database, WebSessionStore};
use app::web::context::ServerContext;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

/// Shared, cheap-to-clone state of the running server.
///
/// Server functions get [`ServerContext`] from Leptos' context (see
/// [`crate::router::app`]); plain axum handlers get the state with the `State` extractor.
///
/// One `Arc`: axum clones the state (and the services holding it) several times for
/// every request, so a clone must be one atomic increment, not a copy of every field
/// (docs/PERFORMANCE.md).
#[derive(Debug, Clone)]
pub struct AppState(std::sync::Arc<Shared>);

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct Shared {
    /// Leptos' rendering settings (site root, output name, address).
    pub leptos_options: LeptosOptions,
    /// The database pool.
    pub db: Database,
    /// Where web sessions are kept ([`crate::web_session`]).
    pub web_sessions: std::sync::Arc<WebSessionStore>,
    /// The session service and cookie settings.
    pub server: ServerContext,
    /// Delivers the mail outbox (and says whether the development mailbox is on).
    pub mail: std::sync::Arc<app::mail::sender::MailSender>,
    /// Holds each 429 a moment before it is sent ([`crate::pacer`]).
    pub refusals: crate::pacer::RefusalPacer,
}

impl AppState {
    /// The state around `shared`.
    pub fn new(shared: Shared) -> Self {
        Self(std::sync::Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`app::web::extract::SignedIn`] reads a request's caller with.
impl app::web::extract::HasServerContext for AppState {
    fn server_context(&self) -> &ServerContext {
        &self.server
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
