//! Ed25519 signing keys for access tokens: loading, generating, rotating, publishing.

use std::path::Path;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The text is not PEM, or not an Ed25519 key in PKCS#8 (private) or SPKI (public) form.
    #[error("{source_name} is not an Ed25519 key in PEM form ({reason})")]
    Malformed {
        /// Where the key came from (a file name or an environment variable).
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// The key file cannot be read or written.
    #[error("cannot {action} the key file {}: {source}", path.display())]
    Io {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// The public half of a signing key: enough to verify tokens and to publish in the JWKS.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: String,
    public_key: Vec<u8>,
    decoding: DecodingKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    fn from_public_key(public_key: &[u8]) -> Self {
        Self {
            kid: thumbprint(public_key),
            public_key: public_key.to_vec(),
            decoding: DecodingKey::from_ed_der(public_key),
        }
    }

    /// The key id: the RFC 7638 JWK thumbprint, so the same key always has the same id
    /// on every instance without anyone having to name it.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key in jsonwebtoken's form, for signature checks.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The key as a public JWK, for `/.well-known/jwks.json`.
    pub fn to_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(&self.public_key),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }
}

/// A private Ed25519 key that signs new access tokens. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct SigningKey {
    encoding: EncodingKey,
    verifying: VerifyingKey,
    /// HKDF pseudo-random key extracted from the private key, for [`SigningKey::derive`].
    derivation: aws_lc_rs::hkdf::Prk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.verifying.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key and returns it with its PKCS#8 PEM text, to be stored.
    pub fn generate() -> (Self, String) {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .expect("the system random generator is available");
        let der = document.as_ref();
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.to_vec()));
        let key = Self::from_pkcs8_der(der).expect("a freshly generated key parses");
        (key, pem)
    }

    /// Parses a PKCS#8 PEM private key (as written by [`SigningKey::generate`] or
    /// `openssl genpkey -algorithm ed25519`).
    pub fn from_pem(text: &str, source_name: &str) -> Result<Self, KeyError> {
        let malformed = |reason: String| KeyError::Malformed {
            source_name: source_name.to_owned(),
            reason,
        };
        let parsed = pem::parse(text.trim()).map_err(|e| malformed(e.to_string()))?;
        if parsed.tag() != "PRIVATE KEY" {
            return Err(malformed(format!(
                "expected a PRIVATE KEY block, found {}",
                parsed.tag()
            )));
        }
        Self::from_pkcs8_der(parsed.contents())
            .ok_or_else(|| malformed("not an Ed25519 PKCS#8 key".into()))
    }

    fn from_pkcs8_der(der: &[u8]) -> Option<Self> {
        let pair = Ed25519KeyPair::from_pkcs8(der)
            .or_else(|_| Ed25519KeyPair::from_pkcs8_maybe_unchecked(der))
            .ok()?;
        // jsonwebtoken's signer wants PKCS#8 v2 (with the public key); re-export in that form.
        let v2 = pair.to_pkcs8().ok()?;
        let derivation =
            aws_lc_rs::hkdf::Salt::new(aws_lc_rs::hkdf::HKDF_SHA256, b"gatehouse key derivation")
                .extract(v2.as_ref());
        Some(Self {
            encoding: EncodingKey::from_ed_der(v2.as_ref()),
            verifying: VerifyingKey::from_public_key(pair.public_key().as_ref()),
            derivation,
        })
    }

    /// An HMAC-SHA256 key for one `purpose`, derived from this private key with HKDF
    /// (RFC 5869). Server-side secrets (refresh-token successors, device cookies) live
    /// and rotate with the signing key, so every instance of a deployment has them
    /// without another setting, and different purposes never share a key.
    pub fn derive(&self, purpose: DerivedKey) -> aws_lc_rs::hmac::Key {
        let info = [purpose.label().as_bytes()];
        let okm = self
            .derivation
            .expand(&info, aws_lc_rs::hmac::HMAC_SHA256)
            .expect("HKDF can expand one HMAC key");
        aws_lc_rs::hmac::Key::from(okm)
    }

    /// The AES-256-GCM key that seals authenticator secrets at rest (see
    /// `second_factor::Sealer`), derived like [`SigningKey::derive`]'s keys, so it
    /// rotates with the signing key.
    pub fn sealing_key(&self) -> aws_lc_rs::aead::LessSafeKey {
        let info = [b"gatehouse totp secret sealing v1".as_slice()];
        let okm = self
            .derivation
            .expand(&info, &aws_lc_rs::aead::AES_256_GCM)
            .expect("HKDF can expand one AES-256 key");
        aws_lc_rs::aead::LessSafeKey::new(aws_lc_rs::aead::UnboundKey::from(okm))
    }

    /// Reads the key at `path`, or generates one there (mode 0600) when the file does not
    /// exist yet. Returns whether it was generated. Used in development mode only, so a
    /// restart keeps everyone signed in instead of invalidating every token.
    pub fn load_or_generate(path: &Path) -> Result<(Self, bool), KeyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((Self::from_pem(&text, &path.display().to_string())?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok((Self::generate_into(path)?.0, true))
            }
            Err(source) => Err(KeyError::Io {
                action: "read",
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Generates a key into a new file at `path` (mode 0600); fails if the file exists,
    /// so an existing key is never overwritten.
    pub fn generate_into(path: &Path) -> Result<(Self, String), KeyError> {
        let (key, pem) = Self::generate();
        write_private(path, &pem).map_err(|source| KeyError::Io {
            action: "write",
            path: path.to_owned(),
            source,
        })?;
        Ok((key, pem))
    }

    /// The public half.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// The key in jsonwebtoken's form, for signing.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }
}

/// What a key from [`SigningKey::derive`] is for; each gets its own key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivedKey {
    /// Derives a refresh token's successor from the token (see `refresh_token`).
    RefreshSuccessor,
    /// Signs device cookies (see `throttle::DeviceCookie`).
    DeviceCookie,
    /// Hashes recovery codes (see `second_factor`), so a leaked table alone cannot be
    /// brute-forced.
    RecoveryCode,
}

impl DerivedKey {
    fn label(self) -> &'static str {
        match self {
            Self::RefreshSuccessor => "gatehouse refresh-token successor v1",
            Self::DeviceCookie => "gatehouse device cookie v1",
            Self::RecoveryCode => "gatehouse recovery code v1",
        }
    }
}

/// Parses a public key given as an SPKI PEM (`BEGIN PUBLIC KEY`), or the public half of a
/// PKCS#8 private key. Retired keys only need to verify, so either form is accepted.
pub fn verifying_key_from_pem(text: &str, source_name: &str) -> Result<VerifyingKey, KeyError> {
    let malformed = |reason: String| KeyError::Malformed {
        source_name: source_name.to_owned(),
        reason,
    };
    let parsed = pem::parse(text.trim()).map_err(|e| malformed(e.to_string()))?;
    match parsed.tag() {
        "PRIVATE KEY" => Ok(SigningKey::from_pem(text, source_name)?.verifying),
        "PUBLIC KEY" => {
            // SPKI for Ed25519: a fixed 12-byte prefix, then the 32-byte key.
            const PREFIX: [u8; 12] = [
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ];
            let der = parsed.contents();
            match der.strip_prefix(&PREFIX[..]) {
                Some(key) if key.len() == 32 => Ok(VerifyingKey::from_public_key(key)),
                _ => Err(malformed("not an Ed25519 public key".into())),
            }
        }
        other => Err(malformed(format!("unexpected PEM block {other}"))),
    }
}

/// The signing key plus every key whose tokens are still accepted (rotation).
#[derive(Debug, Clone)]
pub struct KeySet {
    signing: SigningKey,
    verifying: Vec<VerifyingKey>,
    /// Retired keys given with their private half: what they sealed can still be opened
    /// (and is re-sealed with the current key on use).
    retired: Vec<SigningKey>,
}

impl KeySet {
    /// New tokens are signed with `signing`; tokens signed with it or any of `previous`
    /// verify. Drop a key from `previous` once its last tokens have expired.
    pub fn new(signing: SigningKey, previous: Vec<VerifyingKey>) -> Self {
        let mut verifying = vec![signing.verifying.clone()];
        for key in previous {
            if !verifying.iter().any(|k| k.kid == key.kid) {
                verifying.push(key);
            }
        }
        Self {
            signing,
            verifying,
            retired: Vec::new(),
        }
    }

    /// Adds retired keys whose private half is known (a PKCS#8 file in
    /// `JWT_PREVIOUS_KEY_FILES`): their tokens verify, and secrets they sealed open.
    pub fn with_retired(mut self, retired: Vec<SigningKey>) -> Self {
        for key in &retired {
            if !self.verifying.iter().any(|k| k.kid == key.verifying.kid) {
                self.verifying.push(key.verifying.clone());
            }
        }
        self.retired = retired;
        self
    }

    /// The retired keys with a private half.
    pub fn retired(&self) -> &[SigningKey] {
        &self.retired
    }

    /// The key that signs new tokens.
    pub fn signing(&self) -> &SigningKey {
        &self.signing
    }

    /// The verifying key with id `kid`, if it is one of ours.
    pub fn verifying(&self, kid: &str) -> Option<&VerifyingKey> {
        self.verifying.iter().find(|k| k.kid == kid)
    }

    /// Every public key, as the JSON Web Key Set served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.verifying.iter().map(VerifyingKey::to_jwk).collect::<Vec<_>>() })
    }
}

fn thumbprint(public_key: &[u8]) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(public_key)
    );
    URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes()))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_round_trips_through_pem_with_the_same_kid() {
        let (key, pem) = SigningKey::generate();
        let again = SigningKey::from_pem(&pem, "test").unwrap();
        assert_eq!(key.verifying_key().kid(), again.verifying_key().kid());
        assert_eq!(key.verifying_key().kid().len(), 43);
    }

    #[test]
    fn load_or_generate_keeps_the_key_across_restarts_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing-key.pem");
        let (first, generated) = SigningKey::load_or_generate(&path).unwrap();
        assert!(generated);
        let (second, generated) = SigningKey::load_or_generate(&path).unwrap();
        assert!(!generated);
        assert_eq!(first.verifying_key().kid(), second.verifying_key().kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key file readable by others: {mode:o}");
        }
    }

    #[test]
    fn garbage_pem_is_a_clear_error() {
        let err = SigningKey::from_pem("not a key", "JWT_SIGNING_KEY").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("JWT_SIGNING_KEY is not an Ed25519 key"),
            "{err}"
        );
    }

    #[test]
    fn public_half_parses_from_spki_pem() {
        let (key, _) = SigningKey::generate();
        let raw = key.verifying_key().public_key.clone();
        let mut spki = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        spki.extend_from_slice(&raw);
        let pem = pem::encode(&pem::Pem::new("PUBLIC KEY", spki));
        let public = verifying_key_from_pem(&pem, "old key").unwrap();
        assert_eq!(public.kid(), key.verifying_key().kid());
    }

    #[test]
    fn jwks_lists_the_signing_key_and_previous_keys_once_each() {
        let (new, _) = SigningKey::generate();
        let (old, _) = SigningKey::generate();
        let set = KeySet::new(
            new.clone(),
            vec![old.verifying_key().clone(), new.verifying_key().clone()],
        );
        let jwks = set.jwks();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, [new.verifying_key().kid(), old.verifying_key().kid()]);
        assert!(
            jwks.to_string().find("\"d\"").is_none(),
            "private part leaked into the JWKS"
        );
    }

    #[test]
    fn derived_keys_are_stable_per_key_and_distinct_per_purpose() {
        use aws_lc_rs::hmac::sign;
        let (key, pem) = SigningKey::generate();
        let again = SigningKey::from_pem(&pem, "test").unwrap();
        let (other, _) = SigningKey::generate();
        let tag = |k: &SigningKey, p| sign(&k.derive(p), b"x").as_ref().to_vec();
        assert_eq!(
            tag(&key, DerivedKey::RefreshSuccessor),
            tag(&again, DerivedKey::RefreshSuccessor),
            "the same key on another instance derives the same secret"
        );
        assert_ne!(
            tag(&key, DerivedKey::RefreshSuccessor),
            tag(&key, DerivedKey::DeviceCookie)
        );
        assert_ne!(
            tag(&key, DerivedKey::RefreshSuccessor),
            tag(&other, DerivedKey::RefreshSuccessor)
        );
    }
}
