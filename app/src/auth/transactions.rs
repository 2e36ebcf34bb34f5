//! The database side of the session life cycle. Every function here runs inside a
//! transaction its caller in [`super::service`] opened, and takes a [`Tx`] saying who
//! acted, when, and with which settings; none of them touches in-memory state, which the
//! service updates only once the transaction has committed.

use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::access_token::LEEWAY_SECS;
use super::client::{ClientInfo, HeldSession};
use super::events::EventKind;
use super::refresh_token::RefreshToken;
use super::revocation::Revoked;
use super::service::{Account, IssuedRefresh, RevokeReason};
use super::settings::SessionSettings;
use crate::secret::Secret;
use crate::store::models::{BlacklistEntry, DeviceSession, RefreshTokenRow, SecurityEvent};
use crate::store::schema::{
    device_sessions, refresh_tokens, security_events, token_blacklist, users,
};
use crate::store::{DbBackend, DbConnection, DbError};

/// What a refresh attempt found, decided inside the transaction.
pub(super) enum Rotation {
    /// The token was good: here is the chain's next token, and until when the new
    /// access token may live. `next` is `None` only when a retry inside the grace window
    /// cannot be answered with the chain's head (the server key changed meanwhile).
    Refreshed {
        account: Account,
        session_id: String,
        next: Option<IssuedRefresh>,
        access_until: NaiveDateTime,
    },
    /// A used token came back after the grace window: theft. The session is revoked.
    Reused { session_id: String, until: i64 },
    /// Unknown token, or its session is over.
    Ended,
}

/// How many links a retry inside the grace window may walk to find the chain's head.
/// Each link is one rotation within the window, so a handful covers any real client.
const MAX_GRACE_WALK: usize = 8;

pub(super) fn rotate(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    token: &RefreshToken,
) -> QueryResult<Rotation> {
    let (settings, now) = (tx.settings, tx.now);
    let hash = token.hash();
    let hash = hash.as_str();
    // Concurrent refreshes of one token, on any instance, take turns from here on: the
    // second sees the first one's `used_at` and gets the grace-window answer.
    lock_refresh_token(conn, hash)?;
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
    let next = match row.used_at {
        None => {
            let next = issue_refresh(
                conn,
                &session.id,
                token.successor(tx.successor_key),
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
            Some(next)
        }
        Some(used_at)
            if now - used_at
                <= chrono::Duration::from_std(settings.refresh_grace).unwrap_or_default() =>
        {
            // A retry (the reply to the first use was lost) or a parallel tab: hand out
            // the chain's current head, so the device keeps a working token and the chain
            // keeps one head. ARCHITECTURE: "Refresh rotation and the grace-window answer".
            chain_head(conn, tx, token)?
        }
        Some(_) => {
            let revoked = revoke_device_session(conn, tx, &session.id, RevokeReason::TokenReuse)?;
            return Ok(match revoked {
                Some((session_id, until)) => Rotation::Reused { session_id, until },
                None => Rotation::Ended,
            });
        }
    };
    let access_until = extend_access(conn, tx, &session)?;
    Ok(Rotation::Refreshed {
        account,
        session_id: session.id,
        next,
        access_until,
    })
}

/// Follows the deterministic successors of `token` to the first unused one: the token
/// the device should hold now. `None` if a link is missing (the server key changed, or
/// the chain was cleaned up).
fn chain_head(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    token: &RefreshToken,
) -> QueryResult<Option<IssuedRefresh>> {
    let mut current = token.successor(tx.successor_key);
    for _ in 0..MAX_GRACE_WALK {
        let Some(row) = refresh_tokens::table
            .find(current.hash().as_str())
            .select(RefreshTokenRow::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(None);
        };
        if row.used_at.is_none() {
            return Ok(Some(IssuedRefresh {
                token: current,
                expires_at: row.expires_at,
            }));
        }
        current = current.successor(tx.successor_key);
    }
    Ok(None)
}

/// The `exp` of an access token minted now for `session`: the configured lifetime, but
/// never past the session's absolute expiry. Recorded on the session (only ever moved
/// later), so a revocation knows how long its blacklist row must last.
fn extend_access(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    session: &DeviceSession,
) -> QueryResult<NaiveDateTime> {
    let until = (tx.now + chrono::Duration::from_std(tx.access_ttl).unwrap_or_default())
        .min(session.absolute_expires_at);
    let recorded = session.access_expires_at.map_or(until, |t| t.max(until));
    diesel::update(device_sessions::table.find(&session.id))
        .set(device_sessions::access_expires_at.eq(recorded))
        .execute(conn)?;
    Ok(until)
}

/// A device session just started.
pub(super) struct Started {
    pub session_id: String,
    pub refresh: IssuedRefresh,
    /// The `exp` of its first access token.
    pub access_until: NaiveDateTime,
    /// Sessions revoked to stay within the per-user limit, for the revocation set.
    pub evicted: Vec<(String, i64)>,
}

/// Inserts a device session and its first refresh token and records the sign-in. If the
/// user now has more than `max_sessions` live sessions, the least recently active ones
/// are revoked to make room.
pub(super) fn start_device_session(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
) -> QueryResult<Started> {
    let (settings, now) = (tx.settings, tx.now);
    // Concurrent sign-ins of one account take turns, so the session limit holds.
    lock_account(conn, user_id)?;
    // Signing in again on a browser that is signed in ends its previous session.
    let mut evicted = Vec::new();
    if let Some(held) = held_session_id(conn, tx)? {
        evicted.extend(revoke_device_session(
            conn,
            tx,
            &held,
            RevokeReason::Logout,
        )?);
    }
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
        access_expires_at: None,
    };
    diesel::insert_into(device_sessions::table)
        .values(&session)
        .execute(conn)?;
    let refresh = issue_refresh(
        conn,
        &session.id,
        RefreshToken::generate(),
        absolute,
        settings,
        now,
    )?;
    diesel::update(device_sessions::table.find(&session.id))
        .set(device_sessions::expires_at.eq(refresh.expires_at))
        .execute(conn)?;
    let access_until = extend_access(conn, tx, &session)?;
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
    for id in others.iter().skip(settings.max_sessions.saturating_sub(1)) {
        evicted.extend(revoke_device_session(
            conn,
            tx,
            id,
            RevokeReason::SessionLimit,
        )?);
    }
    Ok(Started {
        session_id: session.id,
        refresh,
        access_until,
        evicted,
    })
}

/// The id of the device session the signing-in browser holds already, if any.
fn held_session_id(conn: &mut DbConnection, tx: &Tx<'_>) -> QueryResult<Option<String>> {
    Ok(match &tx.client.held_session {
        None => None,
        Some(HeldSession::Id(id)) => Some(id.clone()),
        Some(HeldSession::RefreshHash(hash)) => refresh_tokens::table
            .find(hash)
            .select(refresh_tokens::session_id)
            .first(conn)
            .optional()?,
    })
}

/// Stores `token` as the session's newest refresh token.
fn issue_refresh(
    conn: &mut DbConnection,
    session_id: &str,
    token: RefreshToken,
    absolute_expires_at: NaiveDateTime,
    settings: &SessionSettings,
    now: NaiveDateTime,
) -> QueryResult<IssuedRefresh> {
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
    /// Derives each refresh token's successor ([`RefreshToken::successor`]).
    pub successor_key: &'a aws_lc_rs::hmac::Key,
    pub now: NaiveDateTime,
}

impl<'a> Tx<'a> {
    /// A transaction context stamped with the current time.
    pub fn new(
        client: &'a ClientInfo,
        settings: &'a SessionSettings,
        access_ttl: Duration,
        successor_key: &'a aws_lc_rs::hmac::Key,
    ) -> Self {
        Self {
            client,
            settings,
            access_ttl,
            successor_key,
            now: now(),
        }
    }
}

/// Marks the session revoked and blacklists its access tokens until the last of them
/// expires (the latest `exp` ever minted for it, whichever instance minted it),
/// recording `reason` as a security event about that device. Returns the blacklisted
/// session id and that moment, or `None` if it was already ended.
pub(super) fn revoke_device_session(
    conn: &mut DbConnection,
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
    let (user_id, label, access_until, absolute): (
        String,
        String,
        Option<NaiveDateTime>,
        NaiveDateTime,
    ) = device_sessions::table
        .find(session_id)
        .select((
            device_sessions::user_id,
            device_sessions::device_label,
            device_sessions::access_expires_at,
            device_sessions::absolute_expires_at,
        ))
        .first(conn)?;
    // Sessions older than `access_expires_at` may hold tokens of any lifetime up to
    // their absolute expiry.
    let until = access_until.unwrap_or(absolute).max(tx.now)
        + chrono::Duration::seconds(LEEWAY_SECS as i64);
    let seq = next_blacklist_seq(conn, tx.now)?;
    let entry = diesel::insert_into(token_blacklist::table).values(BlacklistEntry {
        token_id: session_id.to_owned(),
        kind: Revoked::Session.as_str().to_owned(),
        session_id: session_id.to_owned(),
        reason: reason.as_str().to_owned(),
        created_at: tx.now,
        expires_at: until,
        seq,
    });
    crate::on_backend!(conn, |c| entry.on_conflict_do_nothing().execute(c))?;
    if let Some(kind) = reason.event() {
        record_event(conn, tx, &user_id, Some(session_id), kind, Some(&label))?;
    }
    Ok(Some((session_id.to_owned(), until.and_utc().timestamp())))
}

/// The feed position of a new blacklist row (see `store::blacklist`).
///
/// PostgreSQL: the id of this transaction. SQLite has one writer at a time: one past
/// the largest number there is, or the current time in microseconds if that is larger,
/// so numbers keep growing even after the cleanup job has deleted every row.
fn next_blacklist_seq(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<i64> {
    match conn {
        DbConnection::Sqlite(c) => {
            let max: Option<i64> = token_blacklist::table
                .select(diesel::dsl::max(token_blacklist::seq))
                .first(c)?;
            Ok((max.unwrap_or(0) + 1).max(now.and_utc().timestamp_micros()))
        }
        DbConnection::Postgres(c) => diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "pg_current_xact_id()::text::bigint",
        ))
        .get_result(c),
    }
}

/// The live (not revoked, not expired) sessions of `user_id`.
pub(super) fn live_device_sessions_of(
    user_id: &str,
    now: NaiveDateTime,
) -> device_sessions::BoxedQuery<'static, DbBackend> {
    device_sessions::table
        .filter(device_sessions::user_id.eq(user_id.to_owned()))
        .filter(device_sessions::revoked_at.is_null())
        .filter(device_sessions::expires_at.gt(now))
        .filter(device_sessions::absolute_expires_at.gt(now))
        .into_boxed()
}

/// Revokes every live session of `user_id` but `keep` for `reason`; returns what was
/// revoked, for [`AuthService::remember_revoked`] once the transaction has committed.
pub(super) fn revoke_live_device_sessions(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
    keep: Option<&str>,
    reason: RevokeReason,
) -> QueryResult<Vec<(String, i64)>> {
    let mut query = live_device_sessions_of(user_id, tx.now).select(device_sessions::id);
    if let Some(keep) = keep {
        query = query.filter(device_sessions::id.ne(keep.to_owned()));
    }
    let ids: Vec<String> = query.load(conn)?;
    let mut revoked = Vec::new();
    for id in &ids {
        revoked.extend(revoke_device_session(conn, tx, id, reason)?);
    }
    Ok(revoked)
}

/// Appends a security event, kept for the retention period.
pub(super) fn record_event(
    conn: &mut DbConnection,
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

/// Deletes the rows of `table` matching `condition` (over the bound values `$1` and
/// `$2`), at most `batch` per statement so no lock is held long; returns the total.
///
/// Plain SQL because `DELETE ... WHERE key IN (SELECT ... LIMIT n)` is the portable way
/// to bound a delete (neither engine has `DELETE ... LIMIT` by default). Only constant
/// table and column names are interpolated; the values are bound. SQLite spells the
/// placeholders `?1`, PostgreSQL `$1`.
pub(super) fn delete_in_batches(
    conn: &mut DbConnection,
    table: &str,
    key: &str,
    condition: &str,
    first: NaiveDateTime,
    second: NaiveDateTime,
    batch: i64,
) -> Result<usize, DbError> {
    use diesel::sql_types::{BigInt, Timestamp};
    let sql = format!(
        "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} LIMIT $3)"
    );
    let sql = match conn {
        DbConnection::Sqlite(_) => sql.replace('$', "?"),
        DbConnection::Postgres(_) => sql,
    };
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

/// PostgreSQL: locks the refresh token's row until the transaction ends, so that
/// rotations of one token, from any instance, run one after the other (row locking, not
/// luck). SQLite needs nothing: its `IMMEDIATE` transactions already hold the
/// database's single write lock.
fn lock_refresh_token(conn: &mut DbConnection, hash: &str) -> QueryResult<()> {
    if let DbConnection::Postgres(c) = conn {
        refresh_tokens::table
            .find(hash)
            .select(refresh_tokens::token_hash)
            .for_update()
            .load::<String>(c)?;
    }
    Ok(())
}

/// PostgreSQL: locks the account's row until the transaction ends, so concurrent
/// sign-ins of one account count its sessions one after the other. (SQLite: as above.)
fn lock_account(conn: &mut DbConnection, user_id: &str) -> QueryResult<()> {
    if let DbConnection::Postgres(c) = conn {
        users::table
            .find(user_id)
            .select(users::id)
            .for_update()
            .load::<String>(c)?;
    }
    Ok(())
}

/// The password hash a login verified against is still the account's current one
/// (checked after locking the account row, inside the login's transaction): a password
/// changed while that login was hashing makes the login fail instead of outliving
/// "sign out everywhere". Then saves `rehashed`, if any, only over that same hash.
pub(super) fn credential_unchanged(
    conn: &mut DbConnection,
    user_id: &str,
    verified_hash: &Secret,
    rehashed: Option<Secret>,
) -> QueryResult<bool> {
    lock_account(conn, user_id)?;
    let current: Option<String> = users::table
        .find(user_id)
        .select(users::password_hash)
        .first(conn)
        .optional()?;
    if current.as_deref() != Some(verified_hash.expose()) {
        return Ok(false);
    }
    if let Some(hash) = rehashed {
        diesel::update(
            users::table
                .find(user_id)
                .filter(users::password_hash.eq(verified_hash.expose())),
        )
        .set(users::password_hash.eq(String::from(hash)))
        .execute(conn)?;
    }
    Ok(true)
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
pub(super) fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}
