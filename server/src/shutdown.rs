//! Graceful shutdown: stop accepting connections on Ctrl-C or SIGTERM and let requests
//! in flight finish, so a deploy or `docker stop` never cuts a response in half.

use std::future::Future;

/// Installs the signal handlers now and returns a future that resolves when the process
/// is asked to stop.
///
/// Installing eagerly matters: a SIGTERM that arrives between "listening" and the first
/// poll of the future must still shut down gracefully rather than kill the process.
pub fn signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => tokio::select! {
                    _ = interrupt.recv() => tracing::info!("Ctrl-C received, shutting down"),
                    _ = terminate.recv() => tracing::info!("SIGTERM received, shutting down"),
                },
                (Err(err), _) | (_, Err(err)) => {
                    tracing::error!(error = %err, "cannot listen for signals; stop with SIGKILL");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Ctrl-C received, shutting down");
    }
}
