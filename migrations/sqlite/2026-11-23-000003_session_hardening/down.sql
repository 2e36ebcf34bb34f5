DROP TABLE throttle_counters;
DROP INDEX token_blacklist_seq;
ALTER TABLE token_blacklist DROP COLUMN seq;
ALTER TABLE device_sessions DROP COLUMN access_expires_at;
