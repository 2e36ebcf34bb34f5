-- Every instance polls for revocations made by the others since its last look
-- (revocation sync, DESIGN §3): that query reads the newest rows by `created_at`.
CREATE INDEX token_blacklist_created_at ON token_blacklist (created_at);
