-- Sign-in with OpenID Connect providers (issue 33).

-- An identity at a provider, linked to an account. Keyed by what the provider vouches
-- for, (issuer, subject), never by e-mail address: an address can change hands at a
-- provider, a subject cannot. `provider_id` and `provider_name` are the configuration's
-- id and name at link time (the pages show the name configured now; a mail written
-- without the configuration, the one stored); `email` is the address the provider gave
-- at the last sign-in, shown beside it. Lives until its owner unlinks it or the account goes, like a
-- passkey: no `expires_at`.
CREATE TABLE oidc_identities (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id  TEXT NOT NULL,
    provider_name TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    email        TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
CREATE UNIQUE INDEX oidc_identities_issuer_subject ON oidc_identities (issuer, subject);
CREATE INDEX oidc_identities_user_id ON oidc_identities (user_id);

-- A redirect to a provider waiting for its answer: the PKCE verifier and the nonce the
-- answer is checked against. `id` is the SHA-256 of the `state` sent to the provider;
-- it is also kept in the web session of the browser that left, so no other browser can
-- bring the answer back. Deleted when used (single use, even for parallel answers) and
-- by the cleanup job once it expires. `user_id` and `session_id` are set when a
-- signed-in user links a provider or proves it is them (sudo mode).
CREATE TABLE oidc_flows (
    id            TEXT PRIMARY KEY NOT NULL,
    provider_id   TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    user_id       TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id    TEXT,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX oidc_flows_expires_at ON oidc_flows (expires_at);

-- Which provider a device session signed in with ("Signed in with Example ID").
ALTER TABLE device_sessions ADD COLUMN sign_in_provider TEXT;
