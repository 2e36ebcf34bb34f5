//! Access tokens: short-lived JWTs that prove "user U on device session S" without a
//! database lookup.
//!
//! Verification is strict on purpose (ARCHITECTURE: "Tokens and cookies"): one algorithm (EdDSA), a known `kid`,
//! `typ` = `at+jwt`, every claim present, our issuer and audience, a few seconds of clock
//! leeway, and no header that points at other keys (`jku`, `x5u`, `jwk`, `x5c`, `crit`).
//! Each token is verified once; the result is cached until the token expires.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::KeySet;
use super::now_unix;
use crate::secret::Secret;

/// The JWT `typ` of Gatehouse access tokens (RFC 9068), so no other JWT can pass as one.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Longest token accepted; ours are about 450 bytes. Bounds the work an attacker can cause.
pub const MAX_TOKEN_LEN: usize = 2048;

/// Clock difference tolerated between instances when checking `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: u64 = 5;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: this deployment.
    pub iss: String,
    /// Audience: this deployment's API.
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The device session id, checked against the revocation set on every request.
    pub sid: String,
    /// This token's unique id, so it can be revoked alone.
    pub jti: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not valid before (Unix seconds).
    pub nbf: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// Why a token was refused. Every variant is answered with the same 401; the detail is
/// for logs and tests only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url segments, or longer than [`MAX_TOKEN_LEN`].
    #[error("malformed token")]
    Malformed,
    /// A header that is not exactly what we issue (algorithm, type, key references).
    #[error("unacceptable token header: {0}")]
    Header(&'static str),
    /// `kid` names no key we accept.
    #[error("unknown signing key")]
    UnknownKey,
    /// A genuine token past its `exp`: the client should refresh.
    #[error("expired token")]
    AccessTokenExpired,
    /// The signature, claims, issuer, audience or times do not check out.
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Mints and verifies access tokens with one [`KeySet`].
pub struct AccessTokens {
    keys: KeySet,
    issuer: String,
    audience: String,
    ttl: Duration,
    validation: Validation,
    verified: quick_cache::sync::Cache<String, Arc<AccessClaims>>,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("issuer", &self.issuer)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// A freshly minted token and what it says. `Debug` shows the claims, never the token.
#[derive(Debug, Clone)]
pub struct MintedToken {
    /// The compact JWT, for the `__Host-access` cookie.
    pub token: Secret,
    /// Its claims.
    pub claims: AccessClaims,
}

impl AccessTokens {
    /// How many verified tokens are remembered; each entry is about 600 bytes.
    pub const CACHE_CAPACITY: usize = 100_000;

    /// Builds the minter/verifier. `issuer` doubles as the audience prefix.
    pub fn new(keys: KeySet, issuer: &str, ttl: Duration) -> Self {
        let audience = format!("{issuer}/api");
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "exp", "nbf", "iat"]);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[&audience]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        Self {
            keys,
            issuer: issuer.to_owned(),
            audience,
            ttl,
            validation,
            verified: quick_cache::sync::Cache::new(Self::CACHE_CAPACITY),
        }
    }

    /// The key set, for the JWKS endpoint.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// How long a new token lives.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a new access token for `user_id` on device session `session_id`, living
    /// the configured lifetime.
    pub fn mint(&self, user_id: &str, session_id: &str) -> MintedToken {
        self.mint_until(user_id, session_id, i64::MAX)
    }

    /// Like [`AccessTokens::mint`], but the token expires at `not_after` (Unix seconds)
    /// if that comes first: no access token outlives its session's absolute expiry.
    pub fn mint_until(&self, user_id: &str, session_id: &str, not_after: i64) -> MintedToken {
        let now = now_unix();
        let lifetime = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            iat: now,
            nbf: now,
            exp: now.saturating_add(lifetime).min(not_after),
        };
        let signing = self.keys.signing();
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TOKEN_TYP.to_owned());
        header.kid = Some(signing.verifying_key().kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, signing.encoding_key())
            .expect("signing with a parsed Ed25519 key cannot fail");
        MintedToken {
            token: Secret::from(token),
            claims,
        }
    }

    /// Checks `token` and returns its claims. Revocation is *not* checked here: that is
    /// the caller's next step, on every request, even for cached tokens.
    pub fn verify(&self, token: &str) -> Result<Arc<AccessClaims>, TokenError> {
        if let Some(claims) = self.verified.get(token) {
            if claims.exp + LEEWAY_SECS as i64 >= now_unix() {
                return Ok(claims);
            }
            self.verified.remove(token);
            return Err(TokenError::AccessTokenExpired);
        }
        let claims = Arc::new(self.verify_uncached(token)?);
        self.verified.insert(token.to_owned(), Arc::clone(&claims));
        Ok(claims)
    }

    /// The full check, without the cache (benchmarks compare the two).
    pub fn verify_uncached(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.check(token, &self.validation)
    }

    /// The claims of a genuine token of ours even if it has expired: which device
    /// session an old cookie belonged to. Never a proof of being signed in.
    pub fn verify_ignoring_expiry(&self, token: &str) -> Option<AccessClaims> {
        let mut validation = self.validation.clone();
        validation.validate_exp = false;
        self.check(token, &validation).ok()
    }

    fn check(&self, token: &str, validation: &Validation) -> Result<AccessClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN
            || token.split('.').count() != 3
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(TokenError::Malformed);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        check_header(&header)?;
        let kid = header
            .kid
            .as_deref()
            .ok_or(TokenError::Header("missing kid"))?;
        let key = self.keys.verifying(kid).ok_or(TokenError::UnknownKey)?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key.decoding_key(), validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::AccessTokenExpired,
                _ => TokenError::Invalid(e.to_string()),
            })?;
        let claims = data.claims;
        if claims.iat > now_unix() + LEEWAY_SECS as i64 {
            return Err(TokenError::Invalid("issued in the future".into()));
        }
        if claims.sub.is_empty() || claims.sid.is_empty() || claims.jti.is_empty() {
            return Err(TokenError::Invalid("empty sub, sid or jti".into()));
        }
        Ok(claims)
    }
}

/// Refuses any header we would not have written ourselves.
fn check_header(header: &Header) -> Result<(), TokenError> {
    if header.alg != Algorithm::EdDSA {
        return Err(TokenError::Header("algorithm not allowed"));
    }
    if header.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
        return Err(TokenError::Header("typ is not at+jwt"));
    }
    if header.jku.is_some() || header.x5u.is_some() || header.jwk.is_some() || header.x5c.is_some()
    {
        return Err(TokenError::Header("key references are not accepted"));
    }
    if header.crit.is_some() || header.zip.is_some() || header.enc.is_some() {
        return Err(TokenError::Header("unsupported header parameter"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Minting round-trips, and every forgery in the book is refused.
    use super::*;
    use crate::auth::keys::SigningKey;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::{Value, json};

    const ISSUER: &str = "https://gatehouse.test";

    struct Fixture {
        tokens: AccessTokens,
        key: SigningKey,
    }

    fn fixture() -> Fixture {
        let (key, _) = SigningKey::generate();
        Fixture {
            tokens: AccessTokens::new(
                KeySet::new(key.clone(), vec![]),
                ISSUER,
                Duration::from_secs(900),
            ),
            key,
        }
    }

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn parts(token: &str) -> (Value, Value, String) {
        let mut it = token.split('.');
        let header =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
        let claims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
        (header, claims, it.next().unwrap().to_owned())
    }

    /// Signs arbitrary header and claims JSON with `key`, as a forger holding a key would.
    fn sign_raw(key: &SigningKey, header: &Value, claims: &Value) -> String {
        let message = format!("{}.{}", b64(header), b64(claims));
        let der = key.encoding_key().as_bytes();
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(der).unwrap();
        format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(pair.sign(message.as_bytes()).as_ref())
        )
    }

    fn good_header(f: &Fixture) -> Value {
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": f.key.verifying_key().kid()})
    }

    fn good_claims() -> Value {
        let now = now_unix();
        json!({"iss": ISSUER, "aud": format!("{ISSUER}/api"), "sub": "user-1", "sid": "session-1",
               "jti": "jti-1", "iat": now, "nbf": now, "exp": now + 600})
    }

    fn with(mut value: Value, key: &str, new: Value) -> Value {
        value[key] = new;
        value
    }

    fn without(mut value: Value, key: &str) -> Value {
        value.as_object_mut().unwrap().remove(key);
        value
    }

    fn assert_rejected(f: &Fixture, token: &str, case: &str) {
        assert!(f.tokens.verify(token).is_err(), "accepted: {case}");
    }

    #[test]
    fn minted_token_verifies_with_every_claim() {
        let f = fixture();
        let minted = f.tokens.mint("user-1", "session-1");
        let claims = f.tokens.verify(minted.token.expose()).unwrap();
        assert_eq!(*claims, minted.claims);
        assert_eq!(claims.exp - claims.iat, 900);
        let (header, _, _) = parts(minted.token.expose());
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["kid"], f.key.verifying_key().kid());
    }

    #[test]
    fn a_token_never_outlives_the_limit_it_is_minted_under() {
        let f = fixture();
        let limit = now_unix() + 60;
        let minted = f.tokens.mint_until("user-1", "session-1", limit);
        assert_eq!(minted.claims.exp, limit, "cut to the session's end");
        let far = f
            .tokens
            .mint_until("user-1", "session-1", now_unix() + 86_400);
        assert_eq!(
            far.claims.exp - far.claims.iat,
            900,
            "else the usual lifetime"
        );
    }

    #[test]
    fn hand_signed_good_token_verifies_so_the_forgery_tests_mean_something() {
        let f = fixture();
        let token = sign_raw(&f.key, &good_header(&f), &good_claims());
        f.tokens.verify(&token).unwrap();
    }

    #[test]
    fn every_jti_is_unique() {
        let f = fixture();
        let a = f.tokens.mint("u", "s");
        let b = f.tokens.mint("u", "s");
        assert_ne!(a.claims.jti, b.claims.jti);
    }

    #[test]
    fn second_verification_is_served_from_the_cache() {
        let f = fixture();
        let minted = f.tokens.mint("u", "s");
        let first = f.tokens.verify(minted.token.expose()).unwrap();
        let second = f.tokens.verify(minted.token.expose()).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
    }

    #[test]
    fn alg_none_in_three_spellings_is_rejected() {
        let f = fixture();
        for alg in ["none", "None", "NONE"] {
            let header = with(good_header(&f), "alg", json!(alg));
            for signature in ["", "AAAA"] {
                let token = format!("{}.{}.{signature}", b64(&header), b64(&good_claims()));
                assert_rejected(&f, &token, &format!("alg {alg} sig {signature:?}"));
            }
        }
    }

    #[test]
    fn stripped_garbage_truncated_and_borrowed_signatures_are_rejected() {
        let f = fixture();
        let token = f.tokens.mint("u", "s").token.expose().to_owned();
        let (head, sig) = token.rsplit_once('.').unwrap();
        assert_rejected(&f, &format!("{head}."), "stripped signature");
        assert_rejected(
            &f,
            &format!("{head}.{}", URL_SAFE_NO_PAD.encode([7u8; 64])),
            "garbage signature",
        );
        assert_rejected(
            &f,
            &format!("{head}.{}", &sig[..sig.len() - 4]),
            "truncated signature",
        );
        let other = f
            .tokens
            .mint("someone-else", "other-session")
            .token
            .expose()
            .to_owned();
        let borrowed = other.rsplit_once('.').unwrap().1;
        assert_rejected(
            &f,
            &format!("{head}.{borrowed}"),
            "signature borrowed from another token",
        );
    }

    #[test]
    fn edited_sub_sid_or_exp_without_resigning_is_rejected() {
        let f = fixture();
        let token = f
            .tokens
            .mint("user-1", "session-1")
            .token
            .expose()
            .to_owned();
        let (header, claims, sig) = parts(&token);
        for (field, value) in [
            ("sub", json!("admin")),
            ("sid", json!("session-2")),
            ("exp", json!(now_unix() + 86_400)),
        ] {
            let edited = with(claims.clone(), field, value);
            let forged = format!("{}.{}.{sig}", b64(&header), b64(&edited));
            assert_rejected(&f, &forged, &format!("edited {field}"));
        }
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_rejected() {
        let f = fixture();
        let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": f.key.verifying_key().kid()});
        let public = f.key.verifying_key().to_jwk()["x"]
            .as_str()
            .unwrap()
            .to_owned();
        for secret in [
            public.as_bytes().to_vec(),
            URL_SAFE_NO_PAD.decode(&public).unwrap(),
        ] {
            let message = format!("{}.{}", b64(&header), b64(&good_claims()));
            let mac = aws_lc_rs::hmac::sign(
                &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret),
                message.as_bytes(),
            );
            let token = format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
            assert_rejected(&f, &token, "HS256 with the public key as secret");
        }
    }

    #[test]
    fn unknown_missing_and_path_traversal_kids_are_rejected() {
        let f = fixture();
        for kid in [
            json!("not-a-key"),
            json!("../../../../etc/passwd"),
            json!(""),
            json!(42),
        ] {
            let token = sign_raw(
                &f.key,
                &with(good_header(&f), "kid", kid.clone()),
                &good_claims(),
            );
            assert_rejected(&f, &token, &format!("kid {kid}"));
        }
        let token = sign_raw(&f.key, &without(good_header(&f), "kid"), &good_claims());
        assert_rejected(&f, &token, "missing kid");
    }

    #[test]
    fn a_token_from_another_deployments_key_is_rejected() {
        let f = fixture();
        let (stranger, _) = SigningKey::generate();
        let header =
            json!({"alg": "EdDSA", "typ": "at+jwt", "kid": stranger.verifying_key().kid()});
        assert_rejected(
            &f,
            &sign_raw(&stranger, &header, &good_claims()),
            "stranger's key and kid",
        );
        assert_rejected(
            &f,
            &sign_raw(&stranger, &good_header(&f), &good_claims()),
            "stranger's key, our kid",
        );
    }

    #[test]
    fn jku_x5u_and_embedded_jwk_headers_are_rejected() {
        let f = fixture();
        let jwk = f.key.verifying_key().to_jwk();
        for (name, value) in [
            ("jku", json!("https://evil.example/jwks.json")),
            ("x5u", json!("https://evil.example/cert.pem")),
            ("jwk", jwk),
            ("x5c", json!(["MIIB"])),
            ("crit", json!(["exp"])),
        ] {
            let token = sign_raw(&f.key, &with(good_header(&f), name, value), &good_claims());
            assert_rejected(&f, &token, &format!("{name} header"));
        }
    }

    #[test]
    fn expiry_past_the_leeway_missing_or_as_a_string_is_rejected() {
        let f = fixture();
        let now = now_unix();
        for exp in [
            json!(now - LEEWAY_SECS as i64 - 2),
            json!((now + 600).to_string()),
            json!(null),
        ] {
            let token = sign_raw(
                &f.key,
                &good_header(&f),
                &with(good_claims(), "exp", exp.clone()),
            );
            assert_rejected(&f, &token, &format!("exp {exp}"));
        }
        let token = sign_raw(&f.key, &good_header(&f), &without(good_claims(), "exp"));
        assert_rejected(&f, &token, "missing exp");
        // Within the leeway is still fine (clock skew between instances).
        let token = sign_raw(
            &f.key,
            &good_header(&f),
            &with(good_claims(), "exp", json!(now - 1)),
        );
        f.tokens.verify(&token).unwrap();
    }

    #[test]
    fn not_before_in_the_future_or_as_a_string_is_rejected() {
        let f = fixture();
        let now = now_unix();
        for nbf in [json!(now + 3600), json!(now.to_string())] {
            let token = sign_raw(
                &f.key,
                &good_header(&f),
                &with(good_claims(), "nbf", nbf.clone()),
            );
            assert_rejected(&f, &token, &format!("nbf {nbf}"));
        }
        let token = sign_raw(
            &f.key,
            &good_header(&f),
            &with(good_claims(), "iat", json!(now + 3600)),
        );
        assert_rejected(&f, &token, "iat in the future");
    }

    #[test]
    fn wrong_or_missing_issuer_audience_and_type_are_rejected() {
        let f = fixture();
        let cases = [
            (
                "iss wrong",
                good_header(&f),
                with(good_claims(), "iss", json!("https://evil.example")),
            ),
            (
                "iss missing",
                good_header(&f),
                without(good_claims(), "iss"),
            ),
            (
                "aud wrong",
                good_header(&f),
                with(good_claims(), "aud", json!("https://evil.example/api")),
            ),
            (
                "aud missing",
                good_header(&f),
                without(good_claims(), "aud"),
            ),
            (
                "typ JWT",
                with(good_header(&f), "typ", json!("JWT")),
                good_claims(),
            ),
            (
                "typ missing",
                without(good_header(&f), "typ"),
                good_claims(),
            ),
            (
                "sid missing",
                good_header(&f),
                without(good_claims(), "sid"),
            ),
            (
                "jti missing",
                good_header(&f),
                without(good_claims(), "jti"),
            ),
            (
                "sub missing",
                good_header(&f),
                without(good_claims(), "sub"),
            ),
            (
                "sub empty",
                good_header(&f),
                with(good_claims(), "sub", json!("")),
            ),
        ];
        for (case, header, claims) in cases {
            assert_rejected(&f, &sign_raw(&f.key, &header, &claims), case);
        }
    }

    #[test]
    fn a_refresh_token_presented_as_an_access_token_is_rejected() {
        let f = fixture();
        let refresh = crate::auth::refresh_token::RefreshToken::generate();
        assert_eq!(
            f.tokens.verify(refresh.expose()),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn two_or_four_segments_bad_base64_and_oversized_headers_are_rejected() {
        let f = fixture();
        let token = f.tokens.mint("u", "s").token.expose().to_owned();
        let (head, _) = token.rsplit_once('.').unwrap();
        assert_rejected(&f, head, "two segments");
        assert_rejected(&f, &format!("{token}.AAAA"), "four segments");
        assert_rejected(&f, &token.replacen('e', "*", 1), "not base64url");
        assert_rejected(&f, &format!("{token}=="), "padding");
        assert_rejected(&f, "..", "empty segments");
        assert_rejected(&f, "", "empty token");
        let big = with(good_header(&f), "pad", json!("x".repeat(4096)));
        assert_eq!(
            f.tokens
                .verify(&sign_raw(&f.key, &big, &good_claims()))
                .unwrap_err(),
            TokenError::Malformed
        );
        assert_rejected(
            &f,
            &format!(
                "{}.{}.AAAA",
                URL_SAFE_NO_PAD.encode("{not json"),
                b64(&good_claims())
            ),
            "header not JSON",
        );
    }

    #[test]
    fn tokens_signed_with_a_previous_key_verify_until_it_is_removed() {
        let (old, _) = SigningKey::generate();
        let (new, _) = SigningKey::generate();
        let before = AccessTokens::new(
            KeySet::new(old.clone(), vec![]),
            ISSUER,
            Duration::from_secs(900),
        );
        let token = before.mint("u", "s").token.expose().to_owned();
        let rotated = AccessTokens::new(
            KeySet::new(new.clone(), vec![old.verifying_key().clone()]),
            ISSUER,
            Duration::from_secs(900),
        );
        rotated.verify(&token).unwrap();
        let (header, _, _) = parts(rotated.mint("u", "s").token.expose());
        assert_eq!(
            header["kid"],
            new.verifying_key().kid(),
            "new tokens must use the newest key"
        );
        let removed = AccessTokens::new(KeySet::new(new, vec![]), ISSUER, Duration::from_secs(900));
        assert_eq!(removed.verify(&token).unwrap_err(), TokenError::UnknownKey);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(2000))]

        /// Random bytes never panic the verifier and are never accepted.
        #[test]
        fn random_input_is_never_accepted(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let f = fixture();
            let input = String::from_utf8_lossy(&bytes);
            proptest::prop_assert!(f.tokens.verify(&input).is_err());
        }

        /// Random three-segment base64url strings (the shape of a JWT) are never accepted.
        #[test]
        fn random_jwt_shaped_input_is_never_accepted(
            header in "[A-Za-z0-9_-]{0,80}",
            claims in "[A-Za-z0-9_-]{0,200}",
            signature in "[A-Za-z0-9_-]{0,90}",
        ) {
            let f = fixture();
            let token = format!("{header}.{claims}.{signature}");
            proptest::prop_assert!(f.tokens.verify(&token).is_err());
        }

        /// Flipping any one character of a genuine token makes it invalid.
        #[test]
        fn any_single_character_change_is_rejected(position in 0usize..400, replacement in "[A-Za-z0-9_-]") {
            let f = fixture();
            let token = f.tokens.mint("user-1", "session-1").token.expose().to_owned();
            let position = position % token.len();
            let mut edited: Vec<char> = token.chars().collect();
            let new = replacement.chars().next().unwrap();
            proptest::prop_assume!(edited[position] != new && edited[position] != '.');
            edited[position] = new;
            let edited: String = edited.into_iter().collect();
            // Base64url's last character can carry unused bits, so an edit there may decode
            // to the same bytes; such a token is the same token, not a forgery.
            proptest::prop_assume!(decoded(&edited) != decoded(&token));
            proptest::prop_assert!(f.tokens.verify_uncached(&edited).is_err());
        }
    }

    fn decoded(token: &str) -> Vec<Option<Vec<u8>>> {
        token
            .split('.')
            .map(|part| URL_SAFE_NO_PAD.decode(part).ok())
            .collect()
    }
}
