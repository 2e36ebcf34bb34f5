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
use super::client::ClientInfo;
use super::events::EventKind;
use super::refresh_token::RefreshToken;
use super::revocation::Revoked;
use super::service::{Account, IssuedRefresh, RevokeReason};
use super::settings::SessionSettings;
use crate::store::models::{BlacklistEntry, DeviceSession, RefreshTokenRow, SecurityEvent};
use crate::store::schema::{
    device_sessions, refresh_tokens, security_events, token_blacklist, users,
};
use crate::store::{DbBackend, DbConnection, DbError};

/// What a refresh attempt found, decided inside the transaction.
pub(super) enum Rotation {
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

pub(super) fn rotate(conn: &mut DbConnection, tx: &Tx<'_>, hash: &str) -> QueryResult<Rotation> {
    let (settings, now) = (tx.settings, tx.now);
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
pub(super) struct Started {
    pub session_id: String,
    pub refresh: IssuedRefresh,
    /// Sessions revoked to stay within the per-user limit, for the revocation set.
    pub evicted: Vec<(String, i64)>,
}

/// Inserts a device session and its first refresh token and records the sign-in. If the
/// user now has more than `max_sessions` live sessions, the least recently active ones
/// are revoked to make room.
pub(super) fn start_session(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
) -> QueryResult<Started> {
    let (settings, now) = (tx.settings, tx.now);
    // Concurrent sign-ins of one account take turns, so the session limit holds.
    lock_account(conn, user_id)?;
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
    conn: &mut DbConnection,
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
    let until = tx.now
        + chrono::Duration::from_std(tx.access_ttl).unwrap_or_default()
        + chrono::Duration::seconds(LEEWAY_SECS as i64);
    let entry = diesel::insert_into(token_blacklist::table).values(BlacklistEntry {
        token_id: session_id.to_owned(),
        kind: Revoked::Session.as_str().to_owned(),
        session_id: session_id.to_owned(),
        reason: reason.as_str().to_owned(),
        created_at: tx.now,
        expires_at: until,
    });
    crate::on_backend!(conn, |c| entry.on_conflict_do_nothing().execute(c))?;
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
pub(super) fn revoke_live_sessions(
    conn: &mut DbConnection,
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
