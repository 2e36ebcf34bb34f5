//! The `passkeys` and `passkey_challenges` tables.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::models::{PasskeyChallenge, PasskeyRow};
use super::schema::{passkey_challenges, passkeys};

/// The account's passkeys, oldest first.
pub fn list(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<PasskeyRow>> {
    passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .order((passkeys::created_at.asc(), passkeys::credential_id.asc()))
        .select(PasskeyRow::as_select())
        .load(conn)
}

/// How many passkeys the account has.
pub fn count(conn: &mut DbConnection, user_id: &str) -> QueryResult<i64> {
    passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .count()
        .get_result(conn)
}

/// The passkey with this credential id, whoever it belongs to.
pub fn find(conn: &mut DbConnection, credential_id: &str) -> QueryResult<Option<PasskeyRow>> {
    passkeys::table
        .find(credential_id)
        .select(PasskeyRow::as_select())
        .get_result(conn)
        .optional()
}

/// Adds a passkey. A credential id registered already (to any account) is a unique
/// violation.
pub fn insert(conn: &mut DbConnection, row: &PasskeyRow) -> QueryResult<()> {
    diesel::insert_into(passkeys::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Records a sign-in with the passkey: its updated credential (counter, backup state)
/// and the time; `false` if the passkey is gone, or if its stored signature counter is
/// already at or past `sign_count` (a non-zero counter only ever grows: two sign-ins
/// that overlap, a clone and the original, cannot both move it, and a slow one cannot
/// move it back). An authenticator without a counter always sends 0.
pub fn record_use(
    conn: &mut DbConnection,
    credential_id: &str,
    passkey: &str,
    sign_count: i64,
    backed_up: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changes = (
        passkeys::passkey.eq(passkey),
        passkeys::sign_count.eq(sign_count),
        passkeys::backed_up.eq(backed_up),
        passkeys::last_used_at.eq(now),
    );
    let found = passkeys::table.find(credential_id);
    let updated = if sign_count == 0 {
        diesel::update(found).set(changes).execute(conn)?
    } else {
        diesel::update(found.filter(passkeys::sign_count.lt(sign_count)))
            .set(changes)
            .execute(conn)?
    };
    Ok(updated == 1)
}

/// Removes one of the account's passkeys; `false` if it has no such passkey.
pub fn delete(conn: &mut DbConnection, user_id: &str, credential_id: &str) -> QueryResult<bool> {
    let deleted = diesel::delete(
        passkeys::table
            .find(credential_id)
            .filter(passkeys::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// How many ceremonies have not expired yet.
pub fn live_challenges(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<i64> {
    passkey_challenges::table
        .filter(passkey_challenges::expires_at.gt(now))
        .count()
        .get_result(conn)
}

/// Keeps a ceremony's state until the browser answers.
pub fn insert_challenge(conn: &mut DbConnection, challenge: &PasskeyChallenge) -> QueryResult<()> {
    diesel::insert_into(passkey_challenges::table)
        .values(challenge)
        .execute(conn)
        .map(drop)
}

/// Deletes a ceremony nobody will answer (its browser started a newer one).
pub fn delete_challenge(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::delete(passkey_challenges::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Takes (reads and deletes) the ceremony `id` of `purpose`. Of parallel takes of one id
/// exactly one gets it: each may read the row, but only one delete removes it, and the
/// others see 0 rows deleted. So a challenge is answered once.
pub fn take_challenge(
    conn: &mut DbConnection,
    id: &str,
    purpose: &str,
) -> QueryResult<Option<PasskeyChallenge>> {
    let row = passkey_challenges::table
        .find(id)
        .filter(passkey_challenges::purpose.eq(purpose))
        .select(PasskeyChallenge::as_select())
        .get_result(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let deleted = diesel::delete(passkey_challenges::table.find(id)).execute(conn)?;
    Ok((deleted == 1).then_some(row))
}
