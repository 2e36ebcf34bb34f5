//! The Diesel view of the tables the migrations create. Generated: after adding a
//! migration, run `make schema` to rewrite this file from a freshly migrated database.
//! `store::schema_check` fails when it is out of date with either dialect.
#![allow(missing_docs)]

diesel::table! {
    dbsc_challenges (id) {
        id -> Text,
        session_id -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    dbsc_keys (session_id) {
        session_id -> Text,
        algorithm -> Nullable<Text>,
        jwk -> Nullable<Text>,
        thumbprint -> Nullable<Text>,
        created_at -> Timestamp,
        bound_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    device_sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        absolute_expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoke_reason -> Nullable<Text>,
        user_agent -> Text,
        ip -> Text,
        device_label -> Text,
        access_expires_at -> Nullable<Timestamp>,
        sign_in_method -> Text,
        proven_at -> Nullable<Timestamp>,
        sign_in_provider -> Nullable<Text>,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        kind -> Text,
        recipient -> Text,
        user_id -> Nullable<Text>,
        data -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        subject -> Nullable<Text>,
        text_body -> Nullable<Text>,
        html_body -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    oidc_flows (id) {
        id -> Text,
        provider_id -> Text,
        purpose -> Text,
        user_id -> Nullable<Text>,
        session_id -> Nullable<Text>,
        nonce -> Text,
        pkce_verifier -> Text,
        next -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    oidc_identities (id) {
        id -> Text,
        user_id -> Text,
        provider_id -> Text,
        provider_name -> Text,
        issuer -> Text,
        subject -> Text,
        email -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    passkey_challenges (id) {
        id -> Text,
        purpose -> Text,
        user_id -> Nullable<Text>,
        state -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    passkeys (credential_id) {
        credential_id -> Text,
        user_id -> Text,
        name -> Text,
        passkey -> Text,
        sign_count -> BigInt,
        backup_eligible -> Bool,
        backed_up -> Bool,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    recovery_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        replaced_by -> Nullable<Text>,
    }
}

diesel::table! {
    security_events (id) {
        id -> Text,
        user_id -> Text,
        session_id -> Nullable<Text>,
        kind -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    throttle_counters (key) {
        key -> Text,
        failures -> Integer,
        window_start -> Timestamp,
        blocked_until -> Nullable<Timestamp>,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    token_blacklist (token_id) {
        token_id -> Text,
        kind -> Text,
        session_id -> Text,
        reason -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        seq -> BigInt,
    }
}

diesel::table! {
    totp_factors (user_id) {
        user_id -> Text,
        secret_sealed -> Text,
        key_id -> Text,
        confirmed_at -> Nullable<Timestamp>,
        last_used_step -> BigInt,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        password_changed_at -> Timestamp,
        email_verified_at -> Nullable<Timestamp>,
        notify_new_device -> Bool,
    }
}

diesel::table! {
    web_sessions (id) {
        id -> Text,
        data -> Binary,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(dbsc_challenges -> device_sessions (session_id));
diesel::joinable!(dbsc_keys -> device_sessions (session_id));
diesel::joinable!(device_sessions -> users (user_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(mail_outbox -> users (user_id));
diesel::joinable!(oidc_flows -> users (user_id));
diesel::joinable!(oidc_identities -> users (user_id));
diesel::joinable!(passkey_challenges -> users (user_id));
diesel::joinable!(passkeys -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(refresh_tokens -> device_sessions (session_id));
diesel::joinable!(security_events -> users (user_id));
diesel::joinable!(totp_factors -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    dbsc_challenges,
    dbsc_keys,
    device_sessions,
    email_tokens,
    mail_outbox,
    oidc_flows,
    oidc_identities,
    passkey_challenges,
    passkeys,
    recovery_codes,
    refresh_tokens,
    security_events,
    throttle_counters,
    token_blacklist,
    totp_factors,
    users,
    web_sessions,
);
