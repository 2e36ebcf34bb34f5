//! After a reset: the browser that completed it reviews the account's other ways in and
//! removes any it does not know. Whoever held the account before the reset may have
//! added a passkey or connected their own account at an OpenID provider (each signs in
//! without the password, so the reset alone would not evict them) or turned on two-step
//! sign-in with their own authenticator (which would keep the owner out). The reset's notice lists the same methods, with when each was
//! added. ARCHITECTURE: "Mail and account recovery".
//!
//! The review signs no one in. Its grant lives in the web session of the browser that
//! completed the reset, for [`REVIEW_WINDOW`], and ends early when the password changes
//! again or that browser signs in or out. Only what was added in the [`RECENT_ADDITION`]
//! before the reset can be removed here: a reset proves only the mailbox.

use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::client_info::ClientInfo;
use super::core::Core;
use super::error::AuthError;
use super::events::EventKind;
use super::identities::LinkedIdentity;
use super::notices::SignInMethodFact;
use super::passkeys::{PasskeyInfo, delete_passkey};
use super::second_factor::turn_off_totp;
use super::settings::RECENT_ADDITION;
use super::transactions::{Tx, now, record_event};
use crate::store::models::User;
use crate::store::{DbConnection, QueryResult, accounts, identities, passkeys, second_factor};

/// How long after the reset the review stays open.
pub const REVIEW_WINDOW: chrono::Duration = chrono::Duration::minutes(15);

/// What a completed reset leaves in the web session of the browser that made it: the
/// right to review (and remove) the account's passkeys and second factor for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetGrant {
    user_id: String,
    /// The password's `password_changed_at` as the reset set it.
    reset_at: NaiveDateTime,
}

impl ResetGrant {
    /// Whether the grant still holds for `user` at `now`: within the window, and no
    /// password set since (a newer reset makes its own grant). The stored time is
    /// compared to the microsecond, what PostgreSQL keeps.
    fn holds(&self, user: &User, now: NaiveDateTime) -> bool {
        let same_password = (user.password_changed_at - self.reset_at)
            .num_microseconds()
            .is_some_and(|apart| apart == 0);
        user.id == self.user_id && same_password && now < self.reset_at + REVIEW_WINDOW
    }
}

/// The account's ways in besides the password, as the review shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The account's address.
    pub email: String,
    /// Its passkeys, oldest first, each with whether the review may remove it.
    pub passkeys: Vec<(PasskeyInfo, bool)>,
    /// Its connected accounts at OpenID providers, oldest first: those connected before
    /// the days a reset reaches back (the reset disconnected the others).
    pub identities: Vec<LinkedIdentity>,
    /// Its two-step sign-in, if on.
    pub second_factor: Option<ReviewedFactor>,
    /// When the review closes.
    pub open_until: NaiveDateTime,
}

/// Two-step sign-in as the review shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewedFactor {
    /// When it was turned on.
    pub added_at: NaiveDateTime,
    /// Whether the review may turn it off (see [`RECENT_ADDITION`]).
    pub removable: bool,
}

/// What a completed reset lets its browser remove (see the module's doc).
#[derive(Debug)]
pub struct ResetReview {
    core: Arc<Core>,
}

impl ResetReview {
    pub(super) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// The account's passkeys and second factor, for the browser holding `grant`.
    pub async fn reset_review(&self, grant: &ResetGrant) -> Result<Review, AuthError> {
        let grant = grant.clone();
        let now = now();
        self.core
            .db()
            .read(move |conn| {
                let Some(user) = granted_account(conn, &grant, now)? else {
                    return Ok(Err(AuthError::ReviewClosed));
                };
                let (passkeys, added_at) = methods_of(conn, &user.id)?;
                let identities = identities::list(conn, &user.id)?;
                Ok(Ok(Review {
                    email: user.email,
                    passkeys: passkeys
                        .into_iter()
                        .map(|row| {
                            let removable = removable(row.created_at, grant.reset_at);
                            (PasskeyInfo::from(row), removable)
                        })
                        .collect(),
                    identities: identities.into_iter().map(LinkedIdentity::from).collect(),
                    second_factor: added_at.map(|added_at| ReviewedFactor {
                        added_at,
                        removable: removable(added_at, grant.reset_at),
                    }),
                    open_until: grant.reset_at + REVIEW_WINDOW,
                }))
            })
            .await?
    }

    /// Removes the passkey `id` from the account of `grant`, if it was added recently
    /// enough (see [`RECENT_ADDITION`]); recorded and mailed as a removal from the
    /// account page is.
    pub async fn review_remove_passkey(
        &self,
        grant: &ResetGrant,
        id: &str,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let (grant, id) = (grant.clone(), id.to_owned());
        let removed = self
            .core
            .transaction(client, move |conn, tx| {
                if granted_account(conn, &grant, tx.now)?.is_none() {
                    return Ok(Err(AuthError::ReviewClosed));
                }
                let added_at = passkeys::find(conn, &id)?
                    .filter(|row| row.user_id == grant.user_id)
                    .map(|row| row.created_at);
                match added_at {
                    Some(added_at) if !removable(added_at, grant.reset_at) => {
                        Ok(Err(AuthError::AddedTooLongAgo))
                    }
                    _ => delete_passkey(conn, tx, &grant.user_id, None, &id),
                }
            })
            .await?;
        if removed.is_ok() {
            self.core.mail_queued();
        }
        removed
    }

    /// Turns off the account's two-step sign-in, if it was turned on recently enough
    /// (see [`RECENT_ADDITION`]).
    pub async fn review_turn_off_second_factor(
        &self,
        grant: &ResetGrant,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let grant = grant.clone();
        let turned_off = self
            .core
            .transaction(client, move |conn, tx| {
                if granted_account(conn, &grant, tx.now)?.is_none() {
                    return Ok(Err(AuthError::ReviewClosed));
                }
                match methods_of(conn, &grant.user_id)?.1 {
                    None => Ok(Err(AuthError::NotFound)),
                    Some(added_at) if !removable(added_at, grant.reset_at) => {
                        Ok(Err(AuthError::AddedTooLongAgo))
                    }
                    Some(_) => turn_off_totp(conn, tx, &grant.user_id, None).map(Ok),
                }
            })
            .await?;
        if turned_off.is_ok() {
            self.core.mail_queued();
        }
        turned_off
    }
}

/// The grant a reset of `user` at `reset_at` gives (see `reset_password`).
pub(super) fn grant_for(user: &User, reset_at: NaiveDateTime) -> ResetGrant {
    ResetGrant {
        user_id: user.id.clone(),
        reset_at,
    }
}

/// The account's passkeys, connected providers and second factor as the reset's notice
/// lists them.
pub(super) fn method_facts(
    conn: &mut DbConnection,
    user_id: &str,
) -> QueryResult<Vec<SignInMethodFact>> {
    let (passkeys, second_factor) = methods_of(conn, user_id)?;
    Ok(passkeys
        .into_iter()
        .map(|row| SignInMethodFact::Passkey {
            name: row.name,
            added_at: row.created_at,
        })
        .chain(
            identities::list(conn, user_id)?
                .into_iter()
                .map(|row| SignInMethodFact::Provider {
                    name: row.provider_name,
                    email: row.email,
                    added_at: row.created_at,
                }),
        )
        .chain(second_factor.map(|added_at| SignInMethodFact::AuthenticatorApp { added_at }))
        .collect())
}

/// Disconnects the accounts at OpenID providers connected to `user_id` in the
/// [`RECENT_ADDITION`] before a reset at `reset_at`, recorded each; returns them for the
/// reset's notice. Unlike a passkey, which the review can remove before anyone uses it,
/// a provider account signs in the moment it is asked to, so whoever connected it could
/// sign in after the reset (sudo mode fresh) and change the password before the owner
/// reaches the review (found by an outside attack).
pub(super) fn disconnect_recent_identities(
    conn: &mut DbConnection,
    tx: &Tx<'_>,
    user_id: &str,
    reset_at: NaiveDateTime,
) -> QueryResult<Vec<SignInMethodFact>> {
    let mut disconnected = Vec::new();
    for row in identities::list(conn, user_id)? {
        if !removable(row.created_at, reset_at) {
            continue;
        }
        identities::delete(conn, user_id, &row.id)?;
        record_event(
            conn,
            tx,
            user_id,
            None,
            EventKind::ProviderUnlinked,
            Some(&row.provider_name),
        )?;
        disconnected.push(SignInMethodFact::ProviderDisconnected {
            name: row.provider_name,
            email: row.email,
            added_at: row.created_at,
        });
    }
    Ok(disconnected)
}

/// The account of `grant`, if the grant still holds.
fn granted_account(
    conn: &mut DbConnection,
    grant: &ResetGrant,
    now: NaiveDateTime,
) -> QueryResult<Option<User>> {
    Ok(accounts::find_by_id(conn, &grant.user_id)?.filter(|user| grant.holds(user, now)))
}

/// The account's passkey rows, and when its two-step sign-in was confirmed (if it is on).
fn methods_of(
    conn: &mut DbConnection,
    user_id: &str,
) -> QueryResult<(Vec<crate::store::models::PasskeyRow>, Option<NaiveDateTime>)> {
    let passkeys = passkeys::list(conn, user_id)?;
    let confirmed = second_factor::find_totp(conn, user_id)?.and_then(|f| f.confirmed_at);
    Ok((passkeys, confirmed))
}

/// Whether what was added at `added_at` may be removed in the review of a reset made at
/// `reset_at`: added in the [`RECENT_ADDITION`] before it. Not what was added after the
/// reset: whoever did that holds the new password, and removes it after signing in.
fn removable(added_at: NaiveDateTime, reset_at: NaiveDateTime) -> bool {
    added_at <= reset_at && reset_at - added_at <= RECENT_ADDITION
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn user(changed: &str) -> User {
        User {
            id: "u1".into(),
            email: "ann@example.com".into(),
            password_hash: crate::secret::Secret::from("x".to_owned()),
            created_at: at("2026-01-01 00:00:00"),
            password_changed_at: at(changed),
            email_verified_at: None,
            notify_new_device: true,
        }
    }

    #[test]
    fn a_grant_holds_for_its_window_and_its_password_only() {
        let grant = grant_for(&user("2026-12-06 10:00:00"), at("2026-12-06 10:00:00"));
        let same = user("2026-12-06 10:00:00");
        assert!(grant.holds(&same, at("2026-12-06 10:14:59")));
        assert!(
            !grant.holds(&same, at("2026-12-06 10:15:00")),
            "window over"
        );
        let changed_again = user("2026-12-06 10:05:00");
        assert!(!grant.holds(&changed_again, at("2026-12-06 10:06:00")));
        let same_second = User {
            password_changed_at: at("2026-12-06 10:00:00") + chrono::Duration::milliseconds(3),
            ..user("2026-12-06 10:00:00")
        };
        assert!(!grant.holds(&same_second, at("2026-12-06 10:01:00")));
        let other = User {
            id: "u2".into(),
            ..same
        };
        assert!(!grant.holds(&other, at("2026-12-06 10:01:00")));
    }

    #[test]
    fn only_what_was_added_in_the_week_before_the_reset_is_removable() {
        let reset = at("2026-12-06 10:00:00");
        assert!(removable(at("2026-11-30 10:00:00"), reset));
        assert!(removable(at("2026-11-29 10:00:00"), reset));
        assert!(!removable(at("2026-11-29 09:59:59"), reset));
        assert!(
            !removable(at("2026-12-06 10:00:01"), reset),
            "after the reset"
        );
    }
}
