//! What a server function or page needs from the request it serves.

use std::net::SocketAddr;
use std::sync::Arc;

use http::HeaderMap;
use http::header::{ACCEPT, AUTHORIZATION, SET_COOKIE, USER_AGENT};
use http::request::Parts;
use leptos::prelude::use_context;

use super::cookies::{self, CookieSettings};
use crate::api::error::AppError;
use crate::auth::client::{ClientInfo, HeldSession};
use crate::auth::error::AuthError;
use crate::auth::recovery::Registered;
use crate::auth::refresh_token::RefreshToken;
use crate::auth::service::AuthService;
use crate::auth::session::{CurrentDeviceSession, SignedIn};
use crate::auth::throttle::{
    Attempt, AttemptKind, Lock, Outcome, Refusal, Reservation, ReserveError,
};

/// Shared server state that server functions reach through Leptos' context; the
/// server's router provides it for every request.
#[derive(Debug, Clone)]
pub struct ServerContext {
    /// The session service.
    pub auth: Arc<AuthService>,
    /// Cookie names and attributes.
    pub cookies: CookieSettings,
    /// Reverse proxies whose `X-Forwarded-For` is believed (empty: the socket address is
    /// the client).
    pub trusted_proxies: Vec<std::net::IpAddr>,
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
        .and_then(|token| ctx.auth.tokens().verify_ignoring_expiry(token))
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

/// Classifies the caller of `parts`. No database access: signature check (cached) and
/// the in-memory revocation set only.
pub fn caller(ctx: &ServerContext, headers: &HeaderMap) -> Caller {
    let Some(token) = access_token(headers, &ctx.cookies) else {
        return Caller::SignedOut;
    };
    match ctx.auth.authenticate(token) {
        Ok(session) => {
            ctx.auth.note_activity(&session);
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
    match with_request_headers(|headers| caller(&ctx, headers))? {
        Caller::SignedIn(session) => Ok(session),
        Caller::AccessTokenExpired => Err(AppError::AccessTokenExpired),
        Caller::Revoked => Err(AppError::SessionRevoked),
        Caller::SignedOut => Err(AppError::Unauthorized(AuthError::NotSignedIn.to_string())),
    }
}

/// Whose secret a throttled attempt guesses: the key its counters are kept under, and
/// whom to tell when an account-wide lock engages.
#[derive(Debug, Clone, Copy)]
pub enum Guessed<'a> {
    /// The account with this (normalised) address: sign-up, login, the code step.
    Email(&'a str),
    /// The account with this id: a proof of identity for sudo mode.
    User(&'a str),
    /// A passkey, by its credential id (whose account is unknown until it checks out).
    Passkey(&'a str),
}

impl Guessed<'_> {
    fn key(&self) -> String {
        match self {
            Self::Email(email) => (*email).to_owned(),
            Self::User(id) => format!("user:{id}"),
            Self::Passkey(id) => format!("passkey:{id}"),
        }
    }
}

/// How the success of a throttled operation settles its attempt. Only an answer that
/// proved the secret is refunded: a password that merely led to "now the code" or
/// "check your inbox" keeps its charge, so neither can be used to wipe the counters.
pub trait Settles {
    /// `Some(Succeeded)` to refund, `None` to let the charge stand.
    fn settles(&self) -> Option<Outcome> {
        Some(Outcome::Succeeded)
    }
}

impl Settles for () {}
impl Settles for Vec<String> {}
impl Settles for SignedIn {}

impl Settles for Registered {
    fn settles(&self) -> Option<Outcome> {
        match self {
            Registered::SignedIn(_) => Some(Outcome::Succeeded),
            Registered::SecondFactor(_) | Registered::CheckInbox => None,
        }
    }
}

/// Runs a password-checking operation under the brute-force throttle: the attempt is
/// counted before `operation` hashes anything, refused with 429 while a backoff lasts
/// (or while too many checks of this account or address are running), and refunded
/// only when the answer proved the secret (see [`Settles`]). A browser holding this
/// account's device cookie is counted on its own instead of on the account-wide lock
/// (codes excepted). When a wrong answer engages an account-wide lock, the owner is
/// mailed. The answer never depends on whether the account exists.
pub async fn throttled<T: Settles>(
    ctx: &ServerContext,
    kind: AttemptKind,
    guessed: Guessed<'_>,
    client: &ClientInfo,
    operation: impl Future<Output = Result<T, AuthError>>,
) -> Result<T, AppError> {
    let key = guessed.key();
    let device = device_nonce(ctx, &key);
    let attempt = Attempt::new(kind, &key, &client.ip, device.as_deref());
    let throttle = ctx.auth.throttle();
    let reservation = reserve(ctx, &attempt).await?;
    let result = operation.await;
    let outcome = match &result {
        Ok(value) => value.settles(),
        Err(
            AuthError::InvalidCredentials
            | AuthError::WrongPassword
            | AuthError::EmailTaken
            | AuthError::WrongCode
            | AuthError::PasskeyFailed,
        ) => None,
        Err(_) => Some(Outcome::NotJudged),
    };
    match throttle.settle(reservation, outcome).await {
        Ok(locks) => {
            for lock in locks {
                tell_owner_of_lock(ctx, lock, guessed, client).await;
            }
        }
        // The attempt stays counted: safe, and the user's next try refunds nothing less.
        Err(err) => tracing::warn!(error = %err, "could not refund a throttle reservation"),
    }
    Ok(result?)
}

/// The nonce of this browser's device cookie, if it is valid for `key`.
fn device_nonce(ctx: &ServerContext, key: &str) -> Option<String> {
    with_request_headers(|headers| {
        cookies::read(headers, ctx.cookies.device_name())
            .and_then(|value| ctx.auth.device_cookies().verify(key, value))
    })
    .ok()
    .flatten()
}

/// Gives back the charge of the password step of a sign-in whose code has just checked
/// out: the password was right after all, and the owner's own sign-ins must not use up
/// the counters that stop guessers.
pub async fn refund_password_step(ctx: &ServerContext, email: &str, client: &ClientInfo) {
    let guessed = Guessed::Email(email).key();
    let device = device_nonce(ctx, &guessed);
    let step = Attempt::new(
        AttemptKind::Password,
        &guessed,
        &client.ip,
        device.as_deref(),
    );
    if let Err(err) = ctx.auth.throttle().refund(&step, Outcome::Succeeded).await {
        tracing::warn!(error = %err, "could not refund the password step");
    }
}

/// Mails the owner of the address `guessed` that a lock engaged. (A lock on a user id
/// is a signed-in session guessing its own password for sudo mode: the session's owner
/// already sees it; a passkey's account is not known.)
async fn tell_owner_of_lock(
    ctx: &ServerContext,
    lock: Lock,
    guessed: Guessed<'_>,
    client: &ClientInfo,
) {
    let Guessed::Email(email) = guessed else {
        return;
    };
    if let Err(err) = ctx
        .auth
        .tell_owner_of_lock(lock, email, client.clone())
        .await
    {
        tracing::warn!(error = %err, "could not queue the lock notice");
    }
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
    throttled(
        ctx,
        kind,
        Guessed::User(&session.user_id),
        client,
        ctx.auth.require_sudo(session, proof),
    )
    .await
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

/// Takes a place under the throttle for `attempt`, or the 429 to answer.
async fn reserve(ctx: &ServerContext, attempt: &Attempt) -> Result<Reservation, AppError> {
    match ctx.auth.throttle().reserve(attempt).await {
        Ok(reservation) => Ok(reservation),
        Err(ReserveError::Refused(Refusal::Throttled(wait))) => Err(too_many(wait)),
        Err(ReserveError::Refused(Refusal::Busy)) => Err(AppError::Throttled(1)),
        Err(ReserveError::Database(err)) => Err(AuthError::from(err).into()),
    }
}

/// Counts a request that sends mail (a password-reset request) in the client's
/// address bucket, and never refunds it: 429 once the bucket is spent. It guesses
/// nothing, so it is not charged to the account (a stranger must not be able to lock
/// the owner out of recovery); the mail has its own per-recipient limit. Says nothing
/// about whether the account exists.
pub async fn count_mail_request(
    ctx: &ServerContext,
    email: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let attempt = Attempt::new(AttemptKind::MailRequest, email, &client.ip, None);
    let reservation = reserve(ctx, &attempt).await?;
    // `None`: the charge stands.
    ctx.auth
        .throttle()
        .settle(reservation, None)
        .await
        .map_err(AuthError::from)?;
    Ok(())
}

/// Spends one of the client's writes without a session (see
/// `Throttle::spend_write`), or the 429 to answer.
pub async fn anonymous_write(ctx: &ServerContext, client: &ClientInfo) -> Result<(), AppError> {
    within_budget(ctx.auth.throttle().spend_write(&client.ip).await)
}

/// Whether the client may still write without a session (see
/// `Throttle::check_write`), or the 429 to answer; spends nothing.
pub async fn may_write(ctx: &ServerContext, client: &ClientInfo) -> Result<(), AppError> {
    within_budget(ctx.auth.throttle().check_write(&client.ip).await)
}

/// A budget's answer as the HTTP layer gives it: a 429 with the wait, or a 503.
fn within_budget(
    answer: Result<Result<(), std::time::Duration>, crate::store::DbError>,
) -> Result<(), AppError> {
    match answer {
        Ok(Ok(())) => Ok(()),
        Ok(Err(wait)) => Err(too_many(wait)),
        Err(err) => Err(AuthError::from(err).into()),
    }
}

/// The 429 for a wait of `wait` (`Retry-After` in whole seconds, at least 1).
fn too_many(wait: std::time::Duration) -> AppError {
    AppError::Throttled(wait.as_secs_f64().ceil().max(1.0) as u64)
}

/// Gives this browser a device cookie for the account with address `email`: proof, on
/// its next password attempts, that it signed in to that account before. Called only
/// once a device session has started (or a reset link proved the mailbox), never for
/// a password that still waits for its code.
pub fn remember_device(ctx: &ServerContext, email: &str) {
    let value = ctx.auth.device_cookies().issue(email);
    append_set_cookie(ctx.cookies.device_cookie(&value));
}

/// Adds one `Set-Cookie` header to the response being built.
pub fn append_set_cookie(value: String) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(value) = http::HeaderValue::from_str(&value)
    {
        response.append_header(SET_COOKIE, value);
    }
}

/// Adds `Set-Cookie` headers for a fresh token pair to the response.
pub fn set_session_cookies(ctx: &ServerContext, signed_in: &SignedIn) {
    append_set_cookie(ctx.cookies.access_cookie(signed_in.access.token.expose()));
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
