//! Links from mails, on the way in: the token leaves the address bar at once.
//!
//! A link such as `/reset?token=…` is answered by [`take_token_from_link`] with a 303 to
//! `/reset`, after the token's hash is put into the pre-authentication web session. So
//! the token is not in the browser's history, is never sent in a `Referer`, and is not
//! in the URL a user copies or a page script can read; the page and its server
//! functions find the hash in the session ([`stashed`]).

use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, Method, Uri, header};
use strum::IntoEnumIterator;
use tower_sessions::Session;

use crate::auth::email_link::{LinkPurpose, LinkToken};
use crate::auth::error::{AuthError, whole_seconds};
use crate::paths::param;
use crate::web::context::ServerContext;

fn session_key(purpose: LinkPurpose) -> String {
    format!("link:{}", purpose.as_str())
}

/// `GET /reset?token=…` (and the other link pages): stores the token's hash in `session`
/// and answers with a redirect to the same page without the query; `None` for any other
/// request. The web-session middleware calls it for every request it serves, with the
/// client's address (`ip`).
///
/// Storing the hash creates a web session, a row anyone can cause: a token without the
/// right shape stores nothing (the page then says "not valid", as for any unknown link),
/// and a well-formed one spends one of the client's writes without a session (429 once
/// they are spent).
pub async fn take_token_from_link(
    ctx: &ServerContext,
    ip: &str,
    method: &Method,
    uri: &Uri,
    session: &Session,
) -> Option<Response> {
    if method != Method::GET {
        return None;
    }
    let path = uri.path();
    let purpose = LinkPurpose::iter().find(|p| p.page().path() == path)?;
    let token = uri.query().and_then(token_in_query)?;
    if let Some(token) = LinkToken::parse(&token) {
        match ctx.auth.guard.anonymous_write(ip).await {
            Ok(()) => {
                if let Err(err) = session.insert(&session_key(purpose), token.hash()).await {
                    tracing::warn!(error = %err, "cannot keep a link's token in the web session");
                }
            }
            Err(AuthError::Throttled(wait)) => return Some(too_many(wait)),
            Err(err) => tracing::warn!(error = %err, "cannot count a link's landing"),
        }
    }
    let mut response = Redirect::to(&purpose.page().path()).into_response();
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Some(response)
}

/// A plain 429 for a landing over the client's budget.
fn too_many(wait: std::time::Duration) -> Response {
    let retry_after = whole_seconds(wait).to_string();
    let mut response = (
        http::StatusCode::TOO_MANY_REQUESTS,
        "Too many requests. Please wait a moment and open the link again.",
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&retry_after) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The `token` value of a query string.
fn token_in_query(query: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(param::TOKEN)?.strip_prefix('='))
        .map(str::to_owned)
}

/// The hash of the token of the last `purpose` link this browser opened, if any.
pub async fn stashed(purpose: LinkPurpose) -> Option<String> {
    let session = leptos_axum::extract::<Session>().await.ok()?;
    session
        .get::<String>(&session_key(purpose))
        .await
        .ok()
        .flatten()
}

/// Forgets the stashed token of `purpose` (the link has been used).
pub async fn forget(purpose: LinkPurpose) {
    if let Ok(session) = leptos_axum::extract::<Session>().await {
        let _ = session.remove::<String>(&session_key(purpose)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_anywhere_in_the_query() {
        assert_eq!(token_in_query("token=abc").as_deref(), Some("abc"));
        assert_eq!(token_in_query("x=1&token=abc&y=2").as_deref(), Some("abc"));
        assert_eq!(token_in_query("tokens=abc"), None);
        assert_eq!(token_in_query("x=1"), None);
    }
}
