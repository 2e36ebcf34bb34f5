//! Background work: the periodic cleanup that keeps every table bounded, and the
//! revocation feed that tells this instance about revocations made by the others.

use std::sync::Arc;
use std::time::Duration;

use app::auth::Auth;

/// Runs [`Auth::cleanup`] now and then every `interval`, for the life of the
/// process. Failures are logged and retried at the next tick; they never stop the job.
pub fn spawn_cleanup(auth: Arc<Auth>, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(100)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match auth.cleanup().await {
                Ok(report) if report.deleted.total() + report.revocations > 0 => {
                    tracing::info!(?report, "cleanup deleted expired rows");
                }
                Ok(_) => tracing::debug!("cleanup: nothing expired"),
                Err(err) => tracing::warn!(error = %err, "cleanup failed; will retry"),
            }
        }
    })
}

/// Polls for revocations made by other instances sharing the database every `interval`
/// (see [`app::auth::Core::sync_revocations`]), so a device signed out through one instance
/// is refused by every instance within about `interval`. With a single instance the
/// poll finds only what this instance already knows; it costs one indexed query.
///
/// While the database is down the poll fails quietly and resumes when it returns,
/// from where it stopped.
pub fn spawn_revocation_feed(auth: Arc<Auth>, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(10)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            ticker.tick().await;
            match auth.core.sync_revocations().await {
                Ok(_) => {
                    if std::mem::take(&mut failing) {
                        tracing::info!("revocation feed resumed");
                    }
                }
                // The feed's cursor stays put: the next successful poll covers the outage.
                Err(err) if !failing => {
                    failing = true;
                    tracing::warn!(error = %err, "revocation feed failed; retrying");
                }
                Err(_) => {}
            }
        }
    })
}
