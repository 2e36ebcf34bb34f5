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
use crate::paths::param;

fn session_key(purpose: LinkPurpose) -> String {
    format!("link:{}", purpose.as_str())
}

/// What is stashed for a token that does not even have the right shape: a value no
/// stored hash can equal, so the page says "not valid" like for any unknown link.
const MALFORMED: &str = "malformed";

/// `GET /reset?token=…` (and the other link pages): stores the token's hash in `session`
/// and answers with a redirect to the same page without the query; `None` for any other
/// request. The web-session middleware calls it for every request it serves.
pub async fn take_token_from_link(
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
    let hash = LinkToken::parse(&token).map_or_else(|| MALFORMED.to_owned(), |t| t.hash());
    if let Err(err) = session.insert(&session_key(purpose), hash).await {
        tracing::warn!(error = %err, "cannot keep a link's token in the web session");
    }
    let mut response = Redirect::to(&purpose.page().path()).into_response();
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Some(response)
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
