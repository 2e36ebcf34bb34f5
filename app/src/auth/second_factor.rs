//! The second factor (an authenticator app, RFC 6238, with recovery codes) and sudo
//! mode. ARCHITECTURE: "Second factor and sudo mode".
//!
//! The rules (which code is accepted, how secrets are sealed, how recovery codes are
//! made and stored) are plain functions at the top; the service's calls follow.

use std::sync::Arc;

use std::time::Duration;

use aws_lc_rs::aead::{Aad, LessSafeKey, NONCE_LEN, Nonce};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, TOTP};

use super::access_token::MintedToken;
use super::client_info::ClientInfo;
use super::core::Core;
use super::error::AuthError;
use super::events::EventKind;
use super::keys::{DerivedKey, KeySet};
use super::notices::MailKind;
use super::password::Verification;
use super::session::{CurrentDeviceSession, SignInMethod, SignedIn};
use super::transactions::{Tx, queue_notice, record_event, start_device_session};
use crate::secret::Secret;
use crate::store::models::{RecoveryCode, TotpFactor};
use crate::store::{DbConnection, QueryResult, accounts, second_factor as store};

// ---- The rules ----

/// Seconds per code (RFC 6238's default, what every authenticator app uses).
pub const STEP_SECS: i64 = 30;
/// Steps of clock drift accepted either way.
pub const DRIFT_STEPS: i64 = 1;
/// Digits per code.
pub const DIGITS: usize = 6;
/// How long an enrolment may wait for its confirming code.
pub const ENROLMENT_LIFETIME: chrono::Duration = chrono::Duration::minutes(15);
/// Recovery codes per set.
pub const RECOVERY_CODES: usize = 10;
/// From this many codes left, `/account` warns.
pub const FEW_CODES_LEFT: i64 = 3;
/// The issuer name authenticator apps show next to the account.
pub const ISSUER: &str = "Gatehouse";

/// An authenticator secret in the clear (160 random bits, RFC 4226's recommendation).
/// It exists only while a code is checked or the enrolment page is drawn; `Debug`
/// never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    /// Not the code of any step within the drift.
    Wrong,
    /// The code of a step that was already used (replay).
    Replayed,
}

impl TotpSecret {
    /// 160 bits from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 20];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system random generator is available");
        Self(bytes)
    }

    fn totp(&self, account: &str) -> TOTP {
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            0,
            STEP_SECS as u64,
            self.0.clone(),
            Some(ISSUER.to_owned()),
            account.to_owned(),
        )
    }

    /// The code of 30-second step `step`.
    pub fn code_at(&self, step: i64) -> String {
        self.totp("").generate((step.max(0) * STEP_SECS) as u64)
    }

    /// The secret in base32, as people type it into an app, in groups of four.
    pub fn base32_grouped(&self) -> String {
        let plain = totp_rs::Secret::Raw(self.0.clone())
            .to_encoded()
            .to_string();
        plain
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The `otpauth://` URL the QR code carries.
    pub fn otpauth_url(&self, account: &str) -> String {
        self.totp(account).get_url()
    }

    /// The step whose code `code` is, within ±[`DRIFT_STEPS`] of `now_unix`, if it is
    /// newer than `last_used_step` (a code is accepted once).
    pub fn accept(
        &self,
        code: &str,
        now_unix: i64,
        last_used_step: i64,
    ) -> Result<i64, CodeProblem> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(CodeProblem::Wrong);
        }
        let now = now_unix.div_euclid(STEP_SECS);
        let step = (now - DRIFT_STEPS..=now + DRIFT_STEPS)
            .find(|step| constant_time_eq(self.code_at(*step).as_bytes(), code.as_bytes()))
            .ok_or(CodeProblem::Wrong)?;
        if step <= last_used_step {
            return Err(CodeProblem::Replayed);
        }
        Ok(step)
    }
}

/// Compares a code without an early exit on the first different digit (aws-lc's
/// constant-time comparison, rather than a hand-written loop the optimiser may shorten).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// Seals authenticator secrets at rest with AES-256-GCM under a key derived from the
/// signing key, and opens what the current or a retired signing key sealed.
pub struct Sealer {
    current: (String, LessSafeKey),
    retired: Vec<(String, LessSafeKey)>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("kid", &self.current.0)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// The sealer of a key set: the signing key seals; it and the retired keys open.
    pub fn new(keys: &KeySet) -> Self {
        let entry = |key: &super::keys::SigningKey| {
            (key.verifying_key().kid().to_owned(), key.sealing_key())
        };
        Self {
            current: entry(keys.signing()),
            retired: keys.retired().iter().map(entry).collect(),
        }
    }

    /// The `kid` new seals are made with.
    pub fn current_kid(&self) -> &str {
        &self.current.0
    }

    /// Seals `secret`: a fresh 96-bit nonce and the ciphertext, base64url.
    pub fn seal(&self, secret: &TotpSecret) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random generator is available");
        let mut data = secret.0.clone();
        self.current
            .1
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .expect("AES-GCM seals any short input");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Opens what the key `kid` sealed; `None` for an unknown key or tampered data.
    pub fn open(&self, sealed: &str, kid: &str) -> Option<TotpSecret> {
        let key = std::iter::once(&self.current)
            .chain(&self.retired)
            .find(|(k, _)| k == kid)?;
        let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, data) = raw.split_at(NONCE_LEN);
        let mut data = data.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = key.1.open_in_place(nonce, Aad::empty(), &mut data).ok()?;
        Some(TotpSecret(plain.to_vec()))
    }
}

/// Ten recovery codes like `k7m2p-x9c4q` (50 random bits each, in an alphabet without
/// look-alike characters), shown once.
pub fn generate_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let random = SystemRandom::new();
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            random
                .fill(&mut bytes)
                .expect("the system random generator is available");
            let chars: String = bytes
                .iter()
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A recovery code as typed: case, spaces and dashes do not matter.
pub fn normalize_recovery_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The stored form of a recovery code: HMAC-SHA256 under a server key, hex.
pub fn recovery_code_hash(key: &aws_lc_rs::hmac::Key, code: &str) -> String {
    aws_lc_rs::hmac::sign(key, normalize_recovery_code(code).as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An SVG QR code of `text`, as a `data:` URI for an `<img>` (the page's CSP allows
/// `data:` images and nothing inline else).
pub fn qr_data_uri(text: &str) -> String {
    let svg = qrcode::QrCode::new(text.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
}

/// The factor, if it is confirmed (an enrolment waiting for its code is not a factor).
fn confirmed(factor: Option<TotpFactor>) -> Option<TotpFactor> {
    factor.filter(|f| f.confirmed_at.is_some())
}

/// Whether a proof given at `proven_at` still covers a sensitive action at `now`.
pub fn within_sudo_window(
    proven_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
    window: Duration,
) -> bool {
    proven_at.is_some_and(|at| {
        now - at < chrono::Duration::from_std(window).unwrap_or_default() && at <= now
    })
}

/// Whether `current` is in sudo mode, given its session's last proof (`proven_at`) and
/// whether it is bound to its device. On a bound session the proof covers only access
/// tokens minted from then on (the one minted with it, and those the browser renews by
/// proof): a copy of an older token, taken off the disk, does not share it. Whole
/// seconds, as tokens count time.
pub fn sudo_holds(
    (proven_at, bound): (Option<NaiveDateTime>, bool),
    current: &CurrentDeviceSession,
    now: NaiveDateTime,
    window: Duration,
) -> bool {
    within_sudo_window(proven_at, now, window)
        && (!bound
            || proven_at.is_some_and(|at| current.token_issued_at >= at.and_utc().timestamp()))
}

// ---- The service ----

/// A proof of identity offered with a sensitive action: the password, or a code from
/// the authenticator app.
#[derive(Debug, Clone, Default)]
pub struct Proof {
    /// The account's password.
    pub password: Option<Secret>,
    /// A code from the authenticator app.
    pub code: Option<String>,
}

impl Proof {
    /// A proof from form fields, where an empty field means "not given".
    pub fn from_fields(password: Option<Secret>, code: Option<String>) -> Self {
        Self {
            password: password.filter(|p| !p.expose().is_empty()),
            code: code.filter(|c| !c.trim().is_empty()),
        }
    }

    fn is_empty(&self) -> bool {
        self.password.is_none() && self.code.is_none()
    }
}

/// A password that checked out on an account with a second factor: the sign-in waits
/// for the code. Kept in the pre-authentication web session, never in the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// A random id: the throttle counts this sign-in's code tries under it.
    pub id: String,
    /// The account.
    pub user_id: String,
    /// The password's age when it was checked: a password changed meanwhile voids this.
    pub password_changed_at: NaiveDateTime,
    /// Until when the code may be entered.
    pub expires_at: NaiveDateTime,
    /// The e-mail address, for the throttle's key and the page.
    pub email: String,
    /// The OpenID provider (its configured id) that made the first step, if not the
    /// password.
    #[serde(default)]
    pub provider: Option<String>,
}

/// How long the code step of a sign-in may take.
pub const PENDING_SIGN_IN_LIFETIME: chrono::Duration = chrono::Duration::minutes(5);

/// What `/account` shows about the second factor and sudo mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorStatus {
    /// An authenticator app is confirmed.
    pub enabled: bool,
    /// Unused recovery codes (none without a confirmed factor).
    pub codes_left: i64,
    /// This session is in sudo mode (a recent proof of identity).
    pub sudo: bool,
}

/// An enrolment in progress: what the page shows.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, grouped, for typing.
    pub secret: String,
    /// The `otpauth://` URL.
    pub otpauth_url: String,
}

/// Two-step sign-in, recovery codes and sudo mode.
#[derive(Debug)]
pub struct SecondFactor {
    core: Arc<Core>,
    /// Authenticator codes checked since start (tests count guesses with it).
    code_checks: std::sync::atomic::AtomicU64,
    /// Seals authenticator secrets.
    sealer: Sealer,
    /// Hashes recovery codes.
    recovery_key: aws_lc_rs::hmac::Key,
    /// The same key of each retired signing key given with its private half, so codes
    /// made before a rotation still work.
    retired_recovery_keys: Vec<aws_lc_rs::hmac::Key>,
}

impl SecondFactor {
    pub(super) fn new(core: Arc<Core>) -> Self {
        let keys = core.tokens().keys();
        Self {
            sealer: Sealer::new(keys),
            recovery_key: keys.signing().derive(DerivedKey::RecoveryCode),
            retired_recovery_keys: keys
                .retired()
                .iter()
                .map(|key| key.derive(DerivedKey::RecoveryCode))
                .collect(),
            code_checks: Default::default(),
            core,
        }
    }

    /// How many authenticator codes have been checked since start: what a code guess
    /// costs, counted the way `Passwords::verifications` counts password checks.
    pub fn code_checks(&self) -> u64 {
        self.code_checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The second factor and sudo state of the caller's account and session.
    pub async fn second_factor_status(
        &self,
        current: &CurrentDeviceSession,
    ) -> Result<SecondFactorStatus, AuthError> {
        let (user_id, session_id) = (current.user_id.clone(), current.session_id.clone());
        let (enabled, codes_left, proven_at) = self
            .core
            .db()
            .read(move |conn| {
                let enabled = confirmed(store::find_totp(conn, &user_id)?).is_some();
                // Recovery codes exist only beside a confirmed factor: most accounts
                // have none, and their page is spared the count.
                let codes_left = if enabled {
                    store::recovery_codes_left(conn, &user_id)?
                } else {
                    0
                };
                Ok((enabled, codes_left, store::sudo_facts(conn, &session_id)?))
            })
            .await?;
        Ok(SecondFactorStatus {
            enabled,
            codes_left,
            sudo: sudo_holds(
                proven_at,
                current,
                super::transactions::now(),
                self.core.settings().sudo_window,
            ),
        })
    }

    /// Lets a sensitive action through if this session is in sudo mode, or if `proof`
    /// proves who the user is (which starts sudo mode again); else
    /// [`AuthError::SudoRequired`]. After a proof on a session bound to its device, a
    /// new access token for the browser that gave it ([`sudo_holds`]).
    pub async fn require_sudo(
        &self,
        current: &CurrentDeviceSession,
        proof: Proof,
    ) -> Result<Option<MintedToken>, AuthError> {
        if proof.is_empty() {
            // Only the session's last proof matters here (one query).
            let session_id = current.session_id.clone();
            let facts = self
                .core
                .db()
                .run(move |conn| Ok(store::sudo_facts(conn, &session_id)?))
                .await?;
            let now = super::transactions::now();
            return if sudo_holds(facts, current, now, self.core.settings().sudo_window) {
                Ok(None)
            } else {
                Err(AuthError::SudoRequired)
            };
        }
        if let Some(code) = &proof.code {
            self.check_totp(&current.user_id, code).await?;
        } else if let Some(password) = proof.password {
            self.confirm_password(&current.user_id, password).await?;
        }
        let session_id = current.session_id.clone();
        let now = super::transactions::now();
        let bound = self
            .core
            .db()
            .run(move |conn| Ok(store::prove(conn, &session_id, now)?))
            .await?;
        Ok(bound.then(|| self.core.token_after_proof(current)))
    }

    /// Checks `password` against the account of `user_id`; a wrong one is
    /// [`AuthError::WrongPassword`].
    async fn confirm_password(&self, user_id: &str, password: Secret) -> Result<(), AuthError> {
        let id = user_id.to_owned();
        let stored = self
            .core
            .db
            .run(move |conn| Ok(accounts::password_hash_of(conn, &id)?))
            .await?;
        match self.core.passwords.verify(password, stored).await? {
            Verification::Valid { .. } => Ok(()),
            Verification::Invalid => Err(AuthError::WrongPassword),
        }
    }

    /// Checks a code from the account's confirmed authenticator app and uses it up.
    async fn check_totp(&self, user_id: &str, code: &str) -> Result<i64, AuthError> {
        let id = user_id.to_owned();
        let factor = self
            .core
            .db()
            .run(move |conn| Ok(store::find_totp(conn, &id)?))
            .await
            .map(confirmed)?
            .ok_or(AuthError::WrongCode)?;
        let step = self.accept_code(&factor, code)?;
        let id = user_id.to_owned();
        let fresh = self
            .core
            .db()
            .run(move |conn| Ok(store::use_step(conn, &id, step)?))
            .await?;
        if fresh {
            Ok(step)
        } else {
            Err(AuthError::WrongCode)
        }
    }

    /// The step of `code` for `factor` (not yet recorded as used), re-sealing the secret
    /// under the current key if a retired one sealed it.
    fn accept_code(&self, factor: &TotpFactor, code: &str) -> Result<i64, AuthError> {
        self.code_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let secret = self.sealer
            .open(&factor.secret_sealed, &factor.key_id)
            .ok_or_else(|| AuthError::Internal("an authenticator secret cannot be opened: is its signing key in JWT_PREVIOUS_KEY_FILES?".into()))?;
        if factor.key_id != self.sealer.current_kid() {
            let (user_id, sealed, kid) = (
                factor.user_id.clone(),
                self.sealer.seal(&secret),
                self.sealer.current_kid().to_owned(),
            );
            let db = self.core.db().clone();
            tokio::spawn(async move {
                let _ = db
                    .run(move |conn| Ok(store::reseal(conn, &user_id, &sealed, &kid)?))
                    .await;
            });
        }
        secret
            .accept(code, super::now_unix(), factor.last_used_step)
            .map_err(|_| AuthError::WrongCode)
    }

    /// Starts adding an authenticator app (sudo mode is checked by the caller): a new
    /// secret, sealed and stored unconfirmed for [`ENROLMENT_LIFETIME`].
    pub async fn begin_totp(
        &self,
        current: &CurrentDeviceSession,
        email: &str,
    ) -> Result<Enrolment, AuthError> {
        let secret = TotpSecret::generate();
        let now = super::transactions::now();
        let factor = TotpFactor {
            user_id: current.user_id.clone(),
            secret_sealed: self.sealer.seal(&secret),
            key_id: self.sealer.current_kid().to_owned(),
            confirmed_at: None,
            last_used_step: 0,
            created_at: now,
            expires_at: Some(now + ENROLMENT_LIFETIME),
        };
        let user_id = current.user_id.clone();
        let already = self
            .core
            .db()
            .run(move |conn| {
                if confirmed(store::find_totp(conn, &user_id)?).is_some() {
                    return Ok(true);
                }
                store::start_enrolment(conn, &factor)?;
                Ok(false)
            })
            .await?;
        if already {
            return Err(AuthError::SecondFactorAlreadyOn);
        }
        Ok(Enrolment {
            secret: secret.base32_grouped(),
            otpauth_url: secret.otpauth_url(email),
        })
    }

    /// Confirms the enrolment with one valid code: the factor takes effect, and the
    /// first set of recovery codes is made and returned (shown once).
    pub async fn confirm_totp(
        &self,
        current: &CurrentDeviceSession,
        code: &str,
        client: ClientInfo,
    ) -> Result<Vec<String>, AuthError> {
        let id = current.user_id.clone();
        let factor = self
            .core
            .db()
            .run(move |conn| Ok(store::find_totp(conn, &id)?))
            .await?
            .filter(|f| f.confirmed_at.is_none() && f.expires_at > Some(super::transactions::now()))
            .ok_or(AuthError::NoEnrolment)?;
        let step = self.accept_code(&factor, code)?;
        let codes = generate_recovery_codes();
        let rows = self.recovery_rows(&current.user_id, &codes);
        let (user_id, session_id) = (current.user_id.clone(), current.session_id.clone());
        let confirmed = self
            .core
            .transaction(client, move |conn, tx| {
                if !store::confirm(conn, &user_id, step, tx.now)? {
                    return Ok(false);
                }
                store::replace_recovery_codes(conn, &user_id, &rows)?;
                store::set_proven_at(conn, &session_id, Some(tx.now))?;
                record_event(
                    conn,
                    tx,
                    &user_id,
                    Some(&session_id),
                    EventKind::TotpEnabled,
                    None,
                )?;
                queue_notice(
                    conn,
                    tx,
                    &user_id,
                    MailKind::SecondFactorEnabled,
                    tx.mail_facts(),
                )?;
                Ok(true)
            })
            .await?;
        if confirmed {
            Ok(codes)
        } else {
            Err(AuthError::NoEnrolment)
        }
    }

    /// Turns the second factor off (sudo mode is checked by the caller), records it and
    /// mails a notice.
    pub async fn disable_totp(
        &self,
        current: &CurrentDeviceSession,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let (user_id, session_id) = (current.user_id.clone(), current.session_id.clone());
        self.core
            .transaction(client, move |conn, tx| {
                turn_off_totp(conn, tx, &user_id, Some(&session_id))
            })
            .await?;
        self.core.mail_queued();
        Ok(())
    }

    /// A new set of recovery codes (sudo mode is checked by the caller); the old set
    /// stops working.
    pub async fn regenerate_recovery_codes(
        &self,
        current: &CurrentDeviceSession,
        client: ClientInfo,
    ) -> Result<Vec<String>, AuthError> {
        let codes = generate_recovery_codes();
        let rows = self.recovery_rows(&current.user_id, &codes);
        let (user_id, session_id) = (current.user_id.clone(), current.session_id.clone());
        let enabled = self
            .core
            .transaction(client, move |conn, tx| {
                if confirmed(store::find_totp(conn, &user_id)?).is_none() {
                    return Ok(false);
                }
                store::replace_recovery_codes(conn, &user_id, &rows)?;
                record_event(
                    conn,
                    tx,
                    &user_id,
                    Some(&session_id),
                    EventKind::RecoveryCodesRegenerated,
                    None,
                )?;
                queue_notice(
                    conn,
                    tx,
                    &user_id,
                    MailKind::RecoveryCodesRenewed,
                    tx.mail_facts(),
                )?;
                Ok(true)
            })
            .await?;
        if enabled {
            Ok(codes)
        } else {
            Err(AuthError::NoEnrolment)
        }
    }

    fn recovery_rows(&self, user_id: &str, codes: &[String]) -> Vec<RecoveryCode> {
        let now = super::transactions::now();
        codes
            .iter()
            .map(|code| RecoveryCode {
                code_hash: recovery_code_hash(&self.recovery_key, code),
                user_id: user_id.to_owned(),
                created_at: now,
            })
            .collect()
    }

    /// After a right password: whether the account has a second factor, in which case
    /// the sign-in waits for a code ([`SecondFactor::complete_second_factor`]).
    pub async fn pending_sign_in(
        &self,
        verified: &super::session::VerifiedLogin,
    ) -> Result<Option<PendingSignIn>, AuthError> {
        let user = verified.user.clone();
        if self.core.settings().require_verified_email && user.email_verified_at.is_none() {
            // The normal path refuses it (and sends a new link) before any code is asked.
            return Ok(None);
        }
        let id = user.id.clone();
        let factor = self
            .core
            .db()
            .run(move |conn| Ok(store::find_totp(conn, &id)?))
            .await?;
        if confirmed(factor).is_none() {
            return Ok(None);
        }
        Ok(Some(PendingSignIn {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user.id,
            password_changed_at: user.password_changed_at,
            expires_at: super::transactions::now() + PENDING_SIGN_IN_LIFETIME,
            email: user.email,
            provider: None,
        }))
    }

    /// The second step of a sign-in: a code from the authenticator app (each accepted
    /// once) or an unused recovery code (then used up, and recorded). Only now does the
    /// device session start. A wrong code is an activity event: the password was right,
    /// so the owner should see that someone may know it.
    pub async fn complete_second_factor(
        &self,
        pending: &PendingSignIn,
        code: &str,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let result = self
            .check_second_factor(pending, code, client.clone())
            .await;
        if matches!(result, Err(AuthError::WrongCode)) {
            let user_id = pending.user_id.clone();
            self.core
                .transaction(client, move |conn, tx| {
                    record_event(conn, tx, &user_id, None, EventKind::WrongCode, None)
                })
                .await?;
        }
        result
    }

    async fn check_second_factor(
        &self,
        pending: &PendingSignIn,
        code: &str,
        client: ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        if pending.expires_at <= super::transactions::now() {
            return Err(AuthError::NoPendingSignIn);
        }
        let id = pending.user_id.clone();
        let (user, factor) = self
            .core
            .db()
            .run(move |conn| {
                Ok((
                    accounts::find_by_id(conn, &id)?,
                    store::find_totp(conn, &id)?,
                ))
            })
            .await?;
        let user = user
            .filter(|u| u.password_changed_at == pending.password_changed_at)
            .ok_or(AuthError::NoPendingSignIn)?;
        let factor = confirmed(factor).ok_or(AuthError::NoPendingSignIn)?;
        let typed_digits = code
            .chars()
            .filter(|c| !c.is_whitespace())
            .all(|c| c.is_ascii_digit());
        let first_step = match pending.provider {
            Some(_) => SignInMethod::Provider,
            None => SignInMethod::Password,
        };
        let (method, step, code_hashes) = if typed_digits {
            (
                first_step.with_code(false),
                Some(self.accept_code(&factor, code)?),
                Vec::new(),
            )
        } else {
            // Under the current key, and under retired ones: codes made before a key
            // rotation keep working.
            let hashes = std::iter::once(&self.recovery_key)
                .chain(self.retired_recovery_keys.iter())
                .map(|key| recovery_code_hash(key, code))
                .collect();
            (first_step.with_code(true), None, hashes)
        };
        let user_id = user.id.clone();
        let provider = pending.provider.clone();
        let started = self
            .core
            .transaction(client, move |conn, tx| {
                let accepted = match step {
                    Some(step) => store::use_step(conn, &user_id, step)?,
                    None => {
                        let mut used = false;
                        for hash in &code_hashes {
                            if store::use_recovery_code(conn, &user_id, hash)? {
                                used = true;
                                break;
                            }
                        }
                        used
                    }
                };
                if !accepted {
                    return Ok(Err(AuthError::WrongCode));
                }
                if step.is_none() {
                    let left = store::recovery_codes_left(conn, &user_id)?.to_string();
                    record_event(
                        conn,
                        tx,
                        &user_id,
                        None,
                        EventKind::RecoveryCodeUsed,
                        Some(&left),
                    )?;
                }
                start_device_session(conn, tx, &user_id, method, provider.as_deref()).map(Ok)
            })
            .await??;
        self.core.mail_queued();
        Ok(self.core.finish_start(user, started))
    }
}

/// Turns two-step sign-in off for `user_id` (the factor and its recovery codes go),
/// records it (by `session_id`, if a device session acted) and mails a notice: the one
/// way it goes, from the account page and from the review after a reset.
pub(super) fn turn_off_totp(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
    session_id: Option<&str>,
) -> QueryResult<()> {
    store::delete_all(conn, user_id)?;
    record_event(conn, tx, user_id, session_id, EventKind::TotpDisabled, None)?;
    queue_notice(
        conn,
        tx,
        user_id,
        MailKind::SecondFactorDisabled,
        tx.mail_facts(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1: the 20-byte ASCII secret "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = rfc_secret();
        // Times 59 and 1111111109 (8-digit vectors 94287082 and 07081804; 6 digits are
        // their last six).
        assert_eq!(secret.code_at(59 / STEP_SECS), "287082");
        assert_eq!(secret.code_at(1_111_111_109 / STEP_SECS), "081804");
    }

    #[test]
    fn one_step_of_drift_either_way_is_accepted_and_no_more() {
        let secret = rfc_secret();
        let now = 1_700_000_000;
        let step = now / STEP_SECS;
        for drift in [-1, 0, 1] {
            assert_eq!(
                secret.accept(&secret.code_at(step + drift), now, 0),
                Ok(step + drift)
            );
        }
        for drift in [-2, 2] {
            assert_eq!(
                secret.accept(&secret.code_at(step + drift), now, 0),
                Err(CodeProblem::Wrong)
            );
        }
    }

    #[test]
    fn a_code_is_accepted_once_and_never_an_older_one_after_it() {
        let secret = rfc_secret();
        let now = 1_700_000_000;
        let step = now / STEP_SECS;
        let used = secret.accept(&secret.code_at(step), now, 0).unwrap();
        assert_eq!(
            secret.accept(&secret.code_at(step), now, used),
            Err(CodeProblem::Replayed)
        );
        assert_eq!(
            secret.accept(&secret.code_at(step - 1), now, used),
            Err(CodeProblem::Replayed)
        );
        assert_eq!(
            secret.accept(&secret.code_at(step + 1), now, used),
            Ok(step + 1)
        );
    }

    #[test]
    fn a_wrong_secret_or_a_malformed_code_is_refused() {
        let now = 1_700_000_000;
        let other = TotpSecret::generate().code_at(now / STEP_SECS);
        let accepted = rfc_secret().accept(&other, now, 0);
        // One chance in a million that a random secret shares the code.
        assert!(accepted.is_err() || rfc_secret().code_at(now / STEP_SECS) == other);
        for bad in ["", "12345", "1234567", "abcdef", "12 34 5x"] {
            assert_eq!(
                rfc_secret().accept(bad, now, 0),
                Err(CodeProblem::Wrong),
                "{bad:?}"
            );
        }
        let code = rfc_secret().code_at(now / STEP_SECS);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(
            rfc_secret().accept(&spaced, now, 0).is_ok(),
            "spaces are ignored"
        );
    }

    #[test]
    fn sealed_secrets_open_with_their_key_only_and_never_show() {
        use crate::auth::keys::{KeySet, SigningKey};
        let (old_key, _) = SigningKey::generate();
        let (new_key, _) = SigningKey::generate();
        let old = Sealer::new(&KeySet::new(old_key.clone(), vec![]));
        let secret = TotpSecret::generate();
        let sealed = old.seal(&secret);
        assert!(!format!("{secret:?}").contains(&secret.base32_grouped()));
        assert_eq!(old.open(&sealed, old.current_kid()), Some(secret.clone()));
        // After a rotation with the old private key kept, it still opens.
        let rotated =
            Sealer::new(&KeySet::new(new_key.clone(), vec![]).with_retired(vec![old_key]));
        assert_eq!(
            rotated.open(&sealed, old.current_kid()),
            Some(secret.clone())
        );
        // Without it, or tampered, it does not.
        let forgotten = Sealer::new(&KeySet::new(new_key, vec![]));
        assert_eq!(forgotten.open(&sealed, old.current_kid()), None);
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            old.open(&String::from_utf8(tampered).unwrap(), old.current_kid()),
            None
        );
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_typed_loosely() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"k");
        let code = &codes[0];
        assert_eq!(
            recovery_code_hash(&key, code),
            recovery_code_hash(
                &key,
                &format!(" {} ", code.to_uppercase().replace('-', " "))
            )
        );
        assert_ne!(
            recovery_code_hash(&key, code),
            recovery_code_hash(&key, &codes[1])
        );
    }

    #[test]
    fn sudo_lasts_the_window_from_the_last_proof() {
        let now = chrono::Utc::now().naive_utc();
        let window = Duration::from_secs(600);
        assert!(within_sudo_window(
            Some(now - chrono::Duration::minutes(9)),
            now,
            window
        ));
        assert!(!within_sudo_window(
            Some(now - chrono::Duration::minutes(10)),
            now,
            window
        ));
        assert!(!within_sudo_window(None, now, window));
    }

    #[test]
    fn the_qr_code_is_an_svg_data_uri() {
        let uri = qr_data_uri("otpauth://totp/Gatehouse:ann@example.com?secret=ABC");
        assert!(uri.starts_with("data:image/svg+xml;base64,"));
        assert!(uri.len() > 1000);
    }
}
