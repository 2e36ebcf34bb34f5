//! Security headers on every response (DESIGN §6).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// A policy that forbids framing, plugins, foreign form targets and `<base>` tricks.
/// (It does not restrict scripts yet: that needs a per-response nonce on Leptos'
/// hydration script.)
pub const CONTENT_SECURITY_POLICY: &str =
    "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'";

/// Middleware: adds the security headers, and `Cache-Control: no-store` to everything
/// but the static bundle, because pages and API answers depend on who is signed in.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let static_file =
        request.uri().path().starts_with("/pkg/") || request.uri().path() == "/favicon.svg";
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    if !static_file {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
