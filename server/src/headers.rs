//! Security headers on every response (ARCHITECTURE: "Browser defences").

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue, header};

/// A policy that forbids framing, plugins, foreign form targets and `<base>` tricks.
/// (It does not restrict scripts yet: that needs a per-response nonce on Leptos'
/// hydration script.)
pub const CONTENT_SECURITY_POLICY: &str =
    "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'";

/// Two years, subdomains included: the value hstspreload.org asks for. Sent only on
/// responses that travelled over TLS, as RFC 6797 §7.2 requires.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000; includeSubDomains";

/// Adds the security headers to a response, and `Cache-Control: no-store` to everything
/// but the static bundle (`static_file`), because pages and API answers depend on who is
/// signed in. `over_tls` (see [`served_over_tls`]) adds HSTS. Called by [`crate::edge`]
/// for every response, refusals included.
pub fn add(headers: &mut HeaderMap, static_file: bool, over_tls: bool) {
    // Room for all of them at once: a map that grows while they go in moves every entry
    // it already holds.
    headers.reserve(6);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A response may ask for less (the redirect away from a mailed link says
    // `no-referrer`); the default keeps full URLs within the site only.
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    if !static_file {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if over_tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
}

/// Whether `path` is part of the static bundle, which may be cached.
pub fn is_static_file(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// Whether the browser reached us over HTTPS. Gatehouse speaks plain HTTP and leaves TLS
/// to a reverse proxy, so only a trusted proxy's `X-Forwarded-Proto: https` says so; the
/// same header from anyone else is ignored (it would let a client switch HSTS on for a
/// plain-HTTP deployment and lock its users out).
pub fn served_over_tls(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> bool {
    let Some(peer) = peer else { return false };
    trusted.contains(&peer)
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROXY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn forwarded(proto: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-proto", HeaderValue::from_str(proto).unwrap());
        headers
    }

    #[test]
    fn tls_is_believed_only_from_a_trusted_proxy() {
        assert!(served_over_tls(Some(PROXY), &forwarded("https"), &[PROXY]));
        assert!(served_over_tls(
            Some(PROXY),
            &forwarded("HTTPS, http"),
            &[PROXY]
        ));
        assert!(!served_over_tls(Some(PROXY), &forwarded("https"), &[]));
        assert!(!served_over_tls(Some(PROXY), &forwarded("http"), &[PROXY]));
        assert!(!served_over_tls(Some(PROXY), &HeaderMap::new(), &[PROXY]));
        assert!(!served_over_tls(None, &forwarded("https"), &[PROXY]));
    }
}
