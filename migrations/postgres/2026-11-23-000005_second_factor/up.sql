-- The PostgreSQL twin of migrations/sqlite/2026-11-23-000005_second_factor.
-- How the session signed in (`password`, `password_totp`, `recovery_code`, …), and the
-- last time its user proved who they are on it (sign-in, or a password or code given to
-- confirm a sensitive action): sudo mode lasts SUDO_WINDOW from there.
ALTER TABLE device_sessions ADD COLUMN sign_in_method TEXT NOT NULL DEFAULT 'password';
ALTER TABLE device_sessions ADD COLUMN proven_at TIMESTAMP;

-- One authenticator app per account. The secret is sealed (AES-256-GCM) with a key
-- derived from the signing key named by `key_id`. `confirmed_at` is NULL while the user
-- enrols; such a row expires (`expires_at`) and the cleanup job deletes it; a confirmed
-- one has no `expires_at` and lives until the factor is turned off. `last_used_step`
-- refuses a code whose 30-second step was already used (replay).
CREATE TABLE totp_factors (
    user_id        TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed  TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    confirmed_at   TIMESTAMP,
    last_used_step BIGINT NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP
);
CREATE INDEX totp_factors_expires_at ON totp_factors (expires_at);

-- Single-use recovery codes, stored as an HMAC under a server key (a leaked table alone
-- cannot be brute-forced). A used code's row is deleted, so an account has at most ten.
CREATE TABLE recovery_codes (
    code_hash  TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX recovery_codes_user_id ON recovery_codes (user_id);
