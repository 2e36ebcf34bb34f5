//! Who is on the other end of a request: IP address and browser, as far as we can tell.

use crate::i18n::Language;

/// Longest User-Agent kept; real ones are under 300 characters.
const MAX_USER_AGENT: usize = 512;

/// The client facts recorded with a session and in security events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client IP address (from the socket, or a trusted proxy's header).
    pub ip: String,
    /// The User-Agent header, truncated.
    pub user_agent: String,
    /// The device session this browser already holds, from its cookies: signing in again
    /// on the same browser ends it, so one browser never holds two live sessions.
    pub held_session: Option<HeldSession>,
    /// The language the request asked for: mail caused by it is written in it.
    pub language: Language,
    /// The name an app without a browser gave itself ("Notes for iOS"): the devices
    /// page shows it instead of what the User-Agent says.
    pub app: Option<String>,
    /// The tokens go back in the answer's body (an app), not into cookies: nothing will
    /// bind the session to a key (DBSC), so it is not invited to.
    pub tokens_in_body: bool,
}

/// How a request's cookies point at a device session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldSession {
    /// The `sid` of a genuine access token (possibly expired).
    Id(String),
    /// The hash of the refresh token, when the access cookie is gone.
    RefreshHash(String),
}

impl ClientInfo {
    /// Builds the record, truncating an oversized User-Agent on a character boundary.
    pub fn new(ip: impl Into<String>, user_agent: &str) -> Self {
        let mut end = user_agent.len().min(MAX_USER_AGENT);
        while !user_agent.is_char_boundary(end) {
            end -= 1;
        }
        Self {
            ip: ip.into(),
            user_agent: user_agent[..end].to_owned(),
            held_session: None,
            language: Language::default(),
            app: None,
            tokens_in_body: false,
        }
    }

    /// A label people recognise, such as "Chrome 131 on Linux", an app's own name, or
    /// "Unknown device": the stored form, shown through [`localized_device_label`].
    pub fn device_label(&self) -> String {
        if let Some(app) = &self.app {
            return app.clone();
        }
        let ua = woothee::parser::Parser::new().parse(&self.user_agent);
        match ua {
            Some(result) if result.name != "UNKNOWN" => {
                let major = result.version.split('.').next().unwrap_or_default();
                let browser = if major.is_empty() || major == "UNKNOWN" {
                    result.name.to_owned()
                } else {
                    format!("{} {major}", result.name)
                };
                if result.os == "UNKNOWN" {
                    browser
                } else {
                    format!("{browser} on {}", result.os)
                }
            }
            _ => UNKNOWN_DEVICE.to_owned(),
        }
    }
}

/// The stored label of a device no User-Agent names.
pub const UNKNOWN_DEVICE: &str = "Unknown device";

/// A stored device label ("Chrome 131 on Linux", "Unknown device") in `language`.
///
/// Labels are stored in one form (they are facts about a row, read by every language),
/// so the words around the product names are translated when they are shown.
pub fn localized_device_label(language: Language, stored: &str) -> String {
    if stored.is_empty() || stored == UNKNOWN_DEVICE {
        return language.text("device-unknown");
    }
    match stored.rsplit_once(" on ") {
        Some((browser, os)) => language.text_with(
            "device-label",
            &[("browser", browser.into()), ("os", os.into())],
        ),
        None => stored.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_get_readable_labels() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(
            ClientInfo::new("1.2.3.4", chrome).device_label(),
            "Chrome 131 on Linux"
        );
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(
            ClientInfo::new("1.2.3.4", firefox).device_label(),
            "Firefox 133 on Windows 10"
        );
    }

    #[test]
    fn unknown_or_missing_user_agents_fall_back() {
        assert_eq!(
            ClientInfo::new("1.2.3.4", "").device_label(),
            "Unknown device"
        );
        assert_eq!(
            ClientInfo::new("1.2.3.4", "zq7/?").device_label(),
            "Unknown device"
        );
        // Tools are named, which is more use to a user than "Unknown device".
        assert!(
            ClientInfo::new("1.2.3.4", "curl/8.5.0")
                .device_label()
                .contains("curl")
        );
    }

    #[test]
    fn oversized_user_agents_are_truncated_on_a_char_boundary() {
        let ua = "é".repeat(400);
        let info = ClientInfo::new("1.2.3.4", &ua);
        assert!(info.user_agent.len() <= MAX_USER_AGENT);
        assert!(info.user_agent.chars().all(|c| c == 'é'));
    }
}
