-- The PostgreSQL twin of migrations/sqlite/2026-11-23-000003_session_hardening.

ALTER TABLE device_sessions ADD COLUMN access_expires_at TIMESTAMP;

-- The id of the transaction that inserted the row (written by the application with
-- `pg_current_xact_id()`). Transaction ids only grow, and the feed keeps as its cursor
-- the oldest transaction still running when it last read (`pg_snapshot_xmin`): every
-- row with a smaller id was committed (or rolled back) before that read, so however long
-- a transaction runs and however far the clocks of the instances drift, no revocation
-- is skipped.
ALTER TABLE token_blacklist ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX token_blacklist_seq ON token_blacklist (seq);

CREATE TABLE throttle_counters (
    key           TEXT PRIMARY KEY NOT NULL,
    failures      INTEGER NOT NULL,
    window_start  TIMESTAMP NOT NULL,
    blocked_until TIMESTAMP,
    expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX throttle_counters_expires_at ON throttle_counters (expires_at);
