//! `OIDC_PROVIDERS_FILE`: the OpenID providers people may sign in with, one
//! `[[provider]]` table each (docs/OIDC.md has an example for Google and GitLab).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::secret::Secret;

/// One configured provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// In URLs (`/auth/oidc/<id>/callback`) and in the database: lower-case letters,
    /// digits and dashes. Changing it orphans the identities linked through it.
    pub id: String,
    /// The button's label: "Sign in with <name>".
    pub name: String,
    /// The issuer URL, exactly as the provider's discovery document and ID tokens say it.
    pub issuer: String,
    /// The client id the provider gave Gatehouse.
    pub client_id: String,
    /// The client secret (from `client_secret` or `client_secret_file`).
    pub client_secret: Secret,
    /// Scopes asked for besides `openid` (default `email profile`).
    pub scopes: Vec<String>,
    /// The provider's verified addresses are trusted: see
    /// [`crate::auth::identities::ProviderPolicy`].
    pub trust_email: bool,
}

/// Why the providers file was refused (start-up stops: a typo must not silently take a
/// sign-in button away).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file (or a secret file) could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or a key is missing or of the wrong type.
    #[error("{path}: {message}")]
    Syntax {
        /// Which file.
        path: PathBuf,
        /// The parser's words.
        message: String,
    },
    /// A value is not acceptable.
    #[error("{path}: provider {id:?}: {message}")]
    Invalid {
        /// Which file.
        path: PathBuf,
        /// Which provider.
        id: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    provider: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    name: String,
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
    client_secret_file: Option<PathBuf>,
    scopes: Option<Vec<String>>,
    #[serde(default)]
    trust_email: bool,
}

/// Reads and checks the providers file.
pub fn load(path: &Path) -> Result<Vec<ProviderConfig>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Parses and checks the text of a providers file (`path` only names it in errors and
/// anchors relative `client_secret_file`s).
pub fn parse(text: &str, path: &Path) -> Result<Vec<ProviderConfig>, ConfigError> {
    let file: File = toml::from_str(text).map_err(|err| ConfigError::Syntax {
        path: path.to_owned(),
        message: err.to_string(),
    })?;
    let mut providers: Vec<ProviderConfig> = Vec::new();
    for entry in file.provider {
        let invalid = |message: &str| ConfigError::Invalid {
            path: path.to_owned(),
            id: entry.id.clone(),
            message: message.to_owned(),
        };
        let id_ok = !entry.id.is_empty()
            && entry.id.len() <= 32
            && entry
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(invalid(
                "id must be 1 to 32 lower-case letters, digits or dashes",
            ));
        }
        if providers.iter().any(|p| p.id == entry.id) {
            return Err(invalid("two providers have this id"));
        }
        if entry.name.trim().is_empty() {
            return Err(invalid("name is empty"));
        }
        let issuer_ok = url::Url::parse(&entry.issuer).is_ok_and(|url| {
            url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url))
        });
        if !issuer_ok {
            return Err(invalid(
                "issuer must be an https URL (http only on this machine, for tests)",
            ));
        }
        let secret = match (entry.client_secret, entry.client_secret_file) {
            (Some(secret), None) => secret,
            (None, Some(file)) => {
                let file = path.parent().unwrap_or(Path::new(".")).join(file);
                std::fs::read_to_string(&file)
                    .map_err(|source| ConfigError::Read { path: file, source })?
                    .trim()
                    .to_owned()
            }
            _ => {
                return Err(invalid(
                    "give exactly one of client_secret and client_secret_file",
                ));
            }
        };
        if secret.is_empty() || entry.client_id.is_empty() {
            return Err(invalid("client_id and the client secret must not be empty"));
        }
        let scopes = entry
            .scopes
            .unwrap_or_else(|| vec!["email".to_owned(), "profile".to_owned()])
            .into_iter()
            .filter(|scope| scope != "openid")
            .collect();
        providers.push(ProviderConfig {
            id: entry.id,
            name: entry.name.trim().to_owned(),
            issuer: entry.issuer,
            client_id: entry.client_id,
            client_secret: Secret::from(secret),
            scopes,
            trust_email: entry.trust_email,
        });
    }
    Ok(providers)
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Vec<ProviderConfig>, ConfigError> {
        parse(text, Path::new("providers.toml"))
    }

    #[test]
    fn a_provider_is_read_with_its_defaults() {
        let providers = parsed(
            r#"
            [[provider]]
            id = "google"
            name = "Google"
            issuer = "https://accounts.google.com"
            client_id = "abc.apps.googleusercontent.com"
            client_secret = "s3cret"
            "#,
        )
        .unwrap();
        assert_eq!(providers.len(), 1);
        assert_eq!(providers[0].scopes, ["email", "profile"]);
        assert!(!providers[0].trust_email);
        assert!(!format!("{:?}", providers[0]).contains("s3cret"));
    }

    #[test]
    fn mistakes_are_refused_with_the_provider_named() {
        let base = |extra: &str| {
            format!("[[provider]]\nid = \"x\"\nname = \"X\"\nclient_id = \"c\"\n{extra}\n")
        };
        for (text, words) in [
            (base("issuer = \"http://id.example.com\"\nclient_secret = \"s\""), "https"),
            (base("issuer = \"https://id.example.com\""), "exactly one"),
            (
                base("issuer = \"https://id.example.com\"\nclient_secret = \"s\"\ncolour = 1"),
                "unknown field",
            ),
            (
                "[[provider]]\nid = \"Bad Id\"\nname = \"X\"\nissuer = \"https://a.example\"\nclient_id = \"c\"\nclient_secret = \"s\"".to_owned(),
                "lower-case",
            ),
        ] {
            let err = parsed(&text).unwrap_err().to_string();
            assert!(err.contains(words), "{err}");
        }
        let twice = format!(
            "{0}{0}",
            base("issuer = \"https://id.example.com\"\nclient_secret = \"s\"")
        );
        assert!(
            parsed(&twice)
                .unwrap_err()
                .to_string()
                .contains("two providers")
        );
        assert!(
            parsed(&base(
                "issuer = \"http://127.0.0.1:9000\"\nclient_secret = \"s\""
            ))
            .is_ok()
        );
    }
}
