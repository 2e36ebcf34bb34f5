//! The tower-sessions store on Diesel: short-lived, pre-authentication state (a flash
//! message after sign-out) kept in the same database as everything else.
//!
//! Its id is cycled at login and logout, so an id planted in a victim's browser before
//! they sign in is worthless afterwards (session fixation).
//!
//! A page starts several requests at once on one web session (the login page takes its
//! notice while it begins a passkey ceremony), and tower-sessions saves the whole record
//! each request leaves behind: the later save would silently undo the earlier one's
//! change. So `save` merges key by key (see [`merge`]): a request writes only the keys it
//! changed, onto the record as it is now, in one write transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::schema::web_sessions;
use super::{Database, DbConnection, DbError};

/// Web sessions kept at most, from everyone. Anyone can cause one (a link landing, a
/// passkey ceremony begun, a sign-out notice); each client's share is bounded by the
/// throttle's anonymous writes, and this bounds the table. Past it, the tenth nearest
/// its end goes to make room: pre-sign-in state, lost at worst, never an account.
pub const MAX_WEB_SESSIONS: i64 = 100_000;

/// A `SessionStore` over the `web_sessions` table.
#[derive(Debug, Clone)]
pub struct WebSessionStore {
    db: Database,
    max_rows: i64,
}

impl WebSessionStore {
    /// A store on `db`, holding at most [`MAX_WEB_SESSIONS`].
    pub fn new(db: Database) -> Self {
        Self {
            db,
            max_rows: MAX_WEB_SESSIONS,
        }
    }
}

/// Before a new row: when the table holds `max_rows`, drops the expired rows and then the
/// tenth of the limit nearest its end.
fn make_room(conn: &mut DbConnection, max_rows: i64, now: NaiveDateTime) -> QueryResult<()> {
    let rows: i64 = web_sessions::table.count().get_result(conn)?;
    if rows < max_rows {
        return Ok(());
    }
    diesel::delete(web_sessions::table.filter(web_sessions::expires_at.le(now))).execute(conn)?;
    let soonest: Vec<String> = web_sessions::table
        .order(web_sessions::expires_at.asc())
        .limit((max_rows / 10).max(1))
        .select(web_sessions::id)
        .load(conn)?;
    let dropped = diesel::delete(web_sessions::table.filter(web_sessions::id.eq_any(&soonest)))
        .execute(conn)?;
    tracing::warn!(
        dropped,
        "web sessions full: the ones nearest their end were dropped"
    );
    Ok(())
}

/// The reserved key under which [`WebSessionStore::load`] leaves a copy of the record's
/// data as it was loaded. tower-sessions hands `save` only the data as the request left
/// it; telling the request's own changes from other requests' needs both. The copy never
/// reaches the database.
pub const LOADED_KEY: &str = "__loaded";

/// The data to store when a request that found `loaded` leaves `mine` and the row holds
/// `stored` now (other requests may have saved since): the keys this request changed
/// (added, replaced or removed) take its value; every other key keeps the stored one.
/// Two requests that change one key both: the later save wins, as with any single value.
fn merge(
    loaded: &HashMap<String, serde_json::Value>,
    mine: &HashMap<String, serde_json::Value>,
    mut stored: HashMap<String, serde_json::Value>,
) -> HashMap<String, serde_json::Value> {
    for key in loaded.keys().chain(mine.keys()) {
        match (loaded.get(key), mine.get(key)) {
            (before, Some(now)) if before != Some(now) => {
                stored.insert(key.clone(), now.clone());
            }
            (Some(_), None) => {
                stored.remove(key);
            }
            _ => {}
        }
    }
    stored
}

/// Splits the data a request leaves into its own keys and, when the record was loaded
/// from the store, the copy [`LOADED_KEY`] holds of how it was found.
fn split_loaded(
    data: &HashMap<String, serde_json::Value>,
) -> (
    HashMap<String, serde_json::Value>,
    Option<HashMap<String, serde_json::Value>>,
) {
    let mut mine = data.clone();
    let loaded = match mine.remove(LOADED_KEY) {
        Some(serde_json::Value::Object(copy)) => Some(copy.into_iter().collect()),
        _ => None,
    };
    (mine, loaded)
}

/// A record's data as one JSON object.
fn object(data: HashMap<String, serde_json::Value>) -> serde_json::Value {
    serde_json::Value::Object(data.into_iter().collect())
}

/// The stored form of a record's data: a JSON object (string keys and JSON values always
/// serialise, so this cannot fail).
fn encode(data: HashMap<String, serde_json::Value>) -> Vec<u8> {
    object(data).to_string().into_bytes()
}

fn decode(data: &[u8]) -> session_store::Result<HashMap<String, serde_json::Value>> {
    serde_json::from_slice(data).map_err(|e| session_store::Error::Decode(e.to_string()))
}

fn backend(err: DbError) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn to_naive(expiry: time::OffsetDateTime) -> NaiveDateTime {
    DateTime::<Utc>::from_timestamp(expiry.unix_timestamp(), 0)
        .unwrap_or_default()
        .naive_utc()
}

/// The key a web session is stored under: the SHA-256 of its id, as refresh tokens are
/// kept. A copy of the table (a backup, a read-only leak) then holds no cookie that
/// works, and with it no stashed reset link or pending sign-in.
fn stored_id(id: &Id) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.to_string().as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the row whole (insert or replace).
fn upsert(
    conn: &mut DbConnection,
    id: &str,
    data: &[u8],
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    let row = (
        web_sessions::id.eq(id),
        web_sessions::data.eq(data),
        web_sessions::expires_at.eq(expires_at),
    );
    let changes = (
        web_sessions::data.eq(data),
        web_sessions::expires_at.eq(expires_at),
    );
    crate::on_backend!(conn, |c| diesel::insert_into(web_sessions::table)
        .values(&row)
        .on_conflict(web_sessions::id)
        .do_update()
        .set(changes)
        .execute(c))?;
    Ok(())
}

/// The live row's data, locked until the transaction ends: PostgreSQL with `FOR UPDATE`,
/// so concurrent saves of one web session from any instance merge one after the other;
/// SQLite's write transaction already holds the database's single write lock.
fn locked_data(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Vec<u8>>> {
    let live = web_sessions::table
        .find(id)
        .filter(web_sessions::expires_at.gt(now))
        .select(web_sessions::data);
    match conn {
        DbConnection::Postgres(c) => live.for_update().get_result(c).optional(),
        DbConnection::Sqlite(c) => live.get_result(c).optional(),
    }
}

#[async_trait]
impl SessionStore for WebSessionStore {
    /// Inserts a new record, drawing a new id on the (astronomically unlikely) collision.
    /// A cycled id also arrives here, with the data as the request left it: a new row
    /// has nothing to merge with.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(split_loaded(&record.data).0);
        let expires_at = to_naive(record.expiry_date);
        let max_rows = self.max_rows;
        loop {
            let id = stored_id(&record.id);
            let data = data.clone();
            let inserted = self
                .db
                .run(move |conn| {
                    make_room(conn, max_rows, Utc::now().naive_utc())?;
                    let row = (
                        web_sessions::id.eq(id),
                        web_sessions::data.eq(data),
                        web_sessions::expires_at.eq(expires_at),
                    );
                    Ok(crate::on_backend!(conn, |c| diesel::insert_into(
                        web_sessions::table
                    )
                    .values(&row)
                    .on_conflict_do_nothing()
                    .execute(c))?)
                })
                .await
                .map_err(backend)?;
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Merges this request's changes into the row as it is now ([`merge`]). A record the
    /// request did not load (a new one) is written as it is. A row gone since it was
    /// loaded (its id cycled at sign-in or sign-out, or expired) stays gone: an id
    /// retired for fixation's sake must not come back.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (mine, loaded) = split_loaded(&record.data);
        let id = stored_id(&record.id);
        let expires_at = to_naive(record.expiry_date);
        let Some(loaded) = loaded else {
            let data = encode(mine);
            let max_rows = self.max_rows;
            return self
                .db
                .run(move |conn| {
                    make_room(conn, max_rows, Utc::now().naive_utc())?;
                    Ok(upsert(conn, &id, &data, expires_at)?)
                })
                .await
                .map_err(backend);
        };
        let now = Utc::now().naive_utc();
        self.db
            .run(move |conn| {
                conn.write_transaction(|conn| {
                    let Some(stored) = locked_data(conn, &id, now)? else {
                        return Ok(());
                    };
                    let merged = match decode(&stored) {
                        Ok(stored) => merge(&loaded, &mine, stored),
                        Err(_) => mine,
                    };
                    let data = encode(merged);
                    diesel::update(web_sessions::table.find(&id))
                        .set((
                            web_sessions::data.eq(data),
                            web_sessions::expires_at.eq(expires_at),
                        ))
                        .execute(conn)?;
                    Ok(())
                })
            })
            .await
            .map_err(backend)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let id = stored_id(session_id);
        let now = Utc::now().naive_utc();
        let row: Option<(Vec<u8>, NaiveDateTime)> = self
            .db
            .run(move |conn| {
                Ok(web_sessions::table
                    .find(id)
                    .filter(web_sessions::expires_at.gt(now))
                    .select((web_sessions::data, web_sessions::expires_at))
                    .get_result(conn)
                    .optional()?)
            })
            .await
            .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let mut data = decode(&data)?;
        let copy = object(data.clone());
        data.insert(LOADED_KEY.to_owned(), copy);
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp(expires_at.and_utc().timestamp())
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *session_id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let id = stored_id(session_id);
        self.db
            .run(move |conn| {
                diesel::delete(web_sessions::table.find(id)).execute(conn)?;
                Ok(())
            })
            .await
            .map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DatabaseOptions;

    fn store() -> (tempfile::TempDir, WebSessionStore) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(
            &crate::store::testing::scratch_database(dir.path()),
            DatabaseOptions::default(),
        )
        .unwrap();
        (dir, WebSessionStore::new(db))
    }

    fn record(expiry: time::OffsetDateTime) -> Record {
        let mut data = HashMap::new();
        data.insert(
            "flash".to_owned(),
            serde_json::json!("You have signed out."),
        );
        Record {
            id: Id::default(),
            data,
            expiry_date: expiry,
        }
    }

    /// A record created in `store`, expiring `lifetime` from now.
    async fn stored(store: &WebSessionStore, lifetime: time::Duration) -> Record {
        let mut record = record(time::OffsetDateTime::now_utc() + lifetime);
        store.create(&mut record).await.unwrap();
        record
    }

    #[tokio::test]
    async fn records_round_trip_and_can_be_deleted() {
        let (_dir, store) = store();
        let record = stored(&store, time::Duration::hours(1)).await;
        let loaded = store.load(&record.id).await.unwrap().unwrap();
        assert_eq!(split_loaded(&loaded.data).0, record.data);
        // A request that loaded it and removed everything.
        let emptied = changed(&loaded, |data| data.retain(|key, _| key == LOADED_KEY));
        store.save(&emptied).await.unwrap();
        let reloaded = store.load(&record.id).await.unwrap().unwrap();
        assert!(split_loaded(&reloaded.data).0.is_empty());
        store.delete(&record.id).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none());
    }

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, serde_json::Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::json!(v)))
            .collect()
    }

    #[test]
    fn a_merge_keeps_other_requests_changes_and_applies_only_this_ones() {
        let loaded = map(&[("flash", "Signed out"), ("kept", "1"), ("mine", "old")]);
        // This request took the notice, replaced `mine` and added `new`.
        let mine = map(&[("kept", "1"), ("mine", "changed"), ("new", "n")]);
        // Meanwhile another request added a ceremony and replaced `kept`.
        let stored = map(&[
            ("flash", "Signed out"),
            ("kept", "2"),
            ("mine", "old"),
            ("passkey_sign_in", "c1"),
        ]);
        assert_eq!(
            merge(&loaded, &mine, stored),
            map(&[
                ("kept", "2"),
                ("mine", "changed"),
                ("new", "n"),
                ("passkey_sign_in", "c1"),
            ])
        );
    }

    #[test]
    fn a_merge_removes_what_this_request_removed_even_if_changed_since() {
        let loaded = map(&[("flash", "a")]);
        let stored = map(&[("flash", "b")]);
        assert_eq!(merge(&loaded, &HashMap::new(), stored), HashMap::new());
        // Unchanged by this request: whatever is stored stays, removals included.
        let loaded = map(&[("flash", "a")]);
        assert_eq!(
            merge(&loaded, &loaded.clone(), HashMap::new()),
            HashMap::new()
        );
    }

    /// What a request holding `record` (as loaded) leaves after `change`.
    fn changed(
        record: &Record,
        change: impl FnOnce(&mut HashMap<String, serde_json::Value>),
    ) -> Record {
        let mut record = record.clone();
        change(&mut record.data);
        record
    }

    #[tokio::test]
    async fn saves_of_two_requests_on_one_session_both_take_effect() {
        let (_dir, store) = store();
        let record = stored(&store, time::Duration::hours(1)).await;
        // Both requests load the record before either saves.
        let notice = store.load(&record.id).await.unwrap().unwrap();
        let ceremony = store.load(&record.id).await.unwrap().unwrap();
        assert!(notice.data.contains_key(LOADED_KEY));
        let ceremony = changed(&ceremony, |data| {
            data.insert("passkey_sign_in".into(), serde_json::json!("c1"));
        });
        let notice = changed(&notice, |data| {
            data.remove("flash");
        });
        store.save(&ceremony).await.unwrap();
        store.save(&notice).await.unwrap();
        let now = store.load(&record.id).await.unwrap().unwrap();
        let (data, _) = split_loaded(&now.data);
        assert_eq!(data, map(&[("passkey_sign_in", "c1")]));
    }

    #[tokio::test]
    async fn a_retired_id_is_not_brought_back_by_a_late_save() {
        let (_dir, store) = store();
        let record = stored(&store, time::Duration::hours(1)).await;
        let late = store.load(&record.id).await.unwrap().unwrap();
        // Another request signed in meanwhile: the id was cycled, its row deleted.
        store.delete(&record.id).await.unwrap();
        let late = changed(&late, |data| {
            data.insert("passkey_sign_in".into(), serde_json::json!("c1"));
        });
        store.save(&late).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn the_copy_of_the_loaded_data_never_reaches_the_database() {
        let (_dir, store) = store();
        let record = stored(&store, time::Duration::hours(1)).await;
        let mut loaded = store.load(&record.id).await.unwrap().unwrap();
        store.save(&loaded).await.unwrap();
        loaded.id = Id::default();
        store.create(&mut loaded).await.unwrap();
        for id in [record.id, loaded.id] {
            let id = stored_id(&id);
            let raw: Vec<u8> = store
                .db
                .run(move |conn| {
                    Ok(web_sessions::table
                        .find(id)
                        .select(web_sessions::data)
                        .get_result(conn)?)
                })
                .await
                .unwrap();
            assert_eq!(decode(&raw).unwrap(), record.data);
        }
    }

    #[tokio::test]
    async fn the_table_holds_no_usable_id() {
        let (_dir, store) = store();
        let record = stored(&store, time::Duration::hours(1)).await;
        let keys: Vec<String> = store
            .db
            .run(|conn| Ok(web_sessions::table.select(web_sessions::id).load(conn)?))
            .await
            .unwrap();
        assert_eq!(keys.len(), 1);
        assert_ne!(
            keys[0],
            record.id.to_string(),
            "the cookie's id is not stored"
        );
        assert!(!keys[0].contains(&record.id.to_string()));
        assert!(store.load(&record.id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn the_table_keeps_at_most_its_limit_and_drops_the_soonest_to_end() {
        let (_dir, mut store) = store();
        store.max_rows = 20;
        let mut records = Vec::new();
        for i in 0..50 {
            // Later records live longer, so the oldest are the ones nearest their end.
            let lifetime = time::Duration::minutes(10) + time::Duration::seconds(i);
            records.push(stored(&store, lifetime).await);
        }
        let rows: i64 = store
            .db
            .run(|conn| Ok(web_sessions::table.count().get_result(conn)?))
            .await
            .unwrap();
        assert!(rows <= 20, "{rows} rows");
        assert!(
            store.load(&records[49].id).await.unwrap().is_some(),
            "the newest stays"
        );
        assert!(
            store.load(&records[0].id).await.unwrap().is_none(),
            "the one nearest its end went"
        );
    }

    #[tokio::test]
    async fn expired_records_are_not_loaded() {
        let (_dir, store) = store();
        let record = stored(&store, -time::Duration::seconds(1)).await;
        assert!(store.load(&record.id).await.unwrap().is_none());
    }
}
