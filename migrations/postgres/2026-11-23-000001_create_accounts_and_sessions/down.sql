DROP TABLE web_sessions;
DROP TABLE security_events;
DROP TABLE token_blacklist;
DROP TABLE refresh_tokens;
DROP TABLE device_sessions;
DROP TABLE users;
