//! The `throttle_counters` table: brute-force counters every instance sees. The rules
//! that read and change them are in `auth::throttle`; this module only loads and saves.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::models::ThrottleCounter;
use super::schema::throttle_counters;

/// Loads the counters named by `keys` (creating empty ones), locked until the
/// transaction ends so concurrent attempts on any instance update them one at a time.
/// Returned in the order of `keys`.
///
/// A counter refunded to nothing is deleted ([`delete_counters`]); if that happens
/// between this transaction's insert (which found the row, so did nothing) and its lock,
/// the row is missing: it is created again, a few times at most.
pub fn lock_counters(
    conn: &mut DbConnection,
    keys: &[String],
    now: NaiveDateTime,
) -> QueryResult<Vec<ThrottleCounter>> {
    let mut tries = 0;
    loop {
        tries += 1;
        match try_lock_counters(conn, keys, now) {
            Err(diesel::result::Error::NotFound) if tries < 5 => continue,
            other => return other,
        }
    }
}

fn try_lock_counters(
    conn: &mut DbConnection,
    keys: &[String],
    now: NaiveDateTime,
) -> QueryResult<Vec<ThrottleCounter>> {
    for key in keys {
        let fresh = ThrottleCounter {
            key: key.clone(),
            failures: 0,
            window_start: now,
            blocked_until: None,
            expires_at: now,
        };
        let insert = diesel::insert_into(throttle_counters::table).values(fresh);
        crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c))?;
    }
    let rows: Vec<ThrottleCounter> = match conn {
        // Rows are locked in key order, so two attempts never wait for each other.
        DbConnection::Postgres(c) => throttle_counters::table
            .filter(throttle_counters::key.eq_any(keys))
            .order(throttle_counters::key)
            .select(ThrottleCounter::as_select())
            .for_update()
            .load(c)?,
        // SQLite: the write transaction already holds the database's only write lock.
        DbConnection::Sqlite(c) => throttle_counters::table
            .filter(throttle_counters::key.eq_any(keys))
            .select(ThrottleCounter::as_select())
            .load(c)?,
    };
    keys.iter()
        .map(|key| {
            rows.iter()
                .find(|row| &row.key == key)
                .cloned()
                .ok_or(diesel::result::Error::NotFound)
        })
        .collect()
}

/// The counter named `key`, if there is one (read without a lock).
pub fn find_counter(conn: &mut DbConnection, key: &str) -> QueryResult<Option<ThrottleCounter>> {
    throttle_counters::table
        .find(key)
        .select(ThrottleCounter::as_select())
        .get_result(conn)
        .optional()
}

/// Deletes the counters named by `keys` (they hold nothing any more).
pub fn delete_counters(conn: &mut DbConnection, keys: &[String]) -> QueryResult<()> {
    if !keys.is_empty() {
        diesel::delete(throttle_counters::table.filter(throttle_counters::key.eq_any(keys)))
            .execute(conn)?;
    }
    Ok(())
}

/// Writes counters back after the rules changed them.
pub fn save_counters(conn: &mut DbConnection, rows: &[ThrottleCounter]) -> QueryResult<()> {
    for row in rows {
        diesel::update(throttle_counters::table.find(&row.key))
            .set(row)
            .execute(conn)?;
    }
    Ok(())
}
