//! The browser's side of a device-bound session in the HTTP tests: its key
//! (`app::auth::dbsc_proof::testing`) and reading the server's headers.

// Not every test binary that shares `support` plays a browser.
#[allow(unused_imports)]
pub use app::auth::dbsc_proof::testing::{BrowserKey, b64};

/// The challenge of a `Secure-Session-Registration` value:
/// `(ES256 RS256);path="...";challenge="<c>"`.
pub fn registration_challenge(header: &str) -> String {
    parameter(header, "challenge").expect("a challenge parameter")
}

/// The challenge of a `Secure-Session-Challenge` value: `"<c>";id="<sid>"`.
pub fn refresh_challenge(header: &str) -> String {
    header
        .split(';')
        .next()
        .unwrap()
        .trim()
        .trim_matches('"')
        .to_owned()
}

/// The quoted parameter `name` of a structured-field item.
pub fn parameter(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|part| {
        let (key, value) = part.trim().split_once('=')?;
        (key == name).then(|| value.trim_matches('"').to_owned())
    })
}
