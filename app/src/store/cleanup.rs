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
    /// Redirects to an OpenID provider never answered.
    pub oidc_flows: usize,
    /// Device-binding challenges never answered.
    pub dbsc_challenges: usize,
    /// Keys of device sessions past their absolute expiry.
    pub dbsc_keys: usize,
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
            + self.oidc_flows
            + self.dbsc_challenges
            + self.dbsc_keys
    }
}

/// Deletes what has expired by `now`, `batch` rows per statement. A revoked session
/// expires when the last access token minted for it does (its revocation brings its
/// `expires_at` forward: `device_sessions::expire_by`).
pub fn delete_expired(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    batch: i64,
) -> Result<Deleted, DbError> {
    let expired = |conn: &mut DbConnection, table: &str, key: &str| {
        delete_in_batches(conn, table, key, now, batch)
    };
    // Tokens before their sessions, as the tables were made: a session's delete then
    // has few tokens left to take with it.
    let refresh_tokens = expired(conn, "refresh_tokens", "token_hash")?;
    let blacklist = expired(conn, "token_blacklist", "token_id")?;
    // One pass over one index for every kind of dead session: a session's `expires_at`
    // never passes its `absolute_expires_at` (both writers take the sooner), and a
    // revocation brings it forward. (Two passes over two indexes, as before, left the
    // second index's first entries pointing at rows the first pass had deleted; with
    // 4M dead sessions every batch of the second pass walked past them into the 1.5 s
    // statement timeout.)
    let sessions = expired(conn, "device_sessions", "id")?;
    Ok(Deleted {
        refresh_tokens,
        blacklist,
        sessions,
        events: expired(conn, "security_events", "id")?,
        web_sessions: expired(conn, "web_sessions", "id")?,
        throttle_counters: expired(conn, "throttle_counters", "key")?,
        email_tokens: expired(conn, "email_tokens", "token_hash")?,
        mails: expired(conn, "mail_outbox", "id")?,
        // Only unconfirmed enrolments have an `expires_at`.
        totp_enrolments: expired(conn, "totp_factors", "user_id")?,
        passkey_challenges: expired(conn, "passkey_challenges", "id")?,
        oidc_flows: expired(conn, "oidc_flows", "id")?,
        dbsc_challenges: expired(conn, "dbsc_challenges", "id")?,
        dbsc_keys: expired(conn, "dbsc_keys", "session_id")?,
    })
}

/// Deletes the rows of `table` (keyed by `key`) that expired before `now`, oldest
/// first, at most `batch` per statement so no lock is held long; returns how many.
///
/// Each statement walks the table's `expires_at` index from its oldest entry, which is
/// what keeps it short on a big table: without the `ORDER BY`, PostgreSQL chose a
/// sequential scan under the `LIMIT` (most rows of a table full of dead ones match) and
/// rescanned the pages earlier batches had emptied, and it joined each batch back to
/// the table with another scan: with 10M refresh tokens every statement ran into the
/// 1.5 s statement timeout (`make bench-scale`, docs/PERFORMANCE.md). On PostgreSQL the
/// keys go through `= ANY(ARRAY(...))`, which it looks up by primary key; SQLite does
/// the same with `IN (SELECT ...)`.
///
/// Plain SQL because a bounded delete has no portable Diesel form (neither engine has
/// `DELETE ... LIMIT` by default). Only constant table and column names are
/// interpolated; the values are bound. SQLite spells the placeholders `?1`.
fn delete_in_batches(
    conn: &mut DbConnection,
    table: &str,
    key: &str,
    now: NaiveDateTime,
    batch: i64,
) -> Result<usize, DbError> {
    use diesel::sql_types::{BigInt, Timestamp};
    let oldest =
        format!("SELECT {key} FROM {table} WHERE expires_at < $1 ORDER BY expires_at LIMIT $2");
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            format!("DELETE FROM {table} WHERE {key} IN ({oldest})").replace('$', "?")
        }
        DbConnection::Postgres(_) => {
            format!("DELETE FROM {table} WHERE {key} = ANY(ARRAY({oldest}))")
        }
    };
    let mut total = 0;
    loop {
        let deleted = diesel::sql_query(&sql)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(batch)
            .execute(conn)?;
        total += deleted;
        if (deleted as i64) < batch {
            return Ok(total);
        }
    }
}
