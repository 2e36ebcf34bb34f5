//! The session life cycle: sign-up, login, refresh rotation with theft detection,
//! logout, the per-request check, and cleanup. DESIGN §2–§3.
//!
//! Every database step runs through [`Database::run`] (blocking pool) and every change
//! that must be all-or-nothing runs in one `IMMEDIATE` transaction, which takes SQLite's
//! write lock up front so concurrent refreshes queue instead of failing half-way.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::access_token::{AccessTokens, LEEWAY_SECS, MintedToken, TokenError};
use super::client::ClientInfo;
use super::email;
use super::error::AuthError;
use super::events::EventKind;
use super::password::{self, Passwords, Verification};
use super::refresh_token::RefreshToken;
use super::revocation::{RevocationSet, Revoked};
use super::settings::SessionSettings;
use crate::store::models::{BlacklistEntry, DeviceSession, RefreshTokenRow, SecurityEvent, User};
use crate::store::schema::{
    device_sessions, refresh_tokens, security_events, token_blacklist, users,
};
use crate::store::{Database, DbError};

/// A signed-in user, as the rest of the app sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user id.
    pub id: String,
    /// The normalised e-mail address.
    pub email: String,
}

/// A refresh token just issued, with the moment it stops working.
#[derive(Debug, Clone)]
pub struct IssuedRefresh {
    /// The token for the cookie.
    pub token: RefreshToken,
    /// Its expiry (idle timeout, capped by the session's absolute expiry).
    pub expires_at: NaiveDateTime,
}

/// The result of a successful sign-up, login or refresh: what goes into the cookies.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Who.
    pub account: Account,
    /// Which device session.
    pub session_id: String,
    /// A new access token.
    pub access: MintedToken,
    /// A new refresh token, or `None` for a concurrent refresh inside the grace window:
    /// the winning request already set the chain's next token, and overwriting it with
    /// anything else would fork the chain.
    pub refresh: Option<IssuedRefresh>,
}

/// The caller of an authenticated request, established without a database trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentSession {
    /// The user id (`sub`).
    pub user_id: String,
    /// The device session id (`sid`).
    pub session_id: String,
    /// The access token's id (`jti`).
    pub token_id: String,
    /// When the access token expires (Unix seconds).
    pub expires_at: i64,
}

/// How many expired rows one cleanup pass deleted, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Expired or spent refresh tokens.
    pub refresh_tokens: usize,
    /// Blacklist rows whose tokens have expired.
    pub blacklist: usize,
    /// Expired sessions, and revoked ones whose last access token has expired.
    pub sessions: usize,
    /// Security events past the retention period.
    pub events: usize,
    /// Expired pre-auth web sessions.
    pub web_sessions: usize,
    /// In-memory revocation entries dropped.
    pub revocations: usize,
}

impl CleanupReport {
    /// Rows deleted in all.
    pub fn total(&self) -> usize {
        self.refresh_tokens + self.blacklist + self.sessions + self.events + self.web_sessions
    }
}

/// Why a device session was ended; stored in `revoke_reason` and the blacklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    /// The user signed out on this device.
    Logout,
    /// A refresh token was replayed after the grace window.
    TokenReuse,
    /// The user signed this device out from another device.
    SignedOutRemotely,
    /// The user signed out every device but the one they were using.
    SignedOutAllOthers,
    /// The account had too many sessions; this least recently active one made room.
    SessionLimit,
    /// The password was changed on another device.
    PasswordChanged,
    /// The account was deleted.
    AccountDeleted,
}

impl RevokeReason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::TokenReuse => "token_reuse",
            Self::SignedOutRemotely => "signed_out_remotely",
            Self::SignedOutAllOthers => "signed_out_all_others",
            Self::SessionLimit => "session_limit",
            Self::PasswordChanged => "password_changed",
            Self::AccountDeleted => "account_deleted",
        }
    }

    /// The security event recorded for each session ended this way, if any; bulk
    /// revocations record one summary event instead of one per device.
    fn event(self) -> Option<EventKind> {
        match self {
            Self::Logout => Some(EventKind::SignedOut),
            Self::TokenReuse => Some(EventKind::TokenReuseDetected),
            Self::SignedOutRemotely => Some(EventKind::DeviceSignedOut),
            Self::SessionLimit => Some(EventKind::SessionEvicted),
            Self::SignedOutAllOthers | Self::PasswordChanged | Self::AccountDeleted => None,
        }
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
    activity: super::devices::ActivityTracker,
    throttle: super::throttle::Throttle,
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
        Self {
            db,
            passwords,
            tokens: Arc::new(tokens),
            revocations: Arc::new(RevocationSet::new()),
            settings,
            emails: quick_cache::sync::Cache::new(10_000),
            activity: super::devices::ActivityTracker::default(),
            throttle: super::throttle::Throttle::new(),
        }
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
    pub fn throttle(&self) -> &super::throttle::Throttle {
        &self.throttle
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
    pub(super) fn activity_tracker(&self) -> &super::devices::ActivityTracker {
        &self.activity
    }

    /// Fills the revocation set from `token_blacklist`; returns how many entries.
    pub async fn load_revocations(&self) -> Result<usize, AuthError> {
        let now = now();
        let rows: Vec<BlacklistEntry> = self
            .db
            .run(move |conn| {
                Ok(token_blacklist::table
                    .filter(token_blacklist::expires_at.ge(now))
                    .select(BlacklistEntry::as_select())
                    .load(conn)?)
            })
            .await?;
        for row in &rows {
            if let Some(kind) = Revoked::from_kind(&row.kind) {
                self.revocations
                    .insert(kind, &row.token_id, row.expires_at.and_utc().timestamp());
            }
        }
        Ok(rows.len())
    }

    /// Creates an account and signs it in on this device.
    pub async fn sign_up(
        &self,
        raw_email: &str,
        password: String,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let email = email::normalize(raw_email)?;
        password::check_policy(&password)?;
        let password_hash = self.passwords.hash(password).await?;
        let now = now();
        let user = User {
            id: uuid::Uuid::now_v7().to_string(),
            email,
            password_hash,
            created_at: now,
            password_changed_at: now,
        };
        let (settings, access_ttl) = (self.settings.clone(), self.tokens.ttl());
        let account = Account {
            id: user.id.clone(),
            email: user.email.clone(),
        };
        let started = self
            .db
            .run(move |conn| {
                let tx = Tx::new(&client, &settings, access_ttl);
                conn.immediate_transaction(|conn| {
                    diesel::insert_into(users::table)
                        .values(&user)
                        .execute(conn)?;
                    start_session(conn, &tx, &user.id)
                })
                .map_err(DbError::from)
            })
            .await?;
        Ok(self.started(account, started))
    }

    /// Checks the password and starts a new device session.
    ///
    /// An unknown e-mail costs one full Argon2 verification and gives the same error as a
    /// wrong password, so neither timing nor text tells whether the account exists.
    pub async fn log_in(
        &self,
        raw_email: &str,
        password: String,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        // A malformed address cannot have an account: same answer, same cost.
        let email = email::normalize(raw_email).unwrap_or_default();
        let lookup = email.clone();
        let user: Option<User> = self
            .db
            .run(move |conn| {
                Ok(users::table
                    .filter(users::email.eq(lookup))
                    .select(User::as_select())
                    .first(conn)
                    .optional()?)
            })
            .await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let Verification::Valid { rehashed } = self.passwords.verify(password, stored).await?
        else {
            return Err(AuthError::InvalidCredentials);
        };
        let user = user.ok_or(AuthError::InvalidCredentials)?;
        let (settings, access_ttl) = (self.settings.clone(), self.tokens.ttl());
        let user_id = user.id.clone();
        let started = self
            .db
            .run(move |conn| {
                let tx = Tx::new(&client, &settings, access_ttl);
                conn.immediate_transaction(|conn| {
                    if let Some(hash) = rehashed {
                        diesel::update(users::table.find(&user_id))
                            .set(users::password_hash.eq(hash))
                            .execute(conn)?;
                    }
                    start_session(conn, &tx, &user_id)
                })
                .map_err(DbError::from)
            })
            .await?;
        let account = Account {
            id: user.id,
            email: user.email,
        };
        Ok(self.started(account, started))
    }

    /// Exchanges a refresh token for a new token pair (rotation), with the grace window
    /// and reuse rule of DESIGN §2.
    pub async fn refresh(
        &self,
        token: &RefreshToken,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let hash = token.hash().as_str().to_owned();
        let (settings, access_ttl) = (self.settings.clone(), self.tokens.ttl());
        let outcome = self
            .db
            .run(move |conn| {
                conn.immediate_transaction(|conn| {
                    rotate(conn, &Tx::new(&client, &settings, access_ttl), &hash)
                })
                .map_err(DbError::from)
            })
            .await?;
        match outcome {
            Rotation::Rotated {
                account,
                session_id,
                next,
            } => Ok(self.signed_in(account, session_id, Some(next))),
            Rotation::Concurrent {
                account,
                session_id,
            } => Ok(self.signed_in(account, session_id, None)),
            Rotation::Reused { session_id, until } => {
                self.remember_revoked([(session_id, until)]);
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
        let (settings, access_ttl) = (self.settings.clone(), self.tokens.ttl());
        let revoked = self
            .db
            .run(move |conn| {
                let tx = Tx::new(&client, &settings, access_ttl);
                conn.immediate_transaction(|conn| {
                    let session_id = match (session_id, hash) {
                        (Some(id), _) => Some(id),
                        (None, Some(hash)) => refresh_tokens::table
                            .find(hash)
                            .select(refresh_tokens::session_id)
                            .first(conn)
                            .optional()?,
                        (None, None) => None,
                    };
                    match session_id {
                        Some(id) => revoke_session(conn, &tx, &id, RevokeReason::Logout),
                        None => Ok(None),
                    }
                })
                .map_err(DbError::from)
            })
            .await?;
        self.remember_revoked(revoked);
        Ok(())
    }

    /// The per-request check: signature and claims (cached), then the in-memory
    /// revocation set. Never touches the database.
    pub fn authenticate(&self, access_token: &str) -> Result<CurrentSession, AuthError> {
        let claims = self.tokens.verify(access_token).map_err(|e| match e {
            TokenError::Expired => AuthError::SessionEnded,
            _ => AuthError::NotSignedIn,
        })?;
        if self.revocations.is_revoked(&claims.jti, &claims.sid) {
            return Err(AuthError::SessionRevoked);
        }
        Ok(CurrentSession {
            user_id: claims.sub.clone(),
            session_id: claims.sid.clone(),
            token_id: claims.jti.clone(),
            expires_at: claims.exp,
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
        let email: Option<String> = self
            .db
            .run(move |conn| {
                Ok(users::table
                    .find(id)
                    .select(users::email)
                    .first(conn)
                    .optional()?)
            })
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
        let revoked_horizon = now
            - chrono::Duration::from_std(self.tokens.ttl()).unwrap_or_default()
            - chrono::Duration::seconds(LEEWAY_SECS as i64);
        let mut report = self
            .db
            .run(move |conn| {
                let expired = |conn: &mut SqliteConnection, table: &str, key: &str| {
                    delete_in_batches(conn, table, key, "expires_at < ?1", now, now, batch)
                };
                Ok(CleanupReport {
                    refresh_tokens: expired(conn, "refresh_tokens", "token_hash")?,
                    blacklist: expired(conn, "token_blacklist", "token_id")?,
                    sessions: delete_in_batches(
                        conn,
                        "device_sessions",
                        "id",
                        "expires_at < ?1 OR absolute_expires_at < ?1 OR revoked_at < ?2",
                        now,
                        revoked_horizon,
                        batch,
                    )?,
                    events: expired(conn, "security_events", "id")?,
                    web_sessions: expired(conn, "web_sessions", "id")?,
                    revocations: 0,
                })
            })
            .await?;
        report.revocations = self.revocations.purge_expired(now.and_utc().timestamp());
        self.throttle.purge();
        Ok(report)
    }

    /// Completes a sign-up or login: evicted sessions join the revocation set.
    fn started(&self, account: Account, started: Started) -> SignedIn {
        self.remember_revoked(started.evicted);
        self.signed_in(account, started.session_id, Some(started.refresh))
    }

    fn signed_in(
        &self,
        account: Account,
        session_id: String,
        refresh: Option<IssuedRefresh>,
    ) -> SignedIn {
        self.emails
            .insert(account.id.clone(), account.email.clone());
        SignedIn {
            access: self.tokens.mint(&account.id, &session_id),
            account,
            session_id,
            refresh,
        }
    }
}

/// What a refresh attempt found, decided inside the transaction.
enum Rotation {
    Rotated {
        account: Account,
        session_id: String,
        next: IssuedRefresh,
    },
    Concurrent {
        account: Account,
        session_id: String,
    },
    Reused {
        session_id: String,
        until: i64,
    },
    Ended,
}

fn rotate(conn: &mut SqliteConnection, tx: &Tx<'_>, hash: &str) -> QueryResult<Rotation> {
    let (settings, now) = (tx.settings, tx.now);
    let Some(row) = refresh_tokens::table
        .find(hash)
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(Rotation::Ended);
    };
    let (session, email): (DeviceSession, String) = device_sessions::table
        .inner_join(users::table)
        .filter(device_sessions::id.eq(&row.session_id))
        .select((DeviceSession::as_select(), users::email))
        .first(conn)?;
    let live = session.revoked_at.is_none()
        && session.expires_at > now
        && session.absolute_expires_at > now
        && row.expires_at > now;
    if !live {
        return Ok(Rotation::Ended);
    }
    let account = Account {
        id: session.user_id.clone(),
        email,
    };
    match row.used_at {
        None => {
            let next = issue_refresh(
                conn,
                &session.id,
                session.absolute_expires_at,
                settings,
                now,
            )?;
            diesel::update(refresh_tokens::table.find(hash))
                .set((
                    refresh_tokens::used_at.eq(now),
                    refresh_tokens::replaced_by.eq(next.token.hash().as_str()),
                ))
                .execute(conn)?;
            diesel::update(device_sessions::table.find(&session.id))
                .set((
                    device_sessions::last_seen_at.eq(now),
                    device_sessions::expires_at.eq(next.expires_at),
                ))
                .execute(conn)?;
            Ok(Rotation::Rotated {
                account,
                session_id: session.id,
                next,
            })
        }
        Some(used_at)
            if now - used_at
                <= chrono::Duration::from_std(settings.refresh_grace).unwrap_or_default() =>
        {
            Ok(Rotation::Concurrent {
                account,
                session_id: session.id,
            })
        }
        Some(_) => {
            let revoked = revoke_session(conn, tx, &session.id, RevokeReason::TokenReuse)?;
            Ok(match revoked {
                Some((session_id, until)) => Rotation::Reused { session_id, until },
                None => Rotation::Ended,
            })
        }
    }
}

/// A device session just started.
struct Started {
    session_id: String,
    refresh: IssuedRefresh,
    /// Sessions revoked to stay within the per-user limit, for the revocation set.
    evicted: Vec<(String, i64)>,
}

/// Inserts a device session and its first refresh token and records the sign-in. If the
/// user now has more than `max_sessions` live sessions, the least recently active ones
/// are revoked to make room.
fn start_session(conn: &mut SqliteConnection, tx: &Tx<'_>, user_id: &str) -> QueryResult<Started> {
    let (settings, now) = (tx.settings, tx.now);
    let absolute = now + chrono::Duration::from_std(settings.session_max_age).unwrap_or_default();
    let session = DeviceSession {
        id: random_id(),
        user_id: user_id.to_owned(),
        created_at: now,
        last_seen_at: now,
        expires_at: now,
        absolute_expires_at: absolute,
        revoked_at: None,
        revoke_reason: None,
        user_agent: tx.client.user_agent.clone(),
        ip: tx.client.ip.clone(),
        device_label: tx.client.device_label(),
    };
    diesel::insert_into(device_sessions::table)
        .values(&session)
        .execute(conn)?;
    let refresh = issue_refresh(conn, &session.id, absolute, settings, now)?;
    diesel::update(device_sessions::table.find(&session.id))
        .set(device_sessions::expires_at.eq(refresh.expires_at))
        .execute(conn)?;
    // "Sign-in from a new device": the account has signed in before, but never from this
    // kind of device. (The very first sign-in, at sign-up, is not news.)
    let sign_ins = security_events::table
        .filter(security_events::user_id.eq(user_id))
        .filter(security_events::kind.eq_any([
            EventKind::SignedIn.as_str(),
            EventKind::NewDeviceSignIn.as_str(),
        ]));
    let any_before: i64 = sign_ins.clone().count().get_result(conn)?;
    let this_kind_before: i64 = sign_ins
        .filter(security_events::detail.eq(&session.device_label))
        .count()
        .get_result(conn)?;
    let kind = if any_before > 0 && this_kind_before == 0 {
        EventKind::NewDeviceSignIn
    } else {
        EventKind::SignedIn
    };
    record_event(
        conn,
        tx,
        user_id,
        Some(&session.id),
        kind,
        Some(&session.device_label),
    )?;

    let others: Vec<String> = device_sessions::table
        .filter(device_sessions::user_id.eq(user_id))
        .filter(device_sessions::id.ne(&session.id))
        .filter(device_sessions::revoked_at.is_null())
        .filter(device_sessions::expires_at.gt(now))
        .order((
            device_sessions::last_seen_at.desc(),
            device_sessions::created_at.desc(),
        ))
        .select(device_sessions::id)
        .load(conn)?;
    let mut evicted = Vec::new();
    for id in others.iter().skip(settings.max_sessions.saturating_sub(1)) {
        evicted.extend(revoke_session(conn, tx, id, RevokeReason::SessionLimit)?);
    }
    Ok(Started {
        session_id: session.id,
        refresh,
        evicted,
    })
}

fn issue_refresh(
    conn: &mut SqliteConnection,
    session_id: &str,
    absolute_expires_at: NaiveDateTime,
    settings: &SessionSettings,
    now: NaiveDateTime,
) -> QueryResult<IssuedRefresh> {
    let token = RefreshToken::generate();
    let expires_at = (now + chrono::Duration::from_std(settings.refresh_ttl).unwrap_or_default())
        .min(absolute_expires_at);
    diesel::insert_into(refresh_tokens::table)
        .values(&RefreshTokenRow {
            token_hash: token.hash().as_str().to_owned(),
            session_id: session_id.to_owned(),
            issued_at: now,
            expires_at,
            used_at: None,
            replaced_by: None,
        })
        .execute(conn)?;
    Ok(IssuedRefresh { token, expires_at })
}

/// What every write of one transaction shares: who caused it, when, and the settings.
pub(super) struct Tx<'a> {
    pub client: &'a ClientInfo,
    pub settings: &'a SessionSettings,
    pub access_ttl: Duration,
    pub now: NaiveDateTime,
}

impl<'a> Tx<'a> {
    /// A transaction context stamped with the current time.
    pub fn new(
        client: &'a ClientInfo,
        settings: &'a SessionSettings,
        access_ttl: Duration,
    ) -> Self {
        Self {
            client,
            settings,
            access_ttl,
            now: now(),
        }
    }
}

/// Marks the session revoked and blacklists its access tokens until the last of them
/// would have expired, recording `reason` as a security event about that device.
/// Returns the blacklisted session id and that moment, or `None` if it was already ended.
pub(super) fn revoke_session(
    conn: &mut SqliteConnection,
    tx: &Tx<'_>,
    session_id: &str,
    reason: RevokeReason,
) -> QueryResult<Option<(String, i64)>> {
    let changed = diesel::update(
        device_sessions::table
            .find(session_id)
            .filter(device_sessions::revoked_at.is_null()),
    )
    .set((
        device_sessions::revoked_at.eq(tx.now),
        device_sessions::revoke_reason.eq(reason.as_str()),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    let until = tx.now
        + chrono::Duration::from_std(tx.access_ttl).unwrap_or_default()
        + chrono::Duration::seconds(LEEWAY_SECS as i64);
    diesel::insert_into(token_blacklist::table)
        .values(&BlacklistEntry {
            token_id: session_id.to_owned(),
            kind: Revoked::Session.as_str().to_owned(),
            session_id: session_id.to_owned(),
            reason: reason.as_str().to_owned(),
            created_at: tx.now,
            expires_at: until,
        })
        .on_conflict_do_nothing()
        .execute(conn)?;
    if let Some(kind) = reason.event() {
        let (user_id, label): (String, String) = device_sessions::table
            .find(session_id)
            .select((device_sessions::user_id, device_sessions::device_label))
            .first(conn)?;
        record_event(conn, tx, &user_id, Some(session_id), kind, Some(&label))?;
    }
    Ok(Some((session_id.to_owned(), until.and_utc().timestamp())))
}

/// The live (not revoked, not expired) sessions of `user_id`.
pub(super) fn live_sessions_of(
    user_id: &str,
    now: NaiveDateTime,
) -> device_sessions::BoxedQuery<'static, diesel::sqlite::Sqlite> {
    device_sessions::table
        .filter(device_sessions::user_id.eq(user_id.to_owned()))
        .filter(device_sessions::revoked_at.is_null())
        .filter(device_sessions::expires_at.gt(now))
        .filter(device_sessions::absolute_expires_at.gt(now))
        .into_boxed()
}

/// Revokes every live session of `user_id` but `keep` for `reason`; returns what was
/// revoked, for [`AuthService::remember_revoked`] once the transaction has committed.
pub(super) fn revoke_live_sessions(
    conn: &mut SqliteConnection,
    tx: &Tx<'_>,
    user_id: &str,
    keep: Option<&str>,
    reason: RevokeReason,
) -> QueryResult<Vec<(String, i64)>> {
    let mut query = live_sessions_of(user_id, tx.now).select(device_sessions::id);
    if let Some(keep) = keep {
        query = query.filter(device_sessions::id.ne(keep.to_owned()));
    }
    let ids: Vec<String> = query.load(conn)?;
    let mut revoked = Vec::new();
    for id in &ids {
        revoked.extend(revoke_session(conn, tx, id, reason)?);
    }
    Ok(revoked)
}

/// Appends a security event, kept for the retention period.
pub(super) fn record_event(
    conn: &mut SqliteConnection,
    tx: &Tx<'_>,
    user_id: &str,
    session_id: Option<&str>,
    kind: EventKind,
    detail: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(security_events::table)
        .values(&SecurityEvent {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_owned(),
            session_id: session_id.map(str::to_owned),
            kind: kind.as_str().to_owned(),
            ip: Some(tx.client.ip.clone()),
            user_agent: Some(tx.client.user_agent.clone()),
            detail: detail.map(str::to_owned),
            created_at: tx.now,
            expires_at: tx.now
                + chrono::Duration::from_std(tx.settings.event_retention).unwrap_or_default(),
        })
        .execute(conn)?;
    Ok(())
}

/// Deletes the rows of `table` matching `condition` (over `?1` and `?2`), at most
/// `batch` per statement so the write lock is never held long; returns the total.
///
/// Plain SQL because `DELETE ... WHERE key IN (SELECT ... LIMIT n)` is the portable way
/// to bound a delete (SQLite has no `DELETE ... LIMIT` by default). Only constant table
/// and column names are interpolated; the values are bound.
fn delete_in_batches(
    conn: &mut SqliteConnection,
    table: &str,
    key: &str,
    condition: &str,
    first: NaiveDateTime,
    second: NaiveDateTime,
    batch: i64,
) -> Result<usize, DbError> {
    use diesel::sql_types::{BigInt, Timestamp};
    let sql = format!(
        "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} LIMIT ?3)"
    );
    let mut total = 0;
    loop {
        let deleted = diesel::sql_query(&sql)
            .bind::<Timestamp, _>(first)
            .bind::<Timestamp, _>(second)
            .bind::<BigInt, _>(batch)
            .execute(conn)?;
        total += deleted;
        if (deleted as i64) < batch {
            return Ok(total);
        }
    }
}

/// A 128-bit random id, base64url: for device sessions, which must not be guessable.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random generator is available");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Now, in the UTC form stored in the database.
fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
