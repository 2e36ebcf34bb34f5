//! The ceiling: one axum route answering a small JSON body, with nothing around it.
//! Gatehouse's authenticated call is measured against it to show what its stack costs.

use axum::{Json, Router, routing::post};
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

#[tokio::main]
async fn main() {
    let app = Router::new().route("/api/session/viewer", post(viewer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    eprintln!("listening on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}
