//! The `token_blacklist` table: revoked sessions and tokens, and the revocation feed
//! that reads them by sequence number.

use chrono::NaiveDateTime;
use diesel::connection::DefaultLoadingMode;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::DbConnection;
use super::models::BlacklistEntry;
use super::schema::token_blacklist;

/// The unexpired blacklist rows numbered `from` or later (all of them for `None`), handed
/// to `each(kind, token_id, expires_at)` one at a time, so that the million rows of a
/// large blacklist never sit in memory together; returns how many rows were read and
/// the number to read from next time: every row committed later is numbered at least
/// that.
///
/// - PostgreSQL numbers a row with the id of the transaction that inserted it. The next
///   cursor is the oldest transaction still running when this read began
///   (`pg_snapshot_xmin`, taken *before* the rows are read): anything numbered below it
///   had finished by then, so this read saw it. A row of a transaction still running is
///   numbered at or above the cursor and will be read next time.
/// - SQLite has one writer at a time and numbers each row above every earlier one (see
///   [`next_seq`]), so the next cursor is one past the largest number there is.
pub fn read_revocations(
    conn: &mut DbConnection,
    from: Option<i64>,
    now: NaiveDateTime,
    mut each: impl FnMut(&str, &str, i64),
) -> QueryResult<(usize, i64)> {
    let horizon: Option<i64> = match conn {
        DbConnection::Postgres(c) => Some(
            diesel::select(diesel::dsl::sql::<BigInt>(
                "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
            ))
            .get_result(c)?,
        ),
        DbConnection::Sqlite(_) => None,
    };
    let mut query = token_blacklist::table
        .filter(token_blacklist::expires_at.ge(now))
        .select((
            token_blacklist::kind,
            token_blacklist::token_id,
            expires_at_unix(conn),
        ))
        .into_boxed();
    if let Some(from) = from {
        query = query.filter(token_blacklist::seq.ge(from));
    }
    let mut read = 0;
    for row in query.load_iter::<(String, String, i64), DefaultLoadingMode>(conn)? {
        let (kind, token_id, expires_at) = row?;
        each(&kind, &token_id, expires_at);
        read += 1;
    }
    let next = match horizon {
        Some(xmin) => xmin,
        None => {
            let max: Option<i64> = token_blacklist::table
                .select(diesel::dsl::max(token_blacklist::seq))
                .get_result(conn)?;
            max.unwrap_or(0) + 1
        }
    };
    Ok((read, next))
}

/// `expires_at` in Unix seconds, worked out by the database: on SQLite a timestamp is
/// text, and chrono parsing a million of them slowed the start-up load
/// (docs/PERFORMANCE.md). Fractions of a second are dropped, as `timestamp()`
/// drops them. (PostgreSQL's `date_part` is a float8, exact to the microsecond for these
/// dates and cheaper per row than `extract`'s numeric.)
fn expires_at_unix(conn: &DbConnection) -> SqlLiteral<BigInt> {
    diesel::dsl::sql::<BigInt>(match conn {
        DbConnection::Postgres(_) => "floor(date_part('epoch', expires_at))::bigint",
        DbConnection::Sqlite(_) => "unixepoch(expires_at)",
    })
}

/// Blacklists `entry` (a row for the same id already there is kept).
pub fn insert(conn: &mut DbConnection, entry: BlacklistEntry) -> QueryResult<()> {
    let insert = diesel::insert_into(token_blacklist::table).values(entry);
    crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c))?;
    Ok(())
}

/// The feed position of a new row (see [`revocations_from`]). PostgreSQL: the id of this
/// transaction. SQLite has one writer at a time: one past the largest number there is,
/// or the current time in microseconds if that is larger, so numbers keep growing even
/// after the cleanup job has deleted every row.
pub fn next_seq(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<i64> {
    match conn {
        DbConnection::Sqlite(c) => {
            let max: Option<i64> = token_blacklist::table
                .select(diesel::dsl::max(token_blacklist::seq))
                .get_result(c)?;
            Ok((max.unwrap_or(0) + 1).max(now.and_utc().timestamp_micros()))
        }
        DbConnection::Postgres(c) => diesel::select(diesel::dsl::sql::<BigInt>(
            "pg_current_xact_id()::text::bigint",
        ))
        .get_result(c),
    }
}
