//! The `email_tokens` table: single-use tokens of the links sent by mail, stored hashed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::models::EmailToken;
use super::schema::email_tokens;

/// Stores a newly issued token.
pub fn insert(conn: &mut DbConnection, token: &EmailToken) -> QueryResult<()> {
    diesel::insert_into(email_tokens::table)
        .values(token)
        .execute(conn)?;
    Ok(())
}

/// The token with this hash, used or not, expired or not.
pub fn find(conn: &mut DbConnection, token_hash: &str) -> QueryResult<Option<EmailToken>> {
    email_tokens::table
        .find(token_hash)
        .select(EmailToken::as_select())
        .get_result(conn)
        .optional()
}

/// Deletes the account's unused tokens of these purposes: a newer link, a password
/// change or an address change voids them. Used ones stay (to say "already used").
pub fn void_unused(
    conn: &mut DbConnection,
    user_id: &str,
    purposes: &[&str],
) -> QueryResult<usize> {
    diesel::delete(
        email_tokens::table
            .filter(email_tokens::user_id.eq(user_id))
            .filter(email_tokens::purpose.eq_any(purposes))
            .filter(email_tokens::used_at.is_null()),
    )
    .execute(conn)
}

/// Marks the token used if it was not yet; `false` if another request used it first
/// (on PostgreSQL the second `UPDATE` waits for the first and then matches nothing).
pub fn mark_used(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        email_tokens::table
            .find(token_hash)
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}
