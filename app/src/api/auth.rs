//! `/api/auth/*`: sign-up, login, refresh and logout, plus "who am I" for the header.

// `#[server]` generates a public argument struct per function whose fields are the form
// fields; Rust allows no doc comments on parameters, so they cannot be documented.
#![allow(missing_docs)]

use leptos::prelude::*;

use super::session_client::SessionClient;
#[cfg(feature = "ssr")]
use crate::auth::error::AuthError;
#[cfg(feature = "ssr")]
use crate::auth::throttle::AttemptKind;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the browser learns after signing in (or signing up): who, and where to go next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInView {
    /// The account's e-mail address.
    pub email: String,
    /// A same-site path to continue to.
    pub next: String,
    /// `false` after a sign-up with `REQUIRE_VERIFIED_EMAIL`: nobody is signed in until
    /// the address is verified, and `next` is the login page, which says so.
    pub signed_in: bool,
    /// The tokens themselves, for an app that asked for them in the answer
    /// (`tokens=body`); a browser gets cookies instead, and `None` here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenPair>,
}

/// A session's tokens in an answer's body, for an app without a browser: it sends the
/// access token as `Authorization: Bearer`, and the refresh token to
/// `/api/auth/refresh` (`refresh_token`, with `tokens=body`) when the access token
/// expires. The refresh token rotates and a replay is theft, exactly as in its cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    /// The access token (a JWT).
    pub access_token: Secret,
    /// When it expires (Unix seconds).
    pub access_expires_at: i64,
    /// The next refresh token; `None` for a concurrent refresh inside the grace window
    /// (the winning request's answer carried it: keep using that one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// When the refresh token stops working unused (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_at: Option<i64>,
}

/// Where a sign-in's tokens go: cookies for a browser (the default); the answer's body
/// for an app that asks with `tokens=body`, naming itself with `app` (the devices page
/// shows that name, e.g. "Notes for iOS").
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Delivery {
    /// `Set-Cookie`.
    #[default]
    Cookies,
    /// [`SignedInView::tokens`].
    Body {
        /// The app's name for the devices page, if it gave one.
        app: Option<String>,
    },
}

#[cfg(feature = "ssr")]
impl Delivery {
    /// The delivery a request's `tokens` and `app` fields ask for.
    pub fn from_fields(tokens: Option<&str>, app: Option<&str>) -> Result<Self, AppError> {
        match tokens {
            None | Some("" | "cookies") => Ok(Self::Cookies),
            Some("body") => Ok(Self::Body {
                // Tidied and bounded as a passkey's name is.
                app: app
                    .map(|name| crate::auth::passkeys::clean_name(name, ""))
                    .filter(|name| !name.is_empty()),
            }),
            Some(_) => Err(AppError::BadRequest(
                crate::i18n::ui::t("error-tokens-field").to_owned(),
            )),
        }
    }

    /// The app's name for the device session it starts (`ClientInfo::app`).
    pub fn app(&self) -> Option<String> {
        match self {
            Self::Cookies => None,
            Self::Body { app } => app.clone(),
        }
    }
}

/// Who is looking at the page, for the header and for protected pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Viewer {
    /// Signed in as this e-mail address.
    SignedIn {
        /// The account's e-mail address.
        email: String,
    },
    /// The access token has expired; a refresh will most likely sign them back in.
    AccessTokenExpired,
    /// This device was signed out (by the user elsewhere, or after suspected theft).
    Revoked,
    /// Not signed in.
    SignedOut,
}

/// Creates an account and signs it in on this device.
#[server(prefix = "/api/auth", endpoint = "signup", client = SessionClient)]
pub async fn signup(
    email: String,
    password: Secret,
    next: Option<String>,
    tokens: Option<String>,
    app: Option<String>,
) -> Result<SignedInView, AppError> {
    // A password the policy refuses is a 400 before anything is counted: it guesses
    // nothing, and must not make counters for free.
    crate::auth::password::check_policy(password.expose()).map_err(AuthError::from)?;
    let delivery = Delivery::from_fields(tokens.as_deref(), app.as_deref())?;
    server::sign_in(
        AttemptKind::SignUp,
        next,
        &email,
        delivery,
        async |auth, client| auth.sessions.register(&email, password, client).await,
    )
    .await
}

/// Signs in with e-mail and password, starting a new device session. An app without a
/// browser adds `tokens=body` (and `app`, its name) to get the tokens in the answer.
#[server(prefix = "/api/auth", endpoint = "login", client = SessionClient)]
pub async fn login(
    email: String,
    password: Secret,
    next: Option<String>,
    tokens: Option<String>,
    app: Option<String>,
) -> Result<SignedInView, AppError> {
    use crate::auth::sessions::Registered;
    let delivery = Delivery::from_fields(tokens.as_deref(), app.as_deref())?;
    server::sign_in(
        AttemptKind::Password,
        next,
        &email,
        delivery,
        async |auth, client| {
            let verified = auth.sessions.verify_login(&email, password).await?;
            if let Some(pending) = auth.second_factor.pending_sign_in(&verified).await? {
                return Ok(Registered::SecondFactor(pending));
            }
            let signed_in = auth.sessions.complete_login(verified, client).await?;
            Ok(Registered::SignedIn(Box::new(signed_in)))
        },
    )
    .await
}

/// Exchanges the refresh cookie for a new token pair. Without JavaScript (the `/refresh`
/// page's button) it redirects to `next`, or to the login page when the session is over.
/// An app sends its refresh token in the form instead (`refresh_token`, with
/// `tokens=body`) and gets the new pair in the answer.
#[server(prefix = "/api/auth", endpoint = "refresh", client = SessionClient)]
pub async fn refresh(
    next: Option<String>,
    refresh_token: Option<Secret>,
    tokens: Option<String>,
) -> Result<SignedInView, AppError> {
    use crate::auth::refresh_token::RefreshToken;
    use crate::paths::safe_next;
    use crate::web::context::{
        clear_session_cookies, client_info, request_parts, server_context, wants_html,
    };
    use crate::web::cookies;
    let ctx = server_context()?;
    let parts = request_parts()?;
    let delivery = Delivery::from_fields(tokens.as_deref(), None)?;
    let token = match (&delivery, &refresh_token) {
        (Delivery::Body { .. }, Some(token)) => RefreshToken::parse(token.expose()),
        (Delivery::Body { .. }, None) => None,
        (Delivery::Cookies, _) => {
            cookies::read(&parts.headers, ctx.cookies.refresh_name()).and_then(RefreshToken::parse)
        }
    };
    let result = match token {
        Some(token) => {
            // Anyone can send a well-formed token, and each try takes the write lock: a
            // client whose anonymous writes are spent must wait, and a try that fails
            // spends one. A real device's refresh works, and only reads the counter.
            let client = client_info(&ctx, &parts);
            ctx.auth.guard.may_write(&client.ip).await?;
            let refreshed = ctx.auth.sessions.refresh(&token, client.clone()).await;
            if refreshed.is_err()
                && let Err(err) = ctx.auth.guard.anonymous_write(&client.ip).await
            {
                tracing::debug!(error = %err, "a failed refresh over the client's budget");
            }
            refreshed.map_err(AppError::from)
        }
        None => Err(AppError::Unauthorized(
            crate::i18n::ui::t("login-reason-ended").to_owned(),
        )),
    };
    match result {
        Ok(signed_in) => Ok(finish_sign_in(
            &ctx,
            &parts,
            &signed_in,
            next.as_deref(),
            &delivery,
        )),
        Err(err) => {
            if err.status() == 401 && delivery == Delivery::Cookies {
                clear_session_cookies(&ctx);
                if wants_html(&parts) {
                    let next = safe_next(next.as_deref());
                    leptos_axum::redirect(&crate::paths::login_url(
                        &next,
                        Some(crate::paths::LoginReason::Ended),
                    ));
                }
            }
            Err(err)
        }
    }
}

/// Signs out this device: its session is revoked, its access token blacklisted, and
/// both cookies cleared. Works with an expired access token too (the refresh cookie
/// identifies the session).
#[server(prefix = "/api/auth", endpoint = "logout", client = SessionClient)]
pub async fn logout() -> Result<(), AppError> {
    use crate::auth::refresh_token::RefreshToken;
    use crate::web::context::{
        Caller, clear_session_cookies, client_info, request_caller, request_parts, server_context,
        wants_html,
    };
    use crate::web::cookies;
    let ctx = server_context()?;
    let parts = request_parts()?;
    let session_id = match request_caller(&ctx)? {
        Caller::SignedIn(session) => Some(session.session_id),
        _ => None,
    };
    let refresh =
        cookies::read(&parts.headers, ctx.cookies.refresh_name()).and_then(RefreshToken::parse);
    clear_session_cookies(&ctx);
    // Nothing names a session: nothing to end, and nothing is written (anyone can call
    // this without cookies).
    if session_id.is_none() && refresh.is_none() {
        if wants_html(&parts) {
            leptos_axum::redirect(&crate::paths::LOGIN.path());
        }
        return Ok(());
    }
    let client = client_info(&ctx, &parts);
    if session_id.is_none() {
        // Only a refresh cookie, which anyone can make up: a write the client pays for.
        ctx.auth.guard.anonymous_write(&client.ip).await?;
    }
    ctx.auth
        .sessions
        .log_out(session_id, refresh.as_ref(), client)
        .await?;
    crate::web::web_session::cycle_web_session_id().await;
    crate::web::web_session::set_notice(crate::i18n::ui::t("notice-signed-out")).await;
    if wants_html(&parts) {
        leptos_axum::redirect(&crate::paths::LOGIN.path());
    }
    Ok(())
}

/// The one-time notice left for this browser (e.g. after signing out), if any.
#[server(prefix = "/api/session", endpoint = "notice", client = SessionClient)]
pub async fn take_notice() -> Result<Option<String>, AppError> {
    Ok(crate::web::web_session::take_notice().await)
}

/// Who is calling: used by the header on every page and by protected pages.
#[server(prefix = "/api/session", endpoint = "viewer", client = SessionClient)]
pub async fn current_viewer() -> Result<Viewer, AppError> {
    use crate::web::context::{Caller, request_caller, server_context};
    let ctx = server_context()?;
    let who = request_caller(&ctx)?;
    Ok(match who {
        Caller::SignedIn(session) => match ctx.auth.core.account(&session.user_id).await? {
            Some(account) => Viewer::SignedIn {
                email: account.email,
            },
            None => Viewer::SignedOut,
        },
        Caller::AccessTokenExpired => Viewer::AccessTokenExpired,
        Caller::Revoked => Viewer::Revoked,
        Caller::SignedOut => Viewer::SignedOut,
    })
}

#[cfg(feature = "ssr")]
pub(crate) use server::finish_sign_in;

#[cfg(feature = "ssr")]
mod server {
    //! Shared tails of the sign-in server functions.
    use http::request::Parts;

    use super::{Delivery, SignedInView, TokenPair};
    use crate::auth::Auth;
    use crate::auth::client_info::ClientInfo;
    use crate::auth::error::AuthError;
    use crate::auth::guard::Guessed;
    use crate::auth::session::SignedIn;
    use crate::auth::sessions::Registered;
    use crate::auth::throttle::AttemptKind;
    use crate::error::AppError;
    use crate::paths::safe_next;
    use crate::secret::Secret;
    use crate::web::context::{
        ServerContext, client_info, held_session, remember_device, request_parts, server_context,
        set_session_cookies, throttled, wants_html,
    };

    /// Runs a sign-up or login (`start`) for this request's client, then gives the web
    /// session a new id (session fixation) and sets the cookies. The address is checked
    /// and normalised first: one that is not an address is a 400 and counts nowhere, so
    /// the throttle's keys are only ever real addresses.
    pub async fn sign_in(
        kind: AttemptKind,
        next: Option<String>,
        email: &str,
        delivery: Delivery,
        start: impl AsyncFnOnce(&Auth, ClientInfo) -> Result<Registered, AuthError>,
    ) -> Result<SignedInView, AppError> {
        let ctx = server_context()?;
        let parts = request_parts()?;
        let mut client = client_info(&ctx, &parts);
        client.app = delivery.app();
        client.tokens_in_body = delivery != Delivery::Cookies;
        // Signing in on a browser that is signed in ends its previous session.
        client.held_session = held_session(&ctx, &parts.headers);
        let account = crate::auth::email::normalize(email)?;
        let registered = throttled(
            &ctx,
            kind,
            Guessed::Email(&account),
            &client,
            start(&ctx.auth, client.clone()),
        )
        .await?;
        crate::web::web_session::cycle_web_session_id().await;
        match registered {
            Registered::SignedIn(signed_in) => Ok(finish_sign_in(
                &ctx,
                &parts,
                &signed_in,
                next.as_deref(),
                &delivery,
            )),
            Registered::SecondFactor(pending) => {
                crate::web::web_session::set_pending_sign_in(Some(&pending)).await;
                let code_page = crate::paths::sign_in_code_url(&safe_next(next.as_deref()));
                if wants_html(&parts) {
                    leptos_axum::redirect(&code_page);
                }
                Ok(SignedInView {
                    email: account,
                    next: code_page,
                    signed_in: false,
                    tokens: None,
                })
            }
            Registered::CheckInbox => {
                crate::web::web_session::set_notice(&check_inbox_notice(&account)).await;
                let login = crate::paths::LOGIN.path();
                if wants_html(&parts) {
                    leptos_axum::redirect(&login);
                }
                Ok(SignedInView {
                    email: account,
                    next: login,
                    signed_in: false,
                    tokens: None,
                })
            }
        }
    }

    /// What the login page says after a sign-up that waits for verification.
    fn check_inbox_notice(email: &str) -> String {
        crate::i18n::ui::t_with("notice-check-inbox", &[("email", email.into())])
    }

    /// Hands over the tokens (cookies, with this browser's device cookie, or the answer's
    /// body for an app) and, for a plain form post, redirects to `next`.
    pub fn finish_sign_in(
        ctx: &ServerContext,
        parts: &Parts,
        signed_in: &SignedIn,
        next: Option<&str>,
        delivery: &Delivery,
    ) -> SignedInView {
        let tokens = match delivery {
            Delivery::Cookies => {
                set_session_cookies(ctx, signed_in);
                remember_device(ctx, &signed_in.account.email);
                None
            }
            Delivery::Body { .. } => Some(TokenPair {
                access_token: signed_in.access.token.clone(),
                access_expires_at: signed_in.access.claims.exp,
                refresh_token: signed_in
                    .refresh
                    .as_ref()
                    .map(|r| Secret::new(r.token.expose())),
                refresh_expires_at: signed_in
                    .refresh
                    .as_ref()
                    .map(|r| r.expires_at.and_utc().timestamp()),
            }),
        };
        let next = safe_next(next);
        if wants_html(parts) && tokens.is_none() {
            leptos_axum::redirect(&next);
        }
        SignedInView {
            email: signed_in.account.email.clone(),
            next,
            signed_in: true,
            tokens,
        }
    }
}

/// The signed-in caller, for API clients and as the example of a protected server
/// function: one call to [`require_device_session`](crate::web::context::require_device_session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The user id.
    pub user_id: String,
    /// This device's session id.
    pub session_id: String,
    /// The account's e-mail address.
    pub email: String,
}

/// Returns who is calling; 401 without a valid, unrevoked access token.
#[server(prefix = "/api/session", endpoint = "me", client = SessionClient)]
pub async fn whoami() -> Result<Me, AppError> {
    use crate::web::context::{require_device_session, server_context};
    let session = require_device_session()?;
    let account = server_context()?
        .auth
        .core
        .account(&session.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Me {
        user_id: session.user_id,
        session_id: session.session_id,
        email: account.email,
    })
}
