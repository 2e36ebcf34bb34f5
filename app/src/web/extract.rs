//! The signed-in device of a request, for a fork's own plain axum handlers (a JSON API
//! for a mobile app, a webhook that acts for a user): the same checks as a server
//! function's ([`crate::web::context::require_device_session`]), the access token from
//! `Authorization: Bearer` or the access cookie, verified (cached) and looked up in the
//! in-memory revocation set: no database trip, and a device signed out anywhere is
//! refused on its next request.
//!
//! ```ignore
//! async fn my_notes(SignedIn(me): SignedIn) -> Json<Notes> { … me.user_id … }
//! ```
//!
//! docs/BUILD_ON_IT.md ("Plain JSON routes") walks through one.

use axum::extract::FromRequestParts;
use axum::response::Response;
use http::request::Parts;

use super::context::{Caller, ServerContext, caller_in, request_language};
use crate::auth::session::CurrentDeviceSession;

/// What the server's state gives the extractor: the shared [`ServerContext`], borrowed
/// (a clone per request would copy its settings).
pub trait HasServerContext {
    /// The shared server context.
    fn server_context(&self) -> &ServerContext;
}

/// A request from a signed-in device; the rejection is the contract's 401 (with
/// `WWW-Authenticate` saying "expired": refresh and retry, or "revoked": signed out) in
/// the one error shape (`{"error", "message"}`), in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn(pub CurrentDeviceSession);

impl<S> FromRequestParts<S> for SignedIn
where
    S: HasServerContext + Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        // The caller as a server function reads it.
        let caller = caller_in(state.server_context(), parts);
        if let Caller::SignedIn(session) = caller {
            return Ok(Self(session));
        }
        // A plain handler has no page to take the reader's language from: every part
        // of the refusal is worded in the one the headers ask for.
        let language = request_language(&parts.headers);
        caller
            .into_device_session(|| language)
            .map(Self)
            .map_err(|refusal| refusal.into_response_in(language))
    }
}
