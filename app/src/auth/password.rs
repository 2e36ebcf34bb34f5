//! Passwords: Argon2id hashing and verification on a small pool of dedicated threads.
//!
//! Parameters follow OWASP (m = 19 MiB, t = 2, p = 1). A hash costs ~19 MiB and tens of
//! milliseconds of one core, so a login flood must neither exhaust memory nor starve the
//! requests of people already signed in. Hence the pool: `concurrency` threads, each
//! with one Argon2 memory buffer it reuses for every hash and verification (hashing
//! memory is exactly `concurrency` x 19 MiB, however many logins queue), running at a
//! lower CPU priority than the request handlers (under full load, a flood slows logins
//! rather than every signed-in page). Work queues in FIFO order, and the queue is
//! bounded: when it is full a check is refused at once (503 with `Retry-After`) instead
//! of waiting behind a flood, and a queued check whose client has gone away is dropped
//! unhashed.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

/// Argon2's cost parameters, re-exported so callers need not depend on `argon2`.
pub use argon2::Params;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Version};
use tokio::sync::oneshot;

use crate::secret::Secret;

/// Shortest password accepted (NIST SP 800-63B: length, not composition rules).
pub const MIN_LEN: usize = 8;
/// Longest password accepted, in characters: long enough for passphrases, short enough
/// that hashing cost cannot be abused.
pub const MAX_LEN: usize = 128;

/// Why a new password is not acceptable. The texts are shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Fewer than [`MIN_LEN`] characters.
    #[error("Use at least 8 characters for your password.")]
    TooShort,
    /// More than [`MAX_LEN`] characters.
    #[error("Use at most 128 characters for your password.")]
    TooLong,
}

/// Checks a new password against the length policy.
pub fn check_policy(password: &str) -> Result<(), PasswordPolicyError> {
    match password.chars().count() {
        n if n < MIN_LEN => Err(PasswordPolicyError::TooShort),
        n if n > MAX_LEN => Err(PasswordPolicyError::TooLong),
        _ => Ok(()),
    }
}

/// The outcome of checking a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Right password. `rehashed` is a new hash when the stored one used other
    /// parameters; the caller saves it.
    Valid {
        /// A replacement hash with today's parameters, if one was needed.
        rehashed: Option<Secret>,
    },
    /// Wrong password, unknown account, or unreadable stored hash: all the same to a caller.
    Invalid,
}

/// Hashing could not be done, for a reason that is not the user's.
#[derive(Debug, thiserror::Error)]
pub enum HashingUnavailable {
    /// Every hashing thread is busy and the queue is full: try again shortly.
    #[error("the password-hashing queue is full")]
    QueueFull,
    /// The worker pool is gone.
    #[error("password hashing is unavailable: {0}")]
    Stopped(String),
}

/// Checks queued per hashing thread by default (at ~50 ms a check, a full queue drains
/// in under a second).
pub const DEFAULT_QUEUE_PER_THREAD: usize = 16;

/// Argon2id with fixed parameters, computed on a dedicated thread pool.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    pool: Arc<HashingPool>,
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("params", &self.params)
            .field("threads", &self.pool.threads)
            .finish()
    }
}

/// A job for a hashing thread: it gets the thread's reusable Argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// `threads` OS threads taking jobs from one queue. They live as long as the process
/// (or until every [`Passwords`] clone is dropped, which closes the queue).
struct HashingPool {
    jobs: mpsc::Sender<Job>,
    threads: usize,
    /// Jobs sent and not yet started.
    queued: Arc<AtomicUsize>,
    /// Most jobs that may wait.
    capacity: usize,
    /// Password verifications actually computed.
    verified: Arc<AtomicU64>,
}

impl HashingPool {
    /// The share of the CPU hashing threads get when request handlers want it too:
    /// niceness about 10 (0 is the default), i.e. roughly a tenth of a busy core.
    const PRIORITY: u8 = 25;

    /// Starts `threads` hashing threads; the first gets `first_memory` (the buffer the
    /// start-up hash already used), the others a fresh one each.
    fn start(threads: usize, params: &Params, first_memory: Vec<Block>) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut first_memory = Some(first_memory);
        for i in 0..threads {
            let receiver = Arc::clone(&receiver);
            let blocks = params.block_count();
            let given = first_memory.take();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    if let Ok(priority) = Self::PRIORITY.try_into() {
                        // Best effort: without it hashing merely competes as an equal.
                        let _ = thread_priority::set_current_thread_priority(
                            thread_priority::ThreadPriority::Crossplatform(priority),
                        );
                    }
                    let mut memory = given.unwrap_or_default();
                    memory.resize(blocks, Block::default());
                    loop {
                        let job = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return, // every sender dropped
                        }
                    }
                })
                .expect("the OS can start a hashing thread");
        }
        Self {
            jobs: sender,
            threads,
            queued: Arc::default(),
            capacity: threads * DEFAULT_QUEUE_PER_THREAD,
            verified: Arc::default(),
        }
    }

    /// Runs `work` on the next free hashing thread and waits for its result; refused at
    /// once when the queue is full. If the caller stops waiting (the client went away
    /// and its request was dropped), the job is skipped when its turn comes.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashingUnavailable> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(HashingUnavailable::QueueFull);
        }
        let (done, result) = oneshot::channel();
        let queued = Arc::clone(&self.queued);
        let job: Job = Box::new(move |memory| {
            queued.fetch_sub(1, Ordering::AcqRel);
            if done.is_closed() {
                return; // nobody is waiting for this answer any more
            }
            let _ = done.send(work(memory));
        });
        if self.jobs.send(job).is_err() {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(HashingUnavailable::Stopped(
                "the hashing threads have stopped".into(),
            ));
        }
        result
            .await
            .map_err(|_| HashingUnavailable::Stopped("a hashing thread failed".into()))
    }
}

impl Passwords {
    /// OWASP's Argon2id settings: 19 MiB, 2 passes, 1 lane.
    pub fn owasp_params() -> Params {
        Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters")
    }

    /// Argon2's smallest parameters (8 KiB, 1 pass): for test suites that sign in
    /// thousands of times. Never for real passwords.
    pub fn insecure_test_params() -> Params {
        Params::new(Params::MIN_M_COST, Params::MIN_T_COST, 1, None)
            .expect("valid Argon2 parameters")
    }

    /// Hashes with `params` on `concurrency` dedicated threads.
    pub fn new(params: Params, concurrency: usize) -> Self {
        // Verified against when the e-mail is unknown, so that case costs the same time.
        // Its memory becomes the first hashing thread's.
        let mut memory = Vec::new();
        let dummy_hash = hash_with_memory(&params, b"gatehouse timing-equaliser", &mut memory)
            .expect("hashing a constant cannot fail");
        let threads = concurrency.max(1);
        Self {
            pool: Arc::new(HashingPool::start(threads, &params, memory)),
            params,
            dummy_hash: dummy_hash.into(),
        }
    }

    /// Limits the checks that may wait for a hashing thread to `capacity` (default:
    /// [`DEFAULT_QUEUE_PER_THREAD`] per thread). Call before sharing the hasher.
    pub fn with_queue_limit(mut self, capacity: usize) -> Self {
        if let Some(pool) = Arc::get_mut(&mut self.pool) {
            pool.capacity = capacity.max(1);
        }
        self
    }

    /// How many password verifications have been computed since start: what an
    /// attacker's guesses actually cost (tests and metrics).
    pub fn verifications(&self) -> u64 {
        self.pool.verified.load(Ordering::Relaxed)
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: Secret) -> Result<Secret, HashingUnavailable> {
        let params = self.params.clone();
        self.pool
            .run(move |memory| {
                hash_with_memory(&params, password.expose().as_bytes(), memory)
                    .map(Secret::from)
                    .map_err(|e| HashingUnavailable::Stopped(e.to_string()))
            })
            .await?
    }

    /// Checks `password` against `stored` (`None` when the account does not exist, which
    /// still costs one full verification).
    pub async fn verify(
        &self,
        password: Secret,
        stored: Option<Secret>,
    ) -> Result<Verification, HashingUnavailable> {
        // An account without a password (made by an OpenID provider) is checked against
        // the dummy hash like an unknown one: same cost, same answer.
        let stored = stored.filter(has_password);
        let account_exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| Secret::from(&*self.dummy_hash));
        let params = self.params.clone();
        let verified = Arc::clone(&self.pool.verified);
        self.pool
            .run(move |memory| {
                verified.fetch_add(1, Ordering::Relaxed);
                let Ok(parsed) = PasswordHash::new(stored.expose()) else {
                    return Verification::Invalid;
                };
                let password = password.expose().as_bytes();
                if !matches_with_memory(password, &parsed, memory) || !account_exists {
                    return Verification::Invalid;
                }
                let rehashed = needs_rehash(&parsed, &params)
                    .then(|| hash_with_memory(&params, password, memory).ok())
                    .flatten()
                    .map(Secret::from);
                Verification::Valid { rehashed }
            })
            .await
    }
}

/// Hashes `password` with a new random salt and `params` (Argon2id, version 0x13) in
/// `memory` (grown if needed) into a PHC string. What `PasswordHasher::hash_password`
/// does, minus its fresh 19 MiB buffer per call: sign-ups and rehashes reuse the hashing
/// thread's buffer like verifications do, so hashing memory stays `concurrency` x 19 MiB
/// (measured: docs/PERFORMANCE.md).
fn hash_with_memory(
    params: &Params,
    password: &[u8],
    memory: &mut Vec<Block>,
) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let mut output = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    argon2_into(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        (password, raw_salt),
        &mut output,
        memory,
    )?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params.try_into()?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output)?),
    };
    Ok(hash.to_string())
}

/// Argon2 of `(password, salt)` into `output`, computed in `memory` (grown when `params`
/// need more): the one place both new hashes and verifications run the function.
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    (password, salt): (&[u8], &[u8]),
    output: &mut [u8],
    memory: &mut Vec<Block>,
) -> Result<(), argon2::Error> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        output,
        &mut memory[..blocks],
    )
}

/// Recomputes `stored` for `password` in `memory` (grown if the stored hash used more
/// than the current parameters) and compares in constant time. This is what
/// `PasswordVerifier::verify_password` does, minus its fresh 19 MiB buffer per call
/// (measured: docs/PERFORMANCE.md).
fn matches_with_memory(
    password: &[u8],
    stored: &PasswordHash<'_>,
    memory: &mut Vec<Block>,
) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm) else {
        return false;
    };
    let version = match stored.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let Ok(stored_params) = Params::try_from(stored) else {
        return false;
    };
    let Ok(params) = Params::new(
        stored_params.m_cost(),
        stored_params.t_cost(),
        stored_params.p_cost(),
        Some(expected.len()),
    ) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut computed = vec![0u8; expected.len()];
    argon2_into(algorithm, version, params, (password, salt), &mut computed, memory).is_ok()
        // `Output`'s equality is constant-time.
        && Output::new(&computed).is_ok_and(|computed| computed == expected)
}

/// True when `stored` was made with another algorithm, version or parameters.
fn needs_rehash(stored: &PasswordHash<'_>, params: &Params) -> bool {
    let current = Params::try_from(stored).ok();
    stored.algorithm != Algorithm::Argon2id.ident()
        || stored.version != Some(Version::V0x13.into())
        || current.is_none_or(|p| {
            p.m_cost() != params.m_cost()
                || p.t_cost() != params.t_cost()
                || p.p_cost() != params.p_cost()
        })
}

/// What `users.password_hash` holds for an account that has no password yet: one made
/// by signing in with an OpenID provider. Nothing verifies against it; its owner sets a
/// password with the reset link.
pub const NO_PASSWORD: &str = "";

/// Whether a stored hash is a password (not [`NO_PASSWORD`]).
pub fn has_password(stored: &Secret) -> bool {
    !stored.expose().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters keep the unit tests fast; the production ones are tested once.
    fn cheap() -> Passwords {
        Passwords::new(Params::new(1024, 1, 1, None).unwrap(), 2)
    }

    #[tokio::test]
    async fn right_password_verifies_and_wrong_one_does_not() {
        let passwords = cheap();
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(hash.expose().starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert_eq!(
            passwords
                .verify("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap(),
            Verification::Valid { rehashed: None }
        );
        assert_eq!(
            passwords
                .verify("correct horsE".into(), Some(hash))
                .await
                .unwrap(),
            Verification::Invalid
        );
    }

    #[tokio::test]
    async fn production_parameters_are_owasps_argon2id() {
        let passwords = Passwords::new(Passwords::owasp_params(), 1);
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.expose().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[tokio::test]
    async fn unknown_account_is_invalid_even_with_the_dummy_password() {
        let passwords = cheap();
        assert_eq!(
            passwords
                .verify("gatehouse timing-equaliser".into(), None)
                .await
                .unwrap(),
            Verification::Invalid
        );
    }

    #[tokio::test]
    async fn unreadable_stored_hash_is_invalid_not_an_error() {
        let passwords = cheap();
        assert_eq!(
            passwords
                .verify("whatever1".into(), Some("not-a-phc-string".into()))
                .await
                .unwrap(),
            Verification::Invalid
        );
    }

    #[tokio::test]
    async fn a_hash_with_old_parameters_is_replaced_at_login() {
        let old = Passwords::new(Params::new(512, 1, 1, None).unwrap(), 1);
        let hash = old.hash("correct horse".into()).await.unwrap();
        let current = cheap();
        let Verification::Valid {
            rehashed: Some(new_hash),
        } = current
            .verify("correct horse".into(), Some(hash))
            .await
            .unwrap()
        else {
            panic!("expected a rehash");
        };
        assert!(
            new_hash
                .expose()
                .starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
            "{new_hash}"
        );
        assert_eq!(
            current
                .verify("correct horse".into(), Some(new_hash))
                .await
                .unwrap(),
            Verification::Valid { rehashed: None }
        );
    }

    #[tokio::test]
    async fn reused_memory_verifies_like_the_reference_implementation() {
        // A stored hash needing more memory than the pool's buffer (which then grows), a
        // tampered one, and one with another salt length.
        let passwords = cheap();
        let bigger = Passwords::new(Params::new(4096, 1, 1, None).unwrap(), 1);
        let stored = bigger.hash("correct horse".into()).await.unwrap();
        let reference = PasswordHash::new(stored.expose()).unwrap();
        use argon2::password_hash::PasswordVerifier as _;
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &reference)
                .is_ok()
        );
        assert!(matches!(
            passwords
                .verify("correct horse".into(), Some(stored.clone()))
                .await
                .unwrap(),
            Verification::Valid { rehashed: Some(_) }
        ));
        let mut tampered = stored.expose().to_owned();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        let other_params = stored.expose().replace("m=4096", "m=2048");
        for wrong in [tampered, other_params].map(Secret::from) {
            assert_eq!(
                passwords
                    .verify("correct horse".into(), Some(wrong))
                    .await
                    .unwrap(),
                Verification::Invalid
            );
        }
    }

    #[test]
    fn new_hashes_use_the_buffer_they_are_given_and_verify_like_the_reference() {
        let params = Params::new(1024, 1, 1, None).unwrap();
        let mut memory = vec![Block::default(); params.block_count()];
        let buffer = memory.as_ptr();
        let hash = hash_with_memory(&params, b"correct horse", &mut memory).unwrap();
        assert_eq!(memory.as_ptr(), buffer, "the buffer was replaced");
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        use argon2::password_hash::PasswordVerifier as _;
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse", &parsed)
                .is_err()
        );
        // Two hashes of one password differ (a fresh salt each).
        assert_ne!(
            hash_with_memory(&params, b"correct horse", &mut memory).unwrap(),
            hash
        );
    }

    #[tokio::test]
    async fn hashing_threads_run_below_normal_priority() {
        let passwords = cheap();
        let nice: i32 = passwords
            .pool
            .run(|_| {
                let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
                // Field 19 is the niceness; the command name before it has no spaces here.
                stat.split(' ').nth(18).unwrap().parse().unwrap()
            })
            .await
            .unwrap();
        assert!(nice > 0, "niceness {nice}");
    }

    /// Occupies the pool's only thread until the returned sender is dropped or fires.
    async fn occupy(passwords: &Passwords) -> (mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, wait) = mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let pool = Arc::clone(&passwords.pool);
        let job = tokio::spawn(async move {
            pool.run(move |_| {
                let _ = started.send(());
                let _ = wait.recv();
            })
            .await
            .unwrap();
        });
        running.await.unwrap();
        (release, job)
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let passwords =
            Passwords::new(Params::new(1024, 1, 1, None).unwrap(), 1).with_queue_limit(2);
        let (release, blocker) = occupy(&passwords).await;
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let p = passwords.clone();
                tokio::spawn(async move { p.verify("x".into(), None).await })
            })
            .collect();
        while passwords.pool.queued.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            passwords.verify("x".into(), None).await,
            Err(HashingUnavailable::QueueFull)
        ));
        release.send(()).unwrap();
        blocker.await.unwrap();
        for task in queued {
            assert_eq!(task.await.unwrap().unwrap(), Verification::Invalid);
        }
    }

    #[tokio::test]
    async fn a_check_nobody_waits_for_any_more_is_not_hashed() {
        let passwords = Passwords::new(Params::new(1024, 1, 1, None).unwrap(), 1);
        let (release, blocker) = occupy(&passwords).await;
        // The client goes away while its check waits in the queue.
        let abandoned = {
            let p = passwords.clone();
            tokio::spawn(async move { p.verify("x".into(), None).await })
        };
        while passwords.pool.queued.load(Ordering::Acquire) < 1 {
            tokio::task::yield_now().await;
        }
        abandoned.abort();
        let _ = abandoned.await;
        release.send(()).unwrap();
        blocker.await.unwrap();
        // A later check runs; the abandoned one never did.
        passwords.verify("y".into(), None).await.unwrap();
        assert_eq!(passwords.verifications(), 1);
    }

    #[test]
    fn policy_counts_characters_not_bytes() {
        assert_eq!(check_policy("1234567"), Err(PasswordPolicyError::TooShort));
        assert_eq!(check_policy("12345678"), Ok(()));
        assert_eq!(check_policy(&"é".repeat(128)), Ok(()));
        assert_eq!(
            check_policy(&"x".repeat(129)),
            Err(PasswordPolicyError::TooLong)
        );
        assert_eq!(check_policy(""), Err(PasswordPolicyError::TooShort));
    }
}
