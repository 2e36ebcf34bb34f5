//! `GET /healthz`: lets a load balancer or orchestrator see whether this instance can
//! serve, which mostly means whether its database answers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::state::AppState;

/// The body of a health answer. Only the verdict: why the database did not answer
/// (host names, error texts) is for the log, not for whoever asks.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
}

/// Answers 200 when the database answers a trivial query in time, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, Json(Health { status: "ok" })),
        Err(err) => {
            tracing::warn!(error = %err, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                }),
            )
        }
    }
}
