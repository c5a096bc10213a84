//! [`SpentJtis`]: the `jti`s of authorization codes that were redeemed,
//! refresh tokens that were rotated, and tokens that were revoked.
//!
//! Codes and refresh tokens are self-contained signed JWTs, so any federated
//! replica can redeem them; one-time use is what needs memory. This set is
//! per replica and in memory: a code redeemed at replica A can be replayed
//! once at replica B, and a restart forgets everything. Entries live until
//! the token they stand for expires, and the set is bounded: when it is full
//! the entries closest to expiry are dropped first.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Default bound on the number of remembered `jti`s.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// A bounded set of spent `jti`s, each remembered until its token's `exp`.
#[derive(Debug)]
pub struct SpentJtis {
    /// `jti` -> `exp` (UNIX seconds) of the token it belongs to.
    entries: Mutex<HashMap<String, i64>>,
    capacity: usize,
}

impl Default for SpentJtis {
    fn default() -> Self {
        SpentJtis::with_capacity(DEFAULT_CAPACITY)
    }
}

impl SpentJtis {
    /// An empty set that remembers at most `capacity` entries (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        SpentJtis {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, i64>> {
        // A panic while holding the lock leaves a usable map behind.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks `jti` spent until `exp`. Returns `false` when it already was
    /// (a replayed code, a reused refresh token), `true` the first time.
    pub fn spend(&self, jti: &str, exp: i64, now: i64) -> bool {
        let mut entries = self.lock();
        if entries.get(jti).is_some_and(|&e| e > now) {
            return false;
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, &mut e| e > now);
        }
        if entries.len() >= self.capacity {
            // Still full of live entries: forget the tenth closest to expiry.
            let mut exps: Vec<i64> = entries.values().copied().collect();
            exps.sort_unstable();
            let cut = exps[(self.capacity / 10).min(exps.len() - 1)];
            entries.retain(|_, &mut e| e > cut);
        }
        entries.insert(jti.to_string(), exp);
        true
    }

    /// Whether `jti` is spent (and its token not yet expired) at `now`.
    pub fn is_spent(&self, jti: &str, now: i64) -> bool {
        self.lock().get(jti).is_some_and(|&e| e > now)
    }

    /// Number of remembered entries, live or not yet purged.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_spend_is_refused_until_expiry() {
        let set = SpentJtis::default();
        assert!(set.spend("a", 100, 10));
        assert!(!set.spend("a", 100, 50), "replay inside the lifetime");
        assert!(set.is_spent("a", 99));
        assert!(!set.is_spent("a", 100), "expired tokens fail on exp anyway");
        assert!(set.spend("a", 200, 100));
        assert!(!set.is_spent("b", 0));
    }

    #[test]
    fn bounded_purges_expired_then_oldest() {
        let set = SpentJtis::with_capacity(10);
        for i in 0..10 {
            assert!(set.spend(&format!("old{i}"), 5, 0));
        }
        assert_eq!(set.len(), 10);
        // At t=6 all of them have expired: they are purged, not counted.
        assert!(set.spend("new", 100, 6));
        assert_eq!(set.len(), 1);
        for i in 0..9 {
            assert!(set.spend(&format!("live{i}"), 50 + i, 6));
        }
        assert_eq!(set.len(), 10);
        assert!(set.spend("last", 1000, 6));
        assert!(set.len() <= 10);
        assert!(set.is_spent("last", 6) && set.is_spent("new", 6));
        assert!(
            !set.is_spent("live0", 6),
            "closest to expiry is dropped first"
        );
        assert!(!set.is_empty());
    }
}
