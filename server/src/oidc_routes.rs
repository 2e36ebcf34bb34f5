//! The two endpoints of the OpenID redirect dance, `POST /auth/oidc/<id>/start` and
//! `GET /auth/oidc/<id>/callback`: plain routes (the provider's id is in the path, and
//! the callback is a top-level GET from the provider), run in the same context as a
//! server function ([`in_app_context`]) so the app's code behind them
//! (`app::api::oidc`) uses the same cookies, web session, throttle and errors. Both
//! answer with a `303 See Other` to where the browser goes next.

use app::api::oidc::{CallbackQuery, StartForm};
use axum::Form;
use axum::extract::{Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leptos_axum::ResponseOptions;

use crate::server_fns::in_app_context;
use crate::state::AppState;

/// `POST /auth/oidc/<id>/start`: a button's form (`purpose`, `next`, and for a link
/// outside sudo mode a proof).
pub async fn start(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    parts: Parts,
    Form(form): Form<StartForm>,
) -> Response {
    let work = app::api::oidc::start(provider_id, form);
    let (location, options) = in_app_context(state.server.clone(), parts, work).await;
    see_other(location, options)
}

/// `GET /auth/oidc/<id>/callback?code=…&state=…&iss=…`: the provider's answer.
pub async fn callback(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    // A query that does not parse is an answer that does not check out, like any other.
    let query = Query::<CallbackQuery>::try_from_uri(&parts.uri)
        .map(|Query(query)| query)
        .unwrap_or_default();
    let work = app::api::oidc::callback(provider_id, query);
    let (location, options) = in_app_context(state.server.clone(), parts, work).await;
    see_other(location, options)
}

/// A 303 to `location` with the headers (cookies) the work set.
fn see_other(location: Result<String, app::error::AppError>, options: ResponseOptions) -> Response {
    let location = match location {
        Ok(location) => location,
        Err(err) => return err.into_response(),
    };
    let Ok(location) = HeaderValue::try_from(location) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    crate::server_fns::add_headers_set(&mut response, &options);
    response
}
