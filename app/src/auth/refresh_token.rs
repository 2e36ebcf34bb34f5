//! Refresh tokens: 256 random bits the browser holds, of which the server keeps only a
//! SHA-256 hash (so a leaked database cannot be replayed as sessions).

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Length of an encoded token: 32 bytes in unpadded base64url.
pub const ENCODED_LEN: usize = 43;

/// A refresh token in the clear. It exists only between minting and the `Set-Cookie`,
/// and between reading the cookie and hashing it; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

impl RefreshToken {
    /// 256 bits from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system random generator is available");
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts a cookie value only if it has exactly the shape we mint, so junk never
    /// reaches the database.
    pub fn parse(value: &str) -> Option<Self> {
        let decoded = URL_SAFE_NO_PAD.decode(value).ok()?;
        (value.len() == ENCODED_LEN && decoded.len() == 32).then(|| Self(value.to_owned()))
    }

    /// The token that replaces this one at rotation: HMAC-SHA256 of this token under a
    /// server key ([`DerivedKey::RefreshSuccessor`](super::keys::DerivedKey)).
    ///
    /// Deterministic on purpose. A rotation whose reply is lost, a retry, and a second
    /// tab refreshing at the same moment all present the same parent, so all of them can
    /// be handed the same successor: the device keeps a working token and the chain never
    /// forks. Without the server key the successor cannot be computed from the parent, so
    /// a stolen, already-rotated token is worth no more than before.
    pub fn successor(&self, key: &aws_lc_rs::hmac::Key) -> Self {
        let tag = aws_lc_rs::hmac::sign(key, self.0.as_bytes());
        Self(URL_SAFE_NO_PAD.encode(&tag.as_ref()[..32]))
    }

    /// The value for the cookie.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The only form that is ever stored.
    pub fn hash(&self) -> RefreshTokenHash {
        RefreshTokenHash(sha256_hex(&self.0))
    }
}

/// The SHA-256 of a refresh token, hex-encoded: the `refresh_tokens` primary key.
///
/// A plain hash (no salt, no slow KDF) is right here: the input is 256 random bits, so
/// there is nothing to brute-force, and lookups must be by equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefreshTokenHash(String);

impl RefreshTokenHash {
    /// The hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 of `text`, lower-case hex: how opaque tokens (refresh tokens, mailed links)
/// are stored.
pub(super) fn sha256_hex(text: &str) -> String {
    digest(&SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_chars_of_base64url_and_unique() {
        let a = RefreshToken::generate();
        let b = RefreshToken::generate();
        assert_eq!(a.expose().len(), ENCODED_LEN);
        assert_ne!(a, b);
        assert_eq!(RefreshToken::parse(a.expose()), Some(a));
    }

    #[test]
    fn hash_is_stable_hex_sha256_and_not_the_token() {
        let token = RefreshToken::generate();
        assert_eq!(token.hash(), token.hash());
        assert_eq!(token.hash().as_str().len(), 64);
        assert!(!token.hash().as_str().contains(token.expose()));
    }

    #[test]
    fn debug_output_never_contains_the_token() {
        let token = RefreshToken::generate();
        assert!(!format!("{token:?}").contains(token.expose()));
    }

    #[test]
    fn malformed_cookie_values_are_refused() {
        let good = RefreshToken::generate();
        for bad in [
            "",
            "short",
            &format!("{}A", good.expose()),
            &good.expose()[1..],
            &good.expose().replace(|_: char| true, "!"),
            "eyJhbGciOiJFZERTQSJ9.e30.sig",
        ] {
            assert_eq!(RefreshToken::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn successors_are_deterministic_well_formed_and_keyed() {
        use crate::auth::keys::{DerivedKey, SigningKey};
        let key = SigningKey::generate()
            .0
            .derive(DerivedKey::RefreshSuccessor);
        let other = SigningKey::generate()
            .0
            .derive(DerivedKey::RefreshSuccessor);
        let token = RefreshToken::generate();
        let next = token.successor(&key);
        assert_eq!(next, token.successor(&key), "every retry gets the same one");
        assert_ne!(next, token);
        assert_ne!(
            next,
            token.successor(&other),
            "another key, another successor"
        );
        assert_eq!(RefreshToken::parse(next.expose()), Some(next.clone()));
        assert_ne!(next.successor(&key), next, "the chain moves on");
    }
}
