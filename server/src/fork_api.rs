//! A fork's own JSON API beside the app: plain axum handlers behind
//! [`SignedIn`](app::web::extract::SignedIn), which gives a handler the signed-in device
//! of an `Authorization: Bearer` token or the access cookie, with the same checks as a
//! server function (signature, expiry, the revocation set) and the same 401s.
//!
//! Every path under [`PREFIX`] is this API's: it takes the edge of the request pipeline
//! (`router.rs`: the body limit, the security headers, the access log) and the same-site
//! check for writes, then comes straight here, past the caller's identification (the
//! extractor reads the headers itself), the pre-sign-in web session and the pages'
//! router, which a JSON API has no use for (docs/PERFORMANCE.md). A path under it that
//! no route takes is a 404 in the error shape, not the HTML page.
//!
//! The example, `GET /api/v1/me`: who is calling, without a database trip. A new route
//! goes in [`routes`]; docs/BUILD_ON_IT.md ("Plain JSON routes") walks through one.

use app::error::AppError;
use app::web::context::request_language;
use app::web::extract::SignedIn;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::state::AppState;

/// Where the fork's JSON API lives: every path that starts so is served by [`router`].
pub const PREFIX: &str = "/api/v1/";

/// The fork's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(me))
}

/// [`routes`] with `state`, and the API's 404 for the paths no route takes.
pub fn router(state: AppState) -> Router {
    routes()
        .fallback(|headers: HeaderMap| async move {
            AppError::NotFound.into_response_in(request_language(&headers))
        })
        .with_state(state)
}

/// Who is calling.
#[derive(Debug, Serialize)]
pub struct Me {
    /// The account's id (the token's `sub`).
    pub user_id: String,
    /// This device session's id (the token's `sid`).
    pub session_id: String,
}

/// `GET /api/v1/me`: the signed-in device's account and session; 401 otherwise.
pub async fn me(SignedIn(session): SignedIn) -> Json<Me> {
    Json(Me {
        user_id: session.user_id,
        session_id: session.session_id,
    })
}
