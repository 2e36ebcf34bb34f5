//! Logging: one `tracing` subscriber for the process and one span per request that
//! carries the request id, so every log line of a request can be found together.

use axum::http::Request;
use tower_http::request_id::RequestId;
use tracing::Span;
use tracing_subscriber::EnvFilter;

use crate::error::StartupError;

/// Installs the global log subscriber with the filter from `LOG_LEVEL`.
///
/// Logs go to stderr so stdout stays free for command output (`server keygen`).
pub fn init(filter: &str) -> Result<(), StartupError> {
    let filter = EnvFilter::try_new(filter).map_err(|e| StartupError::LogLevel {
        value: filter.to_owned(),
        reason: e.to_string(),
    })?;
    // A second call (e.g. in tests) keeps the first subscriber; that is fine.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
    Ok(())
}

/// The span of one HTTP request, named after the `x-request-id` set by the request-id
/// layer (a UUID unless a trusted client sent its own).
pub fn request_span<B>(request: &Request<B>) -> Span {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}
