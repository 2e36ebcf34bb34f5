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
const DAY: Duration = Duration::from_secs(24 * 3600);

/// Second-factor code failures per account per hour, from everywhere and whatever
/// cookie the browser holds: the ceiling two-step sign-in rests on once the password is
/// known. Reached, the code step is locked for the rest of the hour and the owner mailed.
pub const CODE_FAILURES_PER_HOUR: i32 = 10;
/// Completed resets a day that lift the account's code lock (see
/// `Throttle::forget_code_failures`).
pub const CODE_LIFTS_PER_DAY: i32 = 1;
/// The limits a deployment may set (the rest are the constants above).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sign-ups per client address per hour, right or wrong (each creates an account
    /// and a mail, so success is not refunded): `SIGN_UPS_PER_HOUR`.
    pub sign_ups_per_hour: i32,
}

impl From<&crate::auth::settings::SessionSettings> for Limits {
    fn from(settings: &crate::auth::settings::SessionSettings) -> Self {
        Self {
            sign_ups_per_hour: i32::try_from(settings.sign_ups_per_hour).unwrap_or(i32::MAX),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::from(&crate::auth::settings::SessionSettings::default())
    }
}
/// Writes one client may make without a session before it must wait (a passkey
/// ceremony begun, a mailed link landed on, a refresh that failed): a burst of this
/// many, then one per [`ANONYMOUS_WRITE_LEAK`].
pub const ANONYMOUS_WRITES: i32 = 30;
/// How often the anonymous-write bucket forgives one write.
pub const ANONYMOUS_WRITE_LEAK: Duration = Duration::from_secs(2);
/// Counters kept in memory at most (SQLite deployments); past it the oldest go. An
/// entry is about 100 bytes, so the table stays within about 10 MiB.
pub const MAX_MEMORY_COUNTERS: usize = 100_000;

/// A fixed-size stand-in for an attacker-chosen string (an address, a user id, a
/// passkey id): the first 16 bytes of its SHA-256. Keys never grow with the input, and
/// the shared table never stores an address in clear.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest16([u8; 16]);

impl Digest16 {
    /// The digest of `text`.
    pub fn of(text: &str) -> Self {
        let full = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&full.as_ref()[..16]);
        Self(bytes)
    }
}

impl std::fmt::Debug for Digest16 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl std::fmt::Display for Digest16 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

/// The client an attempt comes from, as the address counters see it: an IPv4 address,
/// or an IPv6 address's /64 (one host gets a whole /64, so its addresses are one client).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientKey {
    /// An IPv4 address (an IPv4-mapped IPv6 address too).
    V4([u8; 4]),
    /// The first 64 bits of an IPv6 address.
    V6([u8; 8]),
    /// No address could be read (one shared client).
    Unknown,
}

impl ClientKey {
    /// The client of an address as `ClientInfo` writes it.
    pub fn of(ip: &str) -> Self {
        match ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(v4)) => Self::V4(v4.octets()),
            Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4.octets()),
                None => {
                    let mut prefix = [0u8; 8];
                    prefix.copy_from_slice(&v6.octets()[..8]);
                    Self::V6(prefix)
                }
            },
            Err(_) => Self::Unknown,
        }
    }
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::V4(octets) => write!(f, "{}", std::net::Ipv4Addr::from(*octets)),
            Self::V6(prefix) => {
                let mut octets = [0u8; 16];
                octets[..8].copy_from_slice(prefix);
                write!(f, "{}/64", std::net::Ipv6Addr::from(octets))
            }
            Self::Unknown => f.write_str("unknown"),
        }
    }
}

/// What kind of guess an attempt is, which decides the counters it is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    /// A password (login, sudo, password change, account deletion) or a passkey answer.
    Password,
    /// A sign-up: a password attempt that also spends the address's sign-up budget.
    SignUp,
    /// A second-factor code after a right password: the account's code counter, which
    /// no device cookie exempts and no right password clears.
    Code,
    /// A request that mails a link (a password reset): the address bucket only. It
    /// guesses nothing, so it neither meets nor feeds the account's password lock; the
    /// mail itself has its own per-recipient limit.
    MailRequest,
}

/// What one attempt is about.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The account (a normalised e-mail address, a user id, a passkey's id), hashed.
    pub account: Digest16,
    /// The client's address.
    pub client: ClientKey,
    /// The nonce of a valid device cookie for this account, if the browser sent one.
    pub device: Option<Digest16>,
    /// What is being guessed.
    pub kind: AttemptKind,
}

impl Attempt {
    /// An attempt of `kind` on `account` (already normalised) from `ip`.
    pub fn new(kind: AttemptKind, account: &str, ip: &str, device: Option<&str>) -> Self {
        Self {
            account: Digest16::of(account),
            client: ClientKey::of(ip),
            device: device.map(Digest16::of),
            kind,
        }
    }
}

/// One counter an attempt is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// This account from this address.
    AccountIp(Digest16, ClientKey),
    /// This address, whatever the account.
    Ip(ClientKey),
    /// This account, from browsers without its device cookie.
    Account(Digest16),
    /// This account from the browser holding this device cookie.
    Device(Digest16),
    /// Second-factor codes of this account, from anywhere.
    Code(Digest16),
    /// Sign-ups from this address.
    SignUp(ClientKey),
    /// The codes one password step may try (a pending sign-in's id).
    Tries(Digest16),
    /// Writes this client made without a session.
    Writes(ClientKey),
    /// Completed resets of this account that lifted its code lock.
    CodeLift(Digest16),
}

impl Key {
    /// The key's text form, the `throttle_counters` primary key (fixed length per kind).
    pub fn as_stored(&self) -> String {
        match self {
            Self::AccountIp(account, client) => format!("account-ip:{account}|{client}"),
            Self::Ip(client) => format!("ip:{client}"),
            Self::Account(account) => format!("account:{account}"),
            Self::Device(nonce) => format!("device:{nonce}"),
            Self::Code(account) => format!("code:{account}"),
            Self::SignUp(client) => format!("sign-up:{client}"),
            Self::Tries(pending) => format!("tries:{pending}"),
            Self::Writes(client) => format!("writes:{client}"),
            Self::CodeLift(account) => format!("code-lift:{account}"),
        }
    }

    fn rule(&self, limits: Limits) -> Rule {
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
            Self::Code(_) => Rule::PerHour {
                max: CODE_FAILURES_PER_HOUR,
            },
            Self::SignUp(_) => Rule::Spent {
                max: limits.sign_ups_per_hour,
                window: HOUR,
            },
            Self::Tries(_) => Rule::Spent {
                max: i32::from(crate::auth::settings::PENDING_SIGN_IN_ATTEMPTS),
                window: HOUR,
            },
            Self::CodeLift(_) => Rule::Spent {
                max: CODE_LIFTS_PER_DAY,
                window: DAY,
            },
            Self::Writes(_) => Rule::Bucket {
                size: ANONYMOUS_WRITES,
                leak: ANONYMOUS_WRITE_LEAK,
            },
        }
    }

    /// The lock this counter engages when it fills, if the owner is to be told.
    fn lock(&self) -> Option<Lock> {
        match self {
            Self::Account(_) => Some(Lock::Password),
            Self::Code(_) => Some(Lock::Code),
            _ => None,
        }
    }
}

/// An account-wide lock that a failed attempt has just engaged: the owner is mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Password sign-in from browsers without the device cookie, for the hour.
    Password,
    /// The code step, for the hour: someone knows the password.
    Code,
}

/// The counters an attempt is charged to, in a fixed order (storage locks rows in this
/// order, so two attempts never wait for each other crosswise).
pub fn keys(attempt: &Attempt) -> Vec<Key> {
    let (account, client) = (attempt.account, attempt.client);
    let mut keys = vec![Key::Ip(client)];
    match attempt.kind {
        AttemptKind::Password | AttemptKind::SignUp => {
            keys.push(Key::AccountIp(account, client));
            keys.push(match attempt.device {
                Some(nonce) => Key::Device(nonce),
                None => Key::Account(account),
            });
        }
        AttemptKind::Code => {
            keys.push(Key::AccountIp(account, client));
            keys.push(Key::Code(account));
        }
        AttemptKind::MailRequest => {}
    }
    if attempt.kind == AttemptKind::SignUp {
        keys.push(Key::SignUp(client));
    }
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
    /// At most `max` uses per `window`, spent whatever the outcome: a right answer
    /// gives nothing back.
    Spent { max: i32, window: Duration },
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

    /// Whether forgetting this counter now would let an attempt through that it
    /// stops: it refuses at `now`, or it is an account's own counter with failures on it.
    fn holds_back(&self, key: &Key, now: NaiveDateTime) -> bool {
        self.blocked_until.is_some_and(|until| until > now)
            || (self.failures > 0 && matches!(key, Key::Account(_) | Key::Code(_) | Key::Tries(_)))
    }

    /// Whether the counter holds nothing worth keeping (no failure, no block).
    fn is_empty(&self) -> bool {
        self.failures == 0 && self.blocked_until.is_none()
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
            Rule::Spent { window, .. } => {
                if now >= counter.window_start + chrono_duration(window) {
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
            Rule::Spent { max, window } => {
                (counter.failures >= max).then(|| counter.window_start + chrono_duration(window))
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
            (Rule::Spent { .. }, Outcome::Succeeded) => {}
            (rule, _) => {
                counter.failures = (counter.failures - 1).max(0);
                let blocked = match rule {
                    Rule::Backoff { free } => counter.failures >= free,
                    Rule::Bucket { size, .. } => counter.failures >= size,
                    Rule::PerHour { max } | Rule::Spent { max, .. } => counter.failures >= max,
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
/// of them: `Err(wait)` when any is blocked at `now`. `Ok` names the account-wide locks
/// this very charge filled (they engage if the attempt turns out wrong).
pub fn charge_all(
    limits: Limits,
    keys: &[Key],
    counters: &mut [Counter],
    now: NaiveDateTime,
) -> Result<Vec<Lock>, Duration> {
    for (key, counter) in keys.iter().zip(counters.iter_mut()) {
        key.rule(limits).age(counter, now);
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
    let mut filled = Vec::new();
    for (key, counter) in keys.iter().zip(counters.iter_mut()) {
        key.rule(limits).charge(counter, now);
        if let Some(lock) = key.lock()
            && counter.blocked_until.is_some()
        {
            filled.push(lock);
        }
    }
    Ok(filled)
}

/// Refunds one attempt charged by [`charge_all`].
pub fn refund_all(limits: Limits, keys: &[Key], counters: &mut [Counter], outcome: Outcome) {
    for (key, counter) in keys.iter().zip(counters.iter_mut()) {
        key.rule(limits).refund(counter, outcome);
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

/// Counters in this process's memory, bounded: past [`MAX_MEMORY_COUNTERS`] the tenth
/// that would be forgotten soonest goes (counted in `evicted` and logged).
#[derive(Default)]
struct MemoryCounters {
    map: HashMap<Key, Counter>,
    evicted: u64,
}

impl MemoryCounters {
    fn make_room(&mut self, now: NaiveDateTime) {
        if self.map.len() < MAX_MEMORY_COUNTERS {
            return;
        }
        let before = self.map.len();
        self.map.retain(|_, c| c.forgettable_after() > now);
        if self.map.len() >= MAX_MEMORY_COUNTERS {
            // A counter that is refusing right now, or an account-wide one with failures
            // on it, is never dropped: that is what filling the table would be for.
            let mut ages: Vec<(NaiveDateTime, Key)> = self
                .map
                .iter()
                .filter(|(k, c)| !c.holds_back(k, now))
                .map(|(k, c)| (c.forgettable_after(), *k))
                .collect();
            let cut = (MAX_MEMORY_COUNTERS / 10).min(ages.len());
            if cut > 0 {
                ages.select_nth_unstable(cut - 1);
                for (_, key) in &ages[..cut] {
                    self.map.remove(key);
                }
            }
            self.evicted += cut as u64;
            tracing::warn!(
                evicted = cut,
                evicted_total = self.evicted,
                kept = self.map.len(),
                "throttle table full: the counters nearest their end were dropped"
            );
        }
        tracing::debug!(dropped = before - self.map.len(), "throttle table trimmed");
    }
}

/// Where the counters live.
enum Store {
    /// This process only (SQLite deployments have one instance).
    Memory(Mutex<MemoryCounters>),
    /// The `throttle_counters` table, seen by every instance.
    Shared(Database),
}

/// The throttle of one process: the counters and the in-flight limits.
pub struct Throttle {
    store: Store,
    in_flight: Arc<Mutex<HashMap<Key, u32>>>,
    limits: Limits,
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
    filled: Vec<Lock>,
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
    pub fn in_memory(limits: Limits) -> Self {
        Self {
            store: Store::Memory(Mutex::default()),
            in_flight: Arc::default(),
            limits,
        }
    }

    /// Counters in the database, shared with every instance using it.
    pub fn shared(db: Database, limits: Limits) -> Self {
        Self {
            store: Store::Shared(db),
            in_flight: Arc::default(),
            limits,
        }
    }

    /// Counts `attempt` before its password is checked, or refuses it.
    pub async fn reserve(&self, attempt: &Attempt) -> Result<Reservation, ReserveError> {
        let in_flight = self.enter(attempt)?;
        let keys = keys(attempt);
        let filled = self
            .charge(&keys)
            .await?
            .map_err(|wait| ReserveError::Refused(Refusal::Throttled(wait)))?;
        Ok(Reservation {
            keys,
            filled,
            _in_flight: in_flight,
        })
    }

    /// Ends a reservation: `None` for a wrong answer (the charge stands), else the
    /// outcome to refund. Returns the account-wide locks the wrong answer engaged.
    pub async fn settle(
        &self,
        reservation: Reservation,
        outcome: Option<Outcome>,
    ) -> Result<Vec<Lock>, DbError> {
        let Some(outcome) = outcome else {
            return Ok(reservation.filled);
        };
        self.give_back(&reservation.keys, outcome).await?;
        Ok(Vec::new())
    }

    /// Spends one of the code tries of the pending sign-in `pending_id`: false when they
    /// are used up. Atomic like every charge, so parallel guesses cannot share a try.
    pub async fn spend_try(&self, pending_id: &str) -> Result<bool, DbError> {
        let spent = self.charge(&[Key::Tries(Digest16::of(pending_id))]).await?;
        Ok(spent.is_ok())
    }

    /// Spends one of the anonymous writes of the client at `ip`: `Err(wait)` when its
    /// bucket is full. Every endpoint that writes for a caller without a session calls
    /// it first, so no client can fill a table or the database's write lock.
    pub async fn spend_write(&self, ip: &str) -> Result<Result<(), Duration>, DbError> {
        let spent = self.charge(&[Key::Writes(ClientKey::of(ip))]).await?;
        Ok(spent.map(drop))
    }

    /// Whether the client at `ip` may still write without a session, without spending
    /// anything: for a call that spends only when it fails (a refresh, which for a real
    /// device works), so the common case reads and never writes the counter.
    pub async fn check_write(&self, ip: &str) -> Result<Result<(), Duration>, DbError> {
        let key = Key::Writes(ClientKey::of(ip));
        let now = now();
        let counter = match &self.store {
            Store::Memory(memory) => memory
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .map
                .get(&key)
                .copied(),
            Store::Shared(db) => {
                let stored = key.as_stored();
                db.run(move |conn| Ok(crate::store::throttle::find_counter(conn, &stored)?))
                    .await?
                    .map(|row| Counter::from_row(&row))
            }
        };
        let Some(mut counter) = counter else {
            return Ok(Ok(()));
        };
        key.rule(self.limits).age(&mut counter, now);
        Ok(match counter.blocked_until {
            Some(until) if until > now => Err((until - now).to_std().unwrap_or_default()),
            _ => Ok(()),
        })
    }

    /// Refunds an attempt that was settled with its charge standing but has since been
    /// proven right: the password step of a sign-in whose code then checked out.
    pub async fn refund(&self, attempt: &Attempt, outcome: Outcome) -> Result<(), DbError> {
        self.give_back(&keys(attempt), outcome).await
    }

    /// Charges one attempt to `keys` ([`charge_all`]): `Err(wait)` when one refuses.
    async fn charge(&self, keys: &[Key]) -> Result<Result<Vec<Lock>, Duration>, DbError> {
        let limits = self.limits;
        self.update(keys, move |keys, counters, now| {
            charge_all(limits, keys, counters, now)
        })
        .await
    }

    /// Refunds one attempt charged to `keys` ([`refund_all`]).
    async fn give_back(&self, keys: &[Key], outcome: Outcome) -> Result<(), DbError> {
        let limits = self.limits;
        self.update(keys, move |keys, counters, _| {
            refund_all(limits, keys, counters, outcome);
            Ok(())
        })
        .await?
        .ok();
        Ok(())
    }

    /// Forgets the code failures of `account` (a normalised address), at most
    /// [`CODE_LIFTS_PER_DAY`] times a day; returns whether it did. A completed password
    /// reset calls it: the password the guessers knew no longer signs in, and the owner
    /// must not then be stopped at the code step. Not every time: whoever holds the
    /// mailbox could otherwise reset again and again for a fresh budget of guesses.
    pub async fn forget_code_failures(&self, account: &str) -> Result<bool, DbError> {
        let account = Digest16::of(account);
        if self.charge(&[Key::CodeLift(account)]).await?.is_err() {
            return Ok(false);
        }
        let key = Key::Code(account);
        match &self.store {
            Store::Memory(memory) => {
                memory
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .map
                    .remove(&key);
            }
            Store::Shared(db) => {
                let stored = vec![key.as_stored()];
                db.run(move |conn| Ok(crate::store::throttle::delete_counters(conn, &stored)?))
                    .await?;
            }
        }
        Ok(true)
    }

    /// Counters kept in this process (0 when they live in the database).
    pub fn memory_len(&self) -> usize {
        match &self.store {
            Store::Memory(memory) => memory.lock().unwrap_or_else(|e| e.into_inner()).map.len(),
            Store::Shared(_) => 0,
        }
    }

    /// Takes an in-flight place for the attempt's account and address.
    fn enter(&self, attempt: &Attempt) -> Result<InFlight, Refusal> {
        let keys = [Key::Account(attempt.account), Key::Ip(attempt.client)];
        let mut table = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let full = |key: &Key, max| table.get(key).is_some_and(|n| *n >= max);
        if full(&keys[0], MAX_IN_FLIGHT_PER_ACCOUNT) || full(&keys[1], MAX_IN_FLIGHT_PER_ADDRESS) {
            return Err(Refusal::Busy);
        }
        for key in &keys {
            *table.entry(*key).or_default() += 1;
        }
        Ok(InFlight {
            keys,
            table: Arc::clone(&self.in_flight),
        })
    }

    /// Applies `change` to the counters of `keys` at one moment, atomically: under one
    /// lock in memory, in one transaction with the rows locked in the database. A change
    /// that refuses (`Err`) stores nothing: a refused attempt leaves no trace to grow.
    async fn update<T: Send + 'static>(
        &self,
        keys: &[Key],
        change: impl FnOnce(&[Key], &mut [Counter], NaiveDateTime) -> Result<T, Duration>
        + Send
        + 'static,
    ) -> Result<Result<T, Duration>, DbError> {
        let now = now();
        match &self.store {
            Store::Memory(memory) => {
                let mut memory = memory.lock().unwrap_or_else(|e| e.into_inner());
                let mut counters: Vec<Counter> = keys
                    .iter()
                    .map(|k| {
                        memory
                            .map
                            .get(k)
                            .copied()
                            .unwrap_or_else(|| Counter::new(now))
                    })
                    .collect();
                let result = change(keys, &mut counters, now);
                if result.is_ok() {
                    memory.make_room(now);
                    for (key, counter) in keys.iter().zip(counters) {
                        // A counter refunded to nothing is forgotten at once.
                        if counter.is_empty() {
                            memory.map.remove(key);
                        } else {
                            memory.map.insert(*key, counter);
                        }
                    }
                }
                Ok(result)
            }
            Store::Shared(db) => {
                let keys = keys.to_vec();
                db.run(move |conn| {
                    // A refusal rolls back, so the rows it created for new keys go too.
                    let charged = conn.write_transaction(|conn| {
                        let stored: Vec<String> = keys.iter().map(Key::as_stored).collect();
                        let rows = crate::store::throttle::lock_counters(conn, &stored, now)?;
                        let mut counters: Vec<Counter> =
                            rows.iter().map(Counter::from_row).collect();
                        let value = change(&keys, &mut counters, now).map_err(Unsaved::Refused)?;
                        // A counter refunded to nothing is deleted at once.
                        let (empty, kept): (Vec<_>, Vec<_>) = keys
                            .iter()
                            .zip(&counters)
                            .partition(|(_, counter)| counter.is_empty());
                        let rows: Vec<ThrottleCounter> = kept
                            .into_iter()
                            .map(|(key, counter)| counter.to_row(key))
                            .collect();
                        crate::store::throttle::save_counters(conn, &rows)?;
                        let empty: Vec<String> =
                            empty.into_iter().map(|(key, _)| key.as_stored()).collect();
                        crate::store::throttle::delete_counters(conn, &empty)?;
                        Ok::<_, Unsaved>(value)
                    });
                    match charged {
                        Ok(value) => Ok(Ok(value)),
                        Err(Unsaved::Refused(wait)) => Ok(Err(wait)),
                        Err(Unsaved::Database(err)) => Err(DbError::from(err)),
                    }
                })
                .await
            }
        }
    }

    /// Forgets counters that say nothing any more (memory; the cleanup job deletes the
    /// table's expired rows). Returns how many.
    pub fn purge(&self) -> usize {
        let Store::Memory(memory) = &self.store else {
            return 0;
        };
        let now = now();
        let mut memory = memory.lock().unwrap_or_else(|e| e.into_inner());
        let before = memory.map.len();
        memory.map.retain(|_, c| c.forgettable_after() > now);
        before - memory.map.len()
    }
}

/// Why a shared update wrote nothing.
enum Unsaved {
    /// The rules refused the attempt (wait this long).
    Refused(Duration),
    /// The database failed.
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for Unsaved {
    fn from(err: diesel::result::Error) -> Self {
        Self::Database(err)
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
        Attempt::new(AttemptKind::Password, account, ip, None)
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
            let result = charge_all(Limits::default(), &keys, &mut counters, now);
            for (k, c) in keys.iter().zip(counters) {
                self.0.insert(*k, c);
            }
            result.map(|_| keys)
        }

        fn refund(&mut self, keys: &[Key], outcome: Outcome) {
            let mut counters: Vec<Counter> = keys.iter().map(|k| self.0[k]).collect();
            refund_all(Limits::default(), keys, &mut counters, outcome);
            for (k, c) in keys.iter().zip(counters) {
                self.0.insert(*k, c);
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
        let rule = Key::AccountIp(Digest16::of("a"), ClientKey::Unknown).rule(Limits::default());
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
            m.0[&Key::Ip(ClientKey::of("10.0.0.1"))].failures,
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
        known.device = Some(Digest16::of("nonce-of-anns-laptop"));
        let keys = m
            .try_at(&known, t0())
            .expect("the known browser gets through");
        m.refund(&keys, Outcome::Succeeded);
        // A stolen device cookie gives its own 10 guesses an hour, not more.
        let mut thief = attempt("ann@example.com", "203.0.113.1");
        thief.device = Some(Digest16::of("nonce-of-anns-laptop"));
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

    #[test]
    fn a_full_table_drops_the_oldest_tenth_but_never_an_accounts_lock() {
        let mut memory = MemoryCounters::default();
        let now = t0();
        let locked = Key::Account(Digest16::of("ann@example.com"));
        let mut blocked = Counter::new(now - secs(3000));
        blocked.failures = ACCOUNT_FAILURES_PER_HOUR;
        blocked.blocked_until = Some(now + secs(600));
        memory.map.insert(locked, blocked);
        for i in 0..MAX_MEMORY_COUNTERS as u32 {
            let mut counter = Counter::new(now - secs(3000) + secs(i64::from(i % 3000)));
            counter.failures = 1;
            memory
                .map
                .insert(Key::Ip(ClientKey::V4(i.to_be_bytes())), counter);
        }
        memory.make_room(now);
        assert_eq!(
            memory.map.len(),
            MAX_MEMORY_COUNTERS + 1 - MAX_MEMORY_COUNTERS / 10
        );
        assert_eq!(memory.evicted, (MAX_MEMORY_COUNTERS / 10) as u64);
        assert!(memory.map.contains_key(&locked), "the account's lock stays");
        // The ones that went were the oldest.
        let oldest_kept = memory
            .map
            .iter()
            .filter(|(k, _)| **k != locked)
            .map(|(_, c)| c.window_start)
            .min()
            .unwrap();
        assert!(oldest_kept >= now - secs(3000) + secs(290), "{oldest_kept}");
    }

    #[tokio::test]
    async fn a_refund_to_nothing_leaves_no_counter_behind() {
        let throttle = Throttle::in_memory(Limits::default());
        let reservation = throttle
            .reserve(&attempt("ann@example.com", "10.0.0.1"))
            .await
            .unwrap();
        assert_eq!(throttle.memory_len(), 3);
        throttle
            .settle(reservation, Some(Outcome::NotJudged))
            .await
            .unwrap();
        assert_eq!(throttle.memory_len(), 0);
    }

    #[tokio::test]
    async fn in_flight_places_are_limited_and_given_back_when_dropped() {
        let throttle = Throttle::in_memory(Limits::default());
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
