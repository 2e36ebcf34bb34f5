//! The `users` table: accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::models::User;
use super::schema::users;
use crate::secret::Secret;

/// The account with this (normalised) e-mail address.
pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

/// The e-mail address of account `id`.
pub fn email_of(conn: &mut DbConnection, id: &str) -> QueryResult<Option<String>> {
    users::table
        .find(id)
        .select(users::email)
        .get_result(conn)
        .optional()
}

/// The stored password hash of account `id`.
pub fn password_hash_of(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Secret>> {
    let hash: Option<String> = users::table
        .find(id)
        .select(users::password_hash)
        .get_result(conn)
        .optional()?;
    Ok(hash.map(Secret::from))
}

/// Creates an account (a taken e-mail address is a unique violation).
pub fn insert(conn: &mut DbConnection, user: User) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)?;
    Ok(())
}

/// Sets a new password hash, as changed at `changed_at`.
pub fn set_password_hash(
    conn: &mut DbConnection,
    id: &str,
    hash: Secret,
    changed_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(String::from(hash)),
            users::password_changed_at.eq(changed_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces the hash with `new` only if it is still `expected` (a rehash at login never
/// overwrites a password set meanwhile). Does not count as a password change.
pub fn replace_password_hash_if(
    conn: &mut DbConnection,
    id: &str,
    expected: &Secret,
    new: Secret,
) -> QueryResult<()> {
    diesel::update(
        users::table
            .find(id)
            .filter(users::password_hash.eq(expected.expose())),
    )
    .set(users::password_hash.eq(String::from(new)))
    .execute(conn)?;
    Ok(())
}

/// Deletes the account; its sessions, tokens and events go with it (`ON DELETE CASCADE`).
pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::delete(users::table.find(id)).execute(conn)?;
    Ok(())
}

/// PostgreSQL: locks the account's row until the transaction ends, so concurrent
/// sign-ins of one account count its sessions one after the other. SQLite needs nothing:
/// its write transactions already hold the database's single write lock.
pub fn lock(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    if let DbConnection::Postgres(c) = conn {
        users::table
            .find(id)
            .select(users::id)
            .for_update()
            .load::<String>(c)?;
    }
    Ok(())
}

/// The account with this id.
pub fn find_by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

/// Marks the account's address as proven at `at` (a link sent to it was opened).
pub fn set_email_verified(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::email_verified_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// Switches the account to a new, just-proven address (a taken one is a unique
/// violation).
pub fn set_email(
    conn: &mut DbConnection,
    id: &str,
    email: &str,
    verified_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::email.eq(email),
            users::email_verified_at.eq(verified_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Turns the new-device sign-in mail on or off.
pub fn set_notify_new_device(conn: &mut DbConnection, id: &str, on: bool) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::notify_new_device.eq(on))
        .execute(conn)?;
    Ok(())
}
