//! [`SpentJtis`]: the `jti`s of authorization codes that were redeemed,
//! refresh tokens that were rotated, and tokens that were revoked.
//!
//! Codes and refresh tokens are self-contained signed JWTs, so any federated
//! replica can redeem them; one-time use is what needs memory. This set is
//! per issuer, per replica and in memory (a restart forgets it).
//!
//! Guarantee: a remembered `jti` is never forgotten before its token
//! expires. The set holds at most `REPLAY_CAPACITY` entries; expired ones are
//! dropped first (a min-heap by expiry, so trimming is `O(k log n)` for `k`
//! expired entries, never a sort of the whole set under the lock), and when
//! every entry is still live the set refuses to take one more
//! ([`SetFull`]), which the caller turns into `temporarily_unavailable`
//! instead of re-enabling anything. Entries are compact: 128 bits of the
//! SHA-256 of the `jti` and its expiry, not the string.
//!
//! With federation, each entry also says whether it was spent here
//! ([`SpentJtis::spend`]) or learnt from a peer ([`SpentJtis::learn`]):
//! replicas publish their own live entries ([`SpentJtis::local_live`]) next
//! to their keys and take each other's, so a revocation made on one replica
//! is refused by the others one refresh later. Learnt entries are never
//! published again (no echo between replicas).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Default bound on the number of remembered `jti`s (`REPLAY_CAPACITY`).
pub const DEFAULT_CAPACITY: usize = 100_000;

/// The set is full of live entries: nothing can be added until some expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the replay-protection set of this issuer is full ({capacity} live entries); \
     try again when some expire, or raise REPLAY_CAPACITY"
)]
pub struct SetFull {
    /// The configured capacity.
    pub capacity: usize,
}

#[derive(Debug, Default)]
struct Entries {
    /// Hash of the `jti` -> `exp` (UNIX seconds) of the token it belongs
    /// to, and whether it was spent on this replica (not learnt from a peer).
    exp_by_jti: HashMap<u128, (i64, bool)>,
    /// Every insertion by expiry (stale ones are skipped when popped).
    by_exp: BinaryHeap<Reverse<(i64, u128)>>,
}

impl Entries {
    /// Drops every entry that has expired at `now`.
    fn purge(&mut self, now: i64) {
        while let Some(Reverse((exp, hash))) = self.by_exp.peek().copied() {
            if exp > now {
                break;
            }
            self.by_exp.pop();
            // A jti spent again after expiry has a newer entry: keep that one.
            if self.exp_by_jti.get(&hash).is_some_and(|&(e, _)| e == exp) {
                self.exp_by_jti.remove(&hash);
            }
        }
    }
}

/// A bounded set of spent `jti`s, each remembered until its token's `exp`.
#[derive(Debug)]
pub struct SpentJtis {
    entries: Mutex<Entries>,
    capacity: usize,
    /// Whether the last insertion was refused (to warn once per episode).
    full: AtomicBool,
}

impl Default for SpentJtis {
    fn default() -> Self {
        SpentJtis::with_capacity(DEFAULT_CAPACITY)
    }
}

/// The 128-bit key a `jti` is remembered under (the first half of its SHA-256).
pub fn hash(jti: &str) -> u128 {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, jti.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest.as_ref()[..16]);
    u128::from_le_bytes(first)
}

/// A [`hash`] as 32 lower-case hex digits (how replicas exchange entries).
pub fn hash_hex(hash: u128) -> String {
    format!("{hash:032x}")
}

/// The [`hash`] of 32 hex digits; `None` for anything else.
pub fn parse_hash_hex(text: &str) -> Option<u128> {
    if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(text, 16).ok()
}

impl SpentJtis {
    /// An empty set that remembers at most `capacity` entries (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        SpentJtis {
            entries: Mutex::new(Entries::default()),
            capacity: capacity.max(1),
            full: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves a usable map behind.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks `jti` spent until `exp`. `Ok(false)` when it already was (a
    /// replayed code, a reused refresh token), `Ok(true)` the first time,
    /// [`SetFull`] when the set is full of live entries (nothing changed).
    pub fn spend(&self, jti: &str, exp: i64, now: i64) -> Result<bool, SetFull> {
        self.insert(hash(jti), exp, now, true)
    }

    /// Takes a peer's entry (a [`hash`] and its `exp`): from now on that
    /// `jti` is spent here too. `Ok(false)` when it already was.
    pub fn learn(&self, hash: u128, exp: i64, now: i64) -> Result<bool, SetFull> {
        self.insert(hash, exp, now, false)
    }

    /// Takes a peer's entries at once; returns how many were new here.
    /// Stops at the first that does not fit ([`SetFull`]).
    pub fn learn_all(&self, peer: &[(u128, i64)], now: i64) -> Result<usize, SetFull> {
        let mut added = 0;
        let mut entries = self.lock();
        for &(h, exp) in peer {
            if exp <= now || entries.exp_by_jti.get(&h).is_some_and(|&(e, _)| e > now) {
                continue;
            }
            if entries.exp_by_jti.len() >= self.capacity {
                entries.purge(now);
                if entries.exp_by_jti.len() >= self.capacity {
                    return Err(SetFull {
                        capacity: self.capacity,
                    });
                }
            }
            entries.exp_by_jti.insert(h, (exp, false));
            entries.by_exp.push(Reverse((exp, h)));
            added += 1;
        }
        Ok(added)
    }

    fn insert(&self, h: u128, exp: i64, now: i64, local: bool) -> Result<bool, SetFull> {
        let mut entries = self.lock();
        if entries.exp_by_jti.get(&h).is_some_and(|&(e, _)| e > now) {
            return Ok(false);
        }
        if exp <= now {
            // Already expired: verifiers refuse it on `exp`, nothing to remember.
            return Ok(true);
        }
        entries.purge(now);
        if entries.exp_by_jti.len() >= self.capacity {
            drop(entries);
            if !self.full.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    capacity = self.capacity,
                    "replay-protection set is full of live entries; refusing new \
                     revocations, code redemptions and refresh rotations until some \
                     expire (raise REPLAY_CAPACITY)"
                );
            }
            return Err(SetFull {
                capacity: self.capacity,
            });
        }
        self.full.store(false, Ordering::Relaxed);
        entries.exp_by_jti.insert(h, (exp, local));
        entries.by_exp.push(Reverse((exp, h)));
        Ok(true)
    }

    /// Whether `jti` is spent (and its token not yet expired) at `now`.
    pub fn is_spent(&self, jti: &str, now: i64) -> bool {
        let h = hash(jti);
        self.lock()
            .exp_by_jti
            .get(&h)
            .is_some_and(|&(e, _)| e > now)
    }

    /// Number of entries still live at `now` (expired ones are dropped first).
    pub fn live_len(&self, now: i64) -> usize {
        let mut entries = self.lock();
        entries.purge(now);
        entries.exp_by_jti.len()
    }

    /// The live entries spent on this replica (not learnt from a peer), as
    /// `(hash, exp)`: at most `max`, those that expire last when there are
    /// more. What this replica publishes to its peers.
    pub fn local_live(&self, now: i64, max: usize) -> Vec<(u128, i64)> {
        let mut out: Vec<(u128, i64)> = {
            let mut entries = self.lock();
            entries.purge(now);
            entries
                .exp_by_jti
                .iter()
                .filter(|(_, (exp, local))| *local && *exp > now)
                .map(|(h, (exp, _))| (*h, *exp))
                .collect()
        };
        if out.len() > max {
            // Outside the lock: the latest `max` expiries, in no particular order.
            out.select_nth_unstable_by(max, |a, b| b.1.cmp(&a.1));
            out.truncate(max);
        }
        out.sort_unstable();
        out
    }

    /// Number of remembered entries, live or not yet purged.
    pub fn len(&self) -> usize {
        self.lock().exp_by_jti.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The configured capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_spend_is_refused_until_expiry() {
        let set = SpentJtis::default();
        assert_eq!(set.spend("a", 100, 10), Ok(true));
        assert_eq!(
            set.spend("a", 100, 50),
            Ok(false),
            "replay inside the lifetime"
        );
        assert!(set.is_spent("a", 99));
        assert!(!set.is_spent("a", 100), "expired tokens fail on exp anyway");
        assert_eq!(set.spend("a", 200, 100), Ok(true));
        assert!(set.is_spent("a", 150));
        assert!(!set.is_spent("b", 0));
        assert_eq!(set.spend("old", 5, 10), Ok(true));
        assert!(
            !set.is_spent("old", 4),
            "an already expired token is not stored"
        );
    }

    #[test]
    fn expired_entries_make_room_and_live_ones_are_never_dropped() {
        let set = SpentJtis::with_capacity(10);
        for i in 0..10 {
            assert_eq!(set.spend(&format!("old{i}"), 5, 0), Ok(true));
        }
        assert_eq!(set.len(), 10);
        // At t=6 all of them have expired: they are purged, not counted.
        assert_eq!(set.spend("new", 100, 6), Ok(true));
        assert_eq!(set.len(), 1);
        for i in 0..9 {
            assert_eq!(set.spend(&format!("live{i}"), 50, 6), Ok(true));
        }
        assert_eq!(set.len(), 10);
        // Full of live entries that all share one expiry: refuse, forget nothing.
        assert_eq!(set.spend("last", 1000, 6), Err(SetFull { capacity: 10 }));
        for i in 0..9 {
            assert!(
                set.is_spent(&format!("live{i}"), 6),
                "live{i} was forgotten"
            );
        }
        assert!(set.is_spent("new", 6) && !set.is_spent("last", 6));
        // Once they expire there is room again.
        assert_eq!(set.spend("last", 1000, 50), Ok(true));
        assert_eq!(set.len(), 2, "new (exp 100) and last");
        assert!(!set.is_empty());
        assert_eq!(set.capacity(), 10);
    }

    #[test]
    fn respending_after_expiry_keeps_the_newer_entry() {
        let set = SpentJtis::with_capacity(3);
        assert_eq!(set.spend("a", 10, 0), Ok(true));
        assert_eq!(set.spend("a", 30, 10), Ok(true));
        // The stale heap entry (exp 10) must not remove the live one (exp 30).
        assert_eq!(set.spend("b", 40, 20), Ok(true));
        assert!(set.is_spent("a", 20));
    }

    #[test]
    fn local_and_learnt_entries() {
        let set = SpentJtis::with_capacity(10);
        assert_eq!(set.spend("mine", 100, 0), Ok(true));
        assert_eq!(set.spend("short", 20, 0), Ok(true));
        assert_eq!(set.learn(hash("theirs"), 100, 0), Ok(true));
        assert!(
            set.is_spent("theirs", 50),
            "a learnt entry is refused like a local one"
        );
        assert_eq!(
            set.learn(hash("mine"), 300, 0),
            Ok(false),
            "a live entry stays as it is"
        );
        let local = set.local_live(10, 10);
        assert_eq!(
            local.len(),
            2,
            "learnt entries are not published again: {local:?}"
        );
        assert!(local.contains(&(hash("mine"), 100)) && local.contains(&(hash("short"), 20)));
        assert_eq!(
            set.local_live(10, 1),
            vec![(hash("mine"), 100)],
            "the latest expiry wins"
        );
        assert_eq!(
            set.local_live(30, 10),
            vec![(hash("mine"), 100)],
            "expired are gone"
        );
        assert_eq!(set.live_len(30), 2);
        assert_eq!(
            set.learn_all(
                &[(hash("a"), 100), (hash("theirs"), 100), (hash("old"), 5)],
                30
            ),
            Ok(1),
            "known and expired entries are skipped"
        );
        assert!(set.is_spent("a", 99));
        let small = SpentJtis::with_capacity(1);
        assert_eq!(
            small.learn_all(&[(1, 100), (2, 100)], 0),
            Err(SetFull { capacity: 1 })
        );
        assert_eq!(small.len(), 1);
        assert_eq!(set.live_len(100), 0);
        assert_eq!(parse_hash_hex(&hash_hex(hash("x"))), Some(hash("x")));
        for bad in ["", "xyz", &"g".repeat(32), &"0".repeat(31), &"0".repeat(33)] {
            assert_eq!(parse_hash_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn hashes_do_not_collide_on_similar_ids() {
        let set = SpentJtis::with_capacity(5000);
        for i in 0..5000 {
            assert_eq!(set.spend(&format!("jti-{i}"), 100, 0), Ok(true), "jti-{i}");
        }
        assert_eq!(set.len(), 5000);
    }
}
