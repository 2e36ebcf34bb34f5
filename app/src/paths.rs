//! Every URL of the app, and the query values that pages and server functions pass to
//! each other: one definition each, so the page that reads a value and the code that
//! writes it cannot drift apart.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// One page of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page(&'static str);

impl Page {
    /// The route segment, for `StaticSegment` in the route table.
    pub const fn segment(self) -> &'static str {
        self.0
    }

    /// The path, for links, redirects and navigation.
    pub fn path(self) -> String {
        format!("/{}", self.0)
    }
}

/// `/`
pub const HOME: Page = Page("");
/// `/login`
pub const LOGIN: Page = Page("login");
/// `/signup`
pub const SIGNUP: Page = Page("signup");
/// `/refresh`: renews an expired access token, then continues to `next`.
pub const REFRESH: Page = Page("refresh");
/// `/account`
pub const ACCOUNT: Page = Page("account");
/// `/devices`
pub const DEVICES: Page = Page("devices");
/// `/activity`
pub const ACTIVITY: Page = Page("activity");
/// `/forgot`: asks for a password-reset link.
pub const FORGOT: Page = Page("forgot");
/// `/reset`: the password-reset link's page.
pub const RESET: Page = Page("reset");
/// `/reset-review`: after a reset, the account's passkeys and second factor, to remove
/// any its owner did not add.
pub const RESET_REVIEW: Page = Page("reset-review");
/// `/verify-email`: the address-verification link's page.
pub const VERIFY_EMAIL: Page = Page("verify-email");
/// `/confirm-email`: the address-change link's page.
pub const CONFIRM_EMAIL: Page = Page("confirm-email");
/// `/sign-in-code`: the second step of signing in (a code from the authenticator app).
pub const SIGN_IN_CODE: Page = Page("sign-in-code");
/// The development mailbox (development mode without `SMTP_URL` only; not a Leptos page).
pub const DEV_MAILBOX: &str = "/dev/mailbox";

/// Query parameter names, shared by the code that writes a URL and the page that reads it.
pub mod param {
    /// Where to go after signing in (`/login`, `/signup`, `/refresh`).
    pub const NEXT: &str = "next";
    /// Why the login page was shown (see [`super::LoginReason`]).
    pub const REASON: &str = "reason";
    /// Which device `/devices` asks to confirm signing out.
    pub const CONFIRM: &str = "confirm";
    /// What `/devices` confirms after a plain form post (see [`super::DevicesDone`]).
    pub const DONE: &str = "done";
    /// How many devices were signed out, with `done=others`.
    pub const COUNT: &str = "count";
    /// How many devices a password change signed out (`/account`).
    pub const PASSWORD_CHANGED: &str = "password_changed";
    /// The activity page's paging cursor.
    pub const BEFORE: &str = "before";
    /// The token of a link sent by mail; the server moves it into the web session and
    /// redirects to the same page without it.
    pub const TOKEN: &str = "token";
    /// `/forgot?sent=1`: the link was requested (after a plain form post).
    pub const SENT: &str = "sent";
}

/// Why a browser was sent to the login page; the page tells the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginReason {
    /// This device was signed out (from another device, or after suspected theft).
    Revoked,
    /// The session ran out.
    Ended,
    /// An OpenID provider's answer did not check out (said here, not in a web session,
    /// for a browser that has none: a stranger's request must not make one).
    ProviderFailed,
    /// An OpenID provider did not answer.
    ProviderUnavailable,
    /// Too many attempts from this client address.
    Throttled,
}

impl LoginReason {
    const ALL: [Self; 5] = [
        Self::Revoked,
        Self::Ended,
        Self::ProviderFailed,
        Self::ProviderUnavailable,
        Self::Throttled,
    ];

    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::Ended => "ended",
            Self::ProviderFailed => "provider",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::Throttled => "throttled",
        }
    }

    /// Reads the query value back.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|reason| reason.as_str() == value)
    }

    /// The message the login page shows for it.
    pub fn notice_key(self) -> &'static str {
        match self {
            Self::Revoked => "login-reason-revoked",
            Self::Ended => "login-reason-ended",
            Self::ProviderFailed => "error-provider-failed",
            Self::ProviderUnavailable => "error-provider-unavailable",
            Self::Throttled => "login-reason-throttled",
        }
    }
}

/// `/login?next=<path>`, with an optional reason the login page explains.
pub fn login_url(next: &str, reason: Option<LoginReason>) -> String {
    let mut url = format!("{}?{}={}", LOGIN.path(), param::NEXT, encode(next));
    if let Some(reason) = reason {
        url.push_str(&format!("&{}={}", param::REASON, reason.as_str()));
    }
    url
}

/// `/refresh?next=<path>`: the page that renews an expired access token, then continues.
pub fn refresh_url(next: &str) -> String {
    format!("{}?{}={}", REFRESH.path(), param::NEXT, encode(next))
}

/// Where a provider sends the browser back: `PUBLIC_URL` + this is the redirect URI
/// registered at the provider.
pub fn oidc_callback(provider_id: &str) -> String {
    format!("/auth/oidc/{}/callback", encode(provider_id))
}

/// Where the buttons that leave for a provider post to.
pub fn oidc_start(provider_id: &str) -> String {
    format!("/auth/oidc/{}/start", encode(provider_id))
}

/// `/sign-in-code?next=<path>`: the code step of a sign-in, then `next`.
pub fn sign_in_code_url(next: &str) -> String {
    format!("{}?{}={}", SIGN_IN_CODE.path(), param::NEXT, encode(next))
}

/// `/signup`, keeping `next` if there is one.
pub fn signup_url(next: &str) -> String {
    if next.is_empty() {
        SIGNUP.path()
    } else {
        format!("{}?{}={}", SIGNUP.path(), param::NEXT, encode(next))
    }
}

/// What `/devices` confirms after signing devices out with a plain form post (the
/// hydrated page shows the server function's answer instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevicesDone {
    /// One other device was signed out.
    One,
    /// Every other device was signed out: this many.
    Others(usize),
}

impl DevicesDone {
    /// The `/devices` URL that confirms it.
    pub fn url(self) -> String {
        match self {
            Self::One => format!("{}?{}=one", DEVICES.path(), param::DONE),
            Self::Others(count) => format!(
                "{}?{}=others&{}={count}",
                DEVICES.path(),
                param::DONE,
                param::COUNT
            ),
        }
    }

    /// Reads it back from the page's query (`get` looks a parameter up).
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        match get(param::DONE).as_deref() {
            Some("one") => Some(Self::One),
            Some("others") => Some(Self::Others(
                get(param::COUNT).and_then(|c| c.parse().ok()).unwrap_or(0),
            )),
            _ => None,
        }
    }
}

/// `/devices?confirm=<id>`: the step that asks before signing a device out.
pub fn confirm_sign_out_url(session_id: &str) -> String {
    format!(
        "{}?{}={}",
        DEVICES.path(),
        param::CONFIRM,
        encode(session_id)
    )
}

/// `/account?password_changed=<n>`: confirms a password change made with a plain form
/// post, and how many other devices it signed out.
pub fn password_changed_url(signed_out: usize) -> String {
    format!(
        "{}?{}={signed_out}",
        ACCOUNT.path(),
        param::PASSWORD_CHANGED
    )
}

/// `/forgot?sent=1`: confirms a reset request made with a plain form post.
pub fn forgot_sent_url() -> String {
    format!("{}?{}=1", FORGOT.path(), param::SENT)
}

/// `/verify-email?done=1` or `/confirm-email?done=1`: confirms a link used with a plain
/// form post.
pub fn link_done_url(page: Page) -> String {
    format!("{}?{}=1", page.path(), param::DONE)
}

/// What `/account` confirms after a plain form post about the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountNotice {
    /// A new verification link was sent.
    VerificationSent,
    /// A link to confirm the new address was sent.
    ChangeSent,
}

impl AccountNotice {
    const ALL: [Self; 2] = [Self::VerificationSent, Self::ChangeSent];

    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerificationSent => "verification_sent",
            Self::ChangeSent => "change_sent",
        }
    }

    /// Reads the query value back.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == value)
    }

    /// The message the page shows for it.
    pub fn message_key(self) -> &'static str {
        match self {
            Self::VerificationSent => "account-notice-verification-sent",
            Self::ChangeSent => "account-notice-change-sent",
        }
    }
}

/// `/account?done=<notice>`.
pub fn account_notice_url(notice: AccountNotice) -> String {
    format!("{}?{}={}", ACCOUNT.path(), param::DONE, notice.as_str())
}

/// `/activity?before=<event id>`: the next page of older events.
pub fn older_activity_url(before: &str) -> String {
    format!("{}?{}={}", ACTIVITY.path(), param::BEFORE, encode(before))
}

/// What [`encode`] escapes: everything but RFC 3986's unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) and `/`, which keeps an encoded path readable. Bytes outside
/// ASCII are always escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes a path for use as a query value (`%XX`, upper-case hex).
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
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
            login_url("/a?b=c&reason=x", Some(LoginReason::Ended)),
            "/login?next=/a%3Fb%3Dc%26reason%3Dx&reason=ended"
        );
        assert_eq!(refresh_url("/account"), "/refresh?next=/account");
        // Each byte of a multi-byte character is encoded; unreserved ones are kept.
        assert_eq!(encode("/é x~_.-"), "/%C3%A9%20x~_.-");
    }

    #[test]
    fn encode_keeps_exactly_the_unreserved_characters_and_the_slash() {
        for byte in 0..=0x7f_u8 {
            let c = char::from(byte);
            let kept = c.is_ascii_alphanumeric() || "-._~/".contains(c);
            let expected = if kept {
                c.to_string()
            } else {
                format!("%{byte:02X}")
            };
            assert_eq!(encode(&c.to_string()), expected, "{c:?}");
        }
        assert_eq!(encode("?&=#%+"), "%3F%26%3D%23%25%2B");
        // Upper-case hex, every byte of a character outside ASCII.
        assert_eq!(encode("ü€"), "%C3%BC%E2%82%AC");
        assert_eq!(encode(""), "");
    }

    #[test]
    fn query_values_read_back_what_was_written() {
        for reason in LoginReason::ALL {
            let url = login_url("/x", Some(reason));
            let value = url.rsplit_once("reason=").unwrap().1;
            assert_eq!(LoginReason::parse(value), Some(reason));
        }
        for done in [DevicesDone::One, DevicesDone::Others(3)] {
            let url = done.url();
            let query = url.split_once('?').unwrap().1;
            let get = |name: &str| {
                query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                    .map(str::to_owned)
            };
            assert_eq!(DevicesDone::from_query(get), Some(done));
        }
        assert_eq!(password_changed_url(2), "/account?password_changed=2");
        assert_eq!(confirm_sign_out_url("a b"), "/devices?confirm=a%20b");
    }
}
