//! The HTTP surface: Leptos pages and server functions, health, static files, and the
//! middleware around them.

use axum::Router;
use axum::extract::State;
use axum::middleware;
use axum::routing::get;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};

use crate::edge::edge;
use crate::health::healthz;
use crate::state::AppState;
use crate::web_session::web_session;

/// The app's routes, listed once per process.
///
/// Leptos lists them by running the app with resources held back by a process-wide
/// flag, so a page that another router rendered meanwhile would wait forever for its
/// data (leptos #4773). Listing once, before the first router serves anything, means
/// no page ever renders while the flag is up, however many routers a process builds.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// Builds the whole application router for `state`.
///
/// A function rather than code in `main` so tests can drive it in-process with
/// `tower::ServiceExt::oneshot`, without a socket.
pub fn app(state: AppState) -> Router {
    let routes = route_list();
    let leptos_options = state.leptos_options.clone();
    let context_state = state.clone();
    let fallback_context = state.server.clone();

    let router = if state.mail.keeps_copies() {
        crate::dev_mailbox::routes()
    } else {
        Router::new()
    };
    router
        .route("/healthz", get(healthz))
        .route("/.well-known/jwks.json", get(jwks))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.server.clone()),
            move || app::shell(leptos_options.clone()),
        )
        .layer(middleware::from_fn_with_state(state.clone(), web_session))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || provide_context(fallback_context.clone()),
            app::shell,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), edge))
        .with_state(state)
}

/// `GET /.well-known/jwks.json`: the public keys that verify access tokens, for other
/// services that want to check Gatehouse tokens themselves.
async fn jwks(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(state.server.auth.tokens().keys().jwks())
}
