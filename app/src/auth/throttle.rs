//! Brute-force throttling for every password check: login, sign-up, password change and
//! account deletion. ARCHITECTURE: "Throttling".
//!
//! Every attempt is *counted before* the password is hashed, against several counters
//! at once, and refunded when it turns out right. Counting first is what makes a burst
//! of parallel guesses cost as much as the same guesses one by one: the sixth of sixty
//! simultaneous attempts already finds the first five on the books.
//!
//! The counters (see [`Key`]):
//! - **account + address**: 5 free failures in a row, then each further attempt waits
//!   twice as long as the last (1 s, 2 s, 4 s, … up to 15 minutes). A right password
//!   clears it: it is that same person on that same address.
//! - **address**: a leaky bucket of 20 failures that drains by one every 30 s. Only time
//!   drains it: signing in to one's own account refunds that one attempt and nothing
//!   else, so an address that sprays a password over many accounts is stopped whatever
//!   it does in between.
//! - **account**: at most 100 failures an hour, from anywhere (a distributed attack).
//!   This one would let an attacker lock the real user out, so OWASP's *device cookie*
//!   scheme applies: a browser that signed in to the account before presents a signed
//!   cookie and is counted against its own **device** counter (10 failures an hour)
//!   instead of the account-wide one.
//!
//! The rules are plain functions over [`Counter`]s, so the same code runs whether the
//! counters live in memory (SQLite: one instance) or in the `throttle_counters` table
//! (PostgreSQL: every instance sees every attempt, see `store::throttle`).
//!
//! On top of the counters, an instance lets at most [`MAX_IN_FLIGHT_PER_ACCOUNT`] checks
//! per account and [`MAX_IN_FLIGHT_PER_ADDRESS`] per address wait for the hashing pool at
//! once, so one client cannot fill the pool's queue for everybody else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;

use crate::store::models::ThrottleCounter;
use crate::store::{Database, DbError};

/// Consecutive failures per (account, address) before backoff starts.
pub const ACCOUNT_IP_FREE_FAILURES: i32 = 5;
/// Failures an address may have in its bucket before it must wait.
pub const IP_BUCKET: i32 = 20;
/// How often the address bucket forgives one failure.
pub const IP_LEAK: Duration = Duration::from_secs(30);
/// Failures per account per hour, from browsers without a device cookie.
pub const ACCOUNT_FAILURES_PER_HOUR: i32 = 100;
/// Failures per device cookie per hour.
pub const DEVICE_FAILURES_PER_HOUR: i32 = 10;
/// Longest single backoff.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Password checks of one account waiting or hashing at once, per instance.
pub const MAX_IN_FLIGHT_PER_ACCOUNT: u32 = 4;
/// Password checks from one address waiting or hashing at once, per instance.
pub const MAX_IN_FLIGHT_PER_ADDRESS: u32 = 8;

const HOUR: Duration = Duration::from_secs(3600);

/// What one attempt is about.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The account's key (a normalised e-mail address).
    pub account: String,
    /// The client's address.
    pub ip: String,
    /// The nonce of a valid device cookie for this account, if the browser sent one.
    pub device: Option<String>,
}

/// One counter an attempt is charged to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// This account from this address.
    AccountIp(String, String),
    /// This address, whatever the account.
    Ip(String),
    /// This account, from browsers without its device cookie.
    Account(String),
    /// This account from the browser holding this device cookie.
    Device(String),
}

impl Key {
    /// The key's text form, the `throttle_counters` primary key.
    pub fn as_stored(&self) -> String {
        match self {
            Self::AccountIp(account, ip) => format!("account-ip:{account}|{ip}"),
            Self::Ip(ip) => format!("ip:{ip}"),
            Self::Account(account) => format!("account:{account}"),
            Self::Device(nonce) => format!("device:{nonce}"),
        }
    }

    fn rule(&self) -> Rule {
        match self {
            Self::AccountIp(..) => Rule::Backoff {
                free: ACCOUNT_IP_FREE_FAILURES,
            },
            Self::Ip(_) => Rule::Bucket {
                size: IP_BUCKET,
                leak: IP_LEAK,
            },
            Self::Account(_) => Rule::PerHour {
                max: ACCOUNT_FAILURES_PER_HOUR,
            },
            Self::Device(_) => Rule::PerHour {
                max: DEVICE_FAILURES_PER_HOUR,
            },
        }
    }
}

/// The counters an attempt is charged to, in a fixed order (storage locks rows in this
/// order, so two attempts never wait for each other crosswise).
pub fn keys(attempt: &Attempt) -> Vec<Key> {
    let mut keys = vec![
        Key::AccountIp(attempt.account.clone(), attempt.ip.clone()),
        Key::Ip(attempt.ip.clone()),
        match &attempt.device {
            Some(nonce) => Key::Device(nonce.clone()),
            None => Key::Account(attempt.account.clone()),
        },
    ];
    keys.sort();
    keys
}

/// How a counter turns failures into waiting.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// `free` failures in a row, then exponential backoff; a success clears it.
    Backoff { free: i32 },
    /// A bucket of `size` failures that forgets one every `leak`.
    Bucket { size: i32, leak: Duration },
    /// At most `max` failures per hour-long window.
    PerHour { max: i32 },
}

/// The state of one counter. Times are UTC, as everywhere in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Failures counted (attempts are counted as failures until refunded).
    pub failures: i32,
    /// Start of the hour window, or the last leak of a bucket.
    pub window_start: NaiveDateTime,
    /// No attempt before this moment.
    pub blocked_until: Option<NaiveDateTime>,
}

impl Counter {
    /// A counter with nothing on it.
    pub fn new(now: NaiveDateTime) -> Self {
        Self {
            failures: 0,
            window_start: now,
            blocked_until: None,
        }
    }

    /// After this moment the counter says nothing and may be forgotten.
    pub fn forgettable_after(&self) -> NaiveDateTime {
        let idle = self.window_start + chrono_duration(HOUR);
        self.blocked_until.map_or(idle, |b| b.max(idle))
    }

    fn to_row(self, key: &Key) -> ThrottleCounter {
        ThrottleCounter {
            key: key.as_stored(),
            failures: self.failures,
            window_start: self.window_start,
            blocked_until: self.blocked_until,
            expires_at: self.forgettable_after(),
        }
    }

    /// Reads a stored counter back.
    pub fn from_row(row: &ThrottleCounter) -> Self {
        Self {
            failures: row.failures,
            window_start: row.window_start,
            blocked_until: row.blocked_until,
        }
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn backoff(failures: i32, free: i32) -> Option<Duration> {
    let over = failures.checked_sub(free).filter(|over| *over >= 0)?;
    Some(Duration::from_secs(1u64 << over.min(20)).min(MAX_BACKOFF))
}

impl Rule {
    /// Brings the counter up to `now` (windows roll over, buckets leak).
    fn age(self, counter: &mut Counter, now: NaiveDateTime) {
        match self {
            Rule::Backoff { .. } => {
                if now >= counter.window_start + chrono_duration(HOUR)
                    && counter.blocked_until.is_none_or(|b| b <= now)
                {
                    *counter = Counter::new(now);
                }
            }
            Rule::Bucket { size, leak } => {
                let leak = chrono_duration(leak);
                let elapsed = now - counter.window_start;
                let leaked = (elapsed.num_milliseconds() / leak.num_milliseconds().max(1))
                    .clamp(0, i64::from(i32::MAX)) as i32;
                if leaked > 0 {
                    counter.failures = (counter.failures - leaked).max(0);
                    counter.window_start = if counter.failures == 0 {
                        now
                    } else {
                        counter.window_start + leak * leaked
                    };
                }
                counter.blocked_until =
                    (counter.failures >= size).then(|| counter.window_start + leak);
            }
            Rule::PerHour { .. } => {
                if now >= counter.window_start + chrono_duration(HOUR) {
                    *counter = Counter::new(now);
                }
            }
        }
    }

    /// Counts one more failure.
    fn charge(self, counter: &mut Counter, now: NaiveDateTime) {
        counter.failures += 1;
        counter.blocked_until = match self {
            Rule::Backoff { free } => {
                backoff(counter.failures, free).map(|d| now + chrono_duration(d))
            }
            Rule::Bucket { size, leak } => {
                (counter.failures >= size).then(|| counter.window_start + chrono_duration(leak))
            }
            Rule::PerHour { max } => {
                (counter.failures >= max).then(|| counter.window_start + chrono_duration(HOUR))
            }
        };
    }

    /// Takes back one charged failure; a right password also clears a backoff counter.
    fn refund(self, counter: &mut Counter, outcome: Outcome) {
        match (self, outcome) {
            (Rule::Backoff { .. }, Outcome::Succeeded) => {
                counter.failures = 0;
                counter.blocked_until = None;
            }
            (rule, _) => {
                counter.failures = (counter.failures - 1).max(0);
                let blocked = match rule {
                    Rule::Backoff { free } => counter.failures >= free,
                    Rule::Bucket { size, .. } => counter.failures >= size,
                    Rule::PerHour { max } => counter.failures >= max,
                };
                if !blocked {
                    counter.blocked_until = None;
                }
            }
        }
    }
}

/// How a counted attempt ended, for the refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The password was right: refund, and clear this account's backoff on this address.
    Succeeded,
    /// The password was never judged (the service was unavailable): refund.
    NotJudged,
}

/// Charges one attempt to every counter in `counters` (paired with `keys`), or to none
/// of them: `Err(wait)` when any is blocked at `now`.
pub fn charge_all(
    keys: &[Key],
    counters: &mut [Counter],
    now: NaiveDateTime,
) -> Result<(), Duration> {
    for (key, counter) in keys.iter().zip(counters.iter_mut()) {
        key.rule().age(counter, now);
    }
    let wait = counters
        .iter()
        .filter_map(|c| c.blocked_until)
        .filter(|until| *until > now)
        .map(|until| (until - now).to_std().unwrap_or_default())
        .max();
    if let Some(wait) = wait {
        return Err(wait);
    }
    for (key, counter) in keys.iter().zip(counters.iter_mut()) {
        key.rule().charge(counter, now);
    }
    Ok(())
}

/// Refunds one attempt charged by [`charge_all`].
pub fn refund_all(keys: &[Key], counters: &mut [Counter], outcome: Outcome) {
    for (key, counter) in keys.iter().zip(counters.iter_mut()) {
        key.rule().refund(counter, outcome);
    }
}

/// Why an attempt may not go ahead now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many failures: wait this long (`Retry-After`).
    Throttled(Duration),
    /// Too many checks of this account or from this address are running right now.
    Busy,
}

/// Where the counters live.
enum Store {
    /// This process only (SQLite deployments have one instance).
    Memory(Mutex<HashMap<Key, Counter>>),
    /// The `throttle_counters` table, seen by every instance.
    Shared(Database),
}

/// The throttle of one process: the counters and the in-flight limits.
pub struct Throttle {
    store: Store,
    in_flight: Arc<Mutex<HashMap<Key, u32>>>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shared = matches!(self.store, Store::Shared(_));
        f.debug_struct("Throttle").field("shared", &shared).finish()
    }
}

/// A counted attempt: hand it back with [`Throttle::settle`]. While it lives it holds
/// one of the in-flight places of its account and address (dropped with the request if
/// the client goes away).
#[derive(Debug)]
#[must_use = "settle the reservation, or the attempt counts as a failure"]
pub struct Reservation {
    keys: Vec<Key>,
    _in_flight: InFlight,
}

#[derive(Debug)]
struct InFlight {
    keys: [Key; 2],
    table: Arc<Mutex<HashMap<Key, u32>>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            if let Some(n) = table.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    table.remove(key);
                }
            }
        }
    }
}

impl Throttle {
    /// Counters in this process's memory.
    pub fn in_memory() -> Self {
        Self {
            store: Store::Memory(Mutex::new(HashMap::new())),
            in_flight: Arc::default(),
        }
    }

    /// Counters in the database, shared with every instance using it.
    pub fn shared(db: Database) -> Self {
        Self {
            store: Store::Shared(db),
            in_flight: Arc::default(),
        }
    }

    /// Counts `attempt` before its password is checked, or refuses it.
    pub async fn reserve(&self, attempt: &Attempt) -> Result<Reservation, ReserveError> {
        let in_flight = self.enter(attempt)?;
        let keys = keys(attempt);
        self.update(&keys, charge_all)
            .await?
            .map_err(|wait| ReserveError::Refused(Refusal::Throttled(wait)))?;
        Ok(Reservation {
            keys,
            _in_flight: in_flight,
        })
    }

    /// Ends a reservation: `None` for a wrong password (the charge stands), else the
    /// outcome to refund.
    pub async fn settle(
        &self,
        reservation: Reservation,
        outcome: Option<Outcome>,
    ) -> Result<(), DbError> {
        let Some(outcome) = outcome else {
            return Ok(());
        };
        self.update(&reservation.keys, move |keys, counters, _| {
            refund_all(keys, counters, outcome)
        })
        .await
    }

    /// Takes an in-flight place for the attempt's account and address.
    fn enter(&self, attempt: &Attempt) -> Result<InFlight, Refusal> {
        let keys = [
            Key::Account(attempt.account.clone()),
            Key::Ip(attempt.ip.clone()),
        ];
        let mut table = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let full = |key: &Key, max| table.get(key).is_some_and(|n| *n >= max);
        if full(&keys[0], MAX_IN_FLIGHT_PER_ACCOUNT) || full(&keys[1], MAX_IN_FLIGHT_PER_ADDRESS) {
            return Err(Refusal::Busy);
        }
        for key in &keys {
            *table.entry(key.clone()).or_default() += 1;
        }
        Ok(InFlight {
            keys,
            table: Arc::clone(&self.in_flight),
        })
    }

    /// Applies `change` to the counters of `keys` at one moment, atomically: under one
    /// lock in memory, in one transaction with the rows locked in the database.
    async fn update<T: Send + 'static>(
        &self,
        keys: &[Key],
        change: impl FnOnce(&[Key], &mut [Counter], NaiveDateTime) -> T + Send + 'static,
    ) -> Result<T, DbError> {
        let now = now();
        match &self.store {
            Store::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
                let mut counters: Vec<Counter> = keys
                    .iter()
                    .map(|k| map.get(k).copied().unwrap_or_else(|| Counter::new(now)))
                    .collect();
                let result = change(keys, &mut counters, now);
                for (key, counter) in keys.iter().zip(counters) {
                    map.insert(key.clone(), counter);
                }
                Ok(result)
            }
            Store::Shared(db) => {
                let keys = keys.to_vec();
                db.run(move |conn| {
                    conn.write_transaction(|conn| {
                        let stored: Vec<String> = keys.iter().map(Key::as_stored).collect();
                        let rows = crate::store::throttle::lock_counters(conn, &stored, now)?;
                        let mut counters: Vec<Counter> =
                            rows.iter().map(Counter::from_row).collect();
                        let result = change(&keys, &mut counters, now);
                        let rows: Vec<ThrottleCounter> = keys
                            .iter()
                            .zip(&counters)
                            .map(|(key, counter)| counter.to_row(key))
                            .collect();
                        crate::store::throttle::save_counters(conn, &rows)?;
                        Ok::<_, DbError>(result)
                    })
                })
                .await
            }
        }
    }

    /// Forgets counters that say nothing any more (memory; the cleanup job deletes the
    /// table's expired rows). Returns how many.
    pub fn purge(&self) -> usize {
        let Store::Memory(map) = &self.store else {
            return 0;
        };
        let now = now();
        let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
        let before = map.len();
        map.retain(|_, c| c.forgettable_after() > now);
        before - map.len()
    }
}

/// Why [`Throttle::reserve`] did not count the attempt.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// The throttle said no.
    #[error("refused by the throttle: {0:?}")]
    Refused(Refusal),
    /// The shared counters could not be read.
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<Refusal> for ReserveError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// OWASP's device cookie: proof that this browser signed in to an account before, so
/// that attempts from it are not stopped by the account-wide lock an attacker can
/// trigger from elsewhere. The value is `NONCE.TAG`, where `TAG` is an HMAC of the
/// account and the nonce under a server key: it names no account, and cannot be made
/// for another one.
pub struct DeviceCookie {
    key: hmac::Key,
}

impl std::fmt::Debug for DeviceCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceCookie(<key redacted>)")
    }
}

impl DeviceCookie {
    /// Device cookies signed with `key` (derived from the signing key).
    pub fn new(key: hmac::Key) -> Self {
        Self { key }
    }

    /// A new cookie value for `account`.
    pub fn issue(&self, account: &str) -> String {
        use aws_lc_rs::rand::{SecureRandom, SystemRandom};
        let mut nonce = [0u8; 16];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random generator is available");
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let tag = self.tag(account, &nonce);
        format!("{nonce}.{tag}")
    }

    /// The cookie's nonce if `value` is a valid device cookie for `account`.
    pub fn verify(&self, account: &str, value: &str) -> Option<String> {
        let (nonce, tag) = value.split_once('.')?;
        if nonce.len() != 22 {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let message = format!("{account}\n{nonce}");
        hmac::verify(&self.key, message.as_bytes(), &tag).ok()?;
        Some(nonce.to_owned())
    }

    fn tag(&self, account: &str, nonce: &str) -> String {
        let message = format!("{account}\n{nonce}");
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, message.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(account: &str, ip: &str) -> Attempt {
        Attempt {
            account: account.into(),
            ip: ip.into(),
            device: None,
        }
    }

    fn t0() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc()
    }

    fn secs(n: i64) -> chrono::Duration {
        chrono::Duration::seconds(n)
    }

    /// The rules alone, on a map of counters, as a clock-free model of the store.
    #[derive(Default)]
    struct Model(HashMap<Key, Counter>);

    impl Model {
        fn try_at(&mut self, attempt: &Attempt, now: NaiveDateTime) -> Result<Vec<Key>, Duration> {
            let keys = keys(attempt);
            let mut counters: Vec<Counter> = keys
                .iter()
                .map(|k| self.0.get(k).copied().unwrap_or_else(|| Counter::new(now)))
                .collect();
            let result = charge_all(&keys, &mut counters, now);
            for (k, c) in keys.iter().zip(counters) {
                self.0.insert(k.clone(), c);
            }
            result.map(|()| keys)
        }

        fn refund(&mut self, keys: &[Key], outcome: Outcome) {
            let mut counters: Vec<Counter> = keys.iter().map(|k| self.0[k]).collect();
            refund_all(keys, &mut counters, outcome);
            for (k, c) in keys.iter().zip(counters) {
                self.0.insert(k.clone(), c);
            }
        }
    }

    #[test]
    fn five_attempts_are_free_then_backoff_doubles() {
        let mut m = Model::default();
        let a = attempt("ann@example.com", "10.0.0.1");
        for _ in 0..5 {
            m.try_at(&a, t0()).unwrap();
        }
        assert_eq!(m.try_at(&a, t0()), Err(Duration::from_secs(1)));
        m.try_at(&a, t0() + secs(1)).unwrap();
        assert_eq!(m.try_at(&a, t0() + secs(1)), Err(Duration::from_secs(2)));
        m.try_at(&a, t0() + secs(3)).unwrap();
        assert_eq!(m.try_at(&a, t0() + secs(3)), Err(Duration::from_secs(4)));
    }

    #[test]
    fn attempts_counted_before_checking_stop_a_parallel_burst_at_five() {
        // Sixty attempts that all arrive before any has been checked.
        let mut m = Model::default();
        let a = attempt("ann@example.com", "10.0.0.1");
        let admitted = (0..60).filter(|_| m.try_at(&a, t0()).is_ok()).count();
        assert_eq!(admitted, 5);
    }

    #[test]
    fn backoff_is_capped() {
        let rule = Key::AccountIp("a".into(), "b".into()).rule();
        let mut counter = Counter::new(t0());
        for _ in 0..40 {
            rule.charge(&mut counter, t0());
        }
        assert_eq!(
            counter.blocked_until,
            Some(t0() + chrono_duration(MAX_BACKOFF))
        );
    }

    #[test]
    fn the_right_password_clears_only_its_own_account_on_its_own_address() {
        let mut m = Model::default();
        let a = attempt("ann@example.com", "10.0.0.1");
        for _ in 0..4 {
            m.try_at(&a, t0()).unwrap();
        }
        let keys = m.try_at(&a, t0()).unwrap();
        m.refund(&keys, Outcome::Succeeded);
        assert!(m.try_at(&a, t0()).is_ok(), "ann's own backoff is cleared");
        assert_eq!(
            m.0[&Key::Ip("10.0.0.1".into())].failures,
            5,
            "4 + 1, the right one refunded"
        );
    }

    #[test]
    fn a_success_on_the_attackers_own_account_never_resets_the_address() {
        let mut m = Model::default();
        let mut sprayed = 0;
        for i in 0..56 {
            let victim = attempt(&format!("user{i}@example.com"), "10.0.0.9");
            if m.try_at(&victim, t0()).is_ok() {
                sprayed += 1;
            }
            // Now and then the attacker signs in to their own account.
            let own = attempt("mallory@example.com", "10.0.0.9");
            if let Ok(keys) = m.try_at(&own, t0()) {
                m.refund(&keys, Outcome::Succeeded);
            }
        }
        assert_eq!(sprayed, IP_BUCKET, "stopped once the bucket is full");
        assert!(
            m.try_at(&attempt("fresh@example.com", "10.0.0.10"), t0())
                .is_ok(),
            "another address is not affected"
        );
    }

    #[test]
    fn the_address_bucket_drains_with_time_only() {
        let mut m = Model::default();
        for i in 0..IP_BUCKET {
            m.try_at(&attempt(&format!("u{i}@x.org"), "10.0.0.9"), t0())
                .unwrap();
        }
        let next = attempt("next@x.org", "10.0.0.9");
        assert_eq!(m.try_at(&next, t0()), Err(IP_LEAK));
        assert!(m.try_at(&next, t0() + secs(29)).is_err());
        assert!(m.try_at(&next, t0() + secs(30)).is_ok(), "one leaked");
        assert!(
            m.try_at(&attempt("again@x.org", "10.0.0.9"), t0() + secs(30))
                .is_err()
        );
    }

    #[test]
    fn at_most_100_failures_per_hour_per_account_from_everywhere() {
        let mut m = Model::default();
        for i in 0..ACCOUNT_FAILURES_PER_HOUR {
            m.try_at(
                &attempt("ann@example.com", &format!("10.1.{}.{}", i / 250, i % 250)),
                t0(),
            )
            .unwrap();
        }
        let fresh = attempt("ann@example.com", "192.0.2.7");
        assert_eq!(m.try_at(&fresh, t0()), Err(HOUR));
        assert!(m.try_at(&fresh, t0() + chrono_duration(HOUR)).is_ok());
        assert!(
            m.try_at(&attempt("bob@example.com", "192.0.2.7"), t0())
                .is_ok()
        );
    }

    #[test]
    fn a_device_cookie_exempts_its_browser_from_the_account_lock_but_not_from_its_own() {
        let mut m = Model::default();
        for i in 0..ACCOUNT_FAILURES_PER_HOUR {
            m.try_at(&attempt("ann@example.com", &format!("10.2.0.{i}")), t0())
                .unwrap();
        }
        let mut known = attempt("ann@example.com", "192.0.2.7");
        assert!(m.try_at(&known, t0()).is_err(), "locked without the cookie");
        known.device = Some("nonce-of-anns-laptop".into());
        let keys = m
            .try_at(&known, t0())
            .expect("the known browser gets through");
        m.refund(&keys, Outcome::Succeeded);
        // A stolen device cookie gives its own 10 guesses an hour, not more.
        let mut thief = attempt("ann@example.com", "203.0.113.1");
        thief.device = Some("nonce-of-anns-laptop".into());
        let mut now = t0();
        let mut admitted = 0;
        for _ in 0..200 {
            match m.try_at(&thief, now) {
                Ok(_) => admitted += 1,
                Err(wait) if wait < Duration::from_secs(60) => now += chrono_duration(wait),
                Err(_) => break,
            }
        }
        assert_eq!(admitted, DEVICE_FAILURES_PER_HOUR);
    }

    #[test]
    fn a_refund_for_an_unjudged_attempt_takes_back_exactly_one() {
        let mut m = Model::default();
        let a = attempt("ann@example.com", "10.0.0.1");
        let keys = m.try_at(&a, t0()).unwrap();
        m.refund(&keys, Outcome::NotJudged);
        assert!(m.0.values().all(|c| c.failures == 0));
    }

    #[test]
    fn device_cookies_are_bound_to_their_account() {
        let key = crate::auth::keys::SigningKey::generate()
            .0
            .derive(crate::auth::keys::DerivedKey::DeviceCookie);
        let cookies = DeviceCookie::new(key);
        let value = cookies.issue("ann@example.com");
        let nonce = cookies.verify("ann@example.com", &value).unwrap();
        assert!(value.starts_with(&nonce));
        assert!(!value.contains("ann"), "the cookie names no account");
        assert_eq!(cookies.verify("bob@example.com", &value), None);
        assert_eq!(
            cookies.verify("ann@example.com", &value.replace('.', "x")),
            None
        );
        let other = crate::auth::keys::SigningKey::generate()
            .0
            .derive(crate::auth::keys::DerivedKey::DeviceCookie);
        assert_eq!(
            DeviceCookie::new(other).verify("ann@example.com", &value),
            None
        );
    }

    #[tokio::test]
    async fn in_flight_places_are_limited_and_given_back_when_dropped() {
        let throttle = Throttle::in_memory();
        let mut held = Vec::new();
        for i in 0..MAX_IN_FLIGHT_PER_ADDRESS {
            held.push(
                throttle
                    .reserve(&attempt(&format!("u{i}@x.org"), "10.0.0.1"))
                    .await
                    .unwrap(),
            );
        }
        assert!(matches!(
            throttle.reserve(&attempt("more@x.org", "10.0.0.1")).await,
            Err(ReserveError::Refused(Refusal::Busy))
        ));
        drop(held.pop());
        assert!(
            throttle
                .reserve(&attempt("more@x.org", "10.0.0.1"))
                .await
                .is_ok()
        );
    }
}
