//! `/api/account/*` and `/api/email/*`: the account's settings. Change the password,
//! the address and the mail settings, read the activity log, delete the account.

// `#[server]` generates public argument structs whose fields cannot carry doc comments.
#![allow(missing_docs)]

use leptos::prelude::*;

use super::session_client::SessionClient;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One line of the activity page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityView {
    /// The event id (a cursor for paging).
    pub id: String,
    /// The stored kind, e.g. `token_reuse_detected`.
    pub kind: String,
    /// Whether the user should look twice at it (theft, a new device): highlighted.
    pub warning: bool,
    /// "Signed in", "Suspected token theft", ...
    pub title: String,
    /// What happened, naming the devices involved.
    pub description: String,
    /// The IP address of the request that caused it.
    pub ip: String,
    /// When (Unix seconds).
    pub at: i64,
}

/// A page of activity, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPage {
    /// "Now" on the server (Unix seconds), for relative times.
    pub now: i64,
    /// The events.
    pub events: Vec<ActivityView>,
    /// The cursor for the next, older page, if there is one.
    pub older: Option<String>,
}

/// The caller's security events, 50 at a time, older than `before` if given.
#[server(prefix = "/api/account", endpoint = "activity", client = SessionClient)]
pub async fn activity(before: Option<String>) -> Result<ActivityPage, AppError> {
    use crate::auth::client_info::ClientInfo;
    use crate::auth::events::describe;
    use crate::web::context::{require_device_session, server_context};
    let session = require_device_session()?;
    let ctx = server_context()?;
    let language = crate::i18n::ui::use_language();
    let activity = ctx.auth.accounts.activity(&session, before).await?;
    let events = activity
        .entries
        .into_iter()
        .map(|event| {
            let actor = ClientInfo::new("", &event.user_agent).device_label();
            let (title, mut description) = describe(language, event.kind, &event.detail, &actor);
            if let Some((method, provider)) = event.sign_in_method {
                let provider = provider.map(|id| ctx.providers.name_of(&id));
                description.push(' ');
                description.push_str(&language.text_with(
                    "event-signed-in-with",
                    &[(
                        "method",
                        method.describe(language, provider.as_deref()).into(),
                    )],
                ));
            }
            ActivityView {
                id: event.id,
                kind: event.kind.as_str().to_owned(),
                warning: event.kind.is_warning(),
                title,
                description,
                ip: event.ip,
                at: event.at.and_utc().timestamp(),
            }
        })
        .collect();
    Ok(ActivityPage {
        now: crate::auth::now_unix(),
        events,
        older: activity.older,
    })
}

/// The outcome of a password change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChanged {
    /// How many other devices were signed out.
    pub signed_out: usize,
}

/// Changes the password (in sudo mode, or with `sudo_password`/`sudo_code`) and signs
/// out all other devices.
#[server(prefix = "/api/account", endpoint = "password", client = SessionClient)]
pub async fn change_password(
    new_password: Secret,
    sudo_password: Option<Secret>,
    sudo_code: Option<String>,
) -> Result<PasswordChanged, AppError> {
    use crate::web::context::{SudoCaller, sudo_caller, wants_html};
    let SudoCaller {
        ctx,
        parts,
        session,
        client,
    } = sudo_caller(sudo_password, sudo_code).await?;
    let signed_out = ctx
        .auth
        .accounts
        .change_password(&session, new_password, client)
        .await?;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::password_changed_url(signed_out));
    }
    Ok(PasswordChanged { signed_out })
}

/// Deletes the account (in sudo mode, or with `sudo_password`/`sudo_code`) and signs
/// this device out.
#[server(prefix = "/api/account", endpoint = "delete", client = SessionClient)]
pub async fn delete_account(
    sudo_password: Option<Secret>,
    sudo_code: Option<String>,
) -> Result<(), AppError> {
    use crate::web::context::{SudoCaller, clear_session_cookies, sudo_caller, wants_html};
    let SudoCaller {
        ctx,
        parts,
        session,
        client,
    } = sudo_caller(sudo_password, sudo_code).await?;
    ctx.auth.accounts.delete_account(&session, client).await?;
    clear_session_cookies(&ctx);
    crate::web::web_session::cycle_web_session_id().await;
    crate::web::web_session::set_notice(crate::i18n::ui::t("notice-account-deleted")).await;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::LOGIN.path());
    }
    Ok(())
}

/// What `/account` shows about the address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSettingsView {
    /// The account's address.
    pub email: String,
    /// Whether it is verified.
    pub verified: bool,
    /// Whether a sign-in from a new device is mailed.
    pub notify_new_device: bool,
}

/// The signed-in user's address, whether it is verified, and the mail settings.
#[server(prefix = "/api/email", endpoint = "settings", client = SessionClient)]
pub async fn email_settings() -> Result<EmailSettingsView, AppError> {
    use crate::web::context::{require_device_session, server_context};
    let session = require_device_session()?;
    let settings = server_context()?
        .auth
        .accounts
        .account_settings(&session)
        .await?;
    Ok(EmailSettingsView {
        email: settings.email,
        verified: settings.verified,
        notify_new_device: settings.notify_new_device,
    })
}

/// Sends a new verification link to the signed-in user's address.
#[server(prefix = "/api/email", endpoint = "resend", client = SessionClient)]
pub async fn resend_verification() -> Result<(), AppError> {
    use crate::web::context::{
        client_info, request_parts, require_device_session, server_context, wants_html,
    };
    let session = require_device_session()?;
    let ctx = server_context()?;
    let parts = request_parts()?;
    ctx.auth
        .recovery
        .resend_verification(&session, client_info(&ctx, &parts))
        .await?;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::account_notice_url(
            crate::paths::AccountNotice::VerificationSent,
        ));
    }
    Ok(())
}

/// Starts changing the address (in sudo mode, or with `sudo_password`/`sudo_code`): a
/// link goes to the new address, and the change happens when it is opened.
#[server(prefix = "/api/email", endpoint = "change", client = SessionClient)]
pub async fn change_email(
    new_email: String,
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
        .accounts
        .request_email_change(&session, &new_email, client)
        .await?;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::account_notice_url(
            crate::paths::AccountNotice::ChangeSent,
        ));
    }
    Ok(())
}

/// Turns the mail about sign-ins from new devices on, or off (sudo mode: a thief would
/// silence it before signing in elsewhere).
#[server(prefix = "/api/email", endpoint = "notifications", client = SessionClient)]
pub async fn set_new_device_notice(
    on: bool,
    sudo_password: Option<Secret>,
    sudo_code: Option<String>,
) -> Result<bool, AppError> {
    use crate::web::context::{
        request_parts, require_device_session, server_context, sudo_caller, wants_html,
    };
    let session = if on {
        require_device_session()?
    } else {
        sudo_caller(sudo_password, sudo_code).await?.session
    };
    let ctx = server_context()?;
    ctx.auth
        .accounts
        .set_new_device_notice(&session, on)
        .await?;
    if wants_html(&request_parts()?) {
        leptos_axum::redirect(&crate::paths::ACCOUNT.path());
    }
    Ok(on)
}
