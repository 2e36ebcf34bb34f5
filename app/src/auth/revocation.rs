//! The in-memory revocation set: which device sessions' access tokens were cut off
//! before their expiry.
//!
//! Checked on every authenticated request, so it must answer without a database trip:
//! it is loaded from `token_blacklist` at start and updated by every revocation (and,
//! with several instances, by the revocation feed). Entries are dropped once the tokens
//! they block would have expired anyway, so the set stays as small as the live tokens.
//!
//! An entry is 24 bytes: the id's 128 bits and a 32-bit expiry. Every `sid` Gatehouse
//! issues is 128 bits written out (16 random bytes in base64url; older ones UUIDs), so
//! those bits *are* the id: nothing is lost, and a lookup can
//! have no false negative. (Smaller and faster to load than string keys:
//! docs/PERFORMANCE.md.)

use std::collections::HashMap;
use std::sync::RwLock;

/// What a blacklist entry blocks; stored in `token_blacklist.kind` by the name of the
/// claim it matches. Only whole device sessions are revoked (signing out, "sign out
/// everywhere", theft, a password change): a row of another kind is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
pub enum Revoked {
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

/// An id as the set keeps it: 128 bits, in two words so that an entry is 8-aligned
/// (a `u128` would pad every entry to 32 bytes).
type Key = (u64, u64);

/// The key of `id`: its 128 bits when it is written the way Gatehouse writes session
/// ids (16 bytes in base64url without padding; a UUID in simple or hyphenated form for
/// sessions from before that), else the first 128 bits of the id's SHA-256. Both spellings are canonical (the
/// decoder refuses stray trailing bits), so distinct ids of one form never share a key.
/// Only the ids we issue reach the set (a token's claims are read after its signature is
/// checked), so the hash is a safety net: a collision there could refuse a token, never
/// admit one.
fn key(id: &str) -> Key {
    let bits = match id.len() {
        22 => random_id_bits(id),
        32 | 36 => uuid::Uuid::try_parse(id).map(|uuid| uuid.as_u128()).ok(),
        _ => None,
    }
    .unwrap_or_else(|| {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.as_bytes());
        let mut first = [0_u8; 16];
        first.copy_from_slice(&digest.as_ref()[..16]);
        u128::from_be_bytes(first)
    });
    ((bits >> 64) as u64, bits as u64)
}

/// The 16 bytes of a 22-character base64url id, as a device session id is made.
fn random_id_bits(id: &str) -> Option<u128> {
    use base64::Engine;
    // The decoder wants room for its estimate (18 bytes for 22 characters).
    let mut bytes = [0_u8; 18];
    let written = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode_slice(id, &mut bytes)
        .ok()?;
    let first: [u8; 16] = bytes[..16].try_into().ok()?;
    (written == 16).then(|| u128::from_be_bytes(first))
}

/// Unix seconds as the set keeps them (32 bits last until 2106); earlier than 1970
/// counts as 1970, which is long expired either way.
fn seconds(unix: i64) -> u32 {
    u32::try_from(unix.max(0)).unwrap_or(u32::MAX)
}

/// Revoked session ids, each with the Unix time after which it can be forgotten.
#[derive(Debug, Default)]
pub struct RevocationSet {
    sessions: RwLock<Map>,
}

/// An id's key to its expiry.
type Map = HashMap<Key, u32>;

/// Blocks `key` in `map` until `until`, or longer if it was already blocked longer.
fn block(map: &mut Map, key: Key, until: u32) {
    let slot = map.entry(key).or_insert(until);
    *slot = (*slot).max(until);
}

/// Revocations read in bulk (the blacklist at start-up, a round of the revocation
/// feed), for [`RevocationSet::add`] to add at once: one lock, and room made once for
/// all of them. It holds what the set will hold (24 bytes a row), never the rows' text.
#[derive(Debug, Default)]
pub struct RevocationBatch(Vec<(Key, u32)>);

impl RevocationBatch {
    /// Adds `id`, blocked until `until` (Unix seconds).
    pub fn push(&mut self, kind: Revoked, id: &str, until: i64) {
        match kind {
            Revoked::Session => self.0.push((key(id), seconds(until))),
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
        match kind {
            Revoked::Session => block(&mut self.write(), key(id), seconds(until)),
        }
    }

    /// Adds every revocation of `batch`, making room for them first, so that loading a
    /// large blacklist does not grow (and copy) the table step by step.
    pub fn add(&self, batch: RevocationBatch) {
        let mut map = self.write();
        map.reserve(batch.0.len());
        for (key, until) in batch.0 {
            block(&mut map, key, until);
        }
    }

    /// True when the tokens of session `sid` must be refused.
    pub fn is_revoked(&self, sid: &str) -> bool {
        let map = self.sessions.read().unwrap_or_else(|e| e.into_inner());
        map.contains_key(&key(sid))
    }

    /// Drops entries whose tokens have expired by `now`; returns how many.
    pub fn purge_expired(&self, now: i64) -> usize {
        let now = seconds(now);
        let mut map = self.write();
        let before = map.len();
        map.retain(|_, until| *until >= now);
        before - map.len()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.sessions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// True when nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the table holds (every bucket's entry and control byte, whether used or
    /// not): what the set costs in memory, for the size test.
    #[cfg(test)]
    fn table_bytes(&self) -> usize {
        let map = self.sessions.read().unwrap_or_else(|e| e.into_inner());
        let per_bucket = size_of::<(Key, u32)>() + 1;
        // The standard map reports as capacity 7/8 of its buckets (all but one below 8).
        let buckets = match map.capacity() {
            0 => 0,
            c if c < 7 => c + 1,
            c => c / 7 * 8,
        };
        buckets * per_bucket
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Map> {
        self.sessions.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stored_by_the_claim_they_match() {
        assert_eq!(Revoked::Session.as_str(), "sid");
        assert_eq!("sid".parse(), Ok(Revoked::Session));
        assert!("session".parse::<Revoked>().is_err());
        assert!(
            "jti".parse::<Revoked>().is_err(),
            "tokens are not revoked one by one"
        );
    }

    #[test]
    fn a_revoked_session_blocks_all_its_tokens() {
        let set = RevocationSet::new();
        set.insert(Revoked::Session, "s1", 100);
        assert!(set.is_revoked("s1"));
        assert!(!set.is_revoked("s2"));
    }

    #[test]
    fn expired_entries_are_purged_and_later_ones_kept() {
        let set = RevocationSet::new();
        set.insert(Revoked::Session, "old", 10);
        set.insert(Revoked::Session, "new", 30);
        assert_eq!(set.purge_expired(20), 1);
        assert!(!set.is_revoked("old"));
        assert!(set.is_revoked("new"));
    }

    /// What the set is built for: every session id Gatehouse issues (16 random bytes in
    /// base64url) is found after it is inserted, and none other is.
    #[test]
    fn issued_ids_are_found_exactly() {
        let set = RevocationSet::new();
        let sids: Vec<String> = (0..4_000)
            .map(|_| crate::auth::transactions::random_id())
            .collect();
        for sid in sids.iter().step_by(2) {
            set.insert(Revoked::Session, sid, 100);
        }
        for (i, sid) in sids.iter().enumerate() {
            assert_eq!(set.is_revoked(sid), i % 2 == 0, "{sid}");
        }
        // Sessions made before their ids were random bytes have UUIDs.
        let old = uuid::Uuid::now_v7().to_string();
        set.insert(Revoked::Session, &old, 100);
        assert!(set.is_revoked(&old));
        // The same UUID spelled the other way is the same id.
        let sid = uuid::Uuid::now_v7();
        set.insert(Revoked::Session, &sid.simple().to_string(), 100);
        assert!(set.is_revoked(&sid.hyphenated().to_string()));
    }

    /// A million entries in at most 64 bytes each (the table itself, at its fullest
    /// and emptiest load alike).
    #[test]
    fn an_entry_takes_at_most_64_bytes() {
        for count in [1_000_000, 600_000] {
            let mut batch = RevocationBatch::default();
            for _ in 0..count {
                batch.push(Revoked::Session, &uuid::Uuid::now_v7().to_string(), 100);
            }
            let set = RevocationSet::new();
            set.add(batch);
            assert_eq!(set.len(), count);
            let per_entry = set.table_bytes() / count;
            assert!(per_entry <= 64, "{per_entry} bytes per entry at {count}");
        }
    }

    /// A `sid` is checked on every authenticated request: its key is its own bits, not a
    /// SHA-256 computed each time, and only its canonical spelling has those bits.
    #[test]
    fn a_session_id_is_keyed_by_its_bytes() {
        use base64::Engine;
        let bytes: [u8; 16] = std::array::from_fn(|i| i as u8 * 17);
        let sid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let bits = u128::from_be_bytes(bytes);
        assert_eq!(key(&sid), ((bits >> 64) as u64, bits as u64));
        // The last character carries 2 bits of the id and 4 spare ones; a spelling with
        // a spare bit set is another string, so it must not get the same key.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut stray = sid.clone().into_bytes();
        let last = ALPHABET.iter().position(|&c| c == stray[21]).unwrap();
        stray[21] = ALPHABET[last + 1];
        let stray = String::from_utf8(stray).unwrap();
        assert_ne!(key(&stray), key(&sid));
    }

    #[test]
    fn times_outside_32_bits_are_clamped_safely() {
        let set = RevocationSet::new();
        set.insert(Revoked::Session, "past", -5);
        set.insert(Revoked::Session, "far", i64::MAX);
        assert_eq!(
            set.purge_expired(0),
            0,
            "-5 counts as 0, which is not before 0"
        );
        assert_eq!(set.purge_expired(1), 1);
        assert!(set.is_revoked("far"));
    }

    /// The bulk path keeps the rules of the single one: a repeated id blocked for its
    /// longest time, an entry already there never shortened.
    #[test]
    fn a_batch_adds_what_inserting_one_by_one_would() {
        let set = RevocationSet::new();
        set.insert(Revoked::Session, "held", 90);
        let mut batch = RevocationBatch::default();
        batch.push(Revoked::Session, "s1", 40);
        batch.push(Revoked::Session, "s1", 60);
        batch.push(Revoked::Session, "s1", 50);
        batch.push(Revoked::Session, "held", 10);
        set.add(batch);
        assert_eq!(set.len(), 2);
        set.purge_expired(55);
        assert!(set.is_revoked("s1"), "s1 is blocked until 60");
        assert!(set.is_revoked("held"), "held keeps its 90");
        set.purge_expired(61);
        assert!(!set.is_revoked("s1"));
        assert!(set.is_revoked("held"));
    }

    #[test]
    fn reinserting_never_shortens_a_revocation() {
        let set = RevocationSet::new();
        set.insert(Revoked::Session, "s", 50);
        set.insert(Revoked::Session, "s", 10);
        set.purge_expired(20);
        assert!(set.is_revoked("s"));
    }
}
