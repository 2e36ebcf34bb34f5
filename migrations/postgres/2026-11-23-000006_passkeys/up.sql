-- The PostgreSQL twin of migrations/sqlite/2026-11-23-000006_passkeys.
-- Passkeys (issue 16).

-- One row per passkey. `credential_id` is the authenticator's id for it (base64url),
-- unique across accounts. `passkey` is the credential as webauthn-rs keeps it (JSON:
-- public key, signature counter, backup flags); `sign_count`, `backup_eligible` and
-- `backed_up` repeat what it says, for people and queries. A passkey lives until its
-- user removes it or the account goes, like a confirmed authenticator app: no
-- `expires_at`.
CREATE TABLE passkeys (
    credential_id   TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    passkey         TEXT NOT NULL,
    sign_count      BIGINT NOT NULL DEFAULT 0,
    backup_eligible BOOLEAN NOT NULL DEFAULT FALSE,
    backed_up       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMP NOT NULL,
    last_used_at    TIMESTAMP
);
CREATE INDEX passkeys_user_id ON passkeys (user_id);

-- A ceremony waiting for the browser's answer: the challenge and what it must be
-- checked against (webauthn-rs state, JSON). Its id is kept in the web session of the
-- browser that asked, so no other browser can finish it; it is deleted when used
-- (single use) and the cleanup job deletes it once it expires. `user_id` is set when a
-- signed-in user adds a passkey, and NULL for a sign-in.
CREATE TABLE passkey_challenges (
    id         TEXT PRIMARY KEY NOT NULL,
    purpose    TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX passkey_challenges_expires_at ON passkey_challenges (expires_at);
