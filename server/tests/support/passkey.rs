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

use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{AllowCredentials, CreationChallengeResponse, RequestChallengeResponse};

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
        let (id, handle) = self.passkeys.last().expect("a passkey").clone();
        let mut rcr: RequestChallengeResponse =
            serde_json::from_str(options).expect("sign-in options");
        rcr.public_key.allow_credentials = vec![AllowCredentials {
            type_: "public-key".into(),
            id,
            transports: None,
        }];
        let mut answer = self
            .token
            .do_authentication(Url::parse(origin).unwrap(), rcr)
            .expect("the soft authenticator signs");
        answer.response.user_handle = Some(handle);
        serde_json::to_string(&answer).unwrap()
    }
}
