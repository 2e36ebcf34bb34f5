//! The `device_sessions` and `refresh_tokens` tables: signed-in browsers and the chain
//! of refresh tokens of each. The rules that use them are in `auth::transactions`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::models::{DeviceSession, RefreshTokenRow};
use super::schema::{dbsc_keys, device_sessions, refresh_tokens, users};

/// Whether a `device_sessions` row is a live (not revoked, not expired) session of
/// `user_id` at `now`.
///
/// A plain expression rather than a boxed query, so the queries built on it keep static
/// types: Diesel caches their prepared statements by type, without writing out and
/// hashing their SQL on every run (docs/PERFORMANCE.md).
#[diesel::dsl::auto_type(no_type_alias)]
fn is_live_of<'a>(user_id: &'a str, now: NaiveDateTime) -> _ {
    device_sessions::user_id
        .eq(user_id)
        .and(device_sessions::revoked_at.is_null())
        .and(device_sessions::expires_at.gt(now))
        .and(device_sessions::absolute_expires_at.gt(now))
}

/// A live device session as the devices page lists it, its times in Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedDevice {
    /// The session id.
    pub id: String,
    /// A human label such as "Chrome 131 on Linux".
    pub device_label: String,
    /// The client IP at sign-in.
    pub ip: String,
    /// How it signed in (see `auth::session::SignInMethod`).
    pub sign_in_method: String,
    /// The OpenID provider it signed in with, if any.
    pub sign_in_provider: Option<String>,
    /// Sign-in time.
    pub signed_in_at: i64,
    /// Last refresh, or last request (at most once a minute).
    pub last_seen_at: i64,
    /// When it ends unless used again: the idle expiry, or the absolute one if sooner.
    pub expires_at: i64,
    /// Bound to a key its browser keeps (DBSC).
    pub bound: bool,
}

diesel::define_sql_function! {
    /// SQLite's `unixepoch(time)`: a timestamp in whole Unix seconds. A typed function,
    /// not the SQL literal `blacklist::read_revocations` uses (at start-up and on each
    /// poll of the revocation feed): a literal makes Diesel prepare its statement again
    /// on every run, and this one runs on every `/devices` view.
    fn unixepoch(time: diesel::sql_types::Timestamp) -> diesel::sql_types::BigInt;
}

/// The live sessions of `user_id`, most recently active first, as the devices page
/// lists them.
///
/// On the engine's own connection, as a page's read (see `store::connection`). SQLite
/// stores a timestamp as text, and chrono parsing five of them per device (through
/// Diesel's list of accepted formats) cost more than the rest of the row, so SQLite works
/// out the seconds itself (docs/PERFORMANCE.md). PostgreSQL sends timestamps binary,
/// cheap to convert here.
pub fn live_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<ListedDevice>> {
    use device_sessions::{
        absolute_expires_at, created_at, device_label, expires_at, id, ip, last_seen_at,
        sign_in_method, sign_in_provider,
    };
    // Whether each is bound to a key comes with it, in the same statement: a second
    // query for it (an `IN` list, which Diesel prepares anew each time) cost `/devices`
    // 13% of its views.
    let query = device_sessions::table
        .left_join(dbsc_keys::table)
        .filter(is_live_of(user_id, now))
        .order(last_seen_at.desc());
    let bound = dbsc_keys::bound_at.nullable().is_not_null();
    let texts = (
        id,
        device_label,
        ip,
        sign_in_method,
        sign_in_provider,
        bound,
    );
    match conn {
        DbConnection::Sqlite(c) => {
            let times = (
                unixepoch(created_at),
                unixepoch(last_seen_at),
                unixepoch(expires_at),
                unixepoch(absolute_expires_at),
            );
            Ok(query
                .select((texts, times))
                .load::<(DeviceTexts, (i64, i64, i64, i64))>(c)?
                .into_iter()
                .map(|(texts, times)| listed(texts, times))
                .collect())
        }
        DbConnection::Postgres(c) => {
            let times = (created_at, last_seen_at, expires_at, absolute_expires_at);
            Ok(query
                .select((texts, times))
                .load::<(
                    DeviceTexts,
                    (NaiveDateTime, NaiveDateTime, NaiveDateTime, NaiveDateTime),
                )>(c)?
                .into_iter()
                .map(|(texts, (signed_in, seen, idle, absolute))| {
                    let unix = |time: NaiveDateTime| time.and_utc().timestamp();
                    listed(
                        texts,
                        (unix(signed_in), unix(seen), unix(idle), unix(absolute)),
                    )
                })
                .collect())
        }
    }
}

/// The text columns of a [`ListedDevice`].
type DeviceTexts = (String, String, String, String, Option<String>, bool);

/// A [`ListedDevice`] from its columns.
fn listed(
    (id, device_label, ip, sign_in_method, sign_in_provider, bound): DeviceTexts,
    (signed_in_at, last_seen_at, idle_expires_at, absolute_expires_at): (i64, i64, i64, i64),
) -> ListedDevice {
    ListedDevice {
        id,
        device_label,
        ip,
        sign_in_method,
        sign_in_provider,
        signed_in_at,
        last_seen_at,
        expires_at: idle_expires_at.min(absolute_expires_at),
        bound,
    }
}

/// The ids of the live sessions of `user_id` but `except`, most recently active first.
pub fn live_session_ids(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
    except: Option<&str>,
) -> QueryResult<Vec<String>> {
    let mut query = device_sessions::table
        .filter(is_live_of(user_id, now))
        .into_boxed();
    if let Some(except) = except {
        query = query.filter(device_sessions::id.ne(except.to_owned()));
    }
    query
        .order((
            device_sessions::last_seen_at.desc(),
            device_sessions::created_at.desc(),
        ))
        .select(device_sessions::id)
        .load(conn)
}

/// Whether `id` is a live session of `user_id`.
pub fn is_live_session_of(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let found: Option<String> = device_sessions::table
        .filter(is_live_of(user_id, now))
        .filter(device_sessions::id.eq(id))
        .select(device_sessions::id)
        .get_result(conn)
        .optional()?;
    Ok(found.is_some())
}

/// The session and its account's e-mail address.
pub fn session_with_email(
    conn: &mut DbConnection,
    id: &str,
) -> QueryResult<(DeviceSession, String)> {
    device_sessions::table
        .inner_join(users::table)
        .filter(device_sessions::id.eq(id))
        .select((DeviceSession::as_select(), users::email))
        .get_result(conn)
}

/// The session `id` and its account's e-mail address, if there is such a session.
pub fn find_with_email(
    conn: &mut DbConnection,
    id: &str,
) -> QueryResult<Option<(DeviceSession, String)>> {
    session_with_email(conn, id).optional()
}

/// Saves a new session.
pub fn insert_session(conn: &mut DbConnection, session: &DeviceSession) -> QueryResult<()> {
    diesel::insert_into(device_sessions::table)
        .values(session)
        .execute(conn)?;
    Ok(())
}

/// Moves the idle expiry (and, if given, records activity).
pub fn set_expiry(
    conn: &mut DbConnection,
    id: &str,
    expires_at: NaiveDateTime,
    seen_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    let target = device_sessions::table.find(id);
    match seen_at {
        Some(seen) => diesel::update(target)
            .set((
                device_sessions::expires_at.eq(expires_at),
                device_sessions::last_seen_at.eq(seen),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set(device_sessions::expires_at.eq(expires_at))
            .execute(conn)?,
    };
    Ok(())
}

/// Records the `exp` of the newest access token minted for the session.
pub fn set_access_expires_at(
    conn: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(device_sessions::table.find(id))
        .set(device_sessions::access_expires_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// Records activity, unless a later moment is recorded already.
pub fn note_seen(conn: &mut DbConnection, id: &str, seen: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        device_sessions::table
            .find(id)
            .filter(device_sessions::last_seen_at.lt(seen)),
    )
    .set(device_sessions::last_seen_at.eq(seen))
    .execute(conn)?;
    Ok(())
}

/// Marks the session revoked for `reason`; false if it was revoked already.
pub fn mark_revoked(
    conn: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
    reason: &str,
) -> QueryResult<bool> {
    let changed = diesel::update(
        device_sessions::table
            .find(id)
            .filter(device_sessions::revoked_at.is_null()),
    )
    .set((
        device_sessions::revoked_at.eq(at),
        device_sessions::revoke_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}

/// Brings the session's expiry forward to `at`, never later: a revoked session is kept
/// only while a token minted for it could still arrive (to tell that device why it was
/// signed out), and the cleanup's one pass over `expires_at` then takes it like any
/// other expired session.
pub fn expire_by(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        device_sessions::table
            .find(id)
            .filter(device_sessions::expires_at.gt(at)),
    )
    .set(device_sessions::expires_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// What a revocation needs to know about the session.
#[derive(Debug, Clone)]
pub struct RevocationFacts {
    /// Whose session.
    pub user_id: String,
    /// "Chrome 131 on Linux", for the event.
    pub device_label: String,
    /// The latest `exp` minted for it, if recorded.
    pub access_expires_at: Option<NaiveDateTime>,
    /// Its absolute expiry.
    pub absolute_expires_at: NaiveDateTime,
}

/// Reads [`RevocationFacts`] of session `id`.
pub fn revocation_facts(conn: &mut DbConnection, id: &str) -> QueryResult<RevocationFacts> {
    let (user_id, device_label, access_expires_at, absolute_expires_at) = device_sessions::table
        .find(id)
        .select((
            device_sessions::user_id,
            device_sessions::device_label,
            device_sessions::access_expires_at,
            device_sessions::absolute_expires_at,
        ))
        .get_result(conn)?;
    Ok(RevocationFacts {
        user_id,
        device_label,
        access_expires_at,
        absolute_expires_at,
    })
}

/// The refresh token with this hash.
pub fn find_refresh_token(
    conn: &mut DbConnection,
    hash: &str,
) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .find(hash)
        .select(RefreshTokenRow::as_select())
        .get_result(conn)
        .optional()
}

/// The session a refresh token belongs to.
pub fn session_of_refresh_token(
    conn: &mut DbConnection,
    hash: &str,
) -> QueryResult<Option<String>> {
    refresh_tokens::table
        .find(hash)
        .select(refresh_tokens::session_id)
        .get_result(conn)
        .optional()
}

/// Saves a new link of a session's chain.
pub fn insert_refresh_token(conn: &mut DbConnection, row: &RefreshTokenRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Marks a refresh token used at `at`, replaced by `replaced_by`.
pub fn mark_refresh_token_used(
    conn: &mut DbConnection,
    hash: &str,
    at: NaiveDateTime,
    replaced_by: &str,
) -> QueryResult<()> {
    diesel::update(refresh_tokens::table.find(hash))
        .set((
            refresh_tokens::used_at.eq(at),
            refresh_tokens::replaced_by.eq(replaced_by),
        ))
        .execute(conn)?;
    Ok(())
}

/// PostgreSQL: locks the refresh token's row until the transaction ends, so that
/// rotations of one token, from any instance, run one after the other (row locking, not
/// luck). SQLite needs nothing: its write transactions already hold the database's
/// single write lock.
pub fn lock_refresh_token(conn: &mut DbConnection, hash: &str) -> QueryResult<()> {
    if let DbConnection::Postgres(c) = conn {
        refresh_tokens::table
            .find(hash)
            .select(refresh_tokens::token_hash)
            .for_update()
            .load::<String>(c)?;
    }
    Ok(())
}
