//! The session cookies (and the language cookie): names, attributes, reading and writing.

use std::time::Duration;

use cookie::{Cookie, SameSite};
use http::HeaderMap;
use http::header::COOKIE;

/// Where refresh tokens are sent: only to the auth endpoints, never with page loads.
pub const REFRESH_PATH: &str = "/api/auth";

/// How long a device cookie is kept: a browser a user signs in on now and then stays
/// "known" for a year.
pub const DEVICE_COOKIE_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// How long a web session lives without a request: its row's expiry and its cookie's
/// `Max-Age`, renewed whenever the session is saved.
pub const WEB_SESSION_IDLE_LIFETIME: Duration = Duration::from_secs(3600);

/// Cookie names and the `Secure` flag.
///
/// With `secure`, the names carry the `__Host-`/`__Secure-` prefixes, which browsers
/// only accept with `Secure` (and, for `__Host-`, `Path=/` and no `Domain`): a script on
/// a sibling subdomain cannot plant or shadow them. Browsers treat http://localhost
/// and http://127.0.0.1 as secure, so development works with the defaults.
#[derive(Debug, Clone)]
pub struct CookieSettings {
    /// Set `Secure` and use prefixed names.
    pub secure: bool,
    /// How long the access cookie lives. Longer than the JWT inside it on purpose: an
    /// expired token in the cookie tells a page load "refresh first" instead of "log in".
    pub access_cookie_max_age: Duration,
}

impl CookieSettings {
    /// The access-token cookie's name.
    pub fn access_name(&self) -> &'static str {
        if self.secure {
            "__Host-access"
        } else {
            "access"
        }
    }

    /// The refresh-token cookie's name.
    pub fn refresh_name(&self) -> &'static str {
        if self.secure {
            "__Secure-refresh"
        } else {
            "refresh"
        }
    }

    /// The device cookie's name (OWASP's device cookie, see `auth::throttle`).
    pub fn device_name(&self) -> &'static str {
        if self.secure {
            "__Secure-device"
        } else {
            "device"
        }
    }

    /// The pre-authentication web session's cookie name (`server::web_session`).
    pub fn web_session_name(&self) -> &'static str {
        if self.secure {
            "__Host-session"
        } else {
            "session"
        }
    }

    /// `Set-Cookie` for the web session `id`, living as long as an idle session does;
    /// `None` deletes the cookie.
    pub fn web_session_cookie(&self, id: Option<&str>) -> String {
        match id {
            Some(id) => self.build(self.web_session_name(), id, "/", WEB_SESSION_IDLE_LIFETIME),
            None => self.build(self.web_session_name(), "", "/", Duration::ZERO),
        }
    }

    /// `Set-Cookie` for a device cookie: sent only to the auth endpoints, for a year.
    pub fn device_cookie(&self, value: &str) -> String {
        self.build(
            self.device_name(),
            value,
            REFRESH_PATH,
            DEVICE_COOKIE_LIFETIME,
        )
    }

    /// `Set-Cookie` for a new access token.
    pub fn access_cookie(&self, token: &str) -> String {
        self.build(self.access_name(), token, "/", self.access_cookie_max_age)
    }

    /// `Set-Cookie` for a new access token of a session bound to its device (DBSC):
    /// gone from the browser when the token expires (`lifetime`), so the browser renews
    /// it with a proof before any request needs it, instead of sending an expired token
    /// that only the refresh cookie could renew.
    pub fn bound_access_cookie(&self, token: &str, lifetime: Duration) -> String {
        self.build(self.access_name(), token, "/", lifetime)
    }

    /// The access cookie's attributes as a device-bound session's configuration names
    /// them (the browser matches the cookie it must keep by name and attributes).
    pub fn access_attributes(&self) -> &'static str {
        if self.secure {
            "Path=/; Secure; HttpOnly; SameSite=Lax"
        } else {
            "Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// `Set-Cookie` for a new refresh token, living as long as the token.
    pub fn refresh_cookie(&self, token: &str, lifetime: Duration) -> String {
        self.build(self.refresh_name(), token, REFRESH_PATH, lifetime)
    }

    /// `Set-Cookie` remembering the reader's language for a year. Not a secret, so no
    /// prefixed name: a value planted by a sibling subdomain could only change the
    /// language, which the reader changes back with one click.
    pub fn language_cookie(&self, language: crate::i18n::Language) -> String {
        self.build(
            crate::i18n::LANGUAGE_COOKIE,
            language.code(),
            "/",
            DEVICE_COOKIE_LIFETIME,
        )
    }

    /// `Set-Cookie` headers that delete both cookies.
    pub fn clearing_cookies(&self) -> [String; 2] {
        [
            self.build(self.access_name(), "", "/", Duration::ZERO),
            self.build(self.refresh_name(), "", REFRESH_PATH, Duration::ZERO),
        ]
    }

    fn build(
        &self,
        name: &'static str,
        value: &str,
        path: &'static str,
        max_age: Duration,
    ) -> String {
        Cookie::build((name, value.to_owned()))
            .path(path)
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::seconds(
                i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
            ))
            .build()
            .to_string()
    }
}

/// The value of cookie `name` in the request, if present exactly once and well-formed.
///
/// Malformed `Cookie` headers are skipped rather than failing the request: a broken
/// cookie set by something else on the domain must not lock the user out. A duplicated
/// session cookie (a sign of cookie tossing) is treated as absent, and so is a value that
/// is not visible ASCII (no cookie of ours is anything else).
///
/// A scan of `name=value` byte pairs that borrows the value it returns, rather than the
/// `cookie` crate's parser: every request passes through here several times (access
/// token, web session, language), and checking the whole header or copying the ~450-byte
/// access token cost more than finding it (docs/PERFORMANCE.md).
pub fn read<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut found = headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|value| pairs(value.as_bytes()))
        .filter_map(|pair| {
            let eq = memchr::memchr(b'=', pair)?;
            Some((&pair[..eq], &pair[eq + 1..]))
        })
        .filter(|(key, _)| key.trim_ascii() == name.as_bytes())
        .map(|(_, value)| value.trim_ascii());
    let first = found.next()?;
    if found.next().is_some() {
        return None;
    }
    // A fold rather than `all`: without an early exit the check is vectorised.
    let visible = first.iter().fold(true, |ok, b| ok & b.is_ascii_graphic());
    visible.then(|| std::str::from_utf8(first).ok()).flatten()
}

/// The `;`-separated parts of one `Cookie` header, found with a SIMD search.
fn pairs(header: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(header);
    std::iter::from_fn(move || {
        let text = rest?;
        match memchr::memchr(b';', text) {
            Some(at) => {
                rest = Some(&text[at + 1..]);
                Some(&text[..at])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn settings(secure: bool) -> CookieSettings {
        CookieSettings {
            secure,
            access_cookie_max_age: Duration::from_secs(3600),
        }
    }

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for c in cookies {
            map.append(COOKIE, HeaderValue::from_str(c).unwrap());
        }
        map
    }

    #[test]
    fn cookies_are_http_only_lax_and_scoped() {
        let s = settings(true);
        let access = s.access_cookie("tok");
        assert!(access.starts_with("__Host-access=tok;"), "{access}");
        for attr in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=3600",
        ] {
            assert!(access.contains(attr), "{access} lacks {attr}");
        }
        let refresh = s.refresh_cookie("r", Duration::from_secs(60));
        assert!(
            refresh.starts_with("__Secure-refresh=r;") && refresh.contains("Path=/api/auth"),
            "{refresh}"
        );
        assert!(
            !access.contains("Domain"),
            "__Host- cookies must not have a Domain"
        );
    }

    /// A bound session's configuration names the access cookie by its attributes, and
    /// Chrome matches them against the real `Set-Cookie`: the two must not drift apart.
    #[test]
    fn the_attributes_a_bound_session_names_are_the_access_cookies_own() {
        for secure in [true, false] {
            let s = settings(secure);
            let set = Cookie::parse(s.bound_access_cookie("tok", Duration::from_secs(60))).unwrap();
            let named = Cookie::parse(format!(
                "{}=tok; {}",
                s.access_name(),
                s.access_attributes()
            ))
            .unwrap();
            assert_eq!(
                (set.path(), set.secure(), set.http_only(), set.same_site()),
                (
                    named.path(),
                    named.secure(),
                    named.http_only(),
                    named.same_site()
                ),
                "secure: {secure}"
            );
        }
    }

    #[test]
    fn insecure_mode_drops_the_prefixes_and_secure() {
        let s = settings(false);
        let access = s.access_cookie("tok");
        assert!(
            access.starts_with("access=tok;") && !access.contains("Secure"),
            "{access}"
        );
    }

    #[test]
    fn clearing_expires_both_cookies_on_their_paths() {
        let [access, refresh] = settings(true).clearing_cookies();
        assert!(access.contains("Max-Age=0") && access.contains("Path=/"));
        assert!(refresh.contains("Max-Age=0") && refresh.contains("Path=/api/auth"));
    }

    #[test]
    fn reading_finds_the_cookie_among_others_and_across_headers() {
        assert_eq!(
            read(&headers(&["a=1; __Host-access=tok; b=2"]), "__Host-access"),
            Some("tok")
        );
        assert_eq!(
            read(&headers(&["a=1", "__Host-access=tok"]), "__Host-access"),
            Some("tok")
        );
        assert_eq!(read(&headers(&["a=1"]), "__Host-access"), None);
        assert_eq!(
            read(&headers(&[" __Host-access = tok ;b=2"]), "__Host-access"),
            Some("tok"),
            "whitespace around names and values is not part of them"
        );
        assert_eq!(
            read(
                &headers(&["x__Host-access=no; __Host-accessx=no"]),
                "__Host-access"
            ),
            None,
            "only the exact name"
        );
    }

    #[test]
    fn malformed_and_duplicated_cookies_are_not_trusted() {
        assert_eq!(read(&headers(&["=;;;==; garbage"]), "__Host-access"), None);
        assert_eq!(
            read(
                &headers(&["__Host-access=one; __Host-access=two"]),
                "__Host-access"
            ),
            None
        );
        assert_eq!(
            read(
                &headers(&["__Host-access=one", "__Host-access=two"]),
                "__Host-access"
            ),
            None,
            "tossed in a second header"
        );
        let mut map = HeaderMap::new();
        map.append(
            COOKIE,
            HeaderValue::from_bytes(b"__Host-access=\xff\xfe").unwrap(),
        );
        assert_eq!(read(&map, "__Host-access"), None);
        for value in ["a b", "a\tb", "a\"b"] {
            let cookie = format!("__Host-access={value}");
            assert_eq!(
                read(&headers(&[&cookie]), "__Host-access"),
                (value == "a\"b").then_some(value),
                "{value:?}: only visible ASCII is a value"
            );
        }
    }

    #[test]
    fn another_cookies_stray_bytes_do_not_hide_ours() {
        let mut map = HeaderMap::new();
        map.append(
            COOKIE,
            HeaderValue::from_bytes(b"theme=\xc3\xa9t\xc3\xa9; __Host-access=tok").unwrap(),
        );
        assert_eq!(read(&map, "__Host-access"), Some("tok"));
        assert_eq!(read(&map, "theme"), None);
    }

    proptest::proptest! {
        /// Arbitrary Cookie header bytes never panic the reader, and only a well-formed,
        /// single occurrence of the name is ever returned.
        #[test]
        fn arbitrary_cookie_headers_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let mut map = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                map.append(COOKIE, value);
            }
            if let Some(value) = read(&map, "__Host-access") {
                proptest::prop_assert!(value.bytes().all(|b| b.is_ascii_graphic() && b != b';'));
            }
        }
    }
}
