-- Device-bound sessions (DBSC, issue 35; docs/DBSC.md).

-- The key a browser bound a device session to. The row is made when the browser
-- answers a registration challenge (it supports DBSC: under `DBSC=required` an unbound
-- session of such a browser is not renewed); `jwk` and `thumbprint` (RFC 7638, SHA-256)
-- are set once its proof checks out, and never change: a session is bound once.
-- Lives as long as its session (`expires_at` is the session's absolute expiry).
CREATE TABLE dbsc_keys (
    session_id TEXT PRIMARY KEY NOT NULL REFERENCES device_sessions (id) ON DELETE CASCADE,
    algorithm  TEXT,
    jwk        TEXT,
    thumbprint TEXT,
    created_at TIMESTAMP NOT NULL,
    bound_at   TIMESTAMP,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX dbsc_keys_expires_at ON dbsc_keys (expires_at);

-- A challenge sent to a browser, to be signed with the session's key: for registration
-- (sent when the session starts) or for a refresh (sent with a 403). `id` is the
-- SHA-256 of the challenge. Taken once (deleted when used, even by parallel answers),
-- on any instance; the cleanup job deletes it once it expires (5 minutes). A session
-- holds at most a few (`store::dbsc::MAX_LIVE_CHALLENGES`).
CREATE TABLE dbsc_challenges (
    id         TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES device_sessions (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX dbsc_challenges_expires_at ON dbsc_challenges (expires_at);
CREATE INDEX dbsc_challenges_session_id ON dbsc_challenges (session_id);
