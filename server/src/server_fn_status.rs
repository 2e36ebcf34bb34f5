//! Gives server-function errors their HTTP status.
//!
//! Leptos answers every server-function error with 500 and the serialised error in the
//! body. This layer reads that body back as [`AppError`] and sets the status it names
//! (400, 401, 404, 429, 503, ...) with its headers, all from [`AppError::contract`], so
//! curl, API clients and tests see the contract's codes, including for errors raised
//! before the function runs (an undecodable form).

use app::error::AppError;
use axum::body::{Body, to_bytes};
use axum::http::{Response, StatusCode};
use leptos::server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};

/// Largest error body read back; ours are a few hundred bytes.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// `axum::middleware::map_response` function: rewrites the status of server-fn errors.
pub async fn set_error_status(response: Response<Body>) -> Response<Body> {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let contract = AppError::de(bytes.clone()).contract();
    parts.status = contract.status();
    contract.write_headers(&mut parts.headers);
    Response::from_parts(parts, Body::from(bytes))
}
