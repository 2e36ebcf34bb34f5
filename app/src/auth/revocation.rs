//! The in-memory revocation set: which access tokens were cut off before their expiry.
//!
//! Checked on every authenticated request, so it must answer without a database trip:
//! it is loaded from `token_blacklist` at start and updated by every revocation (and,
//! with several instances, by the revocation feed). Entries are dropped once the tokens
//! they block would have expired anyway, so the set stays as small as the live tokens.

use std::collections::HashMap;
use std::sync::RwLock;

/// What a blacklist entry blocks; stored in `token_blacklist.kind` by the name of the
/// claim it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
pub enum Revoked {
    /// One access token, by its `jti`.
    #[strum(serialize = "jti")]
    Token,
    /// Every access token of a device session, by its `sid`.
    #[strum(serialize = "sid")]
    Session,
}

impl Revoked {
    /// The `token_blacklist.kind` value; `str::parse` reads it back.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Revoked token ids and session ids, each with the Unix time after which it can be
/// forgotten.
#[derive(Debug, Default)]
pub struct RevocationSet {
    maps: RwLock<Maps>,
}

/// One map per kind, so lookups borrow the id instead of allocating a key.
#[derive(Debug, Default)]
struct Maps {
    tokens: HashMap<String, i64>,
    sessions: HashMap<String, i64>,
}

impl Maps {
    fn of(&mut self, kind: Revoked) -> &mut HashMap<String, i64> {
        match kind {
            Revoked::Token => &mut self.tokens,
            Revoked::Session => &mut self.sessions,
        }
    }
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Blocks `id` until `until` (Unix seconds).
    pub fn insert(&self, kind: Revoked, id: &str, until: i64) {
        let mut maps = self.maps.write().unwrap_or_else(|e| e.into_inner());
        let slot = maps.of(kind).entry(id.to_owned()).or_insert(until);
        *slot = (*slot).max(until);
    }

    /// True when the token `jti` of session `sid` must be refused.
    pub fn is_revoked(&self, jti: &str, sid: &str) -> bool {
        let maps = self.maps.read().unwrap_or_else(|e| e.into_inner());
        maps.sessions.contains_key(sid) || maps.tokens.contains_key(jti)
    }

    /// Drops entries whose tokens have expired by `now`; returns how many.
    pub fn purge_expired(&self, now: i64) -> usize {
        let mut maps = self.maps.write().unwrap_or_else(|e| e.into_inner());
        let before = maps.tokens.len() + maps.sessions.len();
        maps.tokens.retain(|_, until| *until >= now);
        maps.sessions.retain(|_, until| *until >= now);
        before - maps.tokens.len() - maps.sessions.len()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        let maps = self.maps.read().unwrap_or_else(|e| e.into_inner());
        maps.tokens.len() + maps.sessions.len()
    }

    /// True when nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stored_by_the_claim_they_match() {
        assert_eq!(Revoked::Token.as_str(), "jti");
        assert_eq!(Revoked::Session.as_str(), "sid");
        assert_eq!("sid".parse(), Ok(Revoked::Session));
        assert!("session".parse::<Revoked>().is_err());
    }

    #[test]
    fn a_revoked_session_blocks_all_its_tokens() {
        let set = RevocationSet::new();
        set.insert(Revoked::Session, "s1", 100);
        assert!(set.is_revoked("any-jti", "s1"));
        assert!(set.is_revoked("other-jti", "s1"));
        assert!(!set.is_revoked("any-jti", "s2"));
    }

    #[test]
    fn a_revoked_token_blocks_only_itself() {
        let set = RevocationSet::new();
        set.insert(Revoked::Token, "j1", 100);
        assert!(set.is_revoked("j1", "s1"));
        assert!(!set.is_revoked("j2", "s1"));
    }

    #[test]
    fn ids_of_one_kind_never_match_the_other() {
        let set = RevocationSet::new();
        set.insert(Revoked::Token, "same-id", 100);
        assert!(!set.is_revoked("other", "same-id"));
    }

    #[test]
    fn expired_entries_are_purged_and_later_ones_kept() {
        let set = RevocationSet::new();
        set.insert(Revoked::Token, "old", 10);
        set.insert(Revoked::Token, "new", 30);
        assert_eq!(set.purge_expired(20), 1);
        assert!(!set.is_revoked("old", "s"));
        assert!(set.is_revoked("new", "s"));
    }

    #[test]
    fn reinserting_never_shortens_a_revocation() {
        let set = RevocationSet::new();
        set.insert(Revoked::Session, "s", 50);
        set.insert(Revoked::Session, "s", 10);
        set.purge_expired(20);
        assert!(set.is_revoked("j", "s"));
    }
}
