//! The tower-sessions store on Diesel: short-lived, pre-authentication state (a flash
//! message after sign-out) kept in the same database as everything else.
//!
//! Its id is cycled at login and logout, so an id planted in a victim's browser before
//! they sign in is worthless afterwards (session fixation).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::schema::web_sessions;
use super::{Database, DbError};

/// A `SessionStore` over the `web_sessions` table.
#[derive(Debug, Clone)]
pub struct WebSessionStore {
    db: Database,
}

impl WebSessionStore {
    /// A store on `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn backend(err: DbError) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn to_naive(expiry: time::OffsetDateTime) -> NaiveDateTime {
    DateTime::<Utc>::from_timestamp(expiry.unix_timestamp(), 0)
        .unwrap_or_default()
        .naive_utc()
}

#[async_trait]
impl SessionStore for WebSessionStore {
    /// Inserts a new record, drawing a new id on the (astronomically unlikely) collision.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_vec(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expires_at = to_naive(record.expiry_date);
        loop {
            let id = record.id.to_string();
            let data = data.clone();
            let inserted = self
                .db
                .run(move |conn| {
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

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_vec(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let id = record.id.to_string();
        let expires_at = to_naive(record.expiry_date);
        self.db
            .run(move |conn| {
                let row = (
                    web_sessions::id.eq(&id),
                    web_sessions::data.eq(&data),
                    web_sessions::expires_at.eq(expires_at),
                );
                let changes = (
                    web_sessions::data.eq(&data),
                    web_sessions::expires_at.eq(expires_at),
                );
                crate::on_backend!(conn, |c| diesel::insert_into(web_sessions::table)
                    .values(&row)
                    .on_conflict(web_sessions::id)
                    .do_update()
                    .set(changes)
                    .execute(c))?;
                Ok(())
            })
            .await
            .map_err(backend)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let id = session_id.to_string();
        let now = Utc::now().naive_utc();
        let row: Option<(Vec<u8>, NaiveDateTime)> = self
            .db
            .run(move |conn| {
                Ok(web_sessions::table
                    .find(id)
                    .filter(web_sessions::expires_at.gt(now))
                    .select((web_sessions::data, web_sessions::expires_at))
                    .first(conn)
                    .optional()?)
            })
            .await
            .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let data = serde_json::from_slice(&data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
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
        let id = session_id.to_string();
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
    use crate::store::{DatabaseOptions, DatabaseUrl};

    fn store() -> (tempfile::TempDir, WebSessionStore) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(
            &DatabaseUrl::sqlite_in(dir.path()),
            DatabaseOptions::default(),
        )
        .unwrap();
        (dir, WebSessionStore::new(db))
    }

    fn record(expiry: time::OffsetDateTime) -> Record {
        let mut data = std::collections::HashMap::new();
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

    #[tokio::test]
    async fn records_round_trip_and_can_be_deleted() {
        let (_dir, store) = store();
        let mut record = record(time::OffsetDateTime::now_utc() + time::Duration::hours(1));
        store.create(&mut record).await.unwrap();
        let loaded = store.load(&record.id).await.unwrap().unwrap();
        assert_eq!(loaded.data, record.data);
        record.data.clear();
        store.save(&record).await.unwrap();
        assert!(
            store
                .load(&record.id)
                .await
                .unwrap()
                .unwrap()
                .data
                .is_empty()
        );
        store.delete(&record.id).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn expired_records_are_not_loaded() {
        let (_dir, store) = store();
        let mut record = record(time::OffsetDateTime::now_utc() - time::Duration::seconds(1));
        store.create(&mut record).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none());
    }
}
