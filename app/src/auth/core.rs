//! What every feature service shares: the database, the access tokens, the revocation
//! set and its feed, the settings, the refresh-successor key, the hashing pool and the
//! mail sender's wake-up. One per process, behind an `Arc` that each
//! feature service ([`super::Auth`]) holds.
//!
//! Nothing here knows a feature: the feature services call down into it, never the
//! other way (ARCHITECTURE: "The domain").
//!
//! Every database step runs through [`Database::run`] (blocking pool) and every change
//! that must be all-or-nothing runs in one `IMMEDIATE` transaction ([`Core::transaction`]),
//! which takes SQLite's write lock up front so concurrent refreshes queue instead of
//! failing half-way.

use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;

use super::access_token::{AccessTokens, MintedToken};
use super::client_info::ClientInfo;
use super::error::AuthError;
use super::keys::DerivedKey;
use super::password::Passwords;
use super::revocation::{RevocationBatch, RevocationSet, Revoked};
use super::session::{
    Account, ActivityTracker, CleanupReport, CurrentDeviceSession, IssuedRefresh, SignedIn,
};
use super::settings::SessionSettings;
use super::transactions::{Rotation, Started, Tx, now};
use crate::store::models::User;
use crate::store::{Database, DbConnection, DbError, QueryResult, accounts, cleanup};

/// The shared core of the authentication domain.
pub struct Core {
    pub(super) db: Database,
    pub(super) passwords: Passwords,
    pub(super) tokens: AccessTokens,
    pub(super) revocations: RevocationSet,
    pub(super) settings: SessionSettings,
    /// Derives refresh-token successors (see `RefreshToken::successor`): the one key
    /// derived from the signing key that the life cycle itself needs; each feature
    /// derives its own.
    successor_key: Arc<aws_lc_rs::hmac::Key>,
    /// The header shows the address on every page: kept here, not read per request.
    emails: quick_cache::sync::Cache<String, String>,
    /// When sessions last had their activity written.
    pub(super) activity: ActivityTracker,
    /// Where the revocation feed reads from next: every blacklist row with a smaller
    /// sequence number is already in the set.
    feed_cursor: Mutex<i64>,
    /// Wakes the mail sender when a request has queued mail, so it leaves at once.
    mail_wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("settings", &self.settings)
            .field("revocations", &self.revocations.len())
            .finish_non_exhaustive()
    }
}

impl Core {
    /// Assembles the core. Call [`Core::load_revocations`] before serving.
    pub fn new(
        db: Database,
        passwords: Passwords,
        tokens: AccessTokens,
        settings: SessionSettings,
    ) -> Self {
        Self {
            successor_key: Arc::new(tokens.keys().signing().derive(DerivedKey::RefreshSuccessor)),
            db,
            passwords,
            tokens,
            revocations: RevocationSet::new(),
            settings,
            emails: quick_cache::sync::Cache::new(10_000),
            activity: ActivityTracker::default(),
            feed_cursor: Mutex::new(0),
            mail_wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// The database handle.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// The access-token minter/verifier (for the JWKS endpoint and benchmarks).
    pub fn tokens(&self) -> &AccessTokens {
        &self.tokens
    }

    /// The in-memory revocation set.
    pub fn revocations(&self) -> &RevocationSet {
        &self.revocations
    }

    /// The session settings.
    pub fn settings(&self) -> &SessionSettings {
        &self.settings
    }

    /// The password hasher (its counters, for tests and metrics).
    pub fn password_hasher(&self) -> &Passwords {
        &self.passwords
    }

    /// What the mail sender waits on (see [`crate::mail::sender::MailSender::run`]).
    pub fn mail_wakeup(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.mail_wake)
    }

    /// Tells the mail sender that a committed transaction queued mail.
    pub(super) fn mail_queued(&self) {
        self.mail_wake.notify_one();
    }

    /// Runs `work` in one write transaction on a pooled connection (blocking pool),
    /// with a [`Tx`] stamped now for `client`. Every state change of the domain goes
    /// through here.
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

    /// Drops a deleted account from the address cache.
    pub(super) fn forget_account(&self, user_id: &str) {
        self.emails.remove(user_id);
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

    /// Completes a sign-in of `user` whose device session has just started (the second
    /// step's end, a passkey).
    pub(super) fn finish_start(&self, user: User, started: Started) -> SignedIn {
        let account = Account {
            id: user.id,
            email: user.email,
        };
        self.started(account, started)
    }

    /// Completes any sign-in of `account` whose device session has just been started
    /// (password, second step, passkey, sign-up): evicted sessions join the revocation
    /// set, and the access token is minted.
    pub(super) fn started(&self, account: Account, started: Started) -> SignedIn {
        self.remember_revoked(started.evicted);
        let mut signed_in = self.signed_in(
            account,
            started.session_id,
            Some(started.refresh),
            started.access_until,
        );
        signed_in.dbsc_registration = started.dbsc_challenge;
        signed_in
    }

    /// A new access token for `current`'s session, expiring with the one it came with:
    /// for a session bound to its device that has just given a proof of identity, so
    /// that its sudo mode covers this browser's next requests and not a copy of its
    /// older token (`second_factor::sudo_holds`). Same `exp`, so the session's recorded
    /// latest expiry (what a revocation blacklists until) still covers it.
    pub(super) fn token_after_proof(&self, current: &CurrentDeviceSession) -> MintedToken {
        self.tokens.mint_until(
            &current.user_id,
            &current.session_id,
            current.token_expires_at,
        )
    }

    /// What a refresh's rotation comes to: the new pair, or why there is none.
    pub(super) fn rotated(&self, outcome: Rotation) -> Result<SignedIn, AuthError> {
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
            Rotation::ProofMissing => {
                self.mail_queued();
                Err(AuthError::DeviceProof)
            }
            Rotation::Ended => Err(AuthError::SessionEnded),
        }
    }

    /// Mints the access token, expiring at `access_until` as recorded on the session.
    pub(super) fn signed_in(
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
            bound: false,
            dbsc_registration: None,
        }
    }

    /// The per-request check: signature and claims (cached), then the in-memory
    /// revocation set. Never touches the database.
    pub fn authenticate(&self, access_token: &str) -> Result<CurrentDeviceSession, AuthError> {
        use super::access_token::TokenError;
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
            token_issued_at: claims.iat,
            token_expires_at: claims.exp,
        })
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

    /// Deletes every expired row as if the time were `now`, in batches, and prunes the
    /// revocation set (the throttle's memory is pruned by [`super::Auth::cleanup`]).
    pub(super) async fn delete_expired(
        &self,
        now: NaiveDateTime,
    ) -> Result<CleanupReport, AuthError> {
        let batch = self.settings.cleanup_batch;
        let deleted = self
            .db
            .run(move |conn| cleanup::delete_expired(conn, now, batch))
            .await?;
        Ok(CleanupReport {
            deleted,
            revocations: self.revocations.purge_expired(now.and_utc().timestamp()),
        })
    }
}
