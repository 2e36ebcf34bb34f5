//! The cleanup job's deletes: every expired row of every table, in batches.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{DbConnection, DbError};

/// How many rows one pass deleted, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deleted {
    /// Expired refresh tokens.
    pub refresh_tokens: usize,
    /// Blacklist rows whose tokens have expired.
    pub blacklist: usize,
    /// Expired sessions, and revoked ones whose last access token has expired.
    pub sessions: usize,
    /// Security events past the retention period.
    pub events: usize,
    /// Expired pre-login web sessions.
    pub web_sessions: usize,
    /// Brute-force counters that say nothing any more.
    pub throttle_counters: usize,
    /// Links sent by mail that have expired, used or not.
    pub email_tokens: usize,
    /// Mails delivered (or given up on) long enough ago.
    pub mails: usize,
    /// Authenticator enrolments never confirmed.
    pub totp_enrolments: usize,
    /// Passkey ceremonies never finished.
    pub passkey_challenges: usize,
}

impl Deleted {
    /// Rows deleted in all.
    pub fn total(&self) -> usize {
        self.refresh_tokens
            + self.blacklist
            + self.sessions
            + self.events
            + self.web_sessions
            + self.throttle_counters
            + self.email_tokens
            + self.mails
            + self.totp_enrolments
            + self.passkey_challenges
    }
}

/// Deletes what has expired by `now`, `batch` rows per statement. Revoked sessions go
/// once the last access token minted for them expired before `revoked_horizon`.
pub fn delete_expired(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    revoked_horizon: NaiveDateTime,
    batch: i64,
) -> Result<Deleted, DbError> {
    let expired = |conn: &mut DbConnection, table: &str, key: &str| {
        delete_in_batches(conn, table, key, "expires_at < $1", now, now, batch)
    };
    Ok(Deleted {
        refresh_tokens: expired(conn, "refresh_tokens", "token_hash")?,
        blacklist: expired(conn, "token_blacklist", "token_id")?,
        sessions: delete_in_batches(
            conn,
            "device_sessions",
            "id",
            "expires_at < $1 OR absolute_expires_at < $1 \
             OR (revoked_at IS NOT NULL AND COALESCE(access_expires_at, revoked_at) < $2)",
            now,
            revoked_horizon,
            batch,
        )?,
        events: expired(conn, "security_events", "id")?,
        web_sessions: expired(conn, "web_sessions", "id")?,
        throttle_counters: expired(conn, "throttle_counters", "key")?,
        email_tokens: expired(conn, "email_tokens", "token_hash")?,
        mails: expired(conn, "mail_outbox", "id")?,
        // Only unconfirmed enrolments have an `expires_at`.
        totp_enrolments: expired(conn, "totp_factors", "user_id")?,
        passkey_challenges: expired(conn, "passkey_challenges", "id")?,
    })
}

/// Deletes the rows of `table` matching `condition` (over the bound values `$1` and
/// `$2`), at most `batch` per statement so no lock is held long; returns the total.
///
/// Plain SQL because `DELETE ... WHERE key IN (SELECT ... LIMIT n)` is the portable way
/// to bound a delete (neither engine has `DELETE ... LIMIT` by default). Only constant
/// table and column names are interpolated; the values are bound. SQLite spells the
/// placeholders `?1`, PostgreSQL `$1`.
fn delete_in_batches(
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
