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
pub fn lock_counters(
    conn: &mut DbConnection,
    keys: &[String],
    now: NaiveDateTime,
) -> QueryResult<Vec<ThrottleCounter>> {
    let rows = match conn {
        // One statement per row, in one order for every transaction: it creates the row,
        // or locks the one there (also one a refund deleted meanwhile). A transaction
        // therefore never waits for a row while holding one that another is waiting for,
        // which creating the rows first and locking them afterwards could (a deadlock).
        DbConnection::Postgres(c) => {
            let mut sorted: Vec<&String> = keys.iter().collect();
            sorted.sort();
            sorted.dedup();
            let mut rows = Vec::with_capacity(sorted.len());
            for key in sorted {
                rows.push(
                    diesel::insert_into(throttle_counters::table)
                        .values(fresh(key, now))
                        .on_conflict(throttle_counters::key)
                        .do_update()
                        .set(throttle_counters::failures.eq(throttle_counters::failures))
                        .returning(ThrottleCounter::as_returning())
                        .get_result(c)?,
                );
            }
            rows
        }
        // SQLite: the write transaction already holds the database's only write lock.
        DbConnection::Sqlite(c) => {
            for key in keys {
                diesel::insert_into(throttle_counters::table)
                    .values(fresh(key, now))
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
            throttle_counters::table
                .filter(throttle_counters::key.eq_any(keys))
                .select(ThrottleCounter::as_select())
                .load(c)?
        }
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

/// An empty counter named `key`.
fn fresh(key: &str, now: NaiveDateTime) -> ThrottleCounter {
    ThrottleCounter {
        key: key.to_owned(),
        failures: 0,
        window_start: now,
        blocked_until: None,
        expires_at: now,
    }
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
