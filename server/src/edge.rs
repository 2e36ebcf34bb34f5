//! The edge: what every request passes through before routing, in one function.
//!
//! In order: the request id (the client's `x-request-id`, else a new UUID), the request's
//! log context ([`telemetry::in_request`]), the body limit, then the rest of the
//! request's steps ([`crate::router::App::route`]); on the way out the security headers
//! ([`crate::headers`]), the request id and the access log. Refusals (403, 413) get the
//! headers and the id like any answer.
//!
//! One function instead of a stack of six layers (request id, trace, id propagation,
//! headers, same-site, body limit): each layer boxed its future and cloned the service
//! below it for every request, which cost more than the checks themselves (docs/PERFORMANCE.md). Nor is it an axum middleware any more: [`crate::router::App`] calls
//! it with the routing as `next`, so no service is cloned for it. The checks and headers
//! are unchanged.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body::Body as _;

use crate::state::AppState;
use crate::{headers, telemetry};

/// Largest request body accepted; sign-in forms are a few hundred bytes. Larger bodies
/// get 413 before anything reads them.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The header that carries a request's id, both ways.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id accepted from a client; a longer one is replaced by a new UUID,
/// so a client cannot make every log line of its requests arbitrarily long.
const MAX_CLIENT_REQUEST_ID: usize = 128;

/// Serves `request` with `next` (the routing: [`crate::router::App`]) and does what
/// every request gets around it.
pub async fn edge<F, Fut>(state: &AppState, mut request: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let id = request_id(&request);
    request.headers_mut().insert(&X_REQUEST_ID, id.clone());
    let (method, uri) = (request.method().clone(), request.uri().clone());
    // Boxed before it is handed down: a future is copied whole into each future that
    // takes it, and this one, holding the request, would be copied at every layer
    // above it (docs/PERFORMANCE.md, "Copies of futures").
    let serve = Box::pin(serve(state, request, next, id.clone()));
    telemetry::in_request(id, method, uri, serve).await
}

/// Everything after the request id, in the request's log context
/// ([`telemetry::in_request`]), so refusals and the access line name the request too.
async fn serve<F, Fut>(state: &AppState, request: Request, next: F, id: HeaderValue) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let started = Instant::now();
    let static_file = headers::is_static_file(request.uri().path());
    let peer = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    let over_tls = headers::served_over_tls(peer, request.headers(), &state.server.trusted_proxies);

    let mut response = match limit_body(request) {
        Ok(request) => next(request).await,
        Err(too_large) => too_large.into_response(),
    };

    // Only a file actually served may be cached: a miss under /pkg/ is the app's 404
    // page, rendered for whoever asked.
    let cacheable = static_file && response.status().is_success();
    headers::add(response.headers_mut(), cacheable, over_tls);
    response.headers_mut().insert(&X_REQUEST_ID, id);
    telemetry::log_response(response.status(), started.elapsed());
    response
}

/// The client's `x-request-id` when it is a sensible one (it ties a proxy's logs to
/// ours), else a new random UUID.
fn request_id(request: &Request) -> HeaderValue {
    if let Some(value) = request.headers().get(&X_REQUEST_ID)
        && !value.is_empty()
        && value.len() <= MAX_CLIENT_REQUEST_ID
    {
        return value.clone();
    }
    let mut buffer = uuid::Uuid::encode_buffer();
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buffer);
    HeaderValue::from_str(text).expect("a UUID is a valid header value")
}

/// Refuses a body that says it is larger than [`MAX_BODY_BYTES`] with 413, and caps one of
/// unknown length (chunked) at it, so reading it past the limit fails. A body of known
/// length within the limit is left as it is: hyper already stops it at that length.
fn limit_body(request: Request) -> Result<Request, BodyTooLarge> {
    let hint = request.body().size_hint();
    if hint.lower() > MAX_BODY_BYTES as u64 {
        return Err(BodyTooLarge);
    }
    if hint
        .upper()
        .is_some_and(|upper| upper <= MAX_BODY_BYTES as u64)
    {
        return Ok(request);
    }
    Ok(request.map(|body| Body::new(http_body_util::Limited::new(body, MAX_BODY_BYTES))))
}

/// A body that said it was larger than [`MAX_BODY_BYTES`]: 413, with a line saying so.
#[derive(Debug)]
struct BodyTooLarge;

impl IntoResponse for BodyTooLarge {
    fn into_response(self) -> Response {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!(
                "The request is larger than the {} KiB this server accepts.",
                MAX_BODY_BYTES / 1024
            ),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: Option<&str>) -> Request {
        let mut builder = Request::builder().uri("/");
        if let Some(id) = id {
            builder = builder.header("x-request-id", id);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn a_request_id_is_a_new_uuid_unless_the_client_sent_a_sensible_one() {
        let new = request_id(&request(None));
        let new = new.to_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(new).unwrap().get_version_num(), 4);
        assert_ne!(request_id(&request(None)), new, "ids are random");
        assert_eq!(request_id(&request(Some("proxy-42"))), "proxy-42");
        let long = "x".repeat(MAX_CLIENT_REQUEST_ID + 1);
        assert_eq!(request_id(&request(Some(&long))).len(), 36);
        assert_eq!(request_id(&request(Some(""))).len(), 36);
    }

    #[test]
    fn a_body_announced_over_the_limit_is_refused_at_once() {
        let sized = |n: usize| Request::new(Body::from(vec![b'x'; n]));
        assert!(limit_body(sized(MAX_BODY_BYTES)).is_ok());
        let refused = limit_body(sized(MAX_BODY_BYTES + 1)).unwrap_err();
        assert_eq!(
            refused.into_response().status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }

    #[tokio::test]
    async fn a_streamed_body_is_cut_off_at_the_limit() {
        let streamed = |n: usize| {
            let chunks = [Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; n]))];
            Request::new(Body::from_stream(futures_util::stream::iter(chunks)))
        };
        let read = |request: Request| axum::body::to_bytes(request.into_body(), usize::MAX);
        let within = limit_body(streamed(MAX_BODY_BYTES)).unwrap();
        assert_eq!(read(within).await.unwrap().len(), MAX_BODY_BYTES);
        let over = limit_body(streamed(MAX_BODY_BYTES + 1)).unwrap();
        assert!(read(over).await.is_err(), "read past the limit");
    }
}
