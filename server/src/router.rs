//! The HTTP surface: Leptos pages and server functions, health, static files, and what
//! runs around them.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower::ServiceExt;

use app::web::context::identify;

use crate::edge::edge;
use crate::health::healthz;
use crate::server_fns::{self, ServerFns};
use crate::state::AppState;
use crate::{csrf, headers, web_session};

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

/// The whole HTTP surface for `state`: every request takes the steps of [`App::serve`],
/// and ends at a server function from the table ([`ServerFns`]) or at the router
/// ([`routes`]).
///
/// A value rather than code in `main` so tests can drive it in-process with
/// `tower::ServiceExt::oneshot`, without a socket.
pub fn app(state: AppState) -> App {
    let server_fns = ServerFns::collect();
    tracing::debug!(count = server_fns.len(), "server functions");
    App(Arc::new(Inner {
        router: routes(state.clone()),
        api: crate::fork_api::router(state.clone()),
        server_fns,
        state,
    }))
}

/// Gatehouse as a service: cheap to clone (one `Arc`), and cloned once per connection,
/// not per request as a stack of axum layers is.
#[derive(Clone)]
pub struct App(Arc<Inner>);

struct Inner {
    state: AppState,
    server_fns: ServerFns,
    router: Router,
    /// The fork's JSON API ([`crate::fork_api`]), served past the web session.
    api: Router,
}

impl App {
    /// Answers one request: every step a request takes, pages and server functions
    /// alike, in order.
    pub async fn serve(&self, request: Request) -> Response {
        // 1. The edge: the request id, the log context and the body limit; on the way
        //    out the security headers, the id and the access line. Steps 2 to 6 are
        //    [`Self::route`].
        let response = edge(&self.0.state, request, |request| self.route(request)).await;
        // 7. A refusal waits a moment before it goes ([`crate::pacer`]).
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            self.0.state.refusals.hold().await;
        }
        response
    }

    /// Steps 2 to 6 of [`Self::serve`], each path's answer boxed on its own: a future is
    /// as large as its largest state, and a box is filled by copying the whole of it, so
    /// one future for all paths would make every API call copy the pages' and server
    /// functions' (docs/PERFORMANCE.md, "Copies of futures").
    fn route(&self, request: Request) -> Answer<'_> {
        let Inner {
            state,
            server_fns,
            router,
            api,
        } = &*self.0;
        // 2. The same-site check: a state-changing request from another site goes no
        //    further.
        if let Some(refusal) = csrf::refusal(&request) {
            return Box::pin(std::future::ready(refusal));
        }
        // Static files need nothing of what follows.
        if headers::is_static_file(request.uri().path()) {
            return Box::pin(answer(router.clone(), request));
        }
        // A fork's JSON API needs no web session and none of the pages' routes; its
        // extractor decides who is calling from the headers (`SignedIn`).
        if request.uri().path().starts_with(crate::fork_api::PREFIX) {
            return Box::pin(answer(api.clone(), request));
        }
        // 3. Who is calling, and in which language: kept in the request, each decided
        //    once (the caller at its first read, after the body) and read from there by
        //    every function and page.
        let mut request = request;
        identify(request.extensions_mut());
        // 4. The web session around 5. the dispatch (a server function from the table,
        //    else the router: pages, health, keys, the fallback); 6. on the way out the
        //    errors' status, then the session saved and its cookie set.
        Box::pin(web_session::around(
            state,
            request,
            move |request| async move {
                match server_fns.find(request.method(), request.uri().path()) {
                    Some(function) => {
                        server_fns::call(function, state.server.clone(), request).await
                    }
                    None => answer(router.clone(), request).await,
                }
            },
        ))
    }
}

/// One path's answer to a request ([`App::route`]).
type Answer<'a> = Pin<Box<dyn Future<Output = Response> + Send + 'a>>;

/// `request` answered by `router` (an axum router never fails: its error is `Infallible`).
async fn answer(router: Router, request: Request) -> Response {
    router.oneshot(request).await.into_response()
}

impl tower::Service<Request> for App {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let app = self.clone();
        Box::pin(async move { Ok(app.serve(request).await) })
    }
}

/// The router behind [`App`]: Leptos' pages, health, the public keys, the development
/// mailbox, and static files and the 404 page as the fallback. (The web session and the
/// caller are [`App::route`]'s steps, around it.)
///
/// Leptos also registers every server function here; [`App`] finds them in its table
/// first, so the router only sees a function's path with another method (405).
fn routes(state: AppState) -> Router {
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
        .route("/auth/oidc/{id}/start", post(crate::oidc_routes::start))
        .route(
            app::web::dbsc::REGISTRATION_PATH,
            post(crate::dbsc_routes::register),
        )
        .route(
            app::web::dbsc::REFRESH_PATH,
            post(crate::dbsc_routes::refresh),
        )
        .route(
            "/auth/oidc/{id}/callback",
            get(crate::oidc_routes::callback),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.server.clone()),
            move || app::shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || provide_context(fallback_context.clone()),
            app::shell,
        ))
        .with_state(state)
}

/// `GET /.well-known/jwks.json`: the public keys that verify access tokens, for other
/// services that want to check Gatehouse tokens themselves.
async fn jwks(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(state.server.auth.core.tokens().keys().jwks())
}
