//! Passwords: Argon2id hashing and verification on the blocking pool, behind a limit.
//!
//! Parameters follow OWASP (m = 19 MiB, t = 2, p = 1). A hash costs ~19 MiB and tens of
//! milliseconds of one core, so at most `concurrency` run at once: a login flood queues
//! instead of exhausting memory or starving other requests.

use std::sync::Arc;

/// Argon2's cost parameters, re-exported so callers need not depend on `argon2`.
pub use argon2::Params;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Version};
use tokio::sync::Semaphore;

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
        rehashed: Option<String>,
    },
    /// Wrong password, unknown account, or unreadable stored hash: all the same to a caller.
    Invalid,
}

/// Hashing failed for a reason that is not the user's (the worker pool is gone).
#[derive(Debug, thiserror::Error)]
#[error("password hashing is unavailable: {0}")]
pub struct HashingUnavailable(String);

/// Argon2id with fixed parameters and a concurrency limit.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    limit: Arc<Semaphore>,
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("params", &self.params)
            .field("available", &self.limit.available_permits())
            .finish()
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

    /// Hashes with `params`, at most `concurrency` at a time.
    pub fn new(params: Params, concurrency: usize) -> Self {
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        // Verified against when the e-mail is unknown, so that case costs the same time.
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = hasher
            .hash_password(b"gatehouse timing-equaliser", &salt)
            .expect("hashing a constant cannot fail")
            .to_string();
        Self {
            params,
            limit: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy_hash.into(),
        }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, HashingUnavailable> {
        let argon2 = self.argon2();
        self.on_blocking_pool(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| HashingUnavailable(e.to_string()))
        })
        .await?
    }

    /// Checks `password` against `stored` (`None` when the account does not exist, which
    /// still costs one full verification).
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verification, HashingUnavailable> {
        let argon2 = self.argon2();
        let account_exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let params = self.params.clone();
        self.on_blocking_pool(move || {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return Verification::Invalid;
            };
            if argon2
                .verify_password(password.as_bytes(), &parsed)
                .is_err()
                || !account_exists
            {
                return Verification::Invalid;
            }
            let rehashed = needs_rehash(&parsed, &params).then(|| {
                let salt = SaltString::generate(&mut OsRng);
                argon2
                    .hash_password(password.as_bytes(), &salt)
                    .map(|h| h.to_string())
                    .ok()
            });
            Verification::Valid {
                rehashed: rehashed.flatten(),
            }
        })
        .await
    }

    /// Runs `work` on tokio's blocking pool once a hashing slot is free.
    async fn on_blocking_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingUnavailable> {
        let _permit = self
            .limit
            .acquire()
            .await
            .map_err(|e| HashingUnavailable(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| HashingUnavailable(e.to_string()))
    }
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
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
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
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
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
            new_hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
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
