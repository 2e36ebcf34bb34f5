//! Refusals answered slowly: a 429 waits [`RefusalPacer::delay`] before it is sent, so a
//! flood of refused requests goes at the pace of its connections instead of taking the
//! core from everyone else.
//!
//! Why (docs/PERFORMANCE.md, R6): a login flood is mostly refused at once, by the
//! throttle's limit of checks in flight per account, at about 18 µs an answer. Answered at
//! full speed that was 27,000 refusals a second, half the core, and every page's yield
//! handed each ready refused connection another turn: signed-in page views fell to 0.46
//! of what they were without the flood. Held for 250 ms, each flooding connection makes
//! at most four attempts a second.
//!
//! Held answers are bounded ([`MAX_HELD_REFUSALS`] in all, and so for any one client):
//! past it a refusal is sent at once, as before, so holding never grows memory without a
//! bound. A held answer also holds its connection, which the connection limits already
//! count per client and in total.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

/// Refusals held at once, at most: each is a finished answer and a timer, a few hundred
/// bytes.
pub const MAX_HELD_REFUSALS: usize = 1024;

/// Holds refusals for a moment, within a bound.
#[derive(Debug, Clone)]
pub struct RefusalPacer {
    delay: Duration,
    holds: Arc<Semaphore>,
}

impl RefusalPacer {
    /// Holds each refusal for `delay` (zero: never), at most [`MAX_HELD_REFUSALS`] at once.
    pub fn new(delay: Duration) -> Self {
        Self::with_limit(delay, MAX_HELD_REFUSALS)
    }

    /// As [`RefusalPacer::new`], holding at most `limit` at once.
    pub fn with_limit(delay: Duration, limit: usize) -> Self {
        Self {
            delay,
            holds: Arc::new(Semaphore::new(limit)),
        }
    }

    /// Waits out the delay if a hold is free; returns at once if none is.
    pub async fn hold(&self) {
        if self.delay.is_zero() {
            return;
        }
        let Ok(_held) = self.holds.try_acquire() else {
            return;
        };
        tokio::time::sleep(self.delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_refusal_waits_the_delay_while_a_hold_is_free_and_not_past_the_bound() {
        let pacer = RefusalPacer::with_limit(Duration::from_millis(250), 2);
        let started = tokio::time::Instant::now();
        let held = (0..5).map(|_| {
            let pacer = pacer.clone();
            tokio::spawn(async move {
                pacer.hold().await;
                started.elapsed()
            })
        });
        let mut waited: Vec<Duration> = futures_util::future::join_all(held)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        waited.sort();
        assert_eq!(
            &waited[..3],
            &[Duration::ZERO; 3],
            "past the bound: at once"
        );
        assert_eq!(
            &waited[3..],
            &[Duration::from_millis(250); 2],
            "held: the delay"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_delay_never_holds() {
        let pacer = RefusalPacer::new(Duration::ZERO);
        let started = tokio::time::Instant::now();
        pacer.hold().await;
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
