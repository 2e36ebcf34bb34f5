//! Where to send someone after they sign in: only to a path on this site.

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
}
