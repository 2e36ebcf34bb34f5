//! `/healthz` answers 503, quickly, when the database does not answer in time.

use std::time::{Duration, Instant};

use app::store::{Database, DatabaseOptions, DatabaseUrl};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use server::Config;
use tower::ServiceExt;

#[tokio::test]
async fn healthz_is_503_when_no_database_connection_can_be_had() {
    let dir = tempfile::tempdir().unwrap();
    let options = DatabaseOptions {
        pool_size: 1,
        timeout: Duration::from_millis(300),
    };
    let db = Database::open(&DatabaseUrl::sqlite_in(dir.path()), options).unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let config = <Config as clap::Parser>::parse_from(["server", "--data-dir", data_dir]);
    let state = server::app_state(&config, config.site_addr, db.clone())
        .await
        .unwrap();

    // Occupy the only connection, as a stuck query or a dead database would.
    let (held_tx, held_rx) = tokio::sync::oneshot::channel();
    let blocker = tokio::spawn(async move {
        db.run(move |_conn| {
            let _ = held_tx.send(());
            std::thread::sleep(Duration::from_secs(2));
            Ok(())
        })
        .await
    });
    held_rx.await.unwrap();

    let started = Instant::now();
    let response = server::router::app(state.clone())
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    // Only the verdict: the pool's error text (and, on PostgreSQL, host names) stay in
    // the log.
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(&body[..], br#"{"status":"unavailable"}"#);

    // Service resumes by itself once the database answers again.
    blocker.await.unwrap().unwrap();
    let response = server::router::app(state)
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
