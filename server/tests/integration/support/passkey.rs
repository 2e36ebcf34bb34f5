//! A software authenticator for the passkey tests: webauthn-authenticator-rs's soft
//! token, which makes real P-256 keys and signatures, wrapped to act as a passkey
//! provider does.
//!
//! The soft token keeps no discoverable ("resident") credentials: it refuses a
//! registration that requires one, and answers a sign-in only for a credential it is
//! told about, without the user handle. A passkey provider remembers both, so this
//! wrapper does: it registers without the resident-key requirement, remembers each
//! credential id with its user handle, and on sign-in names the credential and adds the
//! handle. Neither is signed, so nothing the server verifies is simulated.
#![allow(dead_code)]

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{
    AllowCredentials, AuthenticatorAssertionResponseRaw, CreationChallengeResponse,
    PublicKeyCredential, RequestChallengeResponse, UserVerificationPolicy,
};

/// One authenticator (a phone, a laptop's platform authenticator, a security key).
pub struct SoftAuthenticator {
    token: SoftPasskey,
    /// (credential id, user handle) of each passkey it holds, oldest first.
    passkeys: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Default for SoftAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftAuthenticator {
    /// Adds a passkey called `name`, made by this authenticator for `origin`, to the
    /// account `browser` is signed in to (in sudo mode); the answer to the finishing call.
    pub async fn add_to(
        &mut self,
        client: &super::Client,
        browser: &mut super::Browser,
        origin: &str,
        name: &str,
    ) -> reqwest::Response {
        add_passkey_with(client, browser, origin, name, |origin, options| {
            self.register(origin, options)
        })
        .await
    }

    /// An authenticator that reports user verification (PIN or biometric) done.
    pub fn new() -> Self {
        Self {
            token: SoftPasskey::new(true),
            passkeys: Vec::new(),
        }
    }

    /// Answers a registration (`options`: the server's JSON) at `origin`; returns the
    /// answer as the browser would send it (JSON).
    pub fn register(&mut self, origin: &str, options: &str) -> String {
        let mut ccr: CreationChallengeResponse =
            serde_json::from_str(options).expect("registration options");
        let handle = ccr.public_key.user.id.clone();
        if let Some(selection) = ccr.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = false;
            selection.resident_key = None;
        }
        let answer = self
            .token
            .do_registration(Url::parse(origin).unwrap(), ccr)
            .expect("the soft authenticator registers");
        self.passkeys.push((answer.raw_id.to_vec(), handle));
        serde_json::to_string(&answer).unwrap()
    }

    /// Answers a sign-in (`options`: the server's JSON) at `origin` with its newest
    /// passkey; returns the answer (JSON).
    pub fn sign_in(&mut self, origin: &str, options: &str) -> String {
        self.sign_in_altered(origin, options, |_| {})
    }

    /// Answers a sign-in as [`SoftAuthenticator::sign_in`] does, then lets `alter`
    /// change the signed answer (as an attacker between the authenticator and the
    /// server would).
    pub fn sign_in_altered(
        &mut self,
        origin: &str,
        options: &str,
        alter: impl FnOnce(&mut PublicKeyCredential),
    ) -> String {
        let mut answer = self.answer(origin, options, true);
        alter(&mut answer);
        serde_json::to_string(&answer).unwrap()
    }

    /// Answers a sign-in as an authenticator that did not verify its user (no PIN, no
    /// biometric, only a touch): the user-verified flag is clear, and the signature
    /// over the authenticator data with that flag is genuine.
    pub fn sign_in_unverified(&mut self, origin: &str, options: &str) -> String {
        serde_json::to_string(&self.answer(origin, options, false)).unwrap()
    }

    /// The user handle (the account's id) its newest passkey was made for.
    pub fn user_handle(&self) -> Vec<u8> {
        self.passkeys.last().expect("a passkey").1.clone()
    }

    fn answer(&mut self, origin: &str, options: &str, verified: bool) -> PublicKeyCredential {
        let (id, handle) = self.passkeys.last().expect("a passkey").clone();
        let mut rcr: RequestChallengeResponse =
            serde_json::from_str(options).expect("sign-in options");
        rcr.public_key.allow_credentials = vec![AllowCredentials {
            type_: "public-key".into(),
            id,
            transports: None,
        }];
        if !verified {
            // The soft token sets the UV flag exactly when verification is required.
            rcr.public_key.user_verification = UserVerificationPolicy::Preferred;
        }
        let mut answer = self
            .token
            .do_authentication(Url::parse(origin).unwrap(), rcr)
            .expect("the soft authenticator signs");
        answer.response.user_handle = Some(handle);
        answer
    }
}

/// An authenticator whose private key can be copied, as malware or a cloning attack on
/// a security key would: [`Clone`] makes a second authenticator with the same passkey
/// and the signature counter where it was. Built here (P-256 through aws-lc-rs, CBOR by
/// hand) because the soft token keeps its keys to itself. Registers with `none`
/// attestation and always verifies its user.
#[derive(Clone)]
pub struct ClonableAuthenticator {
    pkcs8: Vec<u8>,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    /// The signature counter: 0 at registration, one more for every signature.
    pub counter: u32,
}

impl Default for ClonableAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl ClonableAuthenticator {
    pub fn new() -> Self {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let mut credential_id = vec![0u8; 32];
        rng.fill(&mut credential_id).unwrap();
        Self {
            pkcs8: key.to_pkcs8v1().unwrap().as_ref().to_vec(),
            credential_id,
            user_handle: Vec::new(),
            counter: 0,
        }
    }

    fn key(&self) -> EcdsaKeyPair {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.pkcs8).unwrap()
    }

    /// Answers a registration (`options`: the server's JSON) at `origin` (JSON).
    pub fn register(&mut self, origin: &str, options: &str) -> String {
        let options: serde_json::Value = serde_json::from_str(options).unwrap();
        let public_key = &options["publicKey"];
        self.user_handle = decode(&public_key["user"]["id"]);
        let client_data = client_data("webauthn.create", &public_key["challenge"], origin);
        let point = self.key().public_key().as_ref().to_vec();
        assert_eq!(point.len(), 65, "an uncompressed P-256 point");
        // COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cose.extend(cbor_bytes(&point[1..33]));
        cose.push(0x22);
        cose.extend(cbor_bytes(&point[33..]));
        let rp_id = public_key["rp"]["id"].as_str().unwrap();
        let mut auth_data = digest(&SHA256, rp_id.as_bytes()).as_ref().to_vec();
        // User present, user verified, attested credential data.
        auth_data.push(0x45);
        auth_data.extend(self.counter.to_be_bytes());
        auth_data.extend([0u8; 16]);
        auth_data.extend(
            u16::try_from(self.credential_id.len())
                .unwrap()
                .to_be_bytes(),
        );
        auth_data.extend(&self.credential_id);
        auth_data.extend(cose);
        // {"fmt": "none", "attStmt": {}, "authData": auth_data}
        let mut attestation = vec![0xa3];
        attestation.extend(cbor_text("fmt"));
        attestation.extend(cbor_text("none"));
        attestation.extend(cbor_text("attStmt"));
        attestation.push(0xa0);
        attestation.extend(cbor_text("authData"));
        attestation.extend(cbor_bytes(&auth_data));
        serde_json::json!({
            "id": URL_SAFE_NO_PAD.encode(&self.credential_id),
            "rawId": URL_SAFE_NO_PAD.encode(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": URL_SAFE_NO_PAD.encode(attestation),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
            },
        })
        .to_string()
    }

    /// Answers a sign-in at `origin` with the next value of its counter (JSON).
    pub fn sign_in(&mut self, origin: &str, options: &str) -> String {
        let options: serde_json::Value = serde_json::from_str(options).unwrap();
        let public_key = &options["publicKey"];
        let client_data = client_data("webauthn.get", &public_key["challenge"], origin);
        self.counter += 1;
        let rp_id = public_key["rpId"].as_str().unwrap();
        let mut auth_data = digest(&SHA256, rp_id.as_bytes()).as_ref().to_vec();
        // User present, user verified.
        auth_data.push(0x05);
        auth_data.extend(self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(digest(&SHA256, &client_data).as_ref());
        let signature = self
            .key()
            .sign(&SystemRandom::new(), &signed)
            .unwrap()
            .as_ref()
            .to_vec();
        let answer = PublicKeyCredential {
            id: URL_SAFE_NO_PAD.encode(&self.credential_id),
            raw_id: self.credential_id.clone(),
            response: AuthenticatorAssertionResponseRaw {
                authenticator_data: auth_data,
                client_data_json: client_data,
                signature,
                user_handle: Some(self.user_handle.clone()),
            },
            extensions: Default::default(),
            type_: "public-key".into(),
        };
        serde_json::to_string(&answer).unwrap()
    }
}

/// The bytes of a base64url field of the server's options.
fn decode(field: &serde_json::Value) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(field.as_str().expect("a base64url field"))
        .unwrap()
}

/// The client data a browser makes for a ceremony of `kind` at `origin`.
fn client_data(kind: &str, challenge: &serde_json::Value, origin: &str) -> Vec<u8> {
    serde_json::json!({
        "type": kind,
        "challenge": URL_SAFE_NO_PAD.encode(decode(challenge)),
        "origin": origin,
        "crossOrigin": false,
    })
    .to_string()
    .into_bytes()
}

/// A CBOR head of major type `major` for `len` (up to 65,535).
fn cbor_head(major: u8, len: usize) -> Vec<u8> {
    match len {
        0..=23 => vec![major << 5 | len as u8],
        24..=255 => vec![major << 5 | 24, len as u8],
        _ => {
            let mut head = vec![major << 5 | 25];
            head.extend(u16::try_from(len).unwrap().to_be_bytes());
            head
        }
    }
}

fn cbor_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = cbor_head(2, bytes.len());
    out.extend(bytes);
    out
}

fn cbor_text(text: &str) -> Vec<u8> {
    let mut out = cbor_head(3, text.len());
    out.extend(text.as_bytes());
    out
}

/// Adds a passkey called `name` to the account `browser` is signed in to (in sudo mode),
/// answered by `register` (origin, options → the browser's answer) for `origin`; the
/// answer to the finishing call.
pub async fn add_passkey_with(
    client: &super::Client,
    browser: &mut super::Browser,
    origin: &str,
    name: &str,
    register: impl FnOnce(&str, &str) -> String,
) -> reqwest::Response {
    let begun = browser.post(client, "/api/passkeys/add_begin", &[]).await;
    assert_eq!(begun.status(), reqwest::StatusCode::OK);
    let begun: serde_json::Value = begun.json().await.unwrap();
    let answer = register(origin, begun["options"].as_str().unwrap());
    browser
        .post(
            client,
            "/api/passkeys/add_finish",
            &[
                ("ceremony", begun["id"].as_str().unwrap()),
                ("credential", &answer),
                ("name", name),
            ],
        )
        .await
}
