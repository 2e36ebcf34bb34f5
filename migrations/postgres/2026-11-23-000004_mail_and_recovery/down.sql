DROP TABLE mail_outbox;
DROP TABLE email_tokens;
ALTER TABLE users DROP COLUMN notify_new_device;
ALTER TABLE users DROP COLUMN email_verified_at;
