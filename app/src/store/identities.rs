//! The `oidc_identities` and `oidc_flows` tables: identities at OpenID providers linked
//! to accounts, and the redirects to a provider waiting for their answer.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::models::{IdentityRow, OidcFlowRow};
use super::schema::{oidc_flows, oidc_identities};

/// The identity (issuer, subject), whichever account it is linked to.
pub fn find(
    conn: &mut DbConnection,
    issuer: &str,
    subject: &str,
) -> QueryResult<Option<IdentityRow>> {
    oidc_identities::table
        .filter(oidc_identities::issuer.eq(issuer))
        .filter(oidc_identities::subject.eq(subject))
        .select(IdentityRow::as_select())
        .get_result(conn)
        .optional()
}

/// The account's linked identities, oldest first.
pub fn list(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<IdentityRow>> {
    oidc_identities::table
        .filter(oidc_identities::user_id.eq(user_id))
        .order((oidc_identities::created_at.asc(), oidc_identities::id.asc()))
        .select(IdentityRow::as_select())
        .load(conn)
}

/// Links an identity. One linked already (to any account) is a unique violation.
pub fn insert(conn: &mut DbConnection, row: &IdentityRow) -> QueryResult<()> {
    diesel::insert_into(oidc_identities::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Records a sign-in with the identity `id`: the time, and the address the provider
/// gave this time.
pub fn record_use(
    conn: &mut DbConnection,
    id: &str,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(oidc_identities::table.find(id))
        .set((
            oidc_identities::email.eq(email),
            oidc_identities::last_used_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Unlinks the account's identity `id`; false if it has no such identity.
pub fn delete(conn: &mut DbConnection, user_id: &str, id: &str) -> QueryResult<bool> {
    let deleted = diesel::delete(
        oidc_identities::table
            .find(id)
            .filter(oidc_identities::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// How many redirects to a provider are waiting and unexpired.
pub fn live_flows(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<i64> {
    oidc_flows::table
        .filter(oidc_flows::expires_at.gt(now))
        .count()
        .get_result(conn)
}

/// Keeps a redirect's secrets until the provider's answer comes back.
pub fn insert_flow(conn: &mut DbConnection, flow: &OidcFlowRow) -> QueryResult<()> {
    diesel::insert_into(oidc_flows::table)
        .values(flow)
        .execute(conn)
        .map(drop)
}

/// Deletes the redirects of `user_id` but the newest `keep`: a signed-in user's links
/// and re-authentications wait a few at a time, however many they begin.
pub fn keep_newest_flows_of(conn: &mut DbConnection, user_id: &str, keep: i64) -> QueryResult<()> {
    let older: Vec<String> = oidc_flows::table
        .filter(oidc_flows::user_id.eq(user_id))
        .order((oidc_flows::created_at.desc(), oidc_flows::id.desc()))
        .offset(keep)
        .select(oidc_flows::id)
        .load(conn)?;
    if !older.is_empty() {
        diesel::delete(oidc_flows::table.filter(oidc_flows::id.eq_any(older))).execute(conn)?;
    }
    Ok(())
}

/// Deletes the `count` oldest redirects, making room for new ones in a full table.
pub fn delete_oldest_flows(conn: &mut DbConnection, count: i64) -> QueryResult<()> {
    let oldest: Vec<String> = oidc_flows::table
        .order((oidc_flows::created_at.asc(), oidc_flows::id.asc()))
        .limit(count)
        .select(oidc_flows::id)
        .load(conn)?;
    diesel::delete(oidc_flows::table.filter(oidc_flows::id.eq_any(oldest)))
        .execute(conn)
        .map(drop)
}

/// Deletes a redirect nobody will answer (its browser started newer ones).
pub fn delete_flow(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::delete(oidc_flows::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Takes (reads and deletes) the redirect `id`. Of parallel takes of one id exactly one
/// gets it: only one delete removes the row. So a `state` is answered once.
pub fn take_flow(conn: &mut DbConnection, id: &str) -> QueryResult<Option<OidcFlowRow>> {
    let row = oidc_flows::table
        .find(id)
        .select(OidcFlowRow::as_select())
        .get_result(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let deleted = diesel::delete(oidc_flows::table.find(id)).execute(conn)?;
    Ok((deleted == 1).then_some(row))
}
