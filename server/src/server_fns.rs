//! Server functions, called straight from a table built once at start-up.
//!
//! Every `#[server]` function registers itself (through the `inventory` crate) under its
//! path and method. leptos_axum serves them through the axum router, and for every call
//! it looks its function up again in a global map behind a lock (building a `String` of
//! the path for the key), boxes it as a fresh service, and gives it the router's state
//! and the app's context, on every call (docs/PERFORMANCE.md). [`ServerFns`] finds the
//! function in a table made at start-up and [`call`] runs it with the same context,
//! response options and form-redirect rule as leptos_axum's `handle_server_fns`.
//!
//! A function with server-function middleware (`#[middleware]`) is left out of the
//! table: the router serves it, through leptos_axum, which applies the middleware.

use std::collections::HashMap;

use app::web::context::{ServerContext, wants_html};
use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode, header};
use leptos::prelude::provide_context;
use leptos::reactive::computed::ScopedFuture;
use leptos::reactive::owner::Owner;
use leptos::server_fn::{ServerFnTraitObj, inventory};
use leptos_axum::ResponseOptions;

/// A registered server function, as `inventory` holds it.
pub type ServerFn = ServerFnTraitObj<Request<Body>, Response<Body>>;

/// Every server function of the binary without middleware, by path.
#[derive(Default)]
pub struct ServerFns {
    by_path: HashMap<&'static str, Vec<ServerFn>>,
}

impl ServerFns {
    /// Collects the functions registered in this binary.
    pub fn collect() -> Self {
        let mut table = Self::default();
        for function in inventory::iter::<ServerFn> {
            if function.middleware().is_empty() {
                table
                    .by_path
                    .entry(function.path())
                    .or_default()
                    .push(function.clone());
            }
        }
        table
    }

    /// The function at `path` for `method`. `None` for any other request, including a
    /// function's path with another method (the router answers that one: 405).
    pub fn find(&self, method: &Method, path: &str) -> Option<&ServerFn> {
        self.by_path
            .get(path)?
            .iter()
            .find(|function| function.method() == method)
    }

    /// How many functions the table holds.
    pub fn len(&self) -> usize {
        self.by_path.values().map(Vec::len).sum()
    }

    /// True when no function was found (a binary built without the app's functions).
    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }
}

/// Runs `work` in a reactive owner whose context holds what leptos_axum gives a server
/// function: the request's `parts` (headers, extensions), the [`ResponseOptions`] it may
/// set a status or headers on (returned), and the app's [`ServerContext`]. The server
/// functions, the OpenID endpoints ([`crate::oidc_routes`]) and the DBSC endpoints
/// ([`crate::dbsc_routes`]) run in it.
pub async fn in_app_context<T>(
    context: ServerContext,
    parts: http::request::Parts,
    work: impl Future<Output = T>,
) -> (T, ResponseOptions) {
    let options = ResponseOptions::default();
    let owner = Owner::new();
    let result = owner
        .with(|| {
            let options = options.clone();
            ScopedFuture::new(async move {
                provide_context(parts);
                provide_context(options);
                provide_context(context);
                work.await
            })
        })
        .await;
    (result, options)
}

/// Runs `function` for `request` in [`in_app_context`].
pub async fn call(
    function: &ServerFn,
    context: ServerContext,
    request: Request<Body>,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    // A plain form post (no JavaScript) wants a page, not JSON: see below.
    let back_to = wants_html(&parts)
        .then(|| parts.headers.get(header::REFERER).cloned())
        .flatten();
    let context_parts = parts.clone();
    let request = Request::from_parts(parts, body);
    let (mut response, options) =
        in_app_context(context, context_parts, function.handler(request)).await;
    // As leptos_axum does: a form post that the function did not redirect goes back to
    // the page it came from.
    if let Some(referer) = back_to
        && !response.headers().contains_key(header::LOCATION)
    {
        *response.status_mut() = StatusCode::FOUND;
        response.headers_mut().insert(header::LOCATION, referer);
    }
    if let Some(status) = options.0.read().unwrap_or_else(|e| e.into_inner()).status {
        *response.status_mut() = status;
    }
    add_headers_set(&mut response, &options);
    response
}

/// Moves the headers the work set on its [`ResponseOptions`] (cookies, mostly) onto
/// `response`, repeated names kept: for the server functions and the plain routes that
/// run in their context ([`in_app_context`]).
pub fn add_headers_set(response: &mut Response<Body>, options: &ResponseOptions) {
    let mut set = options.0.write().unwrap_or_else(|e| e.into_inner());
    response
        .headers_mut()
        .extend(std::mem::take(&mut set.headers));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_server_function_of_the_app_is_in_the_table() {
        let table = ServerFns::collect();
        let listed: usize = leptos::server_fn::axum::server_fn_paths().count();
        assert!(table.len() > 10, "found {}", table.len());
        assert_eq!(table.len(), listed, "none has middleware, so all are here");
        let viewer = table
            .find(&Method::POST, "/api/session/viewer")
            .expect("the viewer call");
        assert_eq!(viewer.path(), "/api/session/viewer");
        assert!(table.find(&Method::GET, "/api/session/viewer").is_none());
        assert!(table.find(&Method::POST, "/api/session/nothing").is_none());
    }
}
