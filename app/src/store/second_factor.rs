//! The `totp_factors` and `recovery_codes` tables, and the sudo-mode column of
//! `device_sessions`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::models::{RecoveryCode, TotpFactor};
use super::schema::{dbsc_keys, device_sessions, recovery_codes, totp_factors};

/// The account's authenticator app, confirmed or being enrolled.
pub fn find_totp(conn: &mut DbConnection, user_id: &str) -> QueryResult<Option<TotpFactor>> {
    let query = totp_factors::table.find(user_id);
    // On the engine's own connection: a page's read (see `store::connection`). The
    // selection is made in each arm, since it names the engine.
    crate::on_backend!(conn, |c| query
        .select(TotpFactor::as_select())
        .get_result(c))
    .optional()
}

/// Starts (or restarts) an enrolment: any earlier unconfirmed one is replaced. Fails
/// with a unique violation if a confirmed factor exists (the caller checks first).
pub fn start_enrolment(conn: &mut DbConnection, factor: &TotpFactor) -> QueryResult<()> {
    diesel::delete(
        totp_factors::table
            .find(&factor.user_id)
            .filter(totp_factors::confirmed_at.is_null()),
    )
    .execute(conn)?;
    diesel::insert_into(totp_factors::table)
        .values(factor)
        .execute(conn)?;
    Ok(())
}

/// Confirms the enrolment, recording the step of the code that confirmed it.
pub fn confirm(
    conn: &mut DbConnection,
    user_id: &str,
    step: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        totp_factors::table
            .find(user_id)
            .filter(totp_factors::confirmed_at.is_null()),
    )
    .set((
        totp_factors::confirmed_at.eq(now),
        totp_factors::last_used_step.eq(step),
        totp_factors::expires_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Records that the code of `step` was used, only if no code of that step or a later one
/// was: `false` means a replay (or a parallel request with the same code won).
pub fn use_step(conn: &mut DbConnection, user_id: &str, step: i64) -> QueryResult<bool> {
    let updated = diesel::update(
        totp_factors::table
            .find(user_id)
            .filter(totp_factors::last_used_step.lt(step)),
    )
    .set(totp_factors::last_used_step.eq(step))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Re-seals the secret under the current key (after a key rotation).
pub fn reseal(
    conn: &mut DbConnection,
    user_id: &str,
    sealed: &str,
    key_id: &str,
) -> QueryResult<()> {
    diesel::update(totp_factors::table.find(user_id))
        .set((
            totp_factors::secret_sealed.eq(sealed),
            totp_factors::key_id.eq(key_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes the authenticator app and every recovery code.
pub fn delete_all(conn: &mut DbConnection, user_id: &str) -> QueryResult<()> {
    diesel::delete(totp_factors::table.find(user_id)).execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(())
}

/// Replaces the account's recovery codes with `codes`.
pub fn replace_recovery_codes(
    conn: &mut DbConnection,
    user_id: &str,
    codes: &[RecoveryCode],
) -> QueryResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    // One statement per code: Diesel's multi-backend connection has no batch insert.
    for code in codes {
        diesel::insert_into(recovery_codes::table)
            .values(code)
            .execute(conn)?;
    }
    Ok(())
}

/// Uses up a recovery code: `true` if it was one of the account's unused codes.
pub fn use_recovery_code(
    conn: &mut DbConnection,
    user_id: &str,
    code_hash: &str,
) -> QueryResult<bool> {
    let deleted = diesel::delete(
        recovery_codes::table
            .find(code_hash)
            .filter(recovery_codes::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// How many unused recovery codes the account has.
pub fn recovery_codes_left(conn: &mut DbConnection, user_id: &str) -> QueryResult<i64> {
    let query = recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .count();
    // On the engine's own connection: a page's read (see `store::connection`).
    crate::on_backend!(conn, |c| query.get_result(c))
}

/// When the user last proved who they are on this session, and whether the session is
/// bound to a key its browser keeps (DBSC): what its sudo mode rests on, in one read.
pub fn sudo_facts(
    conn: &mut DbConnection,
    session_id: &str,
) -> QueryResult<(Option<NaiveDateTime>, bool)> {
    let query = device_sessions::table
        .left_join(dbsc_keys::table)
        .filter(device_sessions::id.eq(session_id))
        .select((
            device_sessions::proven_at,
            dbsc_keys::bound_at.nullable().is_not_null(),
        ));
    // On the engine's own connection: a page's read (see `store::connection`).
    let facts = crate::on_backend!(conn, |c| query
        .get_result::<(Option<NaiveDateTime>, bool)>(c));
    Ok(facts.optional()?.unwrap_or((None, false)))
}

/// Records a proof of identity on this session at `at` (sudo mode starts again), or
/// with `None` ends its sudo mode (the next sensitive action asks for a proof).
pub fn set_proven_at(
    conn: &mut DbConnection,
    session_id: &str,
    at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    diesel::update(device_sessions::table.find(session_id))
        .set(device_sessions::proven_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// Records a proof of identity on this session (sudo mode starts again), and says
/// whether the session is bound to a device key (DBSC): then the proof covers only
/// tokens minted from now on.
pub fn prove(conn: &mut DbConnection, session_id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    set_proven_at(conn, session_id, Some(at))?;
    Ok(sudo_facts(conn, session_id)?.1)
}

/// How each of these device sessions signed in (sessions already deleted are missing).
pub fn sign_in_methods(
    conn: &mut DbConnection,
    session_ids: &[String],
) -> QueryResult<Vec<(String, String, Option<String>)>> {
    device_sessions::table
        .filter(device_sessions::id.eq_any(session_ids))
        .select((
            device_sessions::id,
            device_sessions::sign_in_method,
            device_sessions::sign_in_provider,
        ))
        .load(conn)
}
