//! Sign-in with OpenID providers, and the account's connected providers.
//!
//! Two plain endpoints carry the redirect dance (the server routes them into
//! [`server::start`] and [`server::callback`], which run like server functions):
//!
//! - `POST /auth/oidc/<id>/start` (a form's button; same-site only): leaves for the
//!   provider to sign in, to link it (sudo mode), or to prove it is them again;
//! - `GET /auth/oidc/<id>/callback`: the provider's answer. Every way it can fail ends
//!   on the login page (or the account page) with a plain message, and costs the client
//!   one of its writes without a session.
//!
//! The server functions below list the providers (for the buttons) and the account's
//! connected ones, and unlink one.

// `#[server]` generates public argument structs whose fields cannot carry doc comments.
#![allow(missing_docs)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::session_client::SessionClient;
use crate::error::AppError;
use crate::secret::Secret;

/// A provider people may sign in with: its button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderButton {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Where the button posts to.
    pub action: String,
}

/// One connected provider, as the settings page lists it. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedView {
    /// What unlinking takes.
    pub id: String,
    /// The provider's name.
    pub provider: String,
    /// The provider's id (for "sign in again with it").
    pub provider_id: String,
    /// The address the provider gave.
    pub email: String,
    /// When it was connected.
    pub linked_at: i64,
}

/// The account's connected providers, and the ones it may still connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedList {
    /// "Now" (Unix seconds), for relative times.
    pub now: i64,
    /// Connected, oldest first.
    pub connected: Vec<ConnectedView>,
    /// Configured and not connected yet.
    pub available: Vec<ProviderButton>,
    /// The account has a password (an account made by a provider has none).
    pub has_password: bool,
    /// Unlinking the only connected provider would leave no way in.
    pub last_is_only_way_in: bool,
}

impl ProviderButton {
    /// The button of the provider `id`, called `name`.
    pub fn new(id: String, name: String) -> Self {
        Self {
            action: crate::paths::oidc_start(&id),
            id,
            name,
        }
    }
}

/// The providers people may sign in with (none: no buttons).
#[server(prefix = "/api/oidc", endpoint = "providers", client = SessionClient)]
pub async fn providers() -> Result<Vec<ProviderButton>, AppError> {
    let ctx = crate::web::context::server_context()?;
    Ok(ctx
        .providers
        .list()
        .into_iter()
        .map(|p| ProviderButton::new(p.id, p.name))
        .collect())
}

/// The caller's connected providers.
#[server(prefix = "/api/oidc", endpoint = "connected", client = SessionClient)]
pub async fn connected_accounts() -> Result<ConnectedList, AppError> {
    use crate::web::context::{require_device_session, server_context};
    let session = require_device_session()?;
    let ctx = server_context()?;
    let methods = ctx
        .auth
        .identities
        .sign_in_methods(&session.user_id)
        .await?;
    let connected: Vec<ConnectedView> = methods
        .identities
        .iter()
        .map(|identity| ConnectedView {
            id: identity.id.clone(),
            provider: ctx.providers.name_of(&identity.provider_id),
            provider_id: identity.provider_id.clone(),
            email: identity.email.clone(),
            linked_at: identity.linked_at.and_utc().timestamp(),
        })
        .collect();
    let available = ctx
        .providers
        .list()
        .into_iter()
        .filter(|p| !connected.iter().any(|c| c.provider_id == p.id))
        .map(|p| ProviderButton::new(p.id, p.name))
        .collect();
    Ok(ConnectedList {
        now: crate::auth::now_unix(),
        connected,
        available,
        has_password: methods.password,
        last_is_only_way_in: methods.is_last_identity(),
    })
}

/// Disconnects a provider (sudo mode, or a proof in the form), unless it is the
/// account's last way in.
#[server(prefix = "/api/oidc", endpoint = "unlink", client = SessionClient)]
pub async fn unlink_provider(
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
    ctx.auth.identities.unlink(&session, &id, client).await?;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::ACCOUNT.path());
    }
    Ok(())
}

#[cfg(feature = "ssr")]
pub use server::{CallbackQuery, StartForm, callback, start};

#[cfg(feature = "ssr")]
mod server {
    //! The redirect dance's two endpoints.
    use serde::Deserialize;

    use crate::auth::error::AuthError;
    use crate::auth::guard::Guessed;
    use crate::auth::identities::{FlowPurpose, ProviderSignIn};
    use crate::auth::throttle::AttemptKind;
    use crate::error::AppError;
    use crate::i18n::ui::{t, t_with};
    use crate::paths::{self, LoginReason, safe_next};
    use crate::secret::Secret;
    use crate::web::context::{
        Caller, ServerContext, client_info, held_session, remember_device, request_caller,
        request_parts, require_sudo, server_context, set_session_cookies, throttled,
    };
    use crate::web::web_session;

    /// The form of `POST /auth/oidc/<id>/start`.
    #[derive(Debug, Default, Deserialize)]
    pub struct StartForm {
        /// `sign_in` (the default), `link` or `reauthenticate`.
        #[serde(default)]
        pub purpose: Option<String>,
        /// Where to continue afterwards (same-site).
        #[serde(default)]
        pub next: Option<String>,
        /// A proof of identity for linking outside sudo mode.
        #[serde(default)]
        pub sudo_password: Option<Secret>,
        /// The same, as a code from the authenticator app.
        #[serde(default)]
        pub sudo_code: Option<String>,
    }

    /// The query of `GET /auth/oidc/<id>/callback` (RFC 6749 §4.1.2, RFC 9207).
    #[derive(Debug, Default, Deserialize)]
    pub struct CallbackQuery {
        /// The authorization code.
        pub code: Option<String>,
        /// The `state` the redirect carried.
        pub state: Option<String>,
        /// The issuer that answered (RFC 9207).
        pub iss: Option<String>,
        /// The provider's error code, if it refused.
        pub error: Option<String>,
    }

    /// Leaves for the provider `provider_id`: returns where to send the browser (the
    /// provider, or back with a notice when it cannot go).
    pub async fn start(provider_id: String, form: StartForm) -> Result<String, AppError> {
        let ctx = server_context()?;
        let parts = request_parts()?;
        let client = client_info(&ctx, &parts);
        let purpose: FlowPurpose = form
            .purpose
            .as_deref()
            .unwrap_or("sign_in")
            .parse()
            .map_err(|_| AppError::BadRequest(t("error-provider-failed").to_owned()))?;
        let back = if purpose == FlowPurpose::SignIn {
            paths::LOGIN.path()
        } else {
            paths::ACCOUNT.path()
        };
        // A row (and, signed out, a web session) for anyone who asks, and a request to
        // the provider's discovery when it has not answered yet: paid from the client's
        // writes without a session, signed in or not. Refused, it writes nothing more.
        if let Err(err) = ctx.auth.guard.anonymous_write(&client.ip).await {
            return Ok(tell(err.into(), back, false).await);
        }
        let begun = async {
            let session = match purpose {
                FlowPurpose::SignIn => None,
                FlowPurpose::Link => {
                    let session = crate::web::context::require_device_session()?;
                    require_sudo(&ctx, &session, &client, form.sudo_password, form.sudo_code)
                        .await?;
                    Some(session)
                }
                FlowPurpose::Reauthenticate => Some(crate::web::context::require_device_session()?),
            };
            let next = match purpose {
                FlowPurpose::SignIn => safe_next(form.next.as_deref()),
                _ => paths::ACCOUNT.path(),
            };
            let redirect = ctx.providers.redirect(&provider_id, purpose, next).await?;
            let flow_id = ctx
                .auth
                .identities
                .begin_flow(redirect.flow, session.as_ref())
                .await?;
            for dropped in web_session::add_oidc_flow(&flow_id).await {
                ctx.auth.identities.forget_flow(&dropped).await?;
            }
            Ok::<_, AppError>(redirect.url)
        };
        match begun.await {
            Ok(url) => Ok(url),
            Err(err) => Ok(tell(err, back, true).await),
        }
    }

    /// The provider's answer: returns where to send the browser next.
    pub async fn callback(provider_id: String, query: CallbackQuery) -> Result<String, AppError> {
        let ctx = server_context()?;
        let parts = request_parts()?;
        let mut client = client_info(&ctx, &parts);
        client.held_session = held_session(&ctx, &parts.headers);
        let signed_in = matches!(request_caller(&ctx)?, Caller::SignedIn(_));
        let back = if signed_in {
            paths::ACCOUNT.path()
        } else {
            paths::LOGIN.path()
        };
        // A client whose writes are spent gets no code exchanged on its behalf.
        if let Err(err) = ctx.auth.guard.may_write(&client.ip).await {
            return Ok(tell(err.into(), back, signed_in).await);
        }
        match answer(&ctx, &provider_id, query, client.clone()).await {
            Ok(next) => Ok(next),
            Err(err) => {
                let paid = match ctx.auth.guard.anonymous_write(&client.ip).await {
                    Ok(()) => true,
                    Err(spent) => {
                        tracing::debug!(error = %spent, "a failed provider answer over the client's budget");
                        false
                    }
                };
                Ok(tell(err, back, signed_in || paid).await)
            }
        }
    }

    /// Where a failure sends the browser, and how it is told: a one-time notice in its
    /// web session when it `may_store` one (signed in, or the failure was paid from the
    /// client's writes), else a reason in the login page's address: a client whose
    /// writes are spent makes no more web-session rows by failing.
    async fn tell(err: AppError, back: String, may_store: bool) -> String {
        if may_store {
            web_session::set_notice(&err.to_string()).await;
            return back;
        }
        let reason = match err {
            AppError::Throttled(_) => LoginReason::Throttled,
            AppError::Unavailable(_) => LoginReason::ProviderUnavailable,
            _ => LoginReason::ProviderFailed,
        };
        paths::login_url("/", Some(reason))
    }

    async fn answer(
        ctx: &ServerContext,
        provider_id: &str,
        query: CallbackQuery,
        client: crate::auth::client_info::ClientInfo,
    ) -> Result<String, AppError> {
        // The `state` must name a redirect this browser began, once.
        let state = query.state.ok_or(AuthError::ProviderFailed)?;
        let flow_id = crate::auth::identities::flow_id(&state);
        if !web_session::take_oidc_flow(&flow_id).await {
            tracing::info!("a provider answer with a state this browser is not waiting for");
            return Err(AuthError::ProviderFailed.into());
        }
        let flow = ctx.auth.identities.take_flow(&state).await?;
        if flow.provider_id != provider_id {
            return Err(AuthError::ProviderFailed.into());
        }
        if let Some(error) = query.error {
            tracing::info!(
                provider = provider_id,
                error,
                "the provider answered with an error"
            );
            return Err(if error == "access_denied" {
                AuthError::ProviderCancelled
            } else {
                AuthError::ProviderFailed
            }
            .into());
        }
        let code = query.code.ok_or(AuthError::ProviderFailed)?;
        let identity = ctx
            .providers
            .finish(&flow, &code, query.iss.as_deref())
            .await?;
        match flow.purpose {
            FlowPurpose::SignIn => sign_in(ctx, identity, flow.next, client).await,
            FlowPurpose::Link | FlowPurpose::Reauthenticate => {
                // Only the signed-in session that left may come back to finish.
                let current = match request_caller(ctx)? {
                    Caller::SignedIn(current) => current,
                    _ => return Err(AuthError::SessionEnded.into()),
                };
                if flow.session.as_ref() != Some(&current) {
                    return Err(AuthError::ProviderFailed.into());
                }
                let name = identity.provider_name.clone();
                let notice = if flow.purpose == FlowPurpose::Link {
                    ctx.auth
                        .identities
                        .link(&current, identity, flow.started_at, client)
                        .await?;
                    t_with("notice-provider-linked", &[("provider", name.into())])
                } else {
                    let fresh = ctx
                        .auth
                        .identities
                        .reauthenticate(&current, &identity, flow.started_at)
                        .await?;
                    if let Some(token) = fresh {
                        crate::web::context::set_bound_access_cookie(ctx, &token);
                    }
                    t("notice-reauthenticated").to_owned()
                };
                web_session::set_notice(&notice).await;
                Ok(flow.next)
            }
        }
    }

    async fn sign_in(
        ctx: &ServerContext,
        identity: crate::auth::identities::ProviderIdentity,
        next: String,
        client: crate::auth::client_info::ClientInfo,
    ) -> Result<String, AppError> {
        let policy = ctx.providers.policy(&identity.provider_id);
        let new_account = ctx.auth.identities.would_sign_up(&identity).await?;
        let sign_in = ctx
            .auth
            .identities
            .sign_in(identity.clone(), policy, client.clone());
        // A new account spends the client's sign-up budget, as a sign-up form does.
        let signed = match (&identity.email, new_account) {
            (Some(email), true) => {
                throttled(
                    ctx,
                    AttemptKind::SignUp,
                    Guessed::Email(email),
                    &client,
                    sign_in,
                )
                .await?
            }
            _ => sign_in.await?,
        };
        web_session::cycle_web_session_id().await;
        match signed {
            ProviderSignIn::SignedIn(signed_in) => {
                remember_device(ctx, &signed_in.account.email);
                set_session_cookies(ctx, &signed_in);
                Ok(next)
            }
            ProviderSignIn::SecondFactor(pending) => {
                web_session::set_pending_sign_in(Some(&pending)).await;
                Ok(paths::sign_in_code_url(&next))
            }
            ProviderSignIn::AddressTaken(taken) => {
                let notice = t_with(
                    "notice-provider-sign-in-first",
                    &[
                        ("provider", taken.provider_name.into()),
                        ("email", taken.email.into()),
                    ],
                );
                web_session::set_notice(&notice).await;
                Ok(paths::login_url(&paths::ACCOUNT.path(), None))
            }
        }
    }
}
