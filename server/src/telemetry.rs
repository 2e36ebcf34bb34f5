//! Logging: one `tracing` subscriber for the process and one span per request that
//! carries the request id, so every log line of a request can be found together.

use std::time::Duration;

use axum::http::{HeaderValue, Method, StatusCode};
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

/// The span of one HTTP request, carrying its id (see [`crate::edge`]), method and path.
pub fn request_span(id: &HeaderValue, method: &Method, path: &str) -> Span {
    tracing::info_span!(
        "request",
        id = %id.to_str().unwrap_or("-"),
        method = %method,
        path = %path,
    )
}

/// The access log line of a response, inside its request's span: an error for a server
/// error, else at info level. Its target is `access`, so `LOG_LEVEL=info,access=warn`
/// keeps the application's own info lines without one line per request.
pub fn log_response(status: StatusCode, latency: Duration) {
    let latency_ms = latency.as_secs_f64() * 1000.0;
    if status.is_server_error() {
        tracing::error!(target: "access", status = status.as_u16(), latency_ms, "response failed");
    } else {
        tracing::info!(target: "access", status = status.as_u16(), latency_ms, "finished processing request");
    }
}
