//! The rules of the session life cycle that run inside a write transaction: rotation
//! with the grace-window answer, starting and revoking device sessions, recording
//! events. Every function here runs inside a transaction its caller in
//! [`super::service`] opened (see [`super::core::Core::transaction`]), and takes a [`Tx`] saying who acted, when, and with which
//! settings. The SQL is in `store/`; none of these touches in-memory state, which the
//! service updates only once the transaction has committed.

use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, Utc};

use super::access_token::LEEWAY_SECS;
use super::client_info::{ClientInfo, HeldSession};
use super::email_link::LinkPurpose;
use super::events::EventKind;
use super::notices::{MailClass, MailFacts, MailKind};
use super::refresh_token::RefreshToken;
use super::revocation::Revoked;
use super::session::SignInMethod;
use super::session::{Account, IssuedRefresh, RevokeReason};
use super::settings::DbscMode;
use super::settings::SessionSettings;
use crate::secret::Secret;
use crate::store::models::{
    BlacklistEntry, DbscChallengeRow, DeviceSession, RefreshTokenRow, SecurityEvent, User,
};
use crate::store::{
    DbConnection, QueryResult, accounts, blacklist, dbsc, device_sessions, email_tokens, events,
    outbox,
};

/// What a refresh attempt found, decided inside the transaction.
pub(super) enum Rotation {
    /// The token was good: here is the chain's next token, and until when the new
    /// access token may live. `next` is `None` only when a retry inside the grace window
    /// cannot be answered with the chain's head (the server key changed meanwhile).
    Refreshed {
        account: Account,
        session_id: String,
        next: Option<IssuedRefresh>,
        access_until: NaiveDateTime,
    },
    /// A used token came back after the grace window: theft. The session is revoked.
    Reused { session_id: String, until: i64 },
    /// Unknown token, or its session is over.
    Ended,
    /// The session is bound to a key (DBSC) and the refresh came without a proof of it.
    /// Refused, recorded and mailed; the session lives on for its device.
    ProofMissing,
}

/// What a refresh proves about the device, besides holding the refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Holder<'a> {
    /// Only the refresh token: enough for a session not bound to a key.
    Token,
    /// The token, and a proof signed with the key of device session `.0` (checked by
    /// the caller against the stored key, its challenge taken in this transaction).
    Proven(&'a str),
}

/// Whether renewing `session_id` takes a proof of its device's key: it is bound, or
/// (`DBSC=required`) its browser answered the offer to bind it and failed.
fn needs_proof(conn: &mut DbConnection, tx: &Tx<'_>, session_id: &str) -> QueryResult<bool> {
    if tx.settings.dbsc == DbscMode::Off {
        return Ok(false);
    }
    Ok(match dbsc::key(conn, session_id)? {
        Some(key) => key.bound_at.is_some() || tx.settings.dbsc == DbscMode::Required,
        None => false,
    })
}

/// `dbsc_proof_failed` events of bad proofs one account gets in an hour, at most: whoever
/// knows a bound session's id can send them, and each must not be a row for 90 days.
/// A renewal with the session's real refresh token is always recorded: only a copy of
/// the cookies brings one, so junk sent first cannot hide it.
const PROOF_FAILURES_RECORDED_PER_HOUR: i64 = 10;

/// What a refused renewal brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unproven {
    /// The session's refresh token, without a proof: a copy of the cookies.
    RefreshToken,
    /// A proof that does not check out, which anyone who knows the session id can send.
    BadProof,
}

/// Records a renewal of `session` refused for want of a proof, and tells its owner (within
/// the mail limits: a thief retrying fills only the budget of mails that answer requests;
/// bad proofs at most [`PROOF_FAILURES_RECORDED_PER_HOUR`] events).
pub(super) fn refuse_unproven(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    session: &DeviceSession,
    brought: Unproven,
) -> QueryResult<()> {
    let kind = EventKind::DbscProofFailed.as_str();
    let hour_ago = tx.now - chrono::Duration::hours(1);
    if brought == Unproven::BadProof
        && events::count_since(conn, &session.user_id, kind, hour_ago)?
            >= PROOF_FAILURES_RECORDED_PER_HOUR
    {
        return Ok(());
    }
    record_event(
        conn,
        tx,
        &session.user_id,
        Some(&session.id),
        EventKind::DbscProofFailed,
        Some(&session.device_label),
    )?;
    let facts = MailFacts {
        device: Some(session.device_label.clone()),
        ..tx.mail_facts()
    };
    queue_notice(conn, tx, &session.user_id, MailKind::DbscProofFailed, facts)
}

/// Why a DBSC challenge was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub(super) enum DbscPurpose {
    /// Sent with a new session: bind it to a key.
    Register,
    /// Sent with a 403 to a refresh: sign it with the bound key.
    Refresh,
}

/// How long a DBSC challenge may be answered.
pub(super) const DBSC_CHALLENGE_TTL: chrono::Duration = chrono::Duration::minutes(5);

/// A new single-use challenge for `session_id`, kept (hashed) in the database so any
/// instance can take the answer.
pub(super) fn issue_dbsc_challenge(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    session_id: &str,
    purpose: DbscPurpose,
) -> QueryResult<Secret> {
    let challenge = random_id();
    dbsc::insert_challenge(
        conn,
        &DbscChallengeRow {
            id: super::refresh_token::sha256_hex(&challenge),
            session_id: session_id.to_owned(),
            purpose: <&str>::from(purpose).to_owned(),
            created_at: tx.now,
            expires_at: tx.now + DBSC_CHALLENGE_TTL,
        },
    )?;
    Ok(Secret::new(challenge))
}

/// Takes the challenge a proof answers: the device session it was sent for, if it is
/// live, unused and of `purpose`. Single use, also for parallel answers.
pub(super) fn take_dbsc_challenge(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    challenge: &str,
    purpose: DbscPurpose,
) -> QueryResult<Option<String>> {
    let id = super::refresh_token::sha256_hex(challenge);
    Ok(dbsc::take_challenge(conn, &id, purpose.into(), tx.now)?.map(|row| row.session_id))
}

/// How many links a retry inside the grace window may walk to find the chain's head.
/// Each link is one rotation within the window, so a handful covers any real client.
const MAX_GRACE_WALK: usize = 8;

pub(super) fn rotate(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    token: &RefreshToken,
    holder: Holder<'_>,
) -> QueryResult<Rotation> {
    let (settings, now) = (tx.settings, tx.now);
    let hash = token.hash();
    let hash = hash.as_str();
    // Concurrent refreshes of one token, on any instance, take turns from here on: the
    // second sees the first one's `used_at` and gets the grace-window answer.
    device_sessions::lock_refresh_token(conn, hash)?;
    let Some(row) = device_sessions::find_refresh_token(conn, hash)? else {
        return Ok(Rotation::Ended);
    };
    let (session, email) = device_sessions::session_with_email(conn, &row.session_id)?;
    if !(session.is_live_at(now) && row.expires_at > now) {
        return Ok(Rotation::Ended);
    }
    match holder {
        Holder::Proven(proven) if proven != session.id => return Ok(Rotation::Ended),
        Holder::Proven(_) => {}
        Holder::Token => {
            if needs_proof(conn, tx, &session.id)? {
                refuse_unproven(conn, tx, &session, Unproven::RefreshToken)?;
                return Ok(Rotation::ProofMissing);
            }
        }
    }
    let account = Account {
        id: session.user_id.clone(),
        email,
    };
    let next = match row.used_at {
        None => {
            let next = issue_refresh(
                conn,
                &session.id,
                token.successor(tx.successor_key),
                session.absolute_expires_at,
                settings,
                now,
            )?;
            device_sessions::mark_refresh_token_used(conn, hash, now, next.token.hash().as_str())?;
            device_sessions::set_expiry(conn, &session.id, next.expires_at, Some(now))?;
            Some(next)
        }
        Some(used_at)
            if now - used_at
                <= chrono::Duration::from_std(settings.refresh_grace).unwrap_or_default() =>
        {
            // A retry (the reply to the first use was lost) or a parallel tab: hand out
            // the chain's current head, so the device keeps a working token and the chain
            // keeps one head. ARCHITECTURE: "Refresh rotation and the grace-window answer".
            chain_head(conn, tx, token)?
        }
        Some(_) => {
            let revoked = revoke_device_session(conn, tx, &session.id, RevokeReason::TokenReuse)?;
            let facts = MailFacts {
                device: Some(session.device_label.clone()),
                ..tx.mail_facts()
            };
            queue_notice(conn, tx, &session.user_id, MailKind::TokenReuse, facts)?;
            return Ok(match revoked {
                Some((session_id, until)) => Rotation::Reused { session_id, until },
                None => Rotation::Ended,
            });
        }
    };
    let access_until = extend_access(conn, tx, &session)?;
    Ok(Rotation::Refreshed {
        account,
        session_id: session.id,
        next,
        access_until,
    })
}

/// Follows the deterministic successors of `token` to the first unused one: the token
/// the device should hold now. `None` if a link is missing (the server key changed, or
/// the chain was cleaned up).
fn chain_head(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    token: &RefreshToken,
) -> QueryResult<Option<IssuedRefresh>> {
    let mut current = token.successor(tx.successor_key);
    for _ in 0..MAX_GRACE_WALK {
        let Some(row) = device_sessions::find_refresh_token(conn, current.hash().as_str())? else {
            return Ok(None);
        };
        if row.used_at.is_none() {
            return Ok(Some(IssuedRefresh {
                token: current,
                expires_at: row.expires_at,
            }));
        }
        current = current.successor(tx.successor_key);
    }
    Ok(None)
}

/// The `exp` of an access token minted now for `session`: the configured lifetime, but
/// never past the session's absolute expiry. Recorded on the session (only ever moved
/// later), so a revocation knows how long its blacklist row must last.
pub(super) fn extend_access(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    session: &DeviceSession,
) -> QueryResult<NaiveDateTime> {
    let until = (tx.now + chrono::Duration::from_std(tx.access_ttl).unwrap_or_default())
        .min(session.absolute_expires_at);
    let recorded = session.access_expires_at.map_or(until, |t| t.max(until));
    device_sessions::set_access_expires_at(conn, &session.id, recorded)?;
    Ok(until)
}

/// A device session just started.
pub(super) struct Started {
    pub session_id: String,
    pub refresh: IssuedRefresh,
    /// The `exp` of its first access token.
    pub access_until: NaiveDateTime,
    /// Sessions revoked to stay within the per-user limit, for the revocation set.
    pub evicted: Vec<(String, i64)>,
    /// The challenge that invites the browser to bind the session to a key (DBSC), for
    /// the registration header; `None` for an app, or with `DBSC=off`.
    pub dbsc_challenge: Option<Secret>,
}

/// Inserts a device session and its first refresh token and records the sign-in. If the
/// user now has more than `max_sessions` live sessions, the least recently active ones
/// are revoked to make room. `provider` names the OpenID provider (its configured id)
/// the sign-in went through, if any: the devices page says "Signed in with" it.
pub(super) fn start_device_session(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
    method: SignInMethod,
    provider: Option<&str>,
) -> QueryResult<Started> {
    let (settings, now) = (tx.settings, tx.now);
    // Concurrent sign-ins of one account take turns, so the session limit holds.
    accounts::lock(conn, user_id)?;
    // Signing in again on a browser that is signed in ends its previous session.
    let mut evicted = Vec::new();
    if let Some(held) = held_session_id(conn, tx)? {
        evicted.extend(revoke_device_session(
            conn,
            tx,
            &held,
            RevokeReason::Logout,
        )?);
    }
    let absolute = now + chrono::Duration::from_std(settings.session_max_age).unwrap_or_default();
    let session = DeviceSession {
        id: random_id(),
        user_id: user_id.to_owned(),
        created_at: now,
        last_seen_at: now,
        expires_at: now,
        absolute_expires_at: absolute,
        revoked_at: None,
        revoke_reason: None,
        user_agent: tx.client.user_agent.clone(),
        ip: tx.client.ip.clone(),
        device_label: tx.client.device_label(),
        access_expires_at: None,
        sign_in_method: method.as_str().to_owned(),
        // Signing in is a proof of identity: sudo mode starts.
        proven_at: Some(now),
        sign_in_provider: provider.map(str::to_owned),
    };
    device_sessions::insert_session(conn, &session)?;
    let refresh = issue_refresh(
        conn,
        &session.id,
        RefreshToken::generate(),
        absolute,
        settings,
        now,
    )?;
    device_sessions::set_expiry(conn, &session.id, refresh.expires_at, None)?;
    let access_until = extend_access(conn, tx, &session)?;
    // "Sign-in from a new device": the account has signed in before, but never from this
    // kind of device. (The very first sign-in, at sign-up, is not news.)
    let sign_in_kinds = [
        EventKind::SignedIn.as_str(),
        EventKind::NewDeviceSignIn.as_str(),
    ];
    let any_before = events::count_of_kinds(conn, user_id, &sign_in_kinds, None)?;
    let this_kind_before =
        events::count_of_kinds(conn, user_id, &sign_in_kinds, Some(&session.device_label))?;
    let kind = if any_before > 0 && this_kind_before == 0 {
        EventKind::NewDeviceSignIn
    } else {
        EventKind::SignedIn
    };
    record_event(
        conn,
        tx,
        user_id,
        Some(&session.id),
        kind,
        Some(&session.device_label),
    )?;
    if kind == EventKind::NewDeviceSignIn {
        queue_notice(
            conn,
            tx,
            user_id,
            MailKind::NewDeviceSignIn,
            tx.mail_facts(),
        )?;
    }

    let others = device_sessions::live_session_ids(conn, user_id, now, Some(&session.id))?;
    for id in others.iter().skip(settings.max_sessions.saturating_sub(1)) {
        evicted.extend(revoke_device_session(
            conn,
            tx,
            id,
            RevokeReason::SessionLimit,
        )?);
    }
    let dbsc_challenge = if settings.dbsc != DbscMode::Off && !tx.client.tokens_in_body {
        Some(issue_dbsc_challenge(
            conn,
            tx,
            &session.id,
            DbscPurpose::Register,
        )?)
    } else {
        None
    };
    Ok(Started {
        session_id: session.id,
        refresh,
        access_until,
        evicted,
        dbsc_challenge,
    })
}

/// The id of the device session the signing-in browser holds already, if any.
fn held_session_id(conn: &mut DbConnection, tx: &Tx<'_>) -> QueryResult<Option<String>> {
    Ok(match &tx.client.held_session {
        None => None,
        Some(HeldSession::Id(id)) => Some(id.clone()),
        Some(HeldSession::RefreshHash(hash)) => {
            device_sessions::session_of_refresh_token(conn, hash)?
        }
    })
}

/// Stores `token` as the session's newest refresh token.
fn issue_refresh(
    conn: &mut DbConnection,
    session_id: &str,
    token: RefreshToken,
    absolute_expires_at: NaiveDateTime,
    settings: &SessionSettings,
    now: NaiveDateTime,
) -> QueryResult<IssuedRefresh> {
    let expires_at = (now + chrono::Duration::from_std(settings.refresh_ttl).unwrap_or_default())
        .min(absolute_expires_at);
    device_sessions::insert_refresh_token(
        conn,
        &RefreshTokenRow {
            token_hash: token.hash().as_str().to_owned(),
            session_id: session_id.to_owned(),
            issued_at: now,
            expires_at,
            used_at: None,
            replaced_by: None,
        },
    )?;
    Ok(IssuedRefresh { token, expires_at })
}

/// What every write of one transaction shares: who caused it, when, and the settings.
pub(super) struct Tx<'a> {
    pub client: &'a ClientInfo,
    pub settings: &'a SessionSettings,
    pub access_ttl: Duration,
    /// Derives each refresh token's successor ([`RefreshToken::successor`]).
    pub successor_key: &'a aws_lc_rs::hmac::Key,
    pub now: NaiveDateTime,
}

impl<'a> Tx<'a> {
    /// A transaction context stamped with the current time.
    pub fn new(
        client: &'a ClientInfo,
        settings: &'a SessionSettings,
        access_ttl: Duration,
        successor_key: &'a aws_lc_rs::hmac::Key,
    ) -> Self {
        Self {
            client,
            settings,
            access_ttl,
            successor_key,
            now: now(),
        }
    }
}

impl Tx<'_> {
    /// What a mail caused by this transaction says about the request: its device and IP.
    pub fn mail_facts(&self) -> MailFacts {
        MailFacts {
            device: Some(self.client.device_label()),
            ip: Some(self.client.ip.clone()),
            language: Some(self.client.language),
            ..MailFacts::default()
        }
    }
}

/// Mails of one kind that answers a request (a link, "someone used your address") to
/// one address within an hour, at most: enough for a retry or two, too few to flood
/// anyone's inbox through Gatehouse.
pub(super) const MAILS_PER_HOUR: i64 = 3;
/// Mails of each [`MailClass`] to one verified address within an hour, at most. Each
/// class has its own budget: with one shared limit, a thief who signed in ten times
/// silenced the notice of the second factor they then turned on, and the owner's reset
/// link after it.
fn class_mails_per_hour(class: MailClass) -> i64 {
    match class {
        MailClass::Request => 10,
        MailClass::SignIn => 5,
        MailClass::Change => 10,
    }
}
/// Mails of every kind to an address nobody has verified, within a day, at most: it may
/// belong to someone who never asked for any of them.
pub(super) const UNVERIFIED_MAILS_PER_DAY: i64 = 3;

/// Queues a security notice about `user_id` to the account's current address (the
/// new-device notice only if the user has not turned it off), within the limits of
/// [`queue_mail`].
pub(super) fn queue_notice(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
    kind: MailKind,
    facts: MailFacts,
) -> QueryResult<()> {
    let Some(user) = accounts::find_by_id(conn, user_id)? else {
        return Ok(());
    };
    if kind == MailKind::NewDeviceSignIn && !user.notify_new_device {
        return Ok(());
    }
    queue_mail(conn, tx, kind, &user.email, Some(user_id), &facts).map(drop)
}

/// Queues a mail of `kind` to `recipient` with the request's facts, within the limits
/// of [`queue_mail`]; returns whether it was queued.
pub(super) fn queue_limited(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    kind: MailKind,
    recipient: &str,
    user_id: Option<&str>,
) -> QueryResult<bool> {
    queue_mail(conn, tx, kind, recipient, user_id, &tx.mail_facts())
}

/// The one gate every mail passes; returns whether it was queued. An address that no
/// account has verified (it may be a stranger's, typed in by someone else) gets only
/// mails that answer a request made for it (a link, "someone used your address"), and
/// [`UNVERIFIED_MAILS_PER_DAY`] of them in all; never a notice of an account's changes.
/// A verified one gets at most [`MAILS_PER_HOUR`] of each kind that answers a request,
/// and at most [`class_mails_per_hour`] of each class. Parallel requests for one address
/// take turns (on every instance), so the limits hold.
pub(super) fn queue_mail(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    kind: MailKind,
    recipient: &str,
    user_id: Option<&str>,
    facts: &MailFacts,
) -> QueryResult<bool> {
    outbox::lock_recipient(conn, recipient)?;
    let verified = accounts::find_by_email(conn, recipient)?
        .is_some_and(|user| user.email_verified_at.is_some());
    let allowed = if verified {
        let hour_ago = tx.now - chrono::Duration::hours(1);
        let class = kind.class();
        (!kind.answers_a_request()
            || outbox::count_since(conn, recipient, kind.as_str(), hour_ago)? < MAILS_PER_HOUR)
            && outbox::count_kinds_since(conn, recipient, &class.kinds(), hour_ago)?
                < class_mails_per_hour(class)
    } else {
        let day_ago = tx.now - chrono::Duration::days(1);
        kind.answers_a_request()
            && outbox::count_all_since(conn, recipient, day_ago)? < UNVERIFIED_MAILS_PER_DAY
    };
    if allowed {
        outbox::queue(
            conn,
            kind.as_str(),
            recipient,
            user_id,
            facts.to_json(),
            tx.now,
        )?;
    }
    Ok(allowed)
}

/// Voids every link of the account that is not used yet (reset, verification, address
/// change), mailed or still waiting in the outbox. A password reset, a password change
/// and "sign out everywhere" call it: whoever held the account before must not keep a
/// way back in, such as a change of address to their own that they asked for.
pub(super) fn void_pending_links(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
) -> QueryResult<()> {
    let purposes = [
        LinkPurpose::PasswordReset,
        LinkPurpose::EmailVerification,
        LinkPurpose::EmailChange,
    ];
    let names = purposes.map(LinkPurpose::as_str);
    let kinds = [
        MailKind::EmailVerification.as_str(),
        MailKind::EmailChange.as_str(),
    ];
    // The mails first: that waits for a sender making one of their links right now
    // (it locks the row), whose token the next statement then sees and voids.
    outbox::drop_pending(conn, user_id, &kinds, tx.now)?;
    email_tokens::void_unused(conn, user_id, &names)?;
    Ok(())
}

/// A new, unverified account for `email` (normalised) with this password hash.
pub(super) fn new_account(email: String, password_hash: Secret) -> User {
    let now = now();
    User {
        id: uuid::Uuid::now_v7().to_string(),
        email,
        password_hash,
        created_at: now,
        password_changed_at: now,
        email_verified_at: None,
        notify_new_device: true,
    }
}

/// Creates the account (a taken address is a unique violation, i.e.
/// `AuthError::EmailTaken`) and queues its verification mail.
pub(super) fn create_account(conn: &mut DbConnection, tx: &Tx<'_>, user: User) -> QueryResult<()> {
    let (user_id, email) = (user.id.clone(), user.email.clone());
    accounts::insert(conn, user)?;
    queue_verification(conn, tx, &email, &user_id).map(drop)
}

/// Queues a verification link to `email` for `user_id`, within the per-address limit;
/// returns whether it was queued.
pub(super) fn queue_verification(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    email: &str,
    user_id: &str,
) -> QueryResult<bool> {
    queue_limited(conn, tx, MailKind::EmailVerification, email, Some(user_id))
}

/// Marks the session revoked and blacklists its access tokens until the last of them
/// expires (the latest `exp` ever minted for it, whichever instance minted it),
/// recording `reason` as a security event about that device. Returns the blacklisted
/// session id and that moment, or `None` if it was already ended.
pub(super) fn revoke_device_session(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    session_id: &str,
    reason: RevokeReason,
) -> QueryResult<Option<(String, i64)>> {
    if !device_sessions::mark_revoked(conn, session_id, tx.now, reason.as_str())? {
        return Ok(None);
    }
    let facts = device_sessions::revocation_facts(conn, session_id)?;
    // Sessions older than `access_expires_at` may hold tokens of any lifetime up to
    // their absolute expiry.
    let until = facts
        .access_expires_at
        .unwrap_or(facts.absolute_expires_at)
        .max(tx.now)
        + chrono::Duration::seconds(LEEWAY_SECS as i64);
    // The session's row lives as long as its blacklist entry, and no longer.
    device_sessions::expire_by(conn, session_id, until)?;
    let seq = blacklist::next_seq(conn, tx.now)?;
    blacklist::insert(
        conn,
        BlacklistEntry {
            token_id: session_id.to_owned(),
            kind: Revoked::Session.as_str().to_owned(),
            session_id: session_id.to_owned(),
            reason: reason.as_str().to_owned(),
            created_at: tx.now,
            expires_at: until,
            seq,
        },
    )?;
    if let Some(kind) = reason.event() {
        let label = facts.device_label;
        record_event(
            conn,
            tx,
            &facts.user_id,
            Some(session_id),
            kind,
            Some(&label),
        )?;
    }
    Ok(Some((session_id.to_owned(), until.and_utc().timestamp())))
}

/// Revokes every live session of `user_id` but `keep` for `reason`; returns what was
/// revoked, for [`super::core::Core::remember_revoked`] once the transaction has committed.
pub(super) fn revoke_live_device_sessions(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
    keep: Option<&str>,
    reason: RevokeReason,
) -> QueryResult<Vec<(String, i64)>> {
    let ids = device_sessions::live_session_ids(conn, user_id, tx.now, keep)?;
    let mut revoked = Vec::new();
    for id in &ids {
        revoked.extend(revoke_device_session(conn, tx, id, reason)?);
    }
    Ok(revoked)
}

/// Appends a security event, kept for the retention period.
pub(super) fn record_event(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
    session_id: Option<&str>,
    kind: EventKind,
    detail: Option<&str>,
) -> QueryResult<()> {
    events::insert(
        conn,
        &SecurityEvent {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_owned(),
            session_id: session_id.map(str::to_owned),
            kind: kind.as_str().to_owned(),
            ip: Some(tx.client.ip.clone()),
            user_agent: Some(tx.client.user_agent.clone()),
            detail: detail.map(str::to_owned),
            created_at: tx.now,
            expires_at: tx.now
                + chrono::Duration::from_std(tx.settings.event_retention).unwrap_or_default(),
        },
    )
}

/// The password hash a login verified against is still the account's current one
/// (checked after locking the account row, inside the login's transaction): a password
/// changed while that login was hashing makes the login fail instead of outliving
/// "sign out everywhere". Then saves `rehashed`, if any, only over that same hash.
pub(super) fn credential_unchanged(
    conn: &mut DbConnection,
    user_id: &str,
    verified_hash: &Secret,
    rehashed: Option<Secret>,
) -> QueryResult<bool> {
    accounts::lock(conn, user_id)?;
    if accounts::password_hash_of(conn, user_id)?.as_ref() != Some(verified_hash) {
        return Ok(false);
    }
    if let Some(hash) = rehashed {
        accounts::replace_password_hash_if(conn, user_id, verified_hash, hash)?;
    }
    Ok(true)
}

/// A 128-bit random id, base64url: for device sessions and passkey ceremonies, which
/// must not be guessable.
pub(super) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random generator is available");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Now, in the UTC form stored in the database.
pub(super) fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}
