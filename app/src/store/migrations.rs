//! The SQL migrations, compiled into the binary so a deployment is one file.

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// Every migration under `migrations/sqlite`, applied in order at start-up by
/// [`super::Database::open`].
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
