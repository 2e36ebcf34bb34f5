//! `/api/passkeys/*`: a signed-in user's passkeys (list, add, remove), and signing in
//! with one. Each ceremony is two calls: `…_begin` returns the options for
//! `navigator.credentials` and remembers the challenge in this browser's web session
//! (a few at once, one per tab); `…_finish` sends the authenticator's answer back,
//! naming the ceremony it answers.

// `#[server]` generates public argument structs whose fields cannot carry doc comments.
#![allow(missing_docs)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::auth::SignedInView;
use super::session_client::SessionClient;
use crate::error::AppError;
use crate::secret::Secret;

/// One passkey, as the account page lists it. Times are Unix seconds (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    /// Its credential id (what `remove` takes).
    pub id: String,
    /// What the user called it.
    pub name: String,
    /// When it was added.
    pub created_at: i64,
    /// When it last signed in, if ever.
    pub last_used_at: Option<i64>,
    /// Synced to the user's other devices (by their password manager or platform).
    pub synced: bool,
}

/// The caller's passkeys, and what the page needs to offer adding one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyList {
    /// "Now" when the list was read (Unix seconds), for relative times.
    pub now: i64,
    /// The origin passkeys work at; `None` when they are off on this server.
    pub origin: Option<String>,
    /// The most passkeys an account may have.
    pub max: i64,
    /// Oldest first.
    pub passkeys: Vec<PasskeyView>,
}

/// A ceremony begun: what the browser passes to `navigator.credentials`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyCeremony {
    /// Which of this browser's ceremonies it is: the finishing call names it, so two
    /// tabs with a ceremony each both finish.
    pub id: String,
    /// The options (webauthn-rs's `CreationChallengeResponse` or
    /// `RequestChallengeResponse`), as JSON.
    pub options: String,
    /// The name the passkey gets unless the user types another: the browser and system
    /// ("Chrome on Linux").
    pub suggested_name: String,
}

/// The view of one passkey (also the reset review's).
#[cfg(feature = "ssr")]
pub(crate) fn view(info: crate::auth::passkeys::PasskeyInfo) -> PasskeyView {
    PasskeyView {
        id: info.id,
        name: info.name,
        created_at: info.created_at.and_utc().timestamp(),
        last_used_at: info.last_used_at.map(|t| t.and_utc().timestamp()),
        synced: info.synced,
    }
}

/// The caller's passkeys.
#[server(prefix = "/api/passkeys", endpoint = "list", client = SessionClient)]
pub async fn passkeys_list() -> Result<PasskeyList, AppError> {
    use crate::auth::settings::MAX_PASSKEYS;
    use crate::web::context::{require_device_session, server_context};
    let session = require_device_session()?;
    let ctx = server_context()?;
    let passkeys = ctx.auth.passkeys.passkeys(&session.user_id).await?;
    Ok(PasskeyList {
        now: crate::auth::now_unix(),
        origin: ctx.auth.passkeys.passkey_origin(),
        max: MAX_PASSKEYS,
        passkeys: passkeys.into_iter().map(view).collect(),
    })
}

/// Starts adding a passkey (sudo mode).
#[server(prefix = "/api/passkeys", endpoint = "add_begin", client = SessionClient)]
pub async fn passkey_add_begin(
    sudo_password: Option<Secret>,
    sudo_code: Option<String>,
) -> Result<PasskeyCeremony, AppError> {
    use crate::auth::passkeys::Purpose;
    use crate::web::context::{SudoCaller, sudo_caller};
    use crate::web::web_session;
    let SudoCaller {
        ctx,
        session,
        client,
        ..
    } = sudo_caller(sudo_password, sudo_code).await?;
    let email = ctx
        .auth
        .core
        .account(&session.user_id)
        .await?
        .map(|a| a.email)
        .unwrap_or_default();
    let ceremony = ctx
        .auth
        .passkeys
        .begin_add_passkey(&session, &email)
        .await?;
    for dropped in web_session::add_ceremony(Purpose::Add, &ceremony.challenge_id).await {
        ctx.auth.passkeys.forget_passkey_ceremony(&dropped).await?;
    }
    Ok(PasskeyCeremony {
        id: ceremony.challenge_id,
        options: ceremony.options,
        suggested_name: client.device_label(),
    })
}

/// Finishes adding a passkey: `ceremony` is the begun ceremony's id, `credential` the
/// authenticator's answer (the JSON of a `RegisterPublicKeyCredential`), `name` what to
/// call it.
#[server(prefix = "/api/passkeys", endpoint = "add_finish", client = SessionClient)]
pub async fn passkey_add_finish(
    ceremony: String,
    credential: String,
    name: String,
) -> Result<PasskeyView, AppError> {
    use crate::auth::error::AuthError;
    use crate::auth::passkeys::Purpose;
    use crate::web::context::{client_info, request_parts, require_device_session, server_context};
    use crate::web::web_session;
    let session = require_device_session()?;
    let ctx = server_context()?;
    let client = client_info(&ctx, &request_parts()?);
    if !web_session::take_ceremony(Purpose::Add, &ceremony).await {
        return Err(AuthError::PasskeyExpired.into());
    }
    let info = ctx
        .auth
        .passkeys
        .finish_add_passkey(&session, &ceremony, &credential, &name, client)
        .await?;
    Ok(view(info))
}

/// Removes one of the caller's passkeys (sudo mode).
#[server(prefix = "/api/passkeys", endpoint = "remove", client = SessionClient)]
pub async fn passkey_remove(
    id: String,
    sudo_password: Option<Secret>,
    sudo_code: Option<String>,
) -> Result<(), AppError> {
    use crate::web::context::{SudoCaller, sudo_caller, wants_html};
    let SudoCaller {
        ctx,
        parts,
        session,
        client,
    } = sudo_caller(sudo_password, sudo_code).await?;
    ctx.auth
        .passkeys
        .remove_passkey(&session, &id, client)
        .await?;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::ACCOUNT.path());
    }
    Ok(())
}

/// Starts signing in with a passkey: no address needed.
#[server(prefix = "/api/passkeys", endpoint = "sign_in_begin", client = SessionClient)]
pub async fn passkey_sign_in_begin() -> Result<PasskeyCeremony, AppError> {
    use crate::auth::passkeys::Purpose;
    use crate::web::context::{client_info, request_parts, server_context};
    use crate::web::web_session;
    let ctx = server_context()?;
    let client = client_info(&ctx, &request_parts()?);
    ctx.auth.guard.anonymous_write(&client.ip).await?;
    let ceremony = ctx.auth.passkeys.begin_passkey_sign_in().await?;
    for dropped in web_session::add_ceremony(Purpose::SignIn, &ceremony.challenge_id).await {
        ctx.auth.passkeys.forget_passkey_ceremony(&dropped).await?;
    }
    Ok(PasskeyCeremony {
        id: ceremony.challenge_id,
        options: ceremony.options,
        suggested_name: client.device_label(),
    })
}

/// Finishes signing in with a passkey: `ceremony` is the begun ceremony's id,
/// `credential` the authenticator's answer (the JSON of a `PublicKeyCredential`). Signs
/// this device in, with no second step.
#[server(prefix = "/api/passkeys", endpoint = "sign_in_finish", client = SessionClient)]
pub async fn passkey_sign_in_finish(
    ceremony: String,
    credential: String,
    next: Option<String>,
) -> Result<SignedInView, AppError> {
    use crate::auth::error::AuthError;
    use crate::auth::guard::Guessed;
    use crate::auth::passkeys::Purpose;
    use crate::auth::throttle::AttemptKind;
    use crate::web::context::{
        client_info, held_session, request_parts, server_context, throttled,
    };
    use crate::web::web_session;
    let ctx = server_context()?;
    let parts = request_parts()?;
    if !web_session::take_ceremony(Purpose::SignIn, &ceremony).await {
        return Err(AuthError::PasskeyExpired.into());
    }
    let mut client = client_info(&ctx, &parts);
    client.held_session = held_session(&ctx, &parts.headers);
    // Failures count against this client address like wrong passwords do (the
    // "account" is the passkey's own id, which a sprayer would vary anyway).
    let credential_id = credential_id_of(&credential);
    let finish = ctx
        .auth
        .passkeys
        .finish_passkey_sign_in(&ceremony, &credential, client.clone());
    let guessed = Guessed::Passkey(&credential_id);
    let signed_in = throttled(&ctx, AttemptKind::Password, guessed, &client, finish).await?;
    web_session::cycle_web_session_id().await;
    Ok(super::auth::finish_sign_in(
        &ctx,
        &parts,
        &signed_in,
        next.as_deref(),
        &super::auth::Delivery::Cookies,
    ))
}

/// The `id` field of an authenticator's answer, bounded, for the throttle's key.
#[cfg(feature = "ssr")]
fn credential_id_of(credential: &str) -> String {
    serde_json::from_str::<serde_json::Value>(credential)
        .ok()
        .and_then(|v| v["id"].as_str().map(|id| id.chars().take(128).collect()))
        .unwrap_or_default()
}
