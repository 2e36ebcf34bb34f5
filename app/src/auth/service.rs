//! The session life cycle: sign-up, login, refresh rotation with theft detection,
//! logout, the per-request check, and cleanup. ARCHITECTURE: "Refresh rotation and the grace-window answer", "Revocation".
//!
//! Every database step runs through [`Database::run`] (blocking pool) and every change
//! that must be all-or-nothing runs in one `IMMEDIATE` transaction, which takes SQLite's
//! write lock up front so concurrent refreshes queue instead of failing half-way.

use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;

use super::access_token::{AccessTokens, LEEWAY_SECS, TokenError};
use super::client::ClientInfo;
use super::email;
use super::error::AuthError;
use super::keys::DerivedKey;
use super::password::{self, Passwords, Verification};
use super::refresh_token::RefreshToken;
use super::revocation::{RevocationBatch, RevocationSet, Revoked};
use super::second_factor::{Sealer, SignInMethod};
use super::session::{
    Account, ActivityTracker, CleanupReport, CurrentDeviceSession, IssuedRefresh, RevokeReason,
    SignedIn,
};
use super::settings::SessionSettings;
use super::throttle::{DeviceCookie, Limits, Throttle};
use super::transactions::{
    Rotation, Started, Tx, create_account, credential_unchanged, new_account, now,
    queue_verification, revoke_device_session, rotate, start_device_session,
};
use crate::secret::Secret;
use crate::store::models::User;
use crate::store::{
    Database, DbConnection, DbError, QueryResult, accounts, cleanup, device_sessions,
};

/// A password that checked out, not yet turned into a session (see
/// [`AuthService::complete_login`]). Its `Debug` shows no hash.
pub struct VerifiedLogin {
    user: User,
    rehashed: Option<Secret>,
}

impl VerifiedLogin {
    /// The account whose password checked out.
    pub fn user(&self) -> &User {
        &self.user
    }
}

impl std::fmt::Debug for VerifiedLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedLogin")
            .field("user_id", &self.user.id)
            .finish_non_exhaustive()
    }
}

/// The authentication service: one per process, shared by every request.
pub struct AuthService {
    db: Database,
    passwords: Passwords,
    tokens: Arc<AccessTokens>,
    revocations: Arc<RevocationSet>,
    settings: SessionSettings,
    emails: quick_cache::sync::Cache<String, String>,
    activity: ActivityTracker,
    throttle: Throttle,
    device_cookies: DeviceCookie,
    /// Derives refresh-token successors (see [`RefreshToken::successor`]).
    successor_key: Arc<aws_lc_rs::hmac::Key>,
    /// Where the revocation feed reads from next: every blacklist row with a smaller
    /// sequence number is already in the set.
    feed_cursor: Mutex<i64>,
    /// Wakes the mail sender when a request has queued mail, so it leaves at once.
    mail_wake: Arc<tokio::sync::Notify>,
    /// Seals authenticator secrets (see `second_factor`).
    sealer: Sealer,
    /// Hashes recovery codes.
    recovery_key: aws_lc_rs::hmac::Key,
    /// The same key of each retired signing key given with its private half, so codes
    /// made before a rotation still work.
    retired_recovery_keys: Vec<aws_lc_rs::hmac::Key>,
    /// The passkey relying party (from `PUBLIC_URL`); `None` turns passkeys off.
    relying_party: Option<webauthn_rs::Webauthn>,
    /// Authenticator codes checked since start (tests count guesses with it).
    code_checks: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("settings", &self.settings)
            .field("revocations", &self.revocations.len())
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// Assembles the service. Call [`AuthService::load_revocations`] before serving.
    pub fn new(
        db: Database,
        passwords: Passwords,
        tokens: AccessTokens,
        settings: SessionSettings,
    ) -> Self {
        let signing = tokens.keys().signing();
        let successor_key = Arc::new(signing.derive(DerivedKey::RefreshSuccessor));
        let device_cookies = DeviceCookie::new(signing.derive(DerivedKey::DeviceCookie));
        let recovery_key = signing.derive(DerivedKey::RecoveryCode);
        let retired_recovery_keys = tokens
            .keys()
            .retired()
            .iter()
            .map(|key| key.derive(DerivedKey::RecoveryCode))
            .collect();
        let sealer = Sealer::new(tokens.keys());
        // Counters every instance sees on a shared database; in memory on SQLite's one.
        let throttle = if db.is_shared() {
            Throttle::shared(db.clone(), Limits::from(&settings))
        } else {
            Throttle::in_memory(Limits::from(&settings))
        };
        Self {
            db,
            passwords,
            tokens: Arc::new(tokens),
            revocations: Arc::new(RevocationSet::new()),
            settings,
            emails: quick_cache::sync::Cache::new(10_000),
            activity: ActivityTracker::default(),
            throttle,
            device_cookies,
            successor_key,
            feed_cursor: Mutex::new(0),
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            sealer,
            recovery_key,
            retired_recovery_keys,
            relying_party: None,
            code_checks: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Turns passkeys on, for the relying party made from `PUBLIC_URL` (see
    /// [`super::passkeys::relying_party`]).
    pub fn with_relying_party(mut self, relying_party: webauthn_rs::Webauthn) -> Self {
        self.relying_party = Some(relying_party);
        self
    }

    /// The passkey relying party, if passkeys are on.
    pub(super) fn relying_party(&self) -> Option<&webauthn_rs::Webauthn> {
        self.relying_party.as_ref()
    }

    /// Seals and opens authenticator secrets.
    pub(super) fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The key recovery codes are hashed with.
    pub(super) fn recovery_key(&self) -> &aws_lc_rs::hmac::Key {
        &self.recovery_key
    }

    /// The recovery-code keys of retired signing keys.
    pub(super) fn retired_recovery_keys(&self) -> &[aws_lc_rs::hmac::Key] {
        &self.retired_recovery_keys
    }

    /// What the mail sender waits on (see [`crate::mail::sender::MailSender::run`]).
    pub fn mail_wakeup(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.mail_wake)
    }

    /// Tells the mail sender that a committed transaction queued mail.
    pub(super) fn mail_queued(&self) {
        self.mail_wake.notify_one();
    }

    /// The access-token minter/verifier (for the JWKS endpoint and benchmarks).
    pub fn tokens(&self) -> &AccessTokens {
        &self.tokens
    }

    /// The in-memory revocation set.
    pub fn revocations(&self) -> &RevocationSet {
        &self.revocations
    }

    /// The brute-force throttle for password checks.
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// How many authenticator codes have been checked since start: what a code guess
    /// costs, counted the way `Passwords::verifications` counts password checks.
    pub fn code_checks(&self) -> u64 {
        self.code_checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(super) fn count_code_check(&self) {
        self.code_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Issues and checks device cookies (OWASP's scheme, see `throttle`).
    pub fn device_cookies(&self) -> &DeviceCookie {
        &self.device_cookies
    }

    /// The password hasher (its counters, for tests and metrics).
    pub fn password_hasher(&self) -> &Passwords {
        &self.passwords
    }

    /// The session settings.
    pub fn settings(&self) -> &SessionSettings {
        &self.settings
    }

    /// The database handle.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// The password hasher.
    pub(super) fn passwords(&self) -> &Passwords {
        &self.passwords
    }

    /// Runs `work` in one write transaction on a pooled connection (blocking pool),
    /// with a [`Tx`] stamped now for `client`. Every state change of the session life
    /// cycle goes through here.
    pub(super) async fn transaction<T, F>(
        &self,
        client: ClientInfo,
        work: F,
    ) -> Result<T, AuthError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, &Tx<'_>) -> QueryResult<T> + Send + 'static,
    {
        let (settings, access_ttl) = (self.settings.clone(), self.tokens.ttl());
        let successor_key = Arc::clone(&self.successor_key);
        Ok(self
            .db
            .run(move |conn| {
                let tx = Tx::new(&client, &settings, access_ttl, &successor_key);
                conn.write_transaction(|conn| work(conn, &tx))
                    .map_err(DbError::from)
            })
            .await?)
    }

    /// Adds sessions just revoked (and committed) to the in-memory revocation set, so
    /// their access tokens are refused on the very next request.
    pub(super) fn remember_revoked(&self, revoked: impl IntoIterator<Item = (String, i64)>) {
        for (session_id, until) in revoked {
            self.revocations
                .insert(Revoked::Session, &session_id, until);
        }
    }

    /// Drops a deleted account from the e-mail cache.
    pub(super) fn forget_account(&self, user_id: &str) {
        self.emails.remove(user_id);
    }

    /// When sessions last had their activity written.
    pub(super) fn activity_tracker(&self) -> &ActivityTracker {
        &self.activity
    }

    /// Fills the revocation set from `token_blacklist`; returns how many entries.
    pub async fn load_revocations(&self) -> Result<usize, AuthError> {
        self.read_revocations(None).await
    }

    /// The revocation feed: adds the revocations that any instance sharing the database
    /// committed since the previous call to this instance's set; returns how many rows
    /// were read. Rows are read by their sequence number, never by clock time, so neither
    /// clock skew between instances nor a long transaction can hide a revocation
    /// (ARCHITECTURE: "The revocation feed"). Rows seen twice are harmless: the set is
    /// idempotent.
    pub async fn sync_revocations(&self) -> Result<usize, AuthError> {
        let from = *self.feed_cursor.lock().unwrap_or_else(|e| e.into_inner());
        self.read_revocations(Some(from)).await
    }

    async fn read_revocations(&self, from: Option<i64>) -> Result<usize, AuthError> {
        use crate::store::blacklist;
        let now = now();
        let (batch, read, next) = self
            .db
            .run(move |conn| {
                let mut batch = RevocationBatch::default();
                let (read, next) =
                    blacklist::read_revocations(conn, from, now, |kind, id, until| {
                        if let Ok(kind) = kind.parse::<Revoked>() {
                            batch.push(kind, id, until);
                        }
                    })?;
                Ok((batch, read, next))
            })
            .await?;
        self.revocations.add(batch);
        let mut cursor = self.feed_cursor.lock().unwrap_or_else(|e| e.into_inner());
        *cursor = (*cursor).max(next);
        Ok(read)
    }

    /// Creates an account and signs it in on this device.
    pub async fn sign_up(
        &self,
        raw_email: &str,
        password: Secret,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let email = email::normalize(raw_email)?;
        password::check_policy(password.expose())?;
        let password_hash = self.passwords.hash(password).await?;
        let user = new_account(email, password_hash);
        let account = Account {
            id: user.id.clone(),
            email: user.email.clone(),
        };
        let started = self
            .transaction(client, move |conn, tx| {
                let user_id = user.id.clone();
                create_account(conn, tx, user)?;
                start_device_session(conn, tx, &user_id, SignInMethod::Password)
            })
            .await?;
        self.mail_queued();
        Ok(self.started(account, started))
    }

    /// Checks the password and starts a new device session.
    ///
    /// An unknown e-mail costs one full Argon2 verification and gives the same error as a
    /// wrong password, so neither timing nor text tells whether the account exists.
    pub async fn log_in(
        &self,
        raw_email: &str,
        password: Secret,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let verified = self.verify_login(raw_email, password).await?;
        self.complete_login(verified, client).await
    }

    /// The first half of [`AuthService::log_in`]: the password check, on the hashing
    /// pool. Nothing is written yet.
    pub async fn verify_login(
        &self,
        raw_email: &str,
        password: Secret,
    ) -> Result<VerifiedLogin, AuthError> {
        // A malformed address cannot have an account: same answer, same cost.
        let email = email::normalize(raw_email).unwrap_or_default();
        let user = self
            .db
            .run(move |conn| Ok(accounts::find_by_email(conn, &email)?))
            .await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let Verification::Valid { rehashed } = self.passwords.verify(password, stored).await?
        else {
            return Err(AuthError::InvalidCredentials);
        };
        let user = user.ok_or(AuthError::InvalidCredentials)?;
        Ok(VerifiedLogin { user, rehashed })
    }

    /// The second half of [`AuthService::log_in`]: starts the session, unless the
    /// password changed while it was being checked (then the login fails as if the
    /// password had been wrong: it was, by the time it was written down).
    pub async fn complete_login(
        &self,
        verified: VerifiedLogin,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let VerifiedLogin { user, rehashed } = verified;
        let (user_id, verified_hash) = (user.id.clone(), user.password_hash.clone());
        let email = user.email.clone();
        let must_verify = self.settings.require_verified_email && user.email_verified_at.is_none();
        let started = self
            .transaction(client, move |conn, tx| {
                if !credential_unchanged(conn, &user_id, &verified_hash, rehashed)? {
                    return Ok(Err(AuthError::InvalidCredentials));
                }
                if must_verify {
                    // The password was right, so saying so reveals nothing; a fresh
                    // link goes out (within the per-address limit).
                    queue_verification(conn, tx, &email, &user_id)?;
                    return Ok(Err(AuthError::EmailNotVerified));
                }
                start_device_session(conn, tx, &user_id, SignInMethod::Password).map(Ok)
            })
            .await?;
        self.mail_queued();
        let started = started?;
        let account = Account {
            id: user.id,
            email: user.email,
        };
        Ok(self.started(account, started))
    }

    /// Exchanges a refresh token for a new token pair (rotation), with the grace window
    /// and reuse rule of ARCHITECTURE: "Refresh rotation and the grace-window answer".
    pub async fn refresh(
        &self,
        token: &RefreshToken,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let token = token.clone();
        let outcome = self
            .transaction(client, move |conn, tx| rotate(conn, tx, &token))
            .await?;
        match outcome {
            Rotation::Refreshed {
                account,
                session_id,
                next,
                access_until,
            } => Ok(self.signed_in(account, session_id, next, access_until)),
            Rotation::Reused { session_id, until } => {
                self.remember_revoked([(session_id, until)]);
                self.mail_queued();
                Err(AuthError::TokenReuse)
            }
            Rotation::Ended => Err(AuthError::SessionEnded),
        }
    }

    /// Ends a device session: found by the access token's `sid` when there is one, else
    /// by the refresh token. Ending an already-ended session is not an error.
    pub async fn log_out(
        &self,
        session_id: Option<String>,
        refresh: Option<&RefreshToken>,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let hash = refresh.map(|t| t.hash().as_str().to_owned());
        let revoked = self
            .transaction(client, move |conn, tx| {
                let session_id = match (session_id, hash) {
                    (Some(id), _) => Some(id),
                    (None, Some(hash)) => device_sessions::session_of_refresh_token(conn, &hash)?,
                    (None, None) => None,
                };
                match session_id {
                    Some(id) => revoke_device_session(conn, tx, &id, RevokeReason::Logout),
                    None => Ok(None),
                }
            })
            .await?;
        self.remember_revoked(revoked);
        Ok(())
    }

    /// The per-request check: signature and claims (cached), then the in-memory
    /// revocation set. Never touches the database.
    pub fn authenticate(&self, access_token: &str) -> Result<CurrentDeviceSession, AuthError> {
        let claims = self.tokens.verify(access_token).map_err(|e| match e {
            TokenError::AccessTokenExpired => AuthError::AccessTokenExpired,
            _ => AuthError::NotSignedIn,
        })?;
        if self.revocations.is_revoked(&claims.sid) {
            return Err(AuthError::SessionRevoked);
        }
        Ok(CurrentDeviceSession {
            user_id: claims.sub.clone(),
            session_id: claims.sid.clone(),
        })
    }

    /// The account of `user_id`, cached in memory (the header shows it on every page).
    pub async fn account(&self, user_id: &str) -> Result<Option<Account>, AuthError> {
        if let Some(email) = self.emails.get(user_id) {
            return Ok(Some(Account {
                id: user_id.to_owned(),
                email,
            }));
        }
        let id = user_id.to_owned();
        let email = self
            .db
            .run(move |conn| Ok(accounts::email_of(conn, &id)?))
            .await?;
        Ok(email.map(|email| {
            self.emails.insert(user_id.to_owned(), email.clone());
            Account {
                id: user_id.to_owned(),
                email,
            }
        }))
    }

    /// Deletes every expired row, in batches, and prunes the revocation set.
    pub async fn cleanup(&self) -> Result<CleanupReport, AuthError> {
        self.cleanup_at(now()).await
    }

    /// [`AuthService::cleanup`] as if the time were `now`, so tests can look past the
    /// horizon without waiting for it.
    pub async fn cleanup_at(&self, now: NaiveDateTime) -> Result<CleanupReport, AuthError> {
        let batch = self.settings.cleanup_batch;
        // A revoked session is kept until its last access token has expired, so the
        // device can still be told why it was signed out.
        let revoked_horizon = now - chrono::Duration::seconds(LEEWAY_SECS as i64);
        let deleted = self
            .db
            .run(move |conn| cleanup::delete_expired(conn, now, revoked_horizon, batch))
            .await?;
        let mut report = CleanupReport {
            deleted,
            revocations: 0,
        };
        report.revocations = self.revocations.purge_expired(now.and_utc().timestamp());
        self.throttle.purge();
        Ok(report)
    }

    /// Completes a sign-in of `user` (the second-factor step's end).
    pub(super) fn finish_start(&self, user: User, started: Started) -> SignedIn {
        let account = Account {
            id: user.id,
            email: user.email,
        };
        self.started(account, started)
    }

    /// Completes a sign-up or login: evicted sessions join the revocation set.
    fn started(&self, account: Account, started: Started) -> SignedIn {
        self.remember_revoked(started.evicted);
        self.signed_in(
            account,
            started.session_id,
            Some(started.refresh),
            started.access_until,
        )
    }

    /// Mints the access token, expiring at `access_until` as recorded on the session.
    fn signed_in(
        &self,
        account: Account,
        session_id: String,
        refresh: Option<IssuedRefresh>,
        access_until: NaiveDateTime,
    ) -> SignedIn {
        self.emails
            .insert(account.id.clone(), account.email.clone());
        let not_after = access_until.and_utc().timestamp();
        SignedIn {
            access: self.tokens.mint_until(&account.id, &session_id, not_after),
            account,
            session_id,
            refresh,
        }
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
