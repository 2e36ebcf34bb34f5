//! The links Gatehouse sends by mail: a password reset, an address verification and an
//! address change. Each carries 256 random bits, of which the server stores only the
//! SHA-256 hash; a link works once, for a limited time, and a newer link of the same
//! purpose voids the older ones (ARCHITECTURE: "Mail and account recovery").

use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;

use super::refresh_token::{ENCODED_LEN, sha256_hex};
use crate::paths::{self, Page};
use crate::secret::Secret;
use crate::store::models::EmailToken;
use crate::store::{DbConnection, QueryResult, email_tokens};

/// What a link does. Stored as `email_tokens.purpose`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum LinkPurpose {
    /// Set a new password (`/reset`).
    PasswordReset,
    /// Prove the account's address is the user's (`/verify-email`).
    EmailVerification,
    /// Prove a new address is the user's and switch to it (`/confirm-email`).
    EmailChange,
}

impl LinkPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// How long a link works: short for a reset (it takes over the account), a day for
    /// a verification (people read mail later), an hour for an address change.
    pub fn lifetime(self) -> Duration {
        match self {
            Self::PasswordReset => Duration::from_secs(30 * 60),
            Self::EmailVerification => Duration::from_secs(24 * 3600),
            Self::EmailChange => Duration::from_secs(3600),
        }
    }

    /// The page the link opens.
    pub fn page(self) -> Page {
        match self {
            Self::PasswordReset => paths::RESET,
            Self::EmailVerification => paths::VERIFY_EMAIL,
            Self::EmailChange => paths::CONFIRM_EMAIL,
        }
    }
}

/// A link's token in the clear: it exists only between issuing and the mail, and between
/// the click and hashing it. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(Secret);

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(<redacted>)")
    }
}

impl LinkToken {
    /// 256 bits from the operating system's CSPRNG, base64url.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system random generator is available");
        Self(Secret::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Accepts only the shape we mint, so junk from a mangled link never reaches the
    /// database.
    pub fn parse(value: &str) -> Option<Self> {
        let decoded = URL_SAFE_NO_PAD.decode(value).ok()?;
        (value.len() == ENCODED_LEN && decoded.len() == 32).then(|| Self(Secret::from(value)))
    }

    /// The value for the link's query.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The only form that is stored: SHA-256, hex.
    pub fn hash(&self) -> String {
        sha256_hex(self.0.expose())
    }
}

/// Why a link does not work; each is a sentence the page shows, with a way forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkProblem {
    /// No such link: mistyped, cut off, or voided by a newer one or a password change.
    #[error(
        "This link is not valid. It may have been replaced by a newer one: use the most recent e-mail, or ask for a new link."
    )]
    Unknown,
    /// Older than its lifetime.
    #[error("This link has expired. Ask for a new one.")]
    Expired,
    /// Already used once.
    #[error("This link has already been used.")]
    Used,
}

/// Checks a stored token for `purpose` at `now`.
pub fn check(
    row: Option<&EmailToken>,
    purpose: LinkPurpose,
    now: NaiveDateTime,
) -> Result<(), LinkProblem> {
    let Some(row) = row.filter(|row| row.purpose == purpose.as_str()) else {
        return Err(LinkProblem::Unknown);
    };
    if row.used_at.is_some() {
        Err(LinkProblem::Used)
    } else if row.expires_at <= now {
        Err(LinkProblem::Expired)
    } else {
        Ok(())
    }
}

/// Takes the token of a link for use, inside the caller's transaction: checks it and
/// marks it used, so of two requests with one link only the first gets through.
pub fn redeem(
    conn: &mut DbConnection,
    token_hash: &str,
    purpose: LinkPurpose,
    now: NaiveDateTime,
) -> QueryResult<Result<EmailToken, LinkProblem>> {
    let row = email_tokens::find(conn, token_hash)?;
    if let Err(problem) = check(row.as_ref(), purpose, now) {
        return Ok(Err(problem));
    }
    if !email_tokens::mark_used(conn, token_hash, now)? {
        return Ok(Err(LinkProblem::Used));
    }
    Ok(row.ok_or(LinkProblem::Unknown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(purpose: LinkPurpose, expires_in: i64, used: bool) -> EmailToken {
        let now = chrono::Utc::now().naive_utc();
        EmailToken {
            token_hash: "h".into(),
            user_id: "u".into(),
            purpose: purpose.as_str().into(),
            email: "a@example.com".into(),
            created_at: now,
            expires_at: now + chrono::Duration::seconds(expires_in),
            used_at: used.then_some(now),
        }
    }

    #[test]
    fn tokens_are_256_bits_hashed_and_never_printed() {
        let token = LinkToken::generate();
        assert_eq!(token.expose().len(), ENCODED_LEN);
        assert_ne!(token, LinkToken::generate());
        assert_eq!(LinkToken::parse(token.expose()), Some(token.clone()));
        assert_eq!(token.hash().len(), 64);
        assert!(!format!("{token:?}").contains(token.expose()));
        for bad in ["", "x", &token.expose()[1..], "../../etc/passwd"] {
            assert_eq!(LinkToken::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_link_works_once_within_its_lifetime_for_its_purpose_only() {
        let now = chrono::Utc::now().naive_utc();
        let reset = LinkPurpose::PasswordReset;
        assert_eq!(check(Some(&row(reset, 60, false)), reset, now), Ok(()));
        assert_eq!(
            check(Some(&row(reset, 60, true)), reset, now),
            Err(LinkProblem::Used)
        );
        assert_eq!(
            check(Some(&row(reset, -1, false)), reset, now),
            Err(LinkProblem::Expired)
        );
        assert_eq!(check(None, reset, now), Err(LinkProblem::Unknown));
        assert_eq!(
            check(
                Some(&row(LinkPurpose::EmailVerification, 60, false)),
                reset,
                now
            ),
            Err(LinkProblem::Unknown),
            "a verification link cannot reset a password"
        );
    }

    #[test]
    fn a_reset_link_lives_thirty_minutes() {
        assert_eq!(
            LinkPurpose::PasswordReset.lifetime(),
            Duration::from_secs(1800)
        );
    }
}
