//! Brute-force throttling for login, sign-up and password change (DESIGN §6).
//!
//! Three counters per attempt, so an attacker is slowed without locking the real user out:
//! - (account, IP): after 5 consecutive failures, each further attempt waits twice as long
//!   as the last (1 s, 2 s, 4 s, … up to 15 minutes). A success resets it.
//! - IP alone: the same backoff after 20 consecutive failures across accounts
//!   (credential stuffing from one address).
//! - account alone: at most 100 failures per hour, from anywhere. One address cannot get
//!   near that under its own backoff, so only a distributed attack reaches it.
//!
//! The real user, on another address, shares no counter with an attacker but the hourly
//! cap. Counters live in memory, per instance; idle ones are purged by the cleanup job.
//! (A rate-limiting crate such as governor limits request rates, not consecutive
//! failures with exponential backoff, so this small module is hand-written.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consecutive failures per (account, IP) before backoff starts.
pub const ACCOUNT_IP_FREE_FAILURES: u32 = 5;
/// Consecutive failures per IP, across accounts, before backoff starts.
pub const IP_FREE_FAILURES: u32 = 20;
/// Failures per account per hour, from all addresses together.
pub const ACCOUNT_FAILURES_PER_HOUR: u32 = 100;
/// Longest single backoff.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

const HOUR: Duration = Duration::from_secs(3600);

/// What one attempt is about: the account (a normalised e-mail or a user id) and the
/// client address.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The account's key.
    pub account: String,
    /// The client IP.
    pub ip: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    AccountIp(String, String),
    Ip(String),
    Account(String),
}

#[derive(Debug, Clone)]
struct Counter {
    consecutive: u32,
    blocked_until: Option<Instant>,
    window_start: Instant,
    in_window: u32,
    last_seen: Instant,
}

impl Counter {
    fn new(now: Instant) -> Self {
        Self {
            consecutive: 0,
            blocked_until: None,
            window_start: now,
            in_window: 0,
            last_seen: now,
        }
    }
}

/// The throttle state of one process.
#[derive(Debug, Default)]
pub struct Throttle {
    counters: Mutex<HashMap<Key, Counter>>,
}

fn keys(attempt: &Attempt) -> [Key; 3] {
    [
        Key::AccountIp(attempt.account.clone(), attempt.ip.clone()),
        Key::Ip(attempt.ip.clone()),
        Key::Account(attempt.account.clone()),
    ]
}

fn backoff(consecutive: u32, free: u32) -> Option<Duration> {
    let over = consecutive.checked_sub(free)?;
    Some(Duration::from_secs(1u64 << over.min(20)).min(MAX_BACKOFF))
}

impl Throttle {
    /// An empty throttle.
    pub fn new() -> Self {
        Self::default()
    }

    /// `Err(wait)` when the attempt must not be tried now; `wait` goes into `Retry-After`.
    pub fn check(&self, attempt: &Attempt) -> Result<(), Duration> {
        self.check_at(attempt, Instant::now())
    }

    /// Records a failed attempt (wrong password, taken e-mail).
    pub fn failure(&self, attempt: &Attempt) {
        self.failure_at(attempt, Instant::now());
    }

    /// Records a successful attempt: the consecutive-failure counters of this account
    /// from this address, and of this address, start again.
    pub fn success(&self, attempt: &Attempt) {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for key in &keys(attempt)[..2] {
            counters.remove(key);
        }
    }

    /// [`Throttle::check`] at a given instant (tests).
    pub fn check_at(&self, attempt: &Attempt, now: Instant) -> Result<(), Duration> {
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let wait = keys(attempt)
            .iter()
            .filter_map(|key| counters.get(key))
            .filter_map(|c| c.blocked_until)
            .filter_map(|until| until.checked_duration_since(now))
            .max();
        match wait {
            Some(wait) if !wait.is_zero() => Err(wait),
            _ => Ok(()),
        }
    }

    /// [`Throttle::failure`] at a given instant (tests).
    pub fn failure_at(&self, attempt: &Attempt, now: Instant) {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys(attempt) {
            let counter = counters
                .entry(key.clone())
                .or_insert_with(|| Counter::new(now));
            counter.last_seen = now;
            counter.consecutive += 1;
            if now.duration_since(counter.window_start) >= HOUR {
                counter.window_start = now;
                counter.in_window = 0;
            }
            counter.in_window += 1;
            counter.blocked_until = match key {
                Key::AccountIp(..) => {
                    backoff(counter.consecutive, ACCOUNT_IP_FREE_FAILURES).map(|d| now + d)
                }
                Key::Ip(_) => backoff(counter.consecutive, IP_FREE_FAILURES).map(|d| now + d),
                Key::Account(_) => (counter.in_window >= ACCOUNT_FAILURES_PER_HOUR)
                    .then(|| counter.window_start + HOUR),
            };
        }
    }

    /// Forgets counters idle for an hour; returns how many. Keeps memory bounded under
    /// attacks that spray many accounts or addresses.
    pub fn purge(&self) -> usize {
        let now = Instant::now();
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let before = counters.len();
        counters.retain(|_, c| {
            now.duration_since(c.last_seen) < HOUR || c.blocked_until.is_some_and(|u| u > now)
        });
        before - counters.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(account: &str, ip: &str) -> Attempt {
        Attempt {
            account: account.into(),
            ip: ip.into(),
        }
    }

    #[test]
    fn five_failures_are_free_then_backoff_doubles() {
        let throttle = Throttle::new();
        let a = attempt("ann@example.com", "10.0.0.1");
        let t0 = Instant::now();
        for _ in 0..4 {
            throttle.failure_at(&a, t0);
            assert_eq!(throttle.check_at(&a, t0), Ok(()));
        }
        throttle.failure_at(&a, t0);
        assert_eq!(throttle.check_at(&a, t0), Err(Duration::from_secs(1)));
        throttle.failure_at(&a, t0 + Duration::from_secs(1));
        assert_eq!(
            throttle.check_at(&a, t0 + Duration::from_secs(1)),
            Err(Duration::from_secs(2))
        );
        throttle.failure_at(&a, t0 + Duration::from_secs(3));
        assert_eq!(
            throttle.check_at(&a, t0 + Duration::from_secs(3)),
            Err(Duration::from_secs(4))
        );
        assert_eq!(
            throttle.check_at(&a, t0 + Duration::from_secs(7)),
            Ok(()),
            "the backoff ends"
        );
    }

    #[test]
    fn backoff_is_capped() {
        let throttle = Throttle::new();
        let a = attempt("ann@example.com", "10.0.0.1");
        let t0 = Instant::now();
        for _ in 0..40 {
            throttle.failure_at(&a, t0);
        }
        assert_eq!(throttle.check_at(&a, t0), Err(MAX_BACKOFF));
    }

    #[test]
    fn an_attacker_on_one_address_does_not_lock_out_the_user_on_another() {
        let throttle = Throttle::new();
        let attacker = attempt("ann@example.com", "10.0.0.66");
        let user = attempt("ann@example.com", "192.0.2.7");
        let t0 = Instant::now();
        for _ in 0..30 {
            throttle.failure_at(&attacker, t0);
        }
        assert!(throttle.check_at(&attacker, t0).is_err());
        assert_eq!(throttle.check_at(&user, t0), Ok(()));
    }

    #[test]
    fn a_success_resets_the_backoff() {
        let throttle = Throttle::new();
        let a = attempt("ann@example.com", "10.0.0.1");
        let t0 = Instant::now();
        for _ in 0..5 {
            throttle.failure_at(&a, t0);
        }
        throttle.success(&a);
        assert_eq!(throttle.check_at(&a, t0), Ok(()));
    }

    #[test]
    fn one_address_spraying_many_accounts_is_slowed() {
        let throttle = Throttle::new();
        let t0 = Instant::now();
        for i in 0..IP_FREE_FAILURES {
            throttle.failure_at(&attempt(&format!("user{i}@example.com"), "10.0.0.9"), t0);
        }
        assert!(
            throttle
                .check_at(&attempt("fresh@example.com", "10.0.0.9"), t0)
                .is_err()
        );
        assert_eq!(
            throttle.check_at(&attempt("fresh@example.com", "10.0.0.10"), t0),
            Ok(())
        );
    }

    #[test]
    fn at_most_100_failures_per_hour_per_account_from_everywhere() {
        let throttle = Throttle::new();
        let t0 = Instant::now();
        for i in 0..ACCOUNT_FAILURES_PER_HOUR {
            throttle.failure_at(
                &attempt("ann@example.com", &format!("10.1.{}.{}", i / 250, i % 250)),
                t0,
            );
        }
        let fresh_ip = attempt("ann@example.com", "192.0.2.7");
        assert_eq!(throttle.check_at(&fresh_ip, t0), Err(HOUR));
        assert_eq!(throttle.check_at(&fresh_ip, t0 + HOUR), Ok(()));
        assert_eq!(
            throttle.check_at(&attempt("bob@example.com", "192.0.2.7"), t0),
            Ok(())
        );
    }
}
