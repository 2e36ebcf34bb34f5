//! [`Secret`]: text that must never reach a log, a panic message or an error page.

use serde::{Deserialize, Serialize};

/// A password, a password hash, key material or a URL with credentials. `Debug` and
/// `Display` print `[redacted]`, so a secret inside any struct that derives `Debug` (a
/// configuration, a server function's arguments, a database row) stays out of logs.
/// The text itself is reached only through [`Secret::expose`], which names the moment
/// it leaves the box. On the wire (forms, JSON) it is the plain string.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Boxes `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text, for the one place that needs it (hashing, parsing, connecting).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

/// Read back from the database (`#[diesel(deserialize_as = String)]`).
impl From<Secret> for String {
    fn from(secret: Secret) -> Self {
        secret.0
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neither_debug_nor_display_shows_the_text() {
        let secret = Secret::from("hunter2 hunter2");
        assert!(!format!("{secret:?} {secret} {:?}", Some(&secret)).contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2 hunter2");
    }

    #[test]
    fn on_the_wire_it_is_the_plain_string() {
        let secret = Secret::from("p@ss word");
        assert_eq!(serde_json::to_string(&secret).unwrap(), r#""p@ss word""#);
        let back: Secret = serde_json::from_str(r#""p@ss word""#).unwrap();
        assert_eq!(back, secret);
    }
}
