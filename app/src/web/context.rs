//! What a server function or page needs from the request it serves.

use std::net::SocketAddr;
use std::sync::Arc;

use http::HeaderMap;
use http::header::{ACCEPT, AUTHORIZATION, SET_COOKIE, USER_AGENT};
use http::request::Parts;
use leptos::prelude::use_context;

use super::cookies::{self, CookieSettings};
use crate::auth::Auth;
use crate::auth::client_info::{ClientInfo, HeldSession};
use crate::auth::error::AuthError;
use crate::auth::guard::{Guessed, Settles};
use crate::auth::refresh_token::RefreshToken;
use crate::auth::session::{CurrentDeviceSession, SignedIn};
use crate::auth::throttle::AttemptKind;
use crate::error::AppError;
use crate::i18n::Language;

/// Shared server state that server functions reach through Leptos' context; the
/// server's router provides it for every request.
#[derive(Debug, Clone)]
pub struct ServerContext {
    /// The session service.
    pub auth: Arc<Auth>,
    /// Cookie names and attributes.
    pub cookies: CookieSettings,
    /// Reverse proxies whose `X-Forwarded-For` is believed (empty: the socket address is
    /// the client).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The OpenID providers people may sign in with (`OIDC_PROVIDERS_FILE`).
    pub providers: Arc<crate::oidc::Providers>,
}

/// The context of the request being served (an internal error if the router forgot to
/// provide it, rather than a panic).
pub fn server_context() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>().ok_or(AppError::Internal)
}

/// The HTTP request being served (headers, extensions).
pub fn request_parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or(AppError::Internal)
}

/// Reads the request's headers where they are, for the checks every request makes
/// (who is calling): [`request_parts`] copies every header and extension. `read` runs
/// while the context is borrowed, so it must not use Leptos' context itself.
pub fn with_request_headers<R>(read: impl FnOnce(&HeaderMap) -> R) -> Result<R, AppError> {
    leptos::prelude::with_context::<Parts, _>(|parts| read(&parts.headers))
        .ok_or(AppError::Internal)
}

/// IP address and User-Agent of the caller.
pub fn client_info(ctx: &ServerContext, parts: &Parts) -> ClientInfo {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let ip = match peer {
        Some(peer) => client_ip(peer, &parts.headers, &ctx.trusted_proxies).to_string(),
        None => "unknown".to_owned(),
    };
    let user_agent = parts
        .headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ClientInfo {
        language: crate::i18n::ui::use_language(),
        ..ClientInfo::new(ip, user_agent)
    }
}

/// The device session this browser's cookies point at, for a sign-in to end: the `sid`
/// of a genuine access token (even an expired one), else the refresh token's hash.
pub fn held_session(ctx: &ServerContext, headers: &HeaderMap) -> Option<HeldSession> {
    let from_access = access_token(headers, &ctx.cookies)
        .and_then(|token| ctx.auth.core.tokens().verify_ignoring_expiry(token))
        .map(|claims| claims.sid);
    from_access.map(HeldSession::Id).or_else(|| {
        cookies::read(headers, ctx.cookies.refresh_name())
            .and_then(RefreshToken::parse)
            .map(|token| HeldSession::RefreshHash(token.hash().as_str().to_owned()))
    })
}

/// The client's address: the socket peer, unless the peer is a trusted proxy, in which
/// case the right-most `X-Forwarded-For` entry that is not itself a trusted proxy (the
/// left-most entries are whatever the client chose to send, so they are never believed).
pub fn client_ip(
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|entry| forwarded_ip(entry.trim()))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

/// One `X-Forwarded-For` entry: an address, or an address with a port as some proxies
/// write it (`198.51.100.7:4711`, `[2001:db8::1]:4711`).
fn forwarded_ip(entry: &str) -> Option<std::net::IpAddr> {
    entry
        .parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

/// True for a plain HTML form post (no JavaScript), which expects a redirect rather than
/// JSON.
pub fn wants_html(parts: &Parts) -> bool {
    parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// The access token of the request: the `Authorization: Bearer` header for API clients,
/// else the access cookie. Borrowed from the headers: most requests only look it up.
pub fn access_token<'h>(headers: &'h HeaderMap, cookies: &CookieSettings) -> Option<&'h str> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    bearer.or_else(|| cookies::read(headers, cookies.access_name()))
}

/// Who is calling, as far as the access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A valid, unrevoked access token.
    SignedIn(CurrentDeviceSession),
    /// A genuine access token that has expired: refresh, then retry.
    AccessTokenExpired,
    /// This device's session was ended (signed out elsewhere, or theft detected).
    Revoked,
    /// No token, or one that is not ours.
    SignedOut,
}

impl Caller {
    /// The signed-in device, or the contract's refusal every protected call answers:
    /// expired (refresh, then retry), revoked, or not signed in (worded in `language`,
    /// asked only then: a signed-in call negotiates no language).
    pub fn into_device_session(
        self,
        language: impl FnOnce() -> Language,
    ) -> Result<CurrentDeviceSession, AppError> {
        match self {
            Self::SignedIn(session) => Ok(session),
            Self::AccessTokenExpired => Err(AppError::AccessTokenExpired),
            Self::Revoked => Err(AppError::SessionRevoked),
            Self::SignedOut => Err(AppError::Unauthorized(
                AuthError::NotSignedIn.message(language()),
            )),
        }
    }
}

/// Gives the request a place for who is calling and the way to its language, each
/// decided at its first use: the server's pipeline calls it before the web session and
/// the dispatch, and every function and page reads both from the request ([`request_caller`],
/// [`crate::i18n::ui::use_language`]).
pub fn identify(extensions: &mut http::Extensions) {
    extensions.insert(RequestCaller::default());
    extensions.insert(crate::i18n::ui::NegotiateLanguage(request_language));
}

/// Who is calling a request, decided once, at its first read: by then a server
/// function's body has arrived, so a session revoked (or a token expired) while a slow
/// body was still arriving is seen as such, not as it was when the headers came.
/// Shared by every copy of the request's parts (an `Arc`), so the first read decides for
/// all.
#[derive(Debug, Clone, Default)]
pub struct RequestCaller(Arc<std::sync::OnceLock<Caller>>);

impl RequestCaller {
    /// Who is calling, decided now if nobody asked before.
    pub fn get(&self, ctx: &ServerContext, headers: &HeaderMap) -> Caller {
        self.0.get_or_init(|| caller_of(ctx, headers)).clone()
    }
}

/// The language a request asks for: the `language` cookie, else `Accept-Language`.
pub fn request_language(headers: &HeaderMap) -> Language {
    let choice = cookies::read(headers, crate::i18n::LANGUAGE_COOKIE);
    let accept = headers
        .get(http::header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    Language::negotiate(choice, accept)
}

/// Who is calling this request ([`RequestCaller`]; for a request that did not pass the
/// server's pipeline, decided now).
pub fn request_caller(ctx: &ServerContext) -> Result<Caller, AppError> {
    leptos::prelude::with_context::<Parts, _>(|parts| caller_in(ctx, parts))
        .ok_or(AppError::Internal)
}

/// Who is calling the request of `parts`: its [`RequestCaller`] when it came through the
/// server's pipeline (decided once), else decided now.
pub fn caller_in(ctx: &ServerContext, parts: &Parts) -> Caller {
    match parts.extensions.get::<RequestCaller>() {
        Some(once) => once.get(ctx, &parts.headers),
        None => caller_of(ctx, &parts.headers),
    }
}

/// Classifies the caller of `headers`. No database access: signature check (cached) and
/// the in-memory revocation set only.
fn caller_of(ctx: &ServerContext, headers: &HeaderMap) -> Caller {
    let Some(token) = access_token(headers, &ctx.cookies) else {
        return Caller::SignedOut;
    };
    match ctx.auth.core.authenticate(token) {
        Ok(session) => {
            ctx.auth.devices.note_activity(&session);
            Caller::SignedIn(session)
        }
        Err(AuthError::AccessTokenExpired) => Caller::AccessTokenExpired,
        Err(AuthError::SessionRevoked) => Caller::Revoked,
        Err(_) => Caller::SignedOut,
    }
}

/// The one call a server function needs to require a signed-in user: returns the
/// caller's session or the right 401 (`AccessTokenExpired` tells the browser to refresh and
/// retry).
pub fn require_device_session() -> Result<CurrentDeviceSession, AppError> {
    let ctx = server_context()?;
    request_caller(&ctx)?.into_device_session(crate::i18n::ui::use_language)
}

/// Runs a secret-checking `operation` under the guard ([`crate::auth::Guard::attempt`]),
/// with this browser's device cookie: the one call every endpoint that checks a
/// password, a code or a passkey makes.
pub async fn throttled<T: Settles>(
    ctx: &ServerContext,
    kind: AttemptKind,
    guessed: Guessed<'_>,
    client: &ClientInfo,
    operation: impl Future<Output = Result<T, AuthError>>,
) -> Result<T, AppError> {
    let device = device_cookie(ctx);
    Ok(ctx
        .auth
        .guard
        .attempt(kind, guessed, client, device.as_deref(), operation)
        .await?)
}

/// The value of this browser's device cookie, if it sent one.
pub fn device_cookie(ctx: &ServerContext) -> Option<String> {
    with_request_headers(|headers| {
        cookies::read(headers, ctx.cookies.device_name()).map(str::to_owned)
    })
    .ok()
    .flatten()
}

/// Lets a sensitive action through in sudo mode, or with a proof of identity from the
/// form (`sudo_password`, or `sudo_code` from the authenticator app), which is checked
/// under the brute-force throttle like any password; else 403 `sudo_required`.
pub async fn require_sudo(
    ctx: &ServerContext,
    session: &CurrentDeviceSession,
    client: &ClientInfo,
    password: Option<crate::secret::Secret>,
    code: Option<String>,
) -> Result<(), AppError> {
    let proof = crate::auth::second_factor::Proof::from_fields(password, code);
    // A code alone is counted as a code (the account's code ceiling), not as a password.
    let kind = if proof.password.is_none() && proof.code.is_some() {
        AttemptKind::Code
    } else {
        AttemptKind::Password
    };
    let fresh = throttled(
        ctx,
        kind,
        Guessed::User(&session.user_id),
        client,
        ctx.auth.second_factor.require_sudo(session, proof),
    )
    .await?;
    if let Some(token) = fresh {
        set_bound_access_cookie(ctx, &token);
    }
    Ok(())
}

/// `Set-Cookie` for an access token of a session bound to its device (DBSC): living as
/// long as the token, so the browser renews it by proof. For a renewal, and for the
/// token a proof of identity earned (`second_factor::sudo_holds`).
pub fn set_bound_access_cookie(
    ctx: &ServerContext,
    token: &crate::auth::access_token::MintedToken,
) {
    let left = token.claims.exp - crate::auth::now_unix();
    let left = std::time::Duration::from_secs(u64::try_from(left).unwrap_or(0));
    append_set_cookie(ctx.cookies.bound_access_cookie(token.token.expose(), left));
}

/// Everything a sensitive server function works with, once the caller is known to be in
/// sudo mode.
pub struct SudoCaller {
    /// The shared server state.
    pub ctx: ServerContext,
    /// The request.
    pub parts: Parts,
    /// Who is calling.
    pub session: CurrentDeviceSession,
    /// From where.
    pub client: ClientInfo,
}

/// The one call a sensitive server function starts with: a signed-in caller in sudo
/// mode, or with a proof in the form (see [`require_sudo`]); else the right 401 or 403.
pub async fn sudo_caller(
    password: Option<crate::secret::Secret>,
    code: Option<String>,
) -> Result<SudoCaller, AppError> {
    let session = require_device_session()?;
    let ctx = server_context()?;
    let parts = request_parts()?;
    let client = client_info(&ctx, &parts);
    require_sudo(&ctx, &session, &client, password, code).await?;
    Ok(SudoCaller {
        ctx,
        parts,
        session,
        client,
    })
}

/// Gives this browser a device cookie for the account with address `email`: proof, on
/// its next password attempts, that it signed in to that account before. Called only
/// once a device session has started (or a reset link proved the mailbox), never for
/// a password that still waits for its code.
pub fn remember_device(ctx: &ServerContext, email: &str) {
    let value = ctx.auth.guard.device_cookies().issue(email);
    append_set_cookie(ctx.cookies.device_cookie(&value));
}

/// Adds one `Set-Cookie` header to the response being built.
pub fn append_set_cookie(value: String) {
    append_header(SET_COOKIE, &value);
}

/// Adds one header to the response being built.
pub fn append_header(name: http::HeaderName, value: &str) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(value) = http::HeaderValue::from_str(value)
    {
        response.append_header(name, value);
    }
}

/// Adds `Set-Cookie` headers for a fresh token pair to the response, and for a new
/// session the invitation to bind it to the device (`Secure-Session-Registration`,
/// docs/DBSC.md). Chrome reads that header on any answer, a `fetch` as well as a
/// navigation.
pub fn set_session_cookies(ctx: &ServerContext, signed_in: &SignedIn) {
    if signed_in.bound {
        set_bound_access_cookie(ctx, &signed_in.access);
    } else {
        append_set_cookie(ctx.cookies.access_cookie(signed_in.access.token.expose()));
    }
    if let Some(challenge) = &signed_in.dbsc_registration {
        append_header(
            http::HeaderName::from_static(crate::web::dbsc::REGISTRATION_HEADER),
            &crate::web::dbsc::registration(challenge.expose()),
        );
    }
    if let Some(refresh) = &signed_in.refresh {
        let lifetime = (refresh.expires_at - chrono::Utc::now().naive_utc())
            .to_std()
            .unwrap_or_default();
        append_set_cookie(ctx.cookies.refresh_cookie(refresh.token.expose(), lifetime));
    }
}

/// Adds `Set-Cookie` headers that delete both session cookies.
pub fn clear_session_cookies(ctx: &ServerContext) {
    for value in ctx.cookies.clearing_cookies() {
        append_set_cookie(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn forwarded(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static(value));
        h
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let peer = "203.0.113.5".parse().unwrap();
        assert_eq!(client_ip(peer, &forwarded("10.0.0.1"), &[]), peer);
        let proxy = "127.0.0.1".parse().unwrap();
        let client: std::net::IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            client_ip(proxy, &forwarded("198.51.100.7"), &[proxy]),
            client
        );
        // A spoofed left-most entry is not believed; the proxy's own addition is.
        assert_eq!(
            client_ip(proxy, &forwarded("6.6.6.6, 198.51.100.7"), &[proxy]),
            client
        );
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn forwarded_entries_with_a_port_are_read_not_skipped() {
        let proxy = "127.0.0.1".parse().unwrap();
        let client: std::net::IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            client_ip(proxy, &forwarded("198.51.100.7:4711"), &[proxy]),
            client
        );
        // Skipping it would have made the spoofed entry the client.
        assert_eq!(
            client_ip(proxy, &forwarded("6.6.6.6, 198.51.100.7:4711"), &[proxy]),
            client
        );
        let v6: std::net::IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            client_ip(proxy, &forwarded("[2001:db8::1]:4711"), &[proxy]),
            v6
        );
    }
}
