//! Rows of the Gatehouse tables, as Diesel reads and writes them. Times are UTC.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::secret::Secret;

use super::schema::{
    dbsc_challenges, dbsc_keys, device_sessions, email_tokens, mail_outbox, oidc_flows,
    oidc_identities, passkey_challenges, passkeys, recovery_codes, refresh_tokens, security_events,
    throttle_counters, token_blacklist, totp_factors, users,
};

/// An account.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    /// Opaque id (UUID v7), the JWT `sub`.
    pub id: String,
    /// Trimmed and lower-cased, unique.
    pub email: String,
    /// Argon2id PHC string.
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub password_hash: Secret,
    /// When the account was created.
    pub created_at: NaiveDateTime,
    /// When the password was last set.
    pub password_changed_at: NaiveDateTime,
    /// When the address was last proven to be the user's (a link sent to it was opened).
    pub email_verified_at: Option<NaiveDateTime>,
    /// Whether a sign-in from a new device is announced by mail.
    pub notify_new_device: bool,
}

/// A signed-in device (one browser).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable, Associations)]
#[diesel(table_name = device_sessions, belongs_to(User))]
pub struct DeviceSession {
    /// Opaque random id, the JWT `sid`.
    pub id: String,
    /// Whose session.
    pub user_id: String,
    /// Sign-in time.
    pub created_at: NaiveDateTime,
    /// Last refresh, or last request (at most once a minute).
    pub last_seen_at: NaiveDateTime,
    /// Idle expiry: moves forward with every refresh, never past `absolute_expires_at`.
    pub expires_at: NaiveDateTime,
    /// Hard limit from sign-in; the user must log in again after it.
    pub absolute_expires_at: NaiveDateTime,
    /// Set when the session was ended early.
    pub revoked_at: Option<NaiveDateTime>,
    /// Why it was ended (`logout`, `token_reuse`, ...).
    pub revoke_reason: Option<String>,
    /// The browser's User-Agent at sign-in (truncated).
    pub user_agent: String,
    /// The client IP at sign-in.
    pub ip: String,
    /// A human label such as "Chrome 131 on Linux".
    pub device_label: String,
    /// The latest `exp` of the access tokens minted for this session (`None` on rows
    /// older than the column): a revocation blacklists the session until then.
    pub access_expires_at: Option<NaiveDateTime>,
    /// How it signed in (see `auth::session::SignInMethod`).
    pub sign_in_method: String,
    /// The last proof of identity on this session (sign-in, or a password or code given
    /// for a sensitive action); sudo mode lasts `SUDO_WINDOW` from here.
    pub proven_at: Option<NaiveDateTime>,
    /// The OpenID provider it signed in with (its configured id), if any.
    pub sign_in_provider: Option<String>,
}

impl DeviceSession {
    /// Not ended early, and within both its idle and its absolute expiry at `now`.
    pub fn is_live_at(&self, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now && self.absolute_expires_at > now
    }
}

/// One link of a session's refresh-token chain.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// The device session it belongs to.
    pub session_id: String,
    /// When it was issued.
    pub issued_at: NaiveDateTime,
    /// When it stops working unused.
    pub expires_at: NaiveDateTime,
    /// When it was exchanged; a second use after the grace window means theft.
    pub used_at: Option<NaiveDateTime>,
    /// The hash of the token that replaced it.
    pub replaced_by: Option<String>,
}

/// A revoked access token (`kind` = `jti`) or session (`kind` = `sid`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = token_blacklist)]
pub struct BlacklistEntry {
    /// The `jti` or `sid`.
    pub token_id: String,
    /// `jti` or `sid`.
    pub kind: String,
    /// The session concerned.
    pub session_id: String,
    /// Why it was revoked.
    pub reason: String,
    /// When.
    pub created_at: NaiveDateTime,
    /// When the blocked tokens would have expired anyway; the row is useless after it.
    pub expires_at: NaiveDateTime,
    /// Position in the revocation feed (see `store::blacklist`): the inserting
    /// transaction's id on PostgreSQL, a counter on SQLite.
    pub seq: i64,
}

/// Something that happened to an account, for its activity page.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = security_events)]
pub struct SecurityEvent {
    /// UUID v7, so ids sort by time.
    pub id: String,
    /// Whose account.
    pub user_id: String,
    /// The device session concerned, if any.
    pub session_id: Option<String>,
    /// What happened (see `auth::events`).
    pub kind: String,
    /// The client IP of the request that caused it.
    pub ip: Option<String>,
    /// The User-Agent of that request.
    pub user_agent: Option<String>,
    /// Extra detail for the user, e.g. which device was signed out.
    pub detail: Option<String>,
    /// When.
    pub created_at: NaiveDateTime,
    /// When the retention period ends.
    pub expires_at: NaiveDateTime,
}

/// One brute-force counter shared by every instance (PostgreSQL); see `auth::throttle`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = throttle_counters, treat_none_as_null = true)]
pub struct ThrottleCounter {
    /// What is counted: `account-ip:…`, `ip:…`, `account:…` or `device:…`.
    pub key: String,
    /// Failures counted in the current window (attempts are counted before the
    /// password is checked, and refunded when it was right).
    pub failures: i32,
    /// Where the counting window (or the decay) starts.
    pub window_start: NaiveDateTime,
    /// No attempt on this key before this moment.
    pub blocked_until: Option<NaiveDateTime>,
    /// When the row says nothing any more; the cleanup job deletes it after.
    pub expires_at: NaiveDateTime,
}

/// A single-use token of a link sent by mail (password reset, address verification,
/// address change); see `auth::email_link`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = email_tokens)]
pub struct EmailToken {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Whose account.
    pub user_id: String,
    /// What the link does (`password_reset`, `email_verification`, `email_change`).
    pub purpose: String,
    /// The address the link was sent to; for `email_change` the new address.
    pub email: String,
    /// When it was issued.
    pub created_at: NaiveDateTime,
    /// When the link stops working.
    pub expires_at: NaiveDateTime,
    /// When it was used (a used link is kept until it expires, to say so).
    pub used_at: Option<NaiveDateTime>,
}

/// One mail of the outbox, from the change that caused it to its delivery; see `mail`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_outbox)]
pub struct OutboxMail {
    /// UUID v7, so ids sort by time.
    pub id: String,
    /// Which mail (see `auth::notices::MailKind`).
    pub kind: String,
    /// The address it goes to.
    pub recipient: String,
    /// The account it is about; `None` for a reset requested for an address, which the
    /// sender resolves at delivery.
    pub user_id: Option<String>,
    /// The facts the mail names, as JSON (see `auth::notices::MailFacts`).
    pub data: String,
    /// `pending`, `sent`, `dropped` (nothing to send after all) or `failed` (gave up).
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// When the sender may take it (again).
    pub next_attempt_at: NaiveDateTime,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The development mailbox's copy of what was delivered.
    pub subject: Option<String>,
    /// Plain-text body (development mailbox only).
    pub text_body: Option<String>,
    /// HTML body (development mailbox only).
    pub html_body: Option<String>,
    /// When it was written.
    pub created_at: NaiveDateTime,
    /// When it was sent, dropped or given up on.
    pub finished_at: Option<NaiveDateTime>,
    /// When the row is deleted.
    pub expires_at: NaiveDateTime,
}

/// An account's authenticator app (see `auth::second_factor`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = totp_factors)]
pub struct TotpFactor {
    /// Whose.
    pub user_id: String,
    /// The secret, sealed with AES-256-GCM (nonce and ciphertext, base64url).
    pub secret_sealed: String,
    /// The `kid` of the signing key whose derived key sealed it.
    pub key_id: String,
    /// When the user confirmed it with a code; `None` while enrolling.
    pub confirmed_at: Option<NaiveDateTime>,
    /// The newest 30-second step whose code was accepted (replay defence).
    pub last_used_step: i64,
    /// When enrolment started.
    pub created_at: NaiveDateTime,
    /// When an unconfirmed enrolment lapses; `None` once confirmed.
    pub expires_at: Option<NaiveDateTime>,
}

/// One unused recovery code.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = recovery_codes)]
pub struct RecoveryCode {
    /// HMAC-SHA256 of the normalised code under a server key, hex.
    pub code_hash: String,
    /// Whose.
    pub user_id: String,
    /// When the set was made.
    pub created_at: NaiveDateTime,
}

/// A passkey of an account (see `auth::passkeys`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = passkeys)]
pub struct PasskeyRow {
    /// The authenticator's credential id, base64url; unique across accounts.
    pub credential_id: String,
    /// Whose.
    pub user_id: String,
    /// What the user called it ("Chrome on Linux", "My phone").
    pub name: String,
    /// The credential as webauthn-rs keeps it (JSON).
    pub passkey: String,
    /// The authenticator's signature counter at the last use (0 for synced passkeys,
    /// which do not count).
    pub sign_count: i64,
    /// The passkey may be synced to the user's other devices.
    pub backup_eligible: bool,
    /// It was backed up (synced) at the last use.
    pub backed_up: bool,
    /// When it was added.
    pub created_at: NaiveDateTime,
    /// When it last signed in.
    pub last_used_at: Option<NaiveDateTime>,
}

/// A passkey ceremony waiting for the browser's answer (see `auth::passkeys`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = passkey_challenges)]
pub struct PasskeyChallenge {
    /// Random; kept in the asking browser's web session.
    pub id: String,
    /// `add` or `sign_in`.
    pub purpose: String,
    /// The signed-in user adding a passkey; `None` for a sign-in.
    pub user_id: Option<String>,
    /// The webauthn-rs ceremony state (JSON), with the challenge.
    pub state: String,
    /// When it was issued.
    pub created_at: NaiveDateTime,
    /// When it stops being accepted.
    pub expires_at: NaiveDateTime,
}

/// An identity at an OpenID provider, linked to an account (see `auth::identities`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oidc_identities)]
pub struct IdentityRow {
    /// Random.
    pub id: String,
    /// The account it signs in to.
    pub user_id: String,
    /// The provider's configured id when it was linked.
    pub provider_id: String,
    /// Its configured name then (for mail, written without the configuration).
    pub provider_name: String,
    /// The provider's issuer URL, as its ID tokens name it.
    pub issuer: String,
    /// The provider's id for the person (`sub`): with `issuer`, the identity's key.
    pub subject: String,
    /// The address the provider gave at the last sign-in.
    pub email: String,
    /// When it was linked.
    pub created_at: NaiveDateTime,
    /// When it last signed in, if ever since linking.
    pub last_used_at: Option<NaiveDateTime>,
}

/// A redirect to an OpenID provider waiting for its answer (see `auth::identities`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oidc_flows)]
pub struct OidcFlowRow {
    /// SHA-256 of the `state` sent to the provider, hex.
    pub id: String,
    /// Which provider.
    pub provider_id: String,
    /// `sign_in`, `link` or `reauthenticate`.
    pub purpose: String,
    /// The signed-in user linking or proving it is them; `None` for a sign-in.
    pub user_id: Option<String>,
    /// That user's device session.
    pub session_id: Option<String>,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier the code is exchanged with.
    pub pkce_verifier: String,
    /// A same-site path to continue to.
    pub next: String,
    /// When the browser left for the provider.
    pub created_at: NaiveDateTime,
    /// When the answer stops being accepted.
    pub expires_at: NaiveDateTime,
}

/// The key a browser bound a device session to (see `auth::dbsc`). Made when the
/// browser first answers a registration challenge; `jwk` once its proof checked out.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dbsc_keys)]
pub struct DbscKeyRow {
    /// The device session (one key each).
    pub session_id: String,
    /// `ES256` or `RS256`, once bound.
    pub algorithm: Option<String>,
    /// The public key as the browser sent it (a JWK, JSON), once bound.
    pub jwk: Option<String>,
    /// Its RFC 7638 thumbprint (SHA-256, base64url), once bound.
    pub thumbprint: Option<String>,
    /// When the browser first answered a registration challenge.
    pub created_at: NaiveDateTime,
    /// When the session was bound.
    pub bound_at: Option<NaiveDateTime>,
    /// The session's absolute expiry: the row is useless after it.
    pub expires_at: NaiveDateTime,
}

/// A challenge a browser is to sign with a session's key (see `auth::dbsc`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dbsc_challenges)]
pub struct DbscChallengeRow {
    /// SHA-256 of the challenge (hex): the challenge itself is never stored.
    pub id: String,
    /// The device session it was sent for.
    pub session_id: String,
    /// `register` or `refresh`.
    pub purpose: String,
    /// When it was sent.
    pub created_at: NaiveDateTime,
    /// When it stops being accepted.
    pub expires_at: NaiveDateTime,
}
