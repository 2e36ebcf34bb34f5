//! The `security_events` table: what happened to an account, for its activity page.

use diesel::prelude::*;

use super::DbConnection;
use super::models::SecurityEvent;
use super::schema::security_events;

/// Appends an event.
pub fn insert(conn: &mut DbConnection, event: &SecurityEvent) -> QueryResult<()> {
    diesel::insert_into(security_events::table)
        .values(event)
        .execute(conn)?;
    Ok(())
}

/// How many events of `kinds` the account has, only those with `detail` if given.
pub fn count_of_kinds(
    conn: &mut DbConnection,
    user_id: &str,
    kinds: &[&str],
    detail: Option<&str>,
) -> QueryResult<i64> {
    let mut query = security_events::table
        .filter(security_events::user_id.eq(user_id))
        .filter(security_events::kind.eq_any(kinds))
        .into_boxed();
    if let Some(detail) = detail {
        query = query.filter(security_events::detail.eq(detail));
    }
    query.count().get_result(conn)
}

/// How many events of `kind` the account has had since `since`.
pub fn count_since(
    conn: &mut DbConnection,
    user_id: &str,
    kind: &str,
    since: chrono::NaiveDateTime,
) -> QueryResult<i64> {
    security_events::table
        .filter(security_events::user_id.eq(user_id))
        .filter(security_events::kind.eq(kind))
        .filter(security_events::created_at.ge(since))
        .count()
        .get_result(conn)
}

/// Up to `limit` events of the account, newest first, older than the event `before`
/// (ids are UUID v7, so they sort by time).
pub fn page(
    conn: &mut DbConnection,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<SecurityEvent>> {
    let mut query = security_events::table
        .filter(security_events::user_id.eq(user_id))
        .select(SecurityEvent::as_select())
        .order(security_events::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(security_events::id.lt(before));
    }
    query.load(conn)
}
