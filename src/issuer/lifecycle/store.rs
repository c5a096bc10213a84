//! [`Store`]: what the lifecycle service of one issuer remembers, in
//! memory and bounded. Pure: no I/O, no clock of its own; every call takes
//! `now` (UNIX seconds, the issuer's clock) and, where revocation matters,
//! the issuer's spent set, so renewal timing, cascades and caps are
//! unit-tested with made-up times.
//!
//! - The token index: every token the API issued, by `jti`, with its `exp`,
//!   its user and its parent; by user and by parent. It is what makes a
//!   revocation cascade (a parent takes every child it ever had) and what
//!   `DELETE /users/{user_id}/tokens` revokes. At most `capacity` tokens;
//!   expired ones are dropped first (a min-heap by `exp`), and when every
//!   one is live a new token is refused ([`StoreFull`]) rather than an old
//!   one forgotten: a forgotten token could no longer be revoked.
//! - Renewal state: one entry per parent with auto-renewal (the pair's
//!   settings and its latest child). It goes when the parent is revoked or
//!   expires; every parent has an index entry, so the cap bounds it too.
//! - Subscriptions: a `watch` channel per parent someone streams, holding
//!   the parent's [`View`] (latest child, or how it ended); gone with the
//!   last subscriber.
//!
//! Revocations themselves live in the issuer's spent set
//! ([`crate::issuer::spent::SpentJtis`]), which introspection, userinfo,
//! ext-authz and `/authorize` consult; the store only decides what to put
//! there.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch;

use super::super::spent::{SetFull, SpentJtis};

/// How long a revoked `jti` that this issuer does not know is remembered
/// (the original keeps every revocation 30 days).
pub const UNKNOWN_JTI_TTL: i64 = 30 * 86_400;

/// What kind of token an index entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `POST /tokens`.
    Single,
    /// A parent of a pair.
    Parent,
    /// A child (with the pair, from `/renew`, or from the worker).
    Child,
}

/// One issued token in the index.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its `exp`.
    pub exp: i64,
    /// Its `user_id`.
    pub user: Arc<str>,
    /// Its parent's `jti` (children only).
    pub parent: Option<Arc<str>>,
    /// What it is.
    pub kind: Kind,
}

/// A child as `/tokens/latest` and the stream give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    /// The JWT.
    pub token: String,
    /// Its `jti`.
    pub jti: String,
    /// Its `exp`.
    pub exp: i64,
    /// Its `iat` (when it was minted: `renewed_at`).
    pub iat: i64,
}

/// The auto-renewal state of one parent.
#[derive(Debug, Clone)]
pub struct Renewal {
    /// The parent's `jti`.
    pub parent_jti: Arc<str>,
    /// `user_id` of every child.
    pub user_id: Arc<str>,
    /// `sub` of every child.
    pub sub: String,
    /// `network` of every child.
    pub network: String,
    /// `rate_limit` of every child.
    pub rate_limit: i64,
    /// `iss` of every child: the parent's (a named issuer's default `iss`
    /// comes from the URL of the request that created the pair).
    pub iss: String,
    /// `aud` of every child: the parent's.
    pub aud: Option<Value>,
    /// Lifetime of each child in seconds (`child_expires_in`, default 900).
    pub child_lifetime: i64,
    /// The parent's `exp`: no child outlives it, renewal stops there.
    pub parent_exp: i64,
    /// When the pair was created.
    pub created_at: i64,
    /// The current child.
    pub latest: Option<Arc<Latest>>,
}

/// Why a parent's stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The parent was revoked (directly, through its user, or by a peer).
    Revoked,
    /// The parent expired.
    Expired,
}

/// What a parent's subscribers see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// The current child.
    pub latest: Option<Arc<Latest>>,
    /// Set once the parent is revoked or expired.
    pub end: Option<End>,
}

/// The index is full of live tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "this issuer already tracks {capacity} live tokens (REPLAY_CAPACITY); try again when some \
     expire, or raise REPLAY_CAPACITY"
)]
pub struct StoreFull {
    /// The configured capacity.
    pub capacity: usize,
}

/// One parent's series of the service's metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentGauge {
    /// `user_id`.
    pub user_id: Arc<str>,
    /// `network`.
    pub network: String,
    /// `parent_jti`.
    pub parent_jti: Arc<str>,
    /// The parent's `exp`.
    pub expires_at: i64,
    /// When the pair was created.
    pub issued_at: i64,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Store {
    capacity: usize,
    records: HashMap<Arc<str>, Record>,
    by_exp: BinaryHeap<Reverse<(i64, Arc<str>)>>,
    by_user: HashMap<Arc<str>, HashSet<Arc<str>>>,
    children: HashMap<Arc<str>, HashSet<Arc<str>>>,
    renewals: HashMap<Arc<str>, Renewal>,
    channels: HashMap<Arc<str>, watch::Sender<View>>,
}

impl Store {
    /// An empty store tracking at most `capacity` live tokens (at least 1).
    pub fn new(capacity: usize) -> Self {
        Store {
            capacity: capacity.max(1),
            records: HashMap::new(),
            by_exp: BinaryHeap::new(),
            by_user: HashMap::new(),
            children: HashMap::new(),
            renewals: HashMap::new(),
            channels: HashMap::new(),
        }
    }

    /// Tokens tracked (live, or expired and not purged yet).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no token is tracked.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Parents with renewal state.
    pub fn renewals(&self) -> usize {
        self.renewals.len()
    }

    /// Parents with a subscription channel.
    pub fn channels(&self) -> usize {
        self.channels.len()
    }

    /// The index entry of `jti`.
    pub fn record_of(&self, jti: &str) -> Option<&Record> {
        self.records.get(jti)
    }

    /// Drops every token that has expired at `now` from the index.
    pub fn purge(&mut self, now: i64) {
        while let Some(Reverse((exp, _))) = self.by_exp.peek() {
            if *exp > now {
                break;
            }
            let Some(Reverse((_, jti))) = self.by_exp.pop() else {
                break;
            };
            let Some(record) = self.records.remove(&jti) else {
                continue;
            };
            remove_from(&mut self.by_user, &record.user, &jti);
            if let Some(parent) = &record.parent {
                remove_from(&mut self.children, parent, &jti);
            }
        }
    }

    /// Adds an issued token to the index; [`StoreFull`] when every tracked
    /// token is still live (the caller must not hand the token out).
    pub fn record(&mut self, jti: &str, record: Record, now: i64) -> Result<(), StoreFull> {
        if self.records.len() >= self.capacity {
            self.purge(now);
            if self.records.len() >= self.capacity {
                return Err(StoreFull {
                    capacity: self.capacity,
                });
            }
        }
        let jti: Arc<str> = Arc::from(jti);
        self.by_user
            .entry(Arc::clone(&record.user))
            .or_default()
            .insert(Arc::clone(&jti));
        if let Some(parent) = &record.parent {
            self.children
                .entry(Arc::clone(parent))
                .or_default()
                .insert(Arc::clone(&jti));
        }
        self.by_exp.push(Reverse((record.exp, Arc::clone(&jti))));
        self.records.insert(jti, record);
        Ok(())
    }

    /// Starts auto-renewal of a parent (its index entry must exist already).
    pub fn start_renewal(&mut self, renewal: Renewal) {
        self.notify(
            &renewal.parent_jti,
            View {
                latest: renewal.latest.clone(),
                end: None,
            },
        );
        self.renewals
            .insert(Arc::clone(&renewal.parent_jti), renewal);
    }

    /// The renewal state of `parent`.
    pub fn renewal(&self, parent: &str) -> Option<&Renewal> {
        self.renewals.get(parent)
    }

    /// The current child of `parent`: live at `now` and not revoked.
    pub fn latest(&self, parent: &str, now: i64, spent: &SpentJtis) -> Option<Arc<Latest>> {
        self.renewals
            .get(parent)?
            .latest
            .clone()
            .filter(|l| l.exp > now && !spent.is_spent(&l.jti, now))
    }

    /// Revokes `jti` (remembered in `spent` until its `exp`, or
    /// [`UNKNOWN_JTI_TTL`] when it is not in the index) and every child it
    /// ever had; its renewal stops and its streams end. Returns how many
    /// entries were added to `spent`.
    pub fn revoke(&mut self, jti: &str, now: i64, spent: &SpentJtis) -> Result<usize, SetFull> {
        self.purge(now);
        let exp = self
            .records
            .get(jti)
            .map_or(now.saturating_add(UNKNOWN_JTI_TTL), |r| r.exp);
        // The parent first: if the set fills up, the parent check of
        // `/authorize` and ext-authz still refuses its children.
        let mut added = usize::from(spent.spend(jti, exp, now)?);
        let children: Vec<(Arc<str>, i64)> = self
            .children
            .get(jti)
            .into_iter()
            .flatten()
            .filter_map(|c| self.records.get(c).map(|r| (Arc::clone(c), r.exp)))
            .collect();
        for (child, exp) in children {
            added += usize::from(spent.spend(&child, exp, now)?);
        }
        self.end(jti, End::Revoked);
        Ok(added)
    }

    /// Revokes every token of `user` in the index (with the children of
    /// its parents). Tokens issued to the user later are not affected.
    pub fn revoke_user(
        &mut self,
        user: &str,
        now: i64,
        spent: &SpentJtis,
    ) -> Result<usize, SetFull> {
        self.purge(now);
        let jtis: Vec<Arc<str>> = self
            .by_user
            .get(user)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default();
        let mut added = 0;
        for jti in jtis {
            added += self.revoke(&jti, now, spent)?;
        }
        Ok(added)
    }

    /// One run of the renewal worker at `now`: ends the renewal of parents
    /// that are revoked (in `spent`, also by a peer) or expired, and returns
    /// the renewal state of every parent that needs a new child: it has
    /// none (never minted, expired, or revoked), or its child has
    /// `threshold` seconds or less left and a new one would outlive it.
    pub fn due(&mut self, now: i64, threshold: i64, spent: &SpentJtis) -> Vec<Renewal> {
        let mut ended = Vec::new();
        let mut jobs = Vec::new();
        for (parent, r) in &self.renewals {
            if spent.is_spent(parent, now) {
                ended.push((Arc::clone(parent), End::Revoked));
                continue;
            }
            if now >= r.parent_exp {
                ended.push((Arc::clone(parent), End::Expired));
                continue;
            }
            let current = r
                .latest
                .as_ref()
                .filter(|l| l.exp > now && !spent.is_spent(&l.jti, now));
            let next_exp = child_exp(now, r.child_lifetime, r.parent_exp);
            let needed = match current {
                None => true,
                Some(l) => l.exp - now <= threshold && next_exp > l.exp,
            };
            if needed {
                jobs.push(r.clone());
            }
        }
        for (parent, end) in ended {
            self.end(&parent, end);
        }
        // Streams of a parent this replica has no renewal for (minted by a
        // peer) still learn that it was revoked.
        let revoked: Vec<Arc<str>> = self
            .channels
            .iter()
            .filter(|(p, tx)| tx.borrow().end.is_none() && spent.is_spent(p, now))
            .map(|(p, _)| Arc::clone(p))
            .collect();
        for parent in revoked {
            self.end(&parent, End::Revoked);
        }
        jobs
    }

    /// Makes `latest` the current child of `parent` and pushes it to its
    /// subscribers. `false` when the parent's renewal has ended meanwhile
    /// (the caller revokes the child it minted for nothing).
    pub fn install(&mut self, parent: &str, latest: Latest) -> bool {
        let Some(renewal) = self.renewals.get_mut(parent) else {
            return false;
        };
        let latest = Arc::new(latest);
        renewal.latest = Some(Arc::clone(&latest));
        self.notify(
            parent,
            View {
                latest: Some(latest),
                end: None,
            },
        );
        true
    }

    /// A receiver of `parent`'s [`View`], starting from the current one.
    pub fn subscribe(
        &mut self,
        parent: &str,
        now: i64,
        spent: &SpentJtis,
    ) -> watch::Receiver<View> {
        if let Some(tx) = self.channels.get(parent) {
            return tx.subscribe();
        }
        let view = if spent.is_spent(parent, now) {
            View {
                latest: None,
                end: Some(End::Revoked),
            }
        } else {
            View {
                latest: self.latest(parent, now, spent),
                end: None,
            }
        };
        let (tx, rx) = watch::channel(view);
        self.channels.insert(Arc::from(parent), tx);
        rx
    }

    /// Forgets `parent`'s channel once nobody listens to it any more.
    pub fn unsubscribe_if_idle(&mut self, parent: &str) {
        if self
            .channels
            .get(parent)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            self.channels.remove(parent);
        }
    }

    /// One series per parent with live renewal state at `now`.
    pub fn gauges(&self, now: i64) -> Vec<ParentGauge> {
        let mut out: Vec<ParentGauge> = self
            .renewals
            .values()
            .filter(|r| r.parent_exp > now)
            .map(|r| ParentGauge {
                user_id: Arc::clone(&r.user_id),
                network: r.network.clone(),
                parent_jti: Arc::clone(&r.parent_jti),
                expires_at: r.parent_exp,
                issued_at: r.created_at,
            })
            .collect();
        out.sort_by(|a, b| a.parent_jti.cmp(&b.parent_jti));
        out
    }

    fn end(&mut self, parent: &str, end: End) {
        self.renewals.remove(parent);
        self.notify(
            parent,
            View {
                latest: None,
                end: Some(end),
            },
        );
    }

    fn notify(&self, parent: &str, view: View) {
        if let Some(tx) = self.channels.get(parent) {
            tx.send_replace(view);
        }
    }
}

/// The `exp` of a child minted at `now`: its lifetime, never past its parent's.
pub fn child_exp(now: i64, lifetime: i64, parent_exp: i64) -> i64 {
    now.saturating_add(lifetime).min(parent_exp)
}

fn remove_from(map: &mut HashMap<Arc<str>, HashSet<Arc<str>>>, key: &Arc<str>, jti: &Arc<str>) {
    if let Some(set) = map.get_mut(key) {
        set.remove(jti);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THRESHOLD: i64 = 120;

    fn record(store: &mut Store, jti: &str, exp: i64, user: &str, parent: Option<&str>) {
        let kind = match parent {
            Some(_) => Kind::Child,
            None => Kind::Parent,
        };
        store
            .record(
                jti,
                Record {
                    exp,
                    user: Arc::from(user),
                    parent: parent.map(Arc::from),
                    kind,
                },
                0,
            )
            .unwrap();
    }

    fn renewal(parent: &str, user: &str, parent_exp: i64, child_lifetime: i64) -> Renewal {
        Renewal {
            parent_jti: Arc::from(parent),
            user_id: Arc::from(user),
            sub: format!("user_{user}"),
            network: "default".into(),
            rate_limit: 100,
            iss: "http://h/jas".into(),
            aud: None,
            child_lifetime,
            parent_exp,
            created_at: 0,
            latest: None,
        }
    }

    fn latest(jti: &str, iat: i64, exp: i64) -> Latest {
        Latest {
            token: format!("token-{jti}"),
            jti: jti.into(),
            exp,
            iat,
        }
    }

    /// What the worker does at `now`: mint a child for every due parent.
    fn tick(store: &mut Store, spent: &SpentJtis, now: i64, n: &mut u32) -> Vec<String> {
        let mut minted = Vec::new();
        for job in store.due(now, THRESHOLD, spent) {
            *n += 1;
            let jti = format!("c{n}");
            let exp = child_exp(now, job.child_lifetime, job.parent_exp);
            store
                .record(
                    &jti,
                    Record {
                        exp,
                        user: Arc::clone(&job.user_id),
                        parent: Some(Arc::clone(&job.parent_jti)),
                        kind: Kind::Child,
                    },
                    now,
                )
                .unwrap();
            assert!(store.install(&job.parent_jti, latest(&jti, now, exp)));
            minted.push(jti);
        }
        minted
    }

    #[test]
    fn renewal_timing_follows_threshold_and_interval() {
        // The defaults: 15-minute children, threshold 120 s, a tick every 30 s.
        let spent = SpentJtis::default();
        let mut store = Store::new(100);
        record(&mut store, "p", 10_000, "alice", None);
        store.start_renewal(renewal("p", "alice", 10_000, 900));
        let mut n = 0;
        assert_eq!(
            tick(&mut store, &spent, 0, &mut n),
            ["c1"],
            "no child yet: one at once"
        );
        let mut renewed_at = Vec::new();
        for now in (30..=3000).step_by(30) {
            let minted = tick(&mut store, &spent, now, &mut n);
            if !minted.is_empty() {
                renewed_at.push(now);
            }
        }
        // c1 expires at 900: renewed at the first tick with <= 120 s left (780).
        assert_eq!(renewed_at[..3], [780, 1560, 2340]);
        let current = store.latest("p", 2400, &spent).unwrap();
        assert_eq!((current.iat, current.exp), (2340, 3240));
        // Each child was pushed before the previous one expired.
        for pair in renewed_at.windows(2) {
            assert!(pair[1] < pair[0] + 900);
        }
    }

    #[test]
    fn children_never_outlive_the_parent_and_renewal_stops_at_its_exp() {
        let spent = SpentJtis::default();
        let mut store = Store::new(100);
        record(&mut store, "p", 1000, "alice", None);
        store.start_renewal(renewal("p", "alice", 1000, 900));
        let mut rx = store.subscribe("p", 0, &spent);
        let mut n = 0;
        tick(&mut store, &spent, 0, &mut n);
        assert_eq!(store.latest("p", 0, &spent).unwrap().exp, 900);
        // At 780 the clamped replacement would expire at 1000 > 900: renew.
        assert_eq!(tick(&mut store, &spent, 780, &mut n), ["c2"]);
        assert_eq!(store.latest("p", 780, &spent).unwrap().exp, 1000, "clamped");
        // From then on a new child could not outlive the current one: none.
        for now in (810..1000).step_by(30) {
            assert!(tick(&mut store, &spent, now, &mut n).is_empty(), "at {now}");
        }
        assert!(rx.has_changed().unwrap());
        assert_eq!(rx.borrow_and_update().end, None);
        assert!(tick(&mut store, &spent, 1000, &mut n).is_empty());
        assert_eq!(store.renewals(), 0, "renewal state goes with the parent");
        assert_eq!(rx.borrow_and_update().end, Some(End::Expired));
        assert!(store.latest("p", 1000, &spent).is_none());
        assert!(store.gauges(1000).is_empty());
    }

    #[test]
    fn a_revoked_latest_child_is_replaced() {
        let spent = SpentJtis::default();
        let mut store = Store::new(100);
        record(&mut store, "p", 10_000, "alice", None);
        store.start_renewal(renewal("p", "alice", 10_000, 900));
        let mut n = 0;
        tick(&mut store, &spent, 0, &mut n);
        store.revoke("c1", 10, &spent).unwrap();
        assert!(spent.is_spent("c1", 10) && !spent.is_spent("p", 10));
        assert!(
            store.latest("p", 10, &spent).is_none(),
            "a revoked child is not the latest"
        );
        assert_eq!(tick(&mut store, &spent, 30, &mut n), ["c2"]);
    }

    #[test]
    fn revoking_a_parent_cascades_and_ends_its_stream() {
        let spent = SpentJtis::default();
        let mut store = Store::new(100);
        record(&mut store, "p", 10_000, "alice", None);
        record(&mut store, "included", 900, "alice", Some("p"));
        record(&mut store, "renewed", 900, "alice", Some("p"));
        record(&mut store, "other-parent", 10_000, "alice", None);
        store.start_renewal(renewal("p", "alice", 10_000, 900));
        let mut n = 0;
        tick(&mut store, &spent, 0, &mut n);
        let mut rx = store.subscribe("p", 0, &spent);
        assert_eq!(rx.borrow_and_update().latest.as_ref().unwrap().jti, "c1");

        assert_eq!(
            store.revoke("p", 5, &spent),
            Ok(4),
            "parent and three children"
        );
        for jti in ["p", "included", "renewed", "c1"] {
            assert!(spent.is_spent(jti, 5), "{jti}");
        }
        assert!(!spent.is_spent("other-parent", 5));
        assert_eq!(rx.borrow_and_update().end, Some(End::Revoked));
        assert_eq!(store.renewals(), 0);
        assert!(
            tick(&mut store, &spent, 30, &mut n).is_empty(),
            "no renewal after revocation"
        );
        assert_eq!(store.revoke("p", 6, &spent), Ok(0), "each jti counts once");
        // A late subscriber learns it at once.
        drop(rx);
        store.unsubscribe_if_idle("p");
        assert_eq!(
            store.channels(),
            0,
            "the last subscriber took the channel with it"
        );
        let rx = store.subscribe("p", 7, &spent);
        assert_eq!(rx.borrow().end, Some(End::Revoked));
    }

    #[test]
    fn revoking_a_user_takes_everything_issued_so_far() {
        let spent = SpentJtis::default();
        let mut store = Store::new(100);
        record(&mut store, "single", 3600, "alice", None);
        record(&mut store, "p", 10_000, "alice", None);
        record(&mut store, "child", 900, "alice", Some("p"));
        record(&mut store, "bob-p", 10_000, "bob", None);
        store.start_renewal(renewal("p", "alice", 10_000, 900));
        assert_eq!(store.revoke_user("alice", 1, &spent), Ok(3));
        assert!(
            ["single", "p", "child"]
                .iter()
                .all(|j| spent.is_spent(j, 1))
        );
        assert!(!spent.is_spent("bob-p", 1), "another user's tokens stay");
        assert_eq!(store.renewals(), 0);
        // Issued afterwards: valid.
        record(&mut store, "later", 3600, "alice", None);
        assert!(!spent.is_spent("later", 2));
        assert_eq!(store.revoke_user("nobody", 2, &spent), Ok(0));
    }

    #[test]
    fn unknown_jtis_are_revoked_for_thirty_days() {
        let spent = SpentJtis::default();
        let mut store = Store::new(10);
        assert_eq!(store.revoke("foreign", 100, &spent), Ok(1));
        assert!(spent.is_spent("foreign", 100 + UNKNOWN_JTI_TTL - 1));
        assert!(!spent.is_spent("foreign", 100 + UNKNOWN_JTI_TTL));
        // A child minted here for a parent minted elsewhere still cascades.
        record(&mut store, "child", 900, "alice", Some("remote-parent"));
        assert_eq!(store.revoke("remote-parent", 100, &spent), Ok(2));
        assert!(spent.is_spent("child", 100));
    }

    #[test]
    fn the_index_is_bounded_expired_first_and_never_forgets_a_live_token() {
        let spent = SpentJtis::default();
        let mut store = Store::new(3);
        record(&mut store, "old1", 10, "alice", None);
        record(&mut store, "old2", 10, "alice", Some("p"));
        record(&mut store, "live", 100, "alice", None);
        let full = Record {
            exp: 100,
            user: Arc::from("alice"),
            parent: None,
            kind: Kind::Single,
        };
        assert_eq!(
            store.record("new", full.clone(), 5),
            Err(StoreFull { capacity: 3 }),
            "all live: refused"
        );
        assert_eq!(
            store.record("new", full.clone(), 10),
            Ok(()),
            "expired make room"
        );
        assert_eq!(store.len(), 2);
        assert!(store.record_of("old1").is_none() && store.record_of("live").is_some());
        assert!(store.children.is_empty(), "indexes shrink with the records");
        assert_eq!(store.revoke_user("alice", 10, &spent), Ok(2));
        assert!(spent.is_spent("live", 10) && spent.is_spent("new", 10));
        store.purge(100);
        assert!(store.is_empty() && store.by_user.is_empty());
    }

    #[test]
    fn streams_of_a_peers_parent_learn_its_revocation() {
        let spent = SpentJtis::default();
        let mut store = Store::new(10);
        let rx = store.subscribe("elsewhere", 0, &spent);
        assert_eq!(*rx.borrow(), View::default());
        spent
            .learn(crate::issuer::spent::hash("elsewhere"), 1000, 0)
            .unwrap();
        assert!(store.due(1, THRESHOLD, &spent).is_empty());
        assert_eq!(rx.borrow().end, Some(End::Revoked));
    }

    #[test]
    fn gauges_list_live_parents() {
        let spent = SpentJtis::default();
        let mut store = Store::new(10);
        for (p, exp) in [("b", 500), ("a", 1000)] {
            record(&mut store, p, exp, "alice", None);
            store.start_renewal(renewal(p, "alice", exp, 900));
        }
        let g = store.gauges(0);
        assert_eq!(
            g.iter()
                .map(|g| (&*g.parent_jti, g.expires_at))
                .collect::<Vec<_>>(),
            [("a", 1000), ("b", 500)]
        );
        assert_eq!(
            store.gauges(500).len(),
            1,
            "an expired parent has no series"
        );
        store.revoke("a", 1, &spent).unwrap();
        assert_eq!(store.gauges(1).len(), 1);
    }
}
