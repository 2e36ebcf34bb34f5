//! A device-bound session proof: the `dbsc+jwt` a browser signs with the key it keeps
//! for a session (W3C DBSC draft; docs/DBSC.md), in answer to a challenge.
//!
//! Strict on purpose, like the access tokens: the algorithm comes from an allow-list
//! (ES256 on P-256, RS256 with a 2048- to 4096-bit key; never `none`, never HMAC, whose
//! "key" would be whatever the sender chose), `typ` must be `dbsc+jwt`, and the key is
//! either the one stored for the session (a refresh) or, only at registration, the
//! `jwk` the header carries. The challenge is the `jti` claim. No other claim is
//! required: the challenge is single use and expires within minutes, which is what an
//! `exp` would do.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// The JWT `typ` of a DBSC proof.
pub const PROOF_TYP: &str = "dbsc+jwt";

/// Longest proof accepted: an RS256 proof with a 4096-bit key in its header is about
/// 1.6 kB. Bounds the work anyone can cause.
pub const MAX_PROOF_LEN: usize = 4096;

/// The algorithms a browser may sign with, as the registration header offers them.
pub const ALGORITHMS: [Algorithm; 2] = [Algorithm::ES256, Algorithm::RS256];

/// RSA moduli accepted, in bytes: smaller is forgeable, larger costs the server more to
/// check than any browser needs.
const RSA_MODULUS_BYTES: std::ops::RangeInclusive<usize> = 256..=512;

/// Why a proof was refused. Every variant is the same refusal to the browser; the detail
/// is for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Not a JWT, too long, or a header or payload that does not parse.
    #[error("malformed proof")]
    Malformed,
    /// An algorithm outside [`ALGORITHMS`] (`none`, HMAC, …).
    #[error("algorithm not allowed")]
    Algorithm,
    /// `typ` is not `dbsc+jwt`.
    #[error("not a DBSC proof")]
    Type,
    /// No usable key: none in the header at registration, a key of the wrong kind or
    /// size for the algorithm, or (at a refresh) a header key that is not the
    /// session's.
    #[error("unusable key")]
    Key,
    /// The signature does not verify with the key.
    #[error("bad signature")]
    Signature,
}

/// The claims Gatehouse reads.
#[derive(Debug, Deserialize)]
struct Claims {
    /// The challenge being answered.
    jti: String,
}

/// A proof whose header has been checked but whose signature has not: what it claims to
/// answer ([`Proof::challenge`]) is needed to find the session whose key checks it.
#[derive(Debug)]
pub struct Proof<'a> {
    token: &'a str,
    algorithm: Algorithm,
    key: Option<Jwk>,
    challenge: String,
}

impl<'a> Proof<'a> {
    /// Reads `token`'s header and challenge, refusing anything but an allowed
    /// algorithm and the `dbsc+jwt` type.
    pub fn read(token: &'a str) -> Result<Self, ProofError> {
        let token = token.trim();
        if token.len() > MAX_PROOF_LEN || token.split('.').count() != 3 {
            return Err(ProofError::Malformed);
        }
        let header = read_header(token)?;
        if header.typ.as_deref() != Some(PROOF_TYP) {
            return Err(ProofError::Type);
        }
        // An unverified read, only to learn which challenge (and so which session) the
        // proof claims to answer; nothing is trusted before `verify`.
        let payload = token.split('.').nth(1).ok_or(ProofError::Malformed)?;
        let payload = base64url(payload)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| ProofError::Malformed)?;
        if claims.jti.is_empty() {
            return Err(ProofError::Malformed);
        }
        Ok(Self {
            token,
            algorithm: header.alg,
            key: header.jwk,
            challenge: claims.jti,
        })
    }

    /// The challenge it answers (`jti`).
    pub fn challenge(&self) -> &str {
        &self.challenge
    }

    /// The algorithm it is signed with (`ES256` or `RS256`).
    pub fn algorithm(&self) -> &'static str {
        match self.algorithm {
            Algorithm::RS256 => "RS256",
            _ => "ES256",
        }
    }

    /// Registration: checks the signature with the key the header carries, and returns
    /// that key as JSON with its RFC 7638 thumbprint.
    pub fn verify_new_key(&self) -> Result<BoundKey, ProofError> {
        let key = self.key.as_ref().ok_or(ProofError::Key)?;
        self.verify_with(key)?;
        BoundKey::of(key)
    }

    /// A refresh: checks the signature with the session's stored key. A key in the
    /// header is refused unless it is that same key: a proof cannot bring its own.
    pub fn verify_stored(&self, stored: &BoundKey) -> Result<(), ProofError> {
        let key: Jwk = serde_json::from_str(&stored.jwk).map_err(|_| ProofError::Key)?;
        if let Some(sent) = &self.key
            && BoundKey::of(sent)?.thumbprint != stored.thumbprint
        {
            return Err(ProofError::Key);
        }
        self.verify_with(&key)
    }

    fn verify_with(&self, key: &Jwk) -> Result<(), ProofError> {
        check_key(self.algorithm, key)?;
        let decoding = DecodingKey::from_jwk(key).map_err(|_| ProofError::Key)?;
        let mut validation = Validation::new(self.algorithm);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        jsonwebtoken::decode::<Claims>(self.token, &decoding, &validation)
            .map(drop)
            .map_err(|err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => ProofError::Signature,
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm
                | jsonwebtoken::errors::ErrorKind::InvalidKeyFormat
                | jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey
                | jsonwebtoken::errors::ErrorKind::InvalidRsaKey(_) => ProofError::Key,
                _ => ProofError::Signature,
            })
    }
}

/// A key a session is bound to, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundKey {
    /// The public JWK, JSON.
    pub jwk: String,
    /// Its RFC 7638 thumbprint: SHA-256 of its required members, base64url.
    pub thumbprint: String,
}

impl BoundKey {
    /// The key as stored: only the members that are the key (RFC 7638's), whatever else
    /// the sender put beside them.
    fn of(key: &Jwk) -> Result<Self, ProofError> {
        let members = match &key.algorithm {
            AlgorithmParameters::EllipticCurve(ec) => serde_json::json!({
                "crv": ec.curve, "kty": "EC", "x": ec.x, "y": ec.y,
            }),
            AlgorithmParameters::RSA(rsa) => serde_json::json!({
                "e": rsa.e, "kty": "RSA", "n": rsa.n,
            }),
            _ => return Err(ProofError::Key),
        };
        Ok(Self {
            jwk: members.to_string(),
            thumbprint: key
                .thumbprint(ThumbprintHash::SHA256)
                .map_err(|_| ProofError::Key)?,
        })
    }
}

/// The header, with the algorithm read against the allow-list before anything else:
/// `jsonwebtoken` knows no `none`, and an HMAC algorithm would be refused later, but
/// saying so first keeps the reason plain.
fn read_header(token: &str) -> Result<jsonwebtoken::Header, ProofError> {
    let encoded = token.split('.').next().ok_or(ProofError::Malformed)?;
    let raw: serde_json::Value =
        serde_json::from_slice(&base64url(encoded)?).map_err(|_| ProofError::Malformed)?;
    // Nothing that points at other keys or asks for extensions we do not know.
    if ["crit", "jku", "x5u", "x5c"]
        .iter()
        .any(|field| raw.get(field).is_some())
    {
        return Err(ProofError::Malformed);
    }
    let named = raw.get("alg").and_then(|a| a.as_str()).unwrap_or("none");
    if !ALGORITHMS
        .iter()
        .any(|a| format!("{a:?}").eq_ignore_ascii_case(named))
    {
        return Err(ProofError::Algorithm);
    }
    serde_json::from_value(raw).map_err(|_| ProofError::Malformed)
}

/// The key must be of the algorithm's kind: P-256 for ES256, RSA of a sane size for
/// RS256.
fn check_key(algorithm: Algorithm, key: &Jwk) -> Result<(), ProofError> {
    match (&key.algorithm, algorithm) {
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256)
            if ec.curve == EllipticCurve::P256 =>
        {
            Ok(())
        }
        (AlgorithmParameters::RSA(rsa), Algorithm::RS256) => {
            let modulus = base64url(&rsa.n).map_err(|_| ProofError::Key)?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            if RSA_MODULUS_BYTES.contains(&significant) {
                Ok(())
            } else {
                Err(ProofError::Key)
            }
        }
        _ => Err(ProofError::Key),
    }
}

fn base64url(text: &str) -> Result<Vec<u8>, ProofError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| ProofError::Malformed)
}

/// A browser's key in software, as Chrome keeps one without a TPM (ES256 on P-256,
/// raw `r || s` signatures): for the tests here and the HTTP tests
/// (`server/tests/integration/dbsc_http.rs`), which play the browser with it.
pub mod testing {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

    use super::PROOF_TYP;

    /// A key pair, made fresh.
    pub struct BrowserKey {
        pair: EcdsaKeyPair,
    }

    impl BrowserKey {
        /// A new key.
        pub fn generate() -> Self {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .expect("a P-256 key");
            Self {
                pair: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                    .expect("the key just made"),
            }
        }

        /// The public key, as a JWK.
        pub fn jwk(&self) -> serde_json::Value {
            let point = self.pair.public_key().as_ref();
            serde_json::json!({
                "kty": "EC",
                "crv": "P-256",
                "x": b64(&point[1..33]),
                "y": b64(&point[33..65]),
            })
        }

        /// A JWT of `header` and `payload` signed with this key, whatever the header says.
        pub fn sign(&self, header: serde_json::Value, payload: serde_json::Value) -> String {
            let input = format!(
                "{}.{}",
                b64(header.to_string().as_bytes()),
                b64(payload.to_string().as_bytes())
            );
            let signature = self
                .pair
                .sign(&SystemRandom::new(), input.as_bytes())
                .expect("a signature");
            format!("{input}.{}", b64(signature.as_ref()))
        }

        /// A proof as Chrome sends it at registration: the key in the header.
        pub fn registration(&self, challenge: &str) -> String {
            self.sign(
                serde_json::json!({"alg": "ES256", "typ": PROOF_TYP, "jwk": self.jwk()}),
                serde_json::json!({"jti": challenge}),
            )
        }

        /// A proof as Chrome sends it at a refresh: no key in the header.
        pub fn refresh(&self, challenge: &str) -> String {
            self.sign(
                serde_json::json!({"alg": "ES256", "typ": PROOF_TYP}),
                serde_json::json!({"jti": challenge}),
            )
        }
    }

    /// base64url without padding, as JWTs are written.
    pub fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{BrowserKey, b64};
    use super::*;

    fn stored(key: &BrowserKey) -> BoundKey {
        Proof::read(&key.registration("c"))
            .unwrap()
            .verify_new_key()
            .unwrap()
    }

    #[test]
    fn a_registration_proof_verifies_with_its_own_key_and_names_its_challenge() {
        let key = BrowserKey::generate();
        let token = key.registration("the challenge");
        let proof = Proof::read(&token).unwrap();
        assert_eq!(proof.challenge(), "the challenge");
        let bound = proof.verify_new_key().unwrap();
        assert_eq!(bound.thumbprint.len(), 43, "{bound:?}");
    }

    #[test]
    fn a_refresh_proof_verifies_only_with_the_stored_key() {
        let key = BrowserKey::generate();
        let other = BrowserKey::generate();
        let proof = key.refresh("c2");
        assert_eq!(
            Proof::read(&proof).unwrap().verify_stored(&stored(&key)),
            Ok(())
        );
        assert_eq!(
            Proof::read(&proof).unwrap().verify_stored(&stored(&other)),
            Err(ProofError::Signature)
        );
    }

    #[test]
    fn a_key_smuggled_into_a_refresh_proof_is_refused_even_when_it_signed() {
        let victim = BrowserKey::generate();
        let thief = BrowserKey::generate();
        // Signed by the thief's key, which its header names: at a refresh only the
        // stored key counts.
        let proof = thief.registration("c3");
        assert_eq!(
            Proof::read(&proof).unwrap().verify_stored(&stored(&victim)),
            Err(ProofError::Key)
        );
    }

    #[test]
    fn a_registration_proof_without_a_key_is_refused() {
        let key = BrowserKey::generate();
        let proof = key.refresh("c");
        assert_eq!(
            Proof::read(&proof).unwrap().verify_new_key(),
            Err(ProofError::Key)
        );
    }

    #[test]
    fn alg_none_and_hmac_are_refused_before_any_key_is_looked_at() {
        let key = BrowserKey::generate();
        let payload = b64(br#"{"jti":"c"}"#);
        for signature in ["", "x"] {
            let none = format!(
                "{}.{payload}.{signature}",
                b64(br#"{"alg":"none","typ":"dbsc+jwt"}"#)
            );
            assert_eq!(Proof::read(&none).unwrap_err(), ProofError::Algorithm);
        }
        // HS256 "signed" with the public key's own text, the classic confusion.
        let header = serde_json::json!({"alg": "HS256", "typ": PROOF_TYP, "jwk": key.jwk()});
        let input = format!("{}.{payload}", b64(header.to_string().as_bytes()));
        let mac = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(
                aws_lc_rs::hmac::HMAC_SHA256,
                key.jwk().to_string().as_bytes(),
            ),
            input.as_bytes(),
        );
        let hs256 = format!("{input}.{}", b64(mac.as_ref()));
        assert_eq!(Proof::read(&hs256).unwrap_err(), ProofError::Algorithm);
        let missing = format!("{}.{payload}.x", b64(br#"{"typ":"dbsc+jwt"}"#));
        assert_eq!(Proof::read(&missing).unwrap_err(), ProofError::Algorithm);
    }

    #[test]
    fn another_type_of_jwt_is_refused() {
        let key = BrowserKey::generate();
        let token = key.sign(
            serde_json::json!({"alg": "ES256", "typ": "JWT", "jwk": key.jwk()}),
            serde_json::json!({"jti": "c"}),
        );
        assert_eq!(Proof::read(&token).unwrap_err(), ProofError::Type);
    }

    #[test]
    fn an_es256_header_with_an_rsa_or_other_curve_key_is_refused() {
        let key = BrowserKey::generate();
        let mut jwk = key.jwk();
        jwk["crv"] = "P-384".into();
        let token = key.sign(
            serde_json::json!({"alg": "ES256", "typ": PROOF_TYP, "jwk": jwk}),
            serde_json::json!({"jti": "c"}),
        );
        assert!(Proof::read(&token).unwrap().verify_new_key().is_err());
    }

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        for token in [
            "",
            "a.b",
            "a.b.c",
            "....",
            &"x".repeat(MAX_PROOF_LEN + 1),
            "e30.e30.e30",
        ] {
            assert!(Proof::read(token).is_err(), "{token}");
        }
    }
}
