//! The SQL migrations, compiled into the binary so a deployment is one file. The two
//! folders hold the same schema in each engine's dialect; `schema.rs` is checked against
//! both (see its tests).

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// Every migration under `migrations/sqlite`, applied in order at start-up by
/// [`super::Database::open`].
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// Every migration under `migrations/postgres`, applied the same way.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
