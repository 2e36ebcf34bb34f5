//! URLs the app builds in more than one place.

/// `/login?next=<path>`, with an optional reason code the login page explains
/// (`revoked`: this device was signed out; `ended`: the session expired).
pub fn login_url(next: &str, reason: Option<&str>) -> String {
    let mut url = format!("/login?next={}", encode(next));
    if let Some(reason) = reason {
        url.push_str("&reason=");
        url.push_str(reason);
    }
    url
}

/// `/refresh?next=<path>`: the page that renews an expired access token, then continues.
pub fn refresh_url(next: &str) -> String {
    format!("/refresh?next={}", encode(next))
}

/// Percent-encodes a path for use as a query value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Returns `next` if it is a same-site path, else `/`.
///
/// An absolute URL (`https://evil.example`), a scheme-relative one (`//evil.example`),
/// a backslash trick (`/\evil.example`, which some browsers read as `//`) or anything
/// with control characters is an open redirect waiting to happen, so it is ignored.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(|c| c.is_control() || c == '\\')
                && path.len() <= 2048 =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_site_paths_are_kept() {
        assert_eq!(safe_next(Some("/devices")), "/devices");
        assert_eq!(safe_next(Some("/a/b?c=d#e")), "/a/b?c=d#e");
    }

    #[test]
    fn anything_that_could_leave_the_site_becomes_home() {
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil",
            "evil",
            "",
            "javascript:alert(1)",
            "/\nLocation: x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn next_is_encoded_so_it_cannot_add_parameters() {
        assert_eq!(login_url("/account", None), "/login?next=/account");
        assert_eq!(
            login_url("/a?b=c&reason=x", Some("ended")),
            "/login?next=/a%3Fb%3Dc%26reason%3Dx&reason=ended"
        );
        assert_eq!(refresh_url("/account"), "/refresh?next=/account");
    }
}
