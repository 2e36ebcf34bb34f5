//! `/api/security/*`: sudo mode, the authenticator app and recovery codes; and
//! `/api/auth/code`, the second step of signing in.

// `#[server]` generates public argument structs whose fields cannot carry doc comments.
#![allow(missing_docs)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::auth::SignedInView;
use super::session_client::SessionClient;
use crate::error::AppError;
use crate::secret::Secret;

/// What the account page needs to know about the second factor and sudo mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityView {
    /// An authenticator app is on.
    pub second_factor: bool,
    /// Unused recovery codes.
    pub codes_left: i64,
    /// This device may take sensitive actions without confirming it is the user.
    pub sudo: bool,
    /// The account has a password to confirm with (one made by a provider has none).
    pub has_password: bool,
    /// The connected providers it can confirm with instead, by signing in there again.
    pub providers: Vec<super::oidc::ProviderButton>,
}

/// An authenticator app being added: what the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetup {
    /// The secret in base32, in groups of four, for typing into the app.
    pub secret: String,
    /// The QR code, as a `data:` URI for an `<img>`.
    pub qr: String,
}

/// The caller's second factor and sudo state.
#[server(prefix = "/api/security", endpoint = "status", client = SessionClient)]
pub async fn security_status() -> Result<SecurityView, AppError> {
    use crate::web::context::{require_device_session, server_context};
    let session = require_device_session()?;
    let ctx = server_context()?;
    let status = ctx
        .auth
        .second_factor
        .second_factor_status(&session)
        .await?;
    let methods = ctx
        .auth
        .identities
        .sign_in_methods(&session.user_id)
        .await?;
    let providers = methods
        .identities
        .iter()
        .map(|identity| {
            let name = ctx.providers.name_of(&identity.provider_id);
            super::oidc::ProviderButton::new(identity.provider_id.clone(), name)
        })
        .collect();
    Ok(SecurityView {
        second_factor: status.enabled,
        codes_left: status.codes_left,
        sudo: status.sudo,
        has_password: methods.password,
        providers,
    })
}

/// Starts adding an authenticator app (sudo mode): a new secret, shown as a QR code
/// and as text, which takes effect once a code from it is confirmed.
#[server(prefix = "/api/security", endpoint = "totp_begin", client = SessionClient)]
pub async fn totp_begin(
    sudo_password: Option<Secret>,
    sudo_code: Option<String>,
) -> Result<TotpSetup, AppError> {
    use crate::auth::second_factor::qr_data_uri;
    use crate::web::context::{SudoCaller, sudo_caller};
    let SudoCaller { ctx, session, .. } = sudo_caller(sudo_password, sudo_code).await?;
    let email = ctx
        .auth
        .core
        .account(&session.user_id)
        .await?
        .map(|a| a.email)
        .unwrap_or_default();
    let enrolment = ctx.auth.second_factor.begin_totp(&session, &email).await?;
    Ok(TotpSetup {
        secret: enrolment.secret,
        qr: qr_data_uri(&enrolment.otpauth_url),
    })
}

/// Confirms the authenticator app with one of its codes; returns the recovery codes,
/// shown this once.
#[server(prefix = "/api/security", endpoint = "totp_confirm", client = SessionClient)]
pub async fn totp_confirm(code: String) -> Result<Vec<String>, AppError> {
    use crate::auth::guard::Guessed;
    use crate::auth::throttle::AttemptKind;
    use crate::web::context::{
        client_info, request_parts, require_device_session, server_context, throttled,
    };
    let session = require_device_session()?;
    let ctx = server_context()?;
    let client = client_info(&ctx, &request_parts()?);
    let confirm = ctx
        .auth
        .second_factor
        .confirm_totp(&session, &code, client.clone());
    let guessed = Guessed::User(&session.user_id);
    throttled(&ctx, AttemptKind::Password, guessed, &client, confirm).await
}

/// Turns two-step sign-in off (sudo mode).
#[server(prefix = "/api/security", endpoint = "totp_disable", client = SessionClient)]
pub async fn totp_disable(
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
        .second_factor
        .disable_totp(&session, client)
        .await?;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::ACCOUNT.path());
    }
    Ok(())
}

/// A new set of recovery codes (sudo mode); the old set stops working.
#[server(prefix = "/api/security", endpoint = "recovery_codes", client = SessionClient)]
pub async fn recovery_codes_renew(
    sudo_password: Option<Secret>,
    sudo_code: Option<String>,
) -> Result<Vec<String>, AppError> {
    use crate::web::context::{SudoCaller, sudo_caller};
    let SudoCaller {
        ctx,
        session,
        client,
        ..
    } = sudo_caller(sudo_password, sudo_code).await?;
    Ok(ctx
        .auth
        .second_factor
        .regenerate_recovery_codes(&session, client)
        .await?)
}

/// The second step of signing in to an account with two-step sign-in: a code from the
/// authenticator app, or a recovery code. Only now is the device signed in.
#[server(prefix = "/api/auth", endpoint = "code", client = SessionClient)]
pub async fn login_code(
    code: String,
    next: Option<String>,
    tokens: Option<String>,
    app: Option<String>,
) -> Result<SignedInView, AppError> {
    use crate::auth::error::AuthError;
    use crate::auth::guard::Guessed;
    use crate::auth::throttle::AttemptKind;
    use crate::web::context::{
        client_info, device_cookie, held_session, request_parts, server_context, throttled,
    };
    use crate::web::web_session;
    let delivery = super::auth::Delivery::from_fields(tokens.as_deref(), app.as_deref())?;
    let ctx = server_context()?;
    let parts = request_parts()?;
    let Some(pending) = web_session::pending_sign_in().await else {
        return Err(AuthError::NoPendingSignIn.into());
    };
    // Each try is spent before it is checked, in the throttle's atomic counters (not in
    // the web session, which parallel requests would each read unspent).
    if !ctx.auth.guard.spend_code_try(&pending.id).await? {
        web_session::set_pending_sign_in(None).await;
        return Err(AuthError::NoPendingSignIn.into());
    }
    let mut client = client_info(&ctx, &parts);
    client.held_session = held_session(&ctx, &parts.headers);
    client.app = delivery.app();
    client.tokens_in_body = delivery != super::auth::Delivery::Cookies;
    let complete = ctx
        .auth
        .second_factor
        .complete_second_factor(&pending, &code, client.clone());
    let guessed = Guessed::Email(&pending.email);
    let signed_in = throttled(&ctx, AttemptKind::Code, guessed, &client, complete).await?;
    // A password step was charged (and is given back) only if the sign-in began with
    // the password, not with a provider.
    if pending.provider.is_none() {
        ctx.auth
            .guard
            .refund_password_step(&pending.email, &client, device_cookie(&ctx).as_deref())
            .await;
    }
    web_session::set_pending_sign_in(None).await;
    web_session::cycle_web_session_id().await;
    Ok(super::auth::finish_sign_in(
        &ctx,
        &parts,
        &signed_in,
        next.as_deref(),
        &delivery,
    ))
}
