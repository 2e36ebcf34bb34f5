//! The `dbsc_keys` and `dbsc_challenges` tables: the key a browser bound a device
//! session to, and the challenges sent for it to sign (device-bound sessions,
//! docs/DBSC.md).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::models::{DbscChallengeRow, DbscKeyRow};
use super::schema::{dbsc_challenges, dbsc_keys};

/// How many unanswered challenges one session may hold. A browser answers its challenge
/// within a second; only someone holding the session's id can ask for more (refreshes
/// without a proof), and each new one past this pushes out the oldest, so the table
/// holds at most this many rows per live session whoever asks.
pub const MAX_LIVE_CHALLENGES: i64 = 4;

/// Keeps a challenge until the browser answers, pushing out the session's oldest ones
/// past [`MAX_LIVE_CHALLENGES`].
pub fn insert_challenge(conn: &mut DbConnection, row: &DbscChallengeRow) -> QueryResult<()> {
    let stale: Vec<String> = dbsc_challenges::table
        .filter(dbsc_challenges::session_id.eq(&row.session_id))
        .order((
            dbsc_challenges::created_at.desc(),
            dbsc_challenges::id.desc(),
        ))
        .offset(MAX_LIVE_CHALLENGES - 1)
        .limit(MAX_LIVE_CHALLENGES)
        .select(dbsc_challenges::id)
        .load(conn)?;
    if !stale.is_empty() {
        diesel::delete(dbsc_challenges::table.filter(dbsc_challenges::id.eq_any(&stale)))
            .execute(conn)?;
    }
    diesel::insert_into(dbsc_challenges::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Takes (reads and deletes) the live challenge `id` of `purpose`. Of parallel takes of
/// one challenge exactly one gets it: each may read the row, but only one delete removes
/// it, and the others see 0 rows deleted.
pub fn take_challenge(
    conn: &mut DbConnection,
    id: &str,
    purpose: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<DbscChallengeRow>> {
    let row = dbsc_challenges::table
        .find(id)
        .filter(dbsc_challenges::purpose.eq(purpose))
        .filter(dbsc_challenges::expires_at.gt(now))
        .select(DbscChallengeRow::as_select())
        .get_result(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let deleted = diesel::delete(dbsc_challenges::table.find(id)).execute(conn)?;
    Ok((deleted == 1).then_some(row))
}

/// The session's key row, bound or only offered.
pub fn key(conn: &mut DbConnection, session_id: &str) -> QueryResult<Option<DbscKeyRow>> {
    dbsc_keys::table
        .find(session_id)
        .select(DbscKeyRow::as_select())
        .get_result(conn)
        .optional()
}

/// Records that the session's browser answered a registration challenge (it supports
/// device-bound sessions), unless it did before.
pub fn record_offer(
    conn: &mut DbConnection,
    session_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    let row = DbscKeyRow {
        session_id: session_id.to_owned(),
        algorithm: None,
        jwk: None,
        thumbprint: None,
        created_at: now,
        bound_at: None,
        expires_at,
    };
    let insert = diesel::insert_into(dbsc_keys::table).values(&row);
    crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)).map(drop)
}

/// Binds the session to a key, unless it is bound already: `true` if this call bound it.
pub fn bind(
    conn: &mut DbConnection,
    session_id: &str,
    algorithm: &str,
    jwk: &str,
    thumbprint: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        dbsc_keys::table
            .find(session_id)
            .filter(dbsc_keys::bound_at.is_null()),
    )
    .set((
        dbsc_keys::algorithm.eq(algorithm),
        dbsc_keys::jwk.eq(jwk),
        dbsc_keys::thumbprint.eq(thumbprint),
        dbsc_keys::bound_at.eq(now),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}
