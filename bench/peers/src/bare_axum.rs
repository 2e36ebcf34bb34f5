//! The ceiling: axum routes answering a small JSON body, with nothing around them.
//! Gatehouse's authenticated call is measured against the first to show what its stack
//! costs, and a fork's protected route (`GET /api/v1/me`) against the second: the same
//! route, answering the same shape, unprotected.

use axum::{Json, Router, routing::get, routing::post};
use serde::Serialize;

#[derive(Serialize)]
struct Viewer {
    signed_in: bool,
    email: &'static str,
}

async fn viewer() -> Json<Viewer> {
    Json(Viewer {
        signed_in: true,
        email: "bench@example.com",
    })
}

/// What Gatehouse's `GET /api/v1/me` answers, with values of the same lengths (a UUID
/// and a session id of 22 characters), so both sides write the same JSON.
#[derive(Serialize)]
struct Me {
    user_id: &'static str,
    session_id: &'static str,
}

async fn me() -> Json<Me> {
    Json(Me {
        user_id: "0b7c6f9e-2d1a-4c8e-9f3b-5a6d7e8f9a0b",
        session_id: "q3Xv9LmN2pR7sT1uW4yZ6a",
    })
}

#[tokio::main]
async fn main() {
    let app = Router::new()
        .route("/api/session/viewer", post(viewer))
        .route("/api/v1/me", get(me));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    eprintln!("listening on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}
