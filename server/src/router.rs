//! The HTTP surface: Leptos pages and server functions, health, static files, and the
//! middleware around them.

use axum::Router;
use axum::extract::State;
use axum::middleware::{self, map_response};
use axum::routing::get;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use app::store::WebSessionStore;
use app::web::email_link::take_token_from_link;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::csrf::same_site_only;
use crate::headers::security_headers;
use crate::health::healthz;
use crate::server_fn_status::set_error_status;
use crate::state::AppState;
use crate::telemetry::request_span;

/// Largest request body accepted; sign-in forms are a few hundred bytes. Larger bodies
/// get 413 before anything reads them.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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
        .layer(map_response(set_error_status))
        .layer(middleware::from_fn(take_token_from_link))
        .layer(web_session_layer(&state))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || provide_context(fallback_context.clone()),
            app::shell,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    security_headers,
                ))
                .layer(middleware::from_fn(same_site_only))
                .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES)),
        )
        .with_state(state)
}

/// `GET /.well-known/jwks.json`: the public keys that verify access tokens, for other
/// services that want to check Gatehouse tokens themselves.
async fn jwks(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(state.server.auth.tokens().keys().jwks())
}

/// The pre-authentication web session (tower-sessions on the Diesel store): created only
/// when something is stored in it, expiring after an hour of inactivity.
fn web_session_layer(state: &AppState) -> SessionManagerLayer<WebSessionStore> {
    let secure = state.server.cookies.secure;
    SessionManagerLayer::new(WebSessionStore::new(state.db.clone()))
        .with_name(if secure { "__Host-session" } else { "session" })
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(1)))
}
