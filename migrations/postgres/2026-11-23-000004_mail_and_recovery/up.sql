-- The PostgreSQL twin of migrations/sqlite/2026-11-23-000004_mail_and_recovery.

-- When the address was last proven to be the user's (a verification, reset or
-- address-change link opened). NULL: not verified yet.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP;
-- Whether the user wants a mail when their account is signed in from a new device.
ALTER TABLE users ADD COLUMN notify_new_device BOOLEAN NOT NULL DEFAULT TRUE;

-- The single-use tokens of links sent by mail, stored only as the SHA-256 of the token.
-- `email` is the address the link went to (for `email_change`, the new address). A
-- used link keeps its row (with `used_at`) until it expires, so the page can say
-- "already used" rather than "invalid".
CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verification', 'email_change')),
    email      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX email_tokens_user_purpose ON email_tokens (user_id, purpose);
CREATE INDEX email_tokens_expires_at ON email_tokens (expires_at);

-- Every mail, written in the same transaction as the change that causes it and
-- delivered by a background sender with retries (transactional outbox). `data` holds
-- the facts the mail names (device, IP, new address) as JSON; links are made at
-- delivery, so no token is ever stored in the clear. `subject`/`text_body`/`html_body`
-- are filled only for the development mailbox (`/dev/mailbox`).
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    user_id         TEXT REFERENCES users (id) ON DELETE CASCADE,
    data            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dropped', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT,
    subject         TEXT,
    text_body       TEXT,
    html_body       TEXT,
    created_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_recipient ON mail_outbox (recipient, kind, created_at);
CREATE INDEX mail_outbox_expires_at ON mail_outbox (expires_at);
