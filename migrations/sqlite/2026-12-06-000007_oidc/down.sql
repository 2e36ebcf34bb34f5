ALTER TABLE device_sessions DROP COLUMN sign_in_provider;
DROP TABLE oidc_flows;
DROP TABLE oidc_identities;
