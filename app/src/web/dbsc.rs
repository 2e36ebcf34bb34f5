//! The HTTP side of device-bound sessions (DBSC, docs/DBSC.md): the endpoints' paths,
//! the headers of the W3C draft as Chrome speaks them, and the session configuration a
//! registration answers with.
//!
//! Chrome 156 sends and reads the `Secure-Session-*` names; the draft's earlier
//! `Sec-Session-*` names are read too, from browsers that still send them.

use http::HeaderMap;

use super::cookies::CookieSettings;

/// Where a browser posts its registration proof. Under `/api/auth`, so the refresh
/// cookie (whose path that is) comes along to the refresh endpoint.
pub const REGISTRATION_PATH: &str = "/api/auth/dbsc/register";
/// Where a browser renews a bound session's access cookie.
pub const REFRESH_PATH: &str = "/api/auth/dbsc/refresh";

/// The header that invites a browser to bind the new session to a key.
pub const REGISTRATION_HEADER: &str = "secure-session-registration";
/// The header of a refresh's 403: the challenge to sign, and the session it is for.
pub const CHALLENGE_HEADER: &str = "secure-session-challenge";
/// The headers a proof arrives in, the current name first.
const PROOF_HEADERS: [&str; 2] = ["secure-session-response", "sec-session-response"];
/// The headers that name the session a refresh is for.
const SESSION_ID_HEADERS: [&str; 2] = ["sec-secure-session-id", "sec-session-id"];

/// The algorithms offered, in Chrome's order of preference.
const ALGORITHMS: &str = "(ES256 RS256)";

/// `Secure-Session-Registration` for `challenge`: a structured-field list of the
/// algorithms with the endpoint and the challenge as parameters.
pub fn registration(challenge: &str) -> String {
    format!("{ALGORITHMS};path=\"{REGISTRATION_PATH}\";challenge=\"{challenge}\"")
}

/// `Secure-Session-Challenge` for `challenge` and `session_id`.
pub fn challenge(challenge: &str, session_id: &str) -> String {
    format!("\"{challenge}\";id=\"{session_id}\"")
}

/// The proof the request carries, if any.
pub fn proof(headers: &HeaderMap) -> Option<&str> {
    first_of(headers, &PROOF_HEADERS)
}

/// The session a refresh names, if any.
pub fn session_id(headers: &HeaderMap) -> Option<&str> {
    first_of(headers, &SESSION_ID_HEADERS)
}

/// The first of `names` present, as text, with a structured-field string's quotes
/// taken off (Chrome quotes the session id; a proof may come either way).
fn first_of<'h>(headers: &'h HeaderMap, names: &[&str]) -> Option<&'h str> {
    let value = names.iter().find_map(|name| headers.get(*name))?;
    let text = value.to_str().ok()?.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    (!text.is_empty()).then_some(text)
}

/// The session configuration a registration or refresh answers with: which session, where
/// to renew it, and the cookie it keeps alive (by name and attributes, as set).
pub fn session_config(cookies: &CookieSettings, session_id: &str) -> serde_json::Value {
    serde_json::json!({
        "session_identifier": session_id,
        "refresh_url": REFRESH_PATH,
        "scope": {
            "include_site": false,
            "scope_specification": [],
        },
        "credentials": [{
            "type": "cookie",
            "name": cookies.access_name(),
            "attributes": cookies.access_attributes(),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn the_registration_header_offers_both_algorithms_with_quoted_parameters() {
        assert_eq!(
            registration("abc"),
            "(ES256 RS256);path=\"/api/auth/dbsc/register\";challenge=\"abc\""
        );
        assert_eq!(challenge("c", "s"), "\"c\";id=\"s\"");
    }

    #[test]
    fn proofs_and_session_ids_are_read_under_both_names_quoted_or_not() {
        let mut headers = HeaderMap::new();
        headers.insert("sec-session-response", HeaderValue::from_static("a.b.c"));
        headers.insert("sec-secure-session-id", HeaderValue::from_static("\"sid\""));
        assert_eq!(proof(&headers), Some("a.b.c"));
        assert_eq!(session_id(&headers), Some("sid"));
        headers.insert(
            "secure-session-response",
            HeaderValue::from_static("\"x.y.z\""),
        );
        assert_eq!(proof(&headers), Some("x.y.z"));
        headers.insert("sec-secure-session-id", HeaderValue::from_static("\"\""));
        assert_eq!(session_id(&headers), None);
    }
}
