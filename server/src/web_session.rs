//! The pre-authentication web session around pages and server functions (a step of
//! [`crate::router::App::serve`]): a [`Session`] (from
//! tower-sessions) on the Diesel store, created only when something is stored in it and
//! expiring after an hour without a request (ARCHITECTURE: "Request path").
//!
//! This middleware does what tower-sessions' `SessionManagerLayer` and tower-cookies'
//! `CookieManager` did, for the one cookie it needs: it finds the session cookie with
//! [`cookies::read`] instead of parsing and percent-decoding every cookie of every
//! request into a jar (a signed-in request carries a 500-byte access token), and it is
//! one middleware instead of three layers. The rules are theirs: the record is loaded
//! only when a handler reads it; it is saved, and the cookie set, when a handler changed
//! it and the answer is not a server error; the cookie is deleted when the session was
//! emptied.

use std::sync::Arc;

use app::web::cookies::{self, CookieSettings, WEB_SESSION_IDLE_LIFETIME};
use app::web::email_link::take_token_from_link;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_sessions::session::Id;
use tower_sessions::{Expiry, Session};

use crate::server_fn_status::set_error_status;
use crate::state::AppState;

/// Serves `request` with `next` inside its web session: the session (from its cookie, if
/// any) in the request's extensions for `next` to use, then saved and its cookie set.
///
/// It also gives server-function errors their status ([`set_error_status`]) before it
/// decides whether to save, so a refused request (a 4xx) still saves what it changed,
/// such as a passkey ceremony it used up.
pub async fn around<F, Fut>(state: &AppState, mut request: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let settings = &state.server.cookies;
    let held = cookies::read(request.headers(), settings.web_session_name()).map(|value| {
        value.parse::<Id>().map_err(|err| {
            tracing::warn!(error = %err, "possibly suspicious activity: malformed web session id");
        })
    });
    let session = Session::new(
        held.as_ref().and_then(|id| id.ok()),
        Arc::clone(&state.web_sessions),
        Some(EXPIRY),
    );
    request.extensions_mut().insert(session.clone());

    let ip = client_address(state, &request);
    let landing = take_token_from_link(
        &state.server,
        &ip,
        request.method(),
        request.uri(),
        &session,
    )
    .await;
    let mut response = match landing {
        Some(redirect) => redirect,
        None => set_error_status(next(request).await).await,
    };
    if let Err(failure) = finish(&session, held.is_some(), settings, &mut response).await {
        return failure;
    }
    response
}

/// The client's address as the throttle counts it (the peer, or what a trusted proxy
/// says); only a request with a query can be a link landing, which is what reads it.
fn client_address(state: &AppState, request: &Request) -> String {
    if request.uri().query().is_none() {
        return String::new();
    }
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| {
            app::web::context::client_ip(
                info.0.ip(),
                request.headers(),
                &state.server.trusted_proxies,
            )
            .to_string()
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Saves a changed session and sets its cookie, or deletes the cookie of an emptied one.
/// A failed save is a 500 (what the handler answered relied on it).
async fn finish(
    session: &Session,
    had_cookie: bool,
    settings: &CookieSettings,
    response: &mut Response,
) -> Result<(), Response> {
    let empty = session.is_empty().await;
    let cookie = if empty {
        had_cookie.then(|| settings.web_session_cookie(None))
    } else if session.is_modified() && !response.status().is_server_error() {
        let saved = session.save().await.map(|()| session.id());
        let Ok(Some(id)) = saved else {
            if let Err(err) = saved {
                tracing::error!(error = %err, "could not save the web session");
            }
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        Some(settings.web_session_cookie(Some(&id.to_string())))
    } else {
        None
    };
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::try_from(c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(())
}

/// A web session's expiry: [`WEB_SESSION_IDLE_LIFETIME`] after its last save.
const EXPIRY: Expiry = Expiry::OnInactivity(time::Duration::seconds(
    WEB_SESSION_IDLE_LIFETIME.as_secs() as i64,
));
