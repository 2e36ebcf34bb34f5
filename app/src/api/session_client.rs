//! The one way the browser calls a server function: [`SessionClient`].
//!
//! Every `#[server]` in this crate names it (`client = SessionClient`; a test fails when
//! one does not), so no page or form can forget what it does:
//!
//! - **An expired access token is renewed and the call sent again.** Access tokens live
//!   minutes; a page left open longer would otherwise answer its next form with "Your
//!   session needs refreshing." The server marks that answer with
//!   `WWW-Authenticate: Bearer error="invalid_token", error_description="expired"`; the
//!   client then calls `/api/auth/refresh` once and resends a copy of the request.
//! - **A device that was signed out leaves at once**: on `error_description="revoked"`,
//!   or when the refresh itself is refused, the page goes to `/login?reason=revoked`
//!   with a full load, so nothing of the old session stays in memory.
//!
//! It wraps Leptos' own `BrowserClient`; the server never uses it (during server
//! rendering, server functions are plain function calls).

use std::future::Future;

use leptos::server_fn::Bytes;
use leptos::server_fn::client::Client;
use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::ClientReq;
use leptos::server_fn::request::browser::{BrowserRequest, Request};
use leptos::server_fn::response::ClientRes;
use leptos::server_fn::response::browser::BrowserResponse;
use send_wrapper::SendWrapper;

use crate::error::SessionProblem;

/// Leptos' browser client, plus transparent refresh and the revoked-device exit.
pub struct SessionClient;

impl<E, IS, OS> Client<E, IS, OS> for SessionClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(
        mut request: BrowserRequest,
    ) -> impl Future<Output = Result<BrowserResponse, E>> + Send {
        SendWrapper::new(async move {
            let copy = copy_of(&mut request);
            let response = <BrowserClient as Client<E, IS, OS>>::send(request).await?;
            let response = match session_problem(&response) {
                Some(SessionProblem::Expired) => {
                    if !refreshed().await {
                        // The refresh token was refused: the session is over here.
                        leave_signed_out_device();
                        response
                    } else if let Some(copy) = copy {
                        <BrowserClient as Client<E, IS, OS>>::send(resend(copy)?).await?
                    } else {
                        // Renewed, but this request cannot be sent twice (a streamed
                        // body): its caller sees the 401, and its next call goes through.
                        response
                    }
                }
                _ => response,
            };
            if session_problem(&response) == Some(SessionProblem::Revoked) {
                leave_signed_out_device();
            }
            Ok(response)
        })
    }

    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl futures::Sink<Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future);
    }
}

/// Renews the token pair with the refresh cookie: a plain `fetch` of the refresh
/// endpoint (through the server function itself this client would call itself).
async fn refreshed() -> bool {
    use leptos::server_fn::ServerFn;
    let request = Request::post(<crate::api::auth::Refresh as ServerFn>::PATH)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(String::new());
    match request {
        Ok(request) => request.send().await.is_ok_and(|r| r.status() == 200),
        Err(_) => false,
    }
}

/// What a 401 says about this device's session (the server's [`AppError::contract`]).
///
/// [`AppError::contract`]: crate::error::AppError::contract
fn session_problem(response: &BrowserResponse) -> Option<SessionProblem> {
    let status = <BrowserResponse as ClientRes<leptos::server_fn::ServerFnError>>::status(response);
    let headers = response.generate_headers();
    let www_authenticate = headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok());
    SessionProblem::of_response(status, www_authenticate)
}

/// A copy of the request to send again (the browser's `Request.clone()`, which copies
/// the unread body too). `None` if the browser cannot copy it.
fn copy_of(request: &mut BrowserRequest) -> Option<web_sys::Request> {
    let inner: &mut Request = request;
    let raw: web_sys::Request = std::mem::replace(inner, Request::from(placeholder())).into();
    let copy = web_sys::Request::clone(&raw).ok();
    *inner = Request::from(raw);
    copy
}

/// A `BrowserRequest` carrying `copy`. (Leptos offers no constructor from a `Request`, so
/// one is made through the trait and its request swapped for the copy.)
fn resend<E: FromServerFnError>(copy: web_sys::Request) -> Result<BrowserRequest, E> {
    let mut request = <BrowserRequest as ClientReq<E>>::try_new_post(
        &copy.url(),
        "text/plain",
        "*/*",
        String::new(),
    )?;
    *request = Request::from(copy);
    Ok(request)
}

/// An empty request, only ever used as a stand-in for a moment.
fn placeholder() -> web_sys::Request {
    web_sys::Request::new_with_str("/").expect("a request to / can be built")
}

/// Sends a signed-out device to the login page with the reason (a full load, so every
/// piece of state of the old session is dropped).
fn leave_signed_out_device() {
    #[cfg(feature = "hydrate")]
    {
        let location = leptos::prelude::window().location();
        let here = location.pathname().unwrap_or_default();
        let _ = location.set_href(&crate::paths::login_url(
            &here,
            Some(crate::paths::LoginReason::Revoked),
        ));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_server_function_goes_through_the_session_client() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut unchecked = Vec::new();
        let mut seen = 0;
        let mut stack = vec![dir];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (line, attribute) in text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| l.trim_start().starts_with("#[server("))
                {
                    seen += 1;
                    if !attribute.contains("client = SessionClient") {
                        unchecked.push(format!("{}:{}", path.display(), line + 1));
                    }
                }
            }
        }
        assert!(seen >= 13, "found only {seen} server functions");
        assert!(
            unchecked.is_empty(),
            "server functions without `client = SessionClient`: {unchecked:?}"
        );
    }
}
