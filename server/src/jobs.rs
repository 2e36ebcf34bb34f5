//! Background work: the periodic cleanup that keeps every table bounded.

use std::sync::Arc;
use std::time::Duration;

use app::auth::service::AuthService;

/// Runs [`AuthService::cleanup`] now and then every `interval`, for the life of the
/// process. Failures are logged and retried at the next tick; they never stop the job.
pub fn spawn_cleanup(auth: Arc<AuthService>, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(100)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match auth.cleanup().await {
                Ok(report) if report.total() + report.revocations > 0 => {
                    tracing::info!(?report, "cleanup deleted expired rows");
                }
                Ok(_) => tracing::debug!("cleanup: nothing expired"),
                Err(err) => tracing::warn!(error = %err, "cleanup failed; will retry"),
            }
        }
    })
}
