//! `/api/recovery/*` and the links of `/api/email/*`: forgotten passwords, the review a
//! reset allows, and the links from mails that verify or change the address. (The
//! address and mail settings themselves are in [`super::account`].)

// `#[server]` generates public argument structs whose fields cannot carry doc comments.
#![allow(missing_docs)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::session_client::SessionClient;
use crate::error::AppError;
use crate::secret::Secret;

/// Which kind of mailed link a page is for (the browser's name for the server's
/// `LinkPurpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmailLink {
    /// `/reset`
    PasswordReset,
    /// `/verify-email`
    EmailVerification,
    /// `/confirm-email`
    EmailChange,
}

#[cfg(feature = "ssr")]
impl From<EmailLink> for crate::auth::email_link::LinkPurpose {
    fn from(link: EmailLink) -> Self {
        match link {
            EmailLink::PasswordReset => Self::PasswordReset,
            EmailLink::EmailVerification => Self::EmailVerification,
            EmailLink::EmailChange => Self::EmailChange,
        }
    }
}

/// Asks for a password-reset link. The answer is the same whether or not the address
/// has an account.
#[server(prefix = "/api/recovery", endpoint = "forgot", client = SessionClient)]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    use crate::web::context::{client_info, request_parts, server_context, wants_html};
    let ctx = server_context()?;
    let parts = request_parts()?;
    let client = client_info(&ctx, &parts);
    // Checked before it is counted: only real addresses become throttle keys.
    let email = crate::auth::email::normalize(&email)?;
    ctx.auth.guard.count_mail_request(&email, &client).await?;
    ctx.auth
        .recovery
        .request_password_reset(&email, client)
        .await?;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::forgot_sent_url());
    }
    Ok(())
}

/// Whether the link this browser opened last for `link` still works; returns the
/// address it was sent to.
#[server(prefix = "/api/recovery", endpoint = "link", client = SessionClient)]
pub async fn check_email_link(link: EmailLink) -> Result<String, AppError> {
    let ctx = crate::web::context::server_context()?;
    let hash = stashed_link(link).await?;
    Ok(ctx.auth.recovery.check_link(link.into(), hash).await?)
}

/// Sets a new password with the reset link this browser opened. Every device is signed
/// out, this one included; this browser may then review the account's passkeys and
/// second factor (`/reset-review`), and the user signs in with the new password.
#[server(prefix = "/api/recovery", endpoint = "reset", client = SessionClient)]
pub async fn reset_password(new_password: Secret) -> Result<(), AppError> {
    use crate::web::context::{
        clear_session_cookies, client_info, remember_device, request_parts, server_context,
        wants_html,
    };
    let ctx = server_context()?;
    let parts = request_parts()?;
    let hash = stashed_link(EmailLink::PasswordReset).await?;
    let (email, grant) = ctx
        .auth
        .recovery
        .reset_password(hash, new_password, client_info(&ctx, &parts))
        .await?;
    crate::web::email_link::forget(EmailLink::PasswordReset.into()).await;
    clear_session_cookies(&ctx);
    // The link proved this browser's owner reads the account's mail: it is exempt from
    // the account-wide lock a stranger may have set off, as a browser that signed in is;
    // and code guesses made with the old password no longer hold the code step shut.
    remember_device(&ctx, &email);
    ctx.auth.guard.after_reset(&email).await;
    crate::web::web_session::cycle_web_session_id().await;
    crate::web::web_session::set_reset_grant(&grant).await;
    crate::web::web_session::set_notice(crate::i18n::ui::t("notice-password-reset")).await;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::RESET_REVIEW.path());
    }
    Ok(())
}

/// What `/reset-review` shows: the account's ways in besides the new password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetReviewView {
    /// The account's address.
    pub email: String,
    /// "Now" when this was read (Unix seconds), for relative times.
    pub now: i64,
    /// When the review closes (Unix seconds).
    pub open_until: i64,
    /// The account's passkeys, oldest first.
    pub passkeys: Vec<ReviewedPasskey>,
    /// The accounts at OpenID providers connected to it, oldest first.
    pub providers: Vec<ReviewedProvider>,
    /// When two-step sign-in was turned on (Unix seconds), if it is on.
    pub second_factor_since: Option<i64>,
    /// Whether the review may turn two-step sign-in off (only a recent one).
    pub second_factor_removable: bool,
    /// How recent "recent" is, in days.
    pub recent_days: i64,
}

/// A passkey in the review after a reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewedPasskey {
    /// The passkey.
    #[serde(flatten)]
    pub passkey: super::passkeys::PasskeyView,
    /// Whether the review may remove it (only a recent one).
    pub removable: bool,
}

/// A connected account at an OpenID provider in the review after a reset: one
/// connected before the days the reset reaches back (the reset disconnected the newer
/// ones), so it is listed to be removed after signing in, not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewedProvider {
    /// What disconnecting takes.
    pub id: String,
    /// The provider's name.
    pub name: String,
    /// The address it gave.
    pub email: String,
    /// When it was connected (Unix seconds).
    pub linked_at: i64,
}

/// The review this browser may make after completing a reset (403 when it made none,
/// or the review has closed).
#[server(prefix = "/api/recovery", endpoint = "review", client = SessionClient)]
pub async fn reset_review() -> Result<ResetReviewView, AppError> {
    use crate::auth::settings::RECENT_ADDITION;
    let (ctx, grant) = review_caller().await?;
    let review = ctx.auth.reset_review.reset_review(&grant).await?;
    Ok(ResetReviewView {
        email: review.email,
        now: crate::auth::now_unix(),
        open_until: review.open_until.and_utc().timestamp(),
        passkeys: review
            .passkeys
            .into_iter()
            .map(|(passkey, removable)| ReviewedPasskey {
                passkey: super::passkeys::view(passkey),
                removable,
            })
            .collect(),
        providers: review
            .identities
            .into_iter()
            .map(|identity| ReviewedProvider {
                name: ctx.providers.name_of(&identity.provider_id),
                id: identity.id,
                email: identity.email,
                linked_at: identity.linked_at.and_utc().timestamp(),
            })
            .collect(),
        second_factor_since: review
            .second_factor
            .map(|f| f.added_at.and_utc().timestamp()),
        second_factor_removable: review.second_factor.is_some_and(|f| f.removable),
        recent_days: RECENT_ADDITION.num_days(),
    })
}

/// Removes a passkey in the review after a reset.
#[server(prefix = "/api/recovery", endpoint = "review_remove_passkey", client = SessionClient)]
pub async fn review_remove_passkey(id: String) -> Result<(), AppError> {
    use crate::web::context::{client_info, request_parts};
    let (ctx, grant) = review_caller().await?;
    let parts = request_parts()?;
    ctx.auth
        .reset_review
        .review_remove_passkey(&grant, &id, client_info(&ctx, &parts))
        .await?;
    back_to_review(&parts);
    Ok(())
}

/// Turns two-step sign-in off in the review after a reset (only a recent one).
#[server(prefix = "/api/recovery", endpoint = "review_second_factor_off", client = SessionClient)]
pub async fn review_turn_off_second_factor() -> Result<(), AppError> {
    use crate::web::context::{client_info, request_parts};
    let (ctx, grant) = review_caller().await?;
    let parts = request_parts()?;
    ctx.auth
        .reset_review
        .review_turn_off_second_factor(&grant, client_info(&ctx, &parts))
        .await?;
    back_to_review(&parts);
    Ok(())
}

/// The server context and this browser's review grant, or the "review has ended" answer.
#[cfg(feature = "ssr")]
async fn review_caller() -> Result<
    (
        crate::web::context::ServerContext,
        crate::auth::reset_review::ResetGrant,
    ),
    AppError,
> {
    use crate::auth::error::AuthError;
    let ctx = crate::web::context::server_context()?;
    let grant = crate::web::web_session::reset_grant()
        .await
        .ok_or(AuthError::ReviewClosed)?;
    Ok((ctx, grant))
}

/// After a plain form post, the review page again (it shows what is left).
#[cfg(feature = "ssr")]
fn back_to_review(parts: &http::request::Parts) {
    if crate::web::context::wants_html(parts) {
        leptos_axum::redirect(&crate::paths::RESET_REVIEW.path());
    }
}

/// Confirms the address with the verification link this browser opened; returns it.
#[server(prefix = "/api/email", endpoint = "verify", client = SessionClient)]
pub async fn verify_email() -> Result<String, AppError> {
    use crate::web::context::{client_info, request_parts, server_context, wants_html};
    let ctx = server_context()?;
    let parts = request_parts()?;
    let hash = stashed_link(EmailLink::EmailVerification).await?;
    // A dead link is refused by a read: only a live one reaches the write lock.
    ctx.auth
        .recovery
        .check_link(EmailLink::EmailVerification.into(), hash.clone())
        .await?;
    let email = ctx
        .auth
        .recovery
        .verify_email(hash, client_info(&ctx, &parts))
        .await?;
    crate::web::email_link::forget(EmailLink::EmailVerification.into()).await;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::link_done_url(crate::paths::VERIFY_EMAIL));
    }
    Ok(email)
}

/// Switches the account to the new address with the link this browser opened; returns it.
#[server(prefix = "/api/email", endpoint = "confirm", client = SessionClient)]
pub async fn confirm_email_change() -> Result<String, AppError> {
    use crate::web::context::{client_info, request_parts, server_context, wants_html};
    let ctx = server_context()?;
    let parts = request_parts()?;
    let hash = stashed_link(EmailLink::EmailChange).await?;
    // A dead link is refused by a read: only a live one reaches the write lock.
    ctx.auth
        .recovery
        .check_link(EmailLink::EmailChange.into(), hash.clone())
        .await?;
    let email = ctx
        .auth
        .accounts
        .confirm_email_change(hash, client_info(&ctx, &parts))
        .await?;
    crate::web::email_link::forget(EmailLink::EmailChange.into()).await;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::link_done_url(crate::paths::CONFIRM_EMAIL));
    }
    Ok(email)
}

/// The stashed token hash for `link`, or the "not valid" answer when this browser has
/// opened no such link.
#[cfg(feature = "ssr")]
async fn stashed_link(link: EmailLink) -> Result<String, AppError> {
    use crate::auth::email_link::LinkProblem;
    use crate::auth::error::AuthError;
    crate::web::email_link::stashed(link.into())
        .await
        .ok_or_else(|| AuthError::Link(LinkProblem::Unknown).into())
}
