//! The accept loop: serves the router on a listener like `axum::serve`, plus the
//! connection limits that keep slow or idle clients from holding sockets and memory
//! (slowloris). ARCHITECTURE: "Connections".
//!
//! - **Header read timeout**: a connection that has not sent a complete request head
//!   within it is closed. The same clock runs while a kept-alive connection waits for its
//!   next request, so idle connections are closed too.
//! - **Request timeout**: a request (reading its body included) that takes longer is
//!   answered 408 and its connection closed. The timer is armed only once the request
//!   has to wait (`tokio::time::timeout` polls the request first): most answers are
//!   ready at their first poll and never touch the timer wheel, which tower-http's
//!   timeout layer did for every request (README: "Performance").
//! - **Connection cap**: past it, new connections wait in the kernel's accept queue until
//!   one closes, instead of each taking a file descriptor and a task.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::router::App;

/// How long and how many connections are allowed.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time to send a complete request head, and most time a kept-alive connection may
    /// sit idle.
    pub header_read_timeout: Duration,
    /// Time for a whole request, body included.
    pub request_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long shutdown waits for requests in progress.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets requests in progress
/// finish (up to [`ConnectionLimits::shutdown_grace`]).
pub async fn serve(
    listener: TcpListener,
    app: App,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or the peer gave up mid-handshake: wait a
                    // moment rather than spin, and go on.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = service_fn({
            let app = app.clone();
            move |request: http::Request<Incoming>| {
                let app = app.clone();
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                async move {
                    let answer = tokio::time::timeout(limits.request_timeout, app.serve(request));
                    Ok::<_, Infallible>(answer.await.unwrap_or_else(|_| request_timeout()))
                }
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("requests still running at shutdown were cut off");
        }
    }
}

/// The answer to a request that ran past [`ConnectionLimits::request_timeout`].
fn request_timeout() -> Response {
    http::StatusCode::REQUEST_TIMEOUT.into_response()
}
