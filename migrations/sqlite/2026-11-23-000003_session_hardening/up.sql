-- Session hardening (issue 12).

-- The latest `exp` of any access token minted for the session, so a revocation blocks
-- its tokens exactly as long as the longest-lived of them, whichever instance (and
-- whichever ACCESS_TOKEN_TTL) minted it. NULL on sessions started before this column.
ALTER TABLE device_sessions ADD COLUMN access_expires_at TIMESTAMP;

-- The revocation feed reads blacklist rows by this sequence number, never by clock time.
-- SQLite (one writer at a time) numbers each row above every earlier one inside the
-- inserting transaction; PostgreSQL stores the inserting transaction's id (see the twin migration
-- and `store::blacklist`).
ALTER TABLE token_blacklist ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX token_blacklist_seq ON token_blacklist (seq);

-- Brute-force counters shared by every instance (PostgreSQL). One row per counter key:
-- `account-ip:…`, `ip:…`, `account:…`, `device:…`. On SQLite (one instance) the same
-- rules run in memory and this table stays empty.
CREATE TABLE throttle_counters (
    key           TEXT PRIMARY KEY NOT NULL,
    failures      INTEGER NOT NULL,
    window_start  TIMESTAMP NOT NULL,
    blocked_until TIMESTAMP,
    expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX throttle_counters_expires_at ON throttle_counters (expires_at);
