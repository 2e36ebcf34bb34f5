-- The PostgreSQL twin of migrations/sqlite: the same tables, columns and indexes (BYTEA
-- for SQLite's BLOB). A test checks that both produce the same schema.rs.
-- Gatehouse's data model (DESIGN.md §4). Timestamps are UTC.
-- Every row that stands for a token, a revocation or a pre-auth web session has an
-- `expires_at`, and the cleanup job deletes rows past it, so no table grows without bound.

-- Accounts. `email` is stored trimmed and lower-cased, so UNIQUE is case-insensitive.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY NOT NULL,
    email               TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    password_changed_at TIMESTAMP NOT NULL
);

-- One row per signed-in device (browser). Revoked rows are kept until `expires_at`
-- so a revoked device can be told why it was signed out.
CREATE TABLE device_sessions (
    id                  TEXT PRIMARY KEY NOT NULL,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at          TIMESTAMP NOT NULL,
    last_seen_at        TIMESTAMP NOT NULL,
    expires_at          TIMESTAMP NOT NULL,
    absolute_expires_at TIMESTAMP NOT NULL,
    revoked_at          TIMESTAMP,
    revoke_reason       TEXT,
    user_agent          TEXT NOT NULL,
    ip                  TEXT NOT NULL,
    device_label        TEXT NOT NULL
);
CREATE INDEX device_sessions_user_id ON device_sessions (user_id);
CREATE INDEX device_sessions_expires_at ON device_sessions (expires_at);

-- Refresh tokens, stored only as the SHA-256 of the token. One chain per session:
-- `replaced_by` points at the hash that superseded this one.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    session_id  TEXT NOT NULL REFERENCES device_sessions (id) ON DELETE CASCADE,
    issued_at   TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    replaced_by TEXT
);
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- Access tokens revoked before their natural expiry, by `jti` (one token) or by `sid`
-- (every token of a device session). A row is useless once `expires_at` passes.
CREATE TABLE token_blacklist (
    token_id   TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('jti', 'sid')),
    session_id TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX token_blacklist_expires_at ON token_blacklist (expires_at);

-- What happened to an account, for the user's activity page. Kept for a retention period.
CREATE TABLE security_events (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT,
    kind       TEXT NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    detail     TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX security_events_user_created ON security_events (user_id, created_at);
CREATE INDEX security_events_expires_at ON security_events (expires_at);

-- The tower-sessions store: short-lived pre-authentication state (flash messages, the
-- page to return to after login). Its id is cycled at login and logout.
CREATE TABLE web_sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    data       BYTEA NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);
