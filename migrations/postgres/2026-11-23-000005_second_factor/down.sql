DROP TABLE recovery_codes;
DROP TABLE totp_factors;
ALTER TABLE device_sessions DROP COLUMN proven_at;
ALTER TABLE device_sessions DROP COLUMN sign_in_method;
