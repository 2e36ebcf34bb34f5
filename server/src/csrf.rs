//! Cross-site request forgery defence: a state-changing request must come from this
//! site. SameSite=Lax cookies already keep them off cross-site POSTs in current browsers;
//! this check also covers older browsers and sibling subdomains (ARCHITECTURE: "Browser
//! defences").

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Where a browser says a request came from (Fetch Metadata). A `HeaderName` made once:
/// looking a header up by `&str` parses and lower-cases the name on every request.
static SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// Why a request was refused, for the log.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Safe method, same origin, or a non-browser client (no `Origin`, no `Sec-Fetch-Site`).
    Allowed,
    /// `Origin` names another site (or is `null`).
    ForeignOrigin,
    /// No `Origin`, but the browser says the request is cross-site or from a sibling site.
    CrossSiteFetch,
}

/// Decides whether a request with `method` and `headers` may change state.
///
/// Browsers send `Origin` on every cross-origin POST; when it is absent (older browsers,
/// some same-origin requests) `Sec-Fetch-Site` tells where the request came from.
/// Requests with neither are not from a browser (curl, API clients), which cannot be
/// forged by a web page, so they pass.
pub fn check(method: &Method, headers: &HeaderMap) -> Verdict {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Verdict::Allowed;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, authority)| authority.trim_end_matches('/'));
        return match (origin_host, host) {
            (Some(origin), Some(host)) if origin.eq_ignore_ascii_case(host) => Verdict::Allowed,
            _ => Verdict::ForeignOrigin,
        };
    }
    match headers.get(&SEC_FETCH_SITE).and_then(|v| v.to_str().ok()) {
        Some("cross-site" | "same-site") => Verdict::CrossSiteFetch,
        _ => Verdict::Allowed,
    }
}

/// Whether `path` is one of the two endpoints the browser itself calls for a
/// device-bound session (docs/DBSC.md): its own POSTs there carry no `Origin`, and the
/// proof it signs over a single-use challenge bound to the session is what a forged
/// request could not bring. Exactly these two paths; nothing under them.
pub fn exempt(path: &str) -> bool {
    path == app::web::dbsc::REGISTRATION_PATH || path == app::web::dbsc::REFRESH_PATH
}

/// The 403 for a state-changing request from another site, or `None` to let it through
/// (the second step of [`crate::router::App::serve`], before anything reads the body).
pub fn refusal(request: &Request) -> Option<Response> {
    if exempt(request.uri().path()) {
        return None;
    }
    let verdict = check(request.method(), request.headers());
    if verdict == Verdict::Allowed {
        return None;
    }
    tracing::warn!(?verdict, path = %request.uri().path(), "cross-site request refused");
    let language = app::web::context::request_language(request.headers());
    Some(
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            Body::from(language.text("error-cross-site")),
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn same_origin_posts_pass() {
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert_eq!(check(&Method::POST, &h), Verdict::Allowed);
    }

    #[test]
    fn foreign_or_null_origins_are_refused() {
        for origin in [
            "https://evil.example",
            "http://127.0.0.1:3001",
            "null",
            "http://127.0.0.1:3000.evil.example",
        ] {
            let mut h = headers(&[("host", "127.0.0.1:3000")]);
            h.insert("origin", HeaderValue::from_str(origin).unwrap());
            assert_eq!(check(&Method::POST, &h), Verdict::ForeignOrigin, "{origin}");
        }
    }

    #[test]
    fn cross_site_fetch_metadata_without_origin_is_refused() {
        for site in ["cross-site", "same-site"] {
            let mut h = headers(&[("host", "127.0.0.1:3000")]);
            h.insert("sec-fetch-site", HeaderValue::from_static(site));
            assert_eq!(check(&Method::POST, &h), Verdict::CrossSiteFetch, "{site}");
        }
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert_eq!(check(&Method::POST, &h), Verdict::Allowed);
    }

    #[test]
    fn safe_methods_and_non_browser_clients_pass() {
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "https://evil.example"),
        ]);
        assert_eq!(check(&Method::GET, &h), Verdict::Allowed);
        assert_eq!(
            check(&Method::POST, &headers(&[("host", "127.0.0.1:3000")])),
            Verdict::Allowed
        );
    }
}
