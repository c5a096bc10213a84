//! The peer book: what each peer last served, when, and which of those keys
//! are still served. Pure: no I/O, no clock of its own; every call takes an
//! explicit `now`, so ageing is unit-tested without sleeping.
//!
//! Rules (see `docs/high-availability.md`):
//! - A successful fetch (at least one valid key) marks the peer up and stamps
//!   every key it served with `now`.
//! - A failed fetch marks the peer down and stamps nothing: its keys keep their
//!   last stamp.
//! - A key not stamped for longer than the retention is dropped, whether its
//!   peer is down or serves a newer key now (a restarted replica).
//! - A fetch that returns this replica's own key (same `kid`, same modulus)
//!   came from this replica: the peer is marked [`PeerState::Own`] and adds nothing.
//! - A peer key whose `kid` is one of ours with another modulus is refused
//!   (own keys always win a clash) and reported.
//! - The keys served for peers are deduplicated by `kid` (the most recently
//!   seen copy wins) and sorted by `kid`, so every replica serves the same order.
//! - Every key belongs to an issuer (`""` = the root issuer); all of the above
//!   holds per issuer, and a key never moves from one issuer to another.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::keys::Jwk;

/// A validated key and the issuer (by name, `""` = root) it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerJwk {
    /// The issuer's name.
    pub issuer: String,
    /// The key.
    pub jwk: Jwk,
}

impl IssuerJwk {
    /// A key of the root issuer.
    pub fn root(jwk: Jwk) -> Self {
        IssuerJwk {
            issuer: String::new(),
            jwk,
        }
    }

    /// How events and `/cluster` name it: `kid` for the root, `name/kid` otherwise.
    pub fn label(&self) -> String {
        label(&self.issuer, &self.jwk.kid)
    }
}

fn label(issuer: &str, kid: &str) -> String {
    if issuer.is_empty() {
        kid.to_string()
    } else {
        format!("{issuer}/{kid}")
    }
}

/// Own keys or peers' keys, by issuer name.
pub type KeysByIssuer = BTreeMap<String, Vec<Jwk>>;

/// What one fetch of one peer gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The peer answered with a JWKS.
    Keys {
        /// Keys that passed [`Jwk::validate`], with their issuer.
        valid: Vec<IssuerJwk>,
        /// One line per key that was ignored, saying why.
        rejected: Vec<String>,
    },
    /// Unreachable, timed out, non-2xx, too large, not a JWKS...
    Failed(String),
    /// Not fetched: the address is the one this replica listens on.
    OwnAddress,
}

/// A peer's state as shown on `/health` and `/cluster`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerState {
    /// Listed, not fetched yet.
    Pending,
    /// The last fetch succeeded.
    Up,
    /// The last fetch failed.
    Down,
    /// This replica itself (recognised by address or by its own key).
    #[serde(rename = "self")]
    Own,
}

/// Something worth one log line: state transitions and key changes, never
/// the steady state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A peer answered (first time, or again after being down).
    Up {
        /// Peer base URL.
        url: String,
        /// It was down before (rather than pending).
        recovered: bool,
    },
    /// A peer stopped answering (or never did).
    Down {
        /// Peer base URL.
        url: String,
        /// Why the fetch failed.
        reason: String,
        /// It was up before (rather than pending).
        was_up: bool,
    },
    /// A listed address turned out to be this replica.
    Own {
        /// Peer base URL.
        url: String,
    },
    /// A key is served that was not before.
    KeyAdded {
        /// Peer base URL.
        url: String,
        /// Key id (`issuer/kid` for a named issuer's key).
        kid: String,
    },
    /// A key was not seen for longer than the retention and is no longer served.
    KeyExpired {
        /// Peer base URL.
        url: String,
        /// Key id (`issuer/kid` for a named issuer's key).
        kid: String,
    },
    /// The set of keys a peer serves that we refuse changed (and is not empty).
    Rejected {
        /// Peer base URL.
        url: String,
        /// One line per refused key.
        reasons: Vec<String>,
    },
    /// A peer no longer listed (DNS) with no key left was forgotten.
    Forgotten {
        /// Peer base URL.
        url: String,
    },
}

/// A key a peer served, with when it was last seen in a successful fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenKey {
    /// The validated key and its issuer.
    pub key: IssuerJwk,
    /// Last successful fetch that returned it.
    pub last_seen: Instant,
}

/// Everything known about one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Base URL (`http://host:port`).
    pub url: String,
    /// Current state.
    pub state: PeerState,
    /// Still in the configured / resolved list (DNS peers can disappear).
    pub listed: bool,
    /// Last fetch attempt that finished.
    pub last_attempt: Option<Instant>,
    /// Last successful fetch.
    pub last_success: Option<Instant>,
    /// Why the last fetch failed (cleared by a success).
    pub last_error: Option<String>,
    /// Failed fetches since the last success.
    pub failures: u32,
    /// Keys still served for this peer, by (issuer, `kid`).
    pub keys: BTreeMap<(String, String), SeenKey>,
    /// Why keys in the last answer were refused.
    pub rejected: Vec<String>,
}

impl Peer {
    fn new(url: &str) -> Self {
        Peer {
            url: url.to_string(),
            state: PeerState::Pending,
            listed: true,
            last_attempt: None,
            last_success: None,
            last_error: None,
            failures: 0,
            keys: BTreeMap::new(),
            rejected: Vec::new(),
        }
    }
}

/// All peers, this replica's own keys, and the retention.
#[derive(Debug, Clone)]
pub struct PeerBook {
    own: KeysByIssuer,
    retention: Duration,
    peers: BTreeMap<String, Peer>,
}

impl PeerBook {
    /// An empty book for a replica whose own public keys are `own`.
    pub fn new(own: KeysByIssuer, retention: Duration) -> Self {
        PeerBook {
            own,
            retention,
            peers: BTreeMap::new(),
        }
    }

    /// Updates this replica's own keys (issuers create theirs on first use).
    pub fn set_own(&mut self, own: KeysByIssuer) {
        self.own = own;
    }

    fn own_key(&self, issuer: &str, kid: &str) -> Option<&Jwk> {
        self.own.get(issuer)?.iter().find(|o| o.kid == kid)
    }

    /// Sets the currently listed peers: new ones start pending, missing ones
    /// are kept (unlisted) until their keys expire.
    pub fn set_listed<'a>(&mut self, urls: impl IntoIterator<Item = &'a str>) {
        let listed: BTreeSet<&str> = urls.into_iter().collect();
        for peer in self.peers.values_mut() {
            peer.listed = listed.contains(peer.url.as_str());
        }
        for url in listed {
            self.peers
                .entry(url.to_string())
                .or_insert_with(|| Peer::new(url));
        }
    }

    /// Records the outcome of fetching `url` at `now`.
    pub fn record(&mut self, url: &str, outcome: FetchOutcome, now: Instant) -> Vec<Event> {
        let own = &self.own;
        let own_key = |issuer: &str, kid: &str| own.get(issuer)?.iter().find(|o| o.kid == kid);
        let peer = self
            .peers
            .entry(url.to_string())
            .or_insert_with(|| Peer::new(url));
        let mut events = Vec::new();
        peer.last_attempt = Some(now);
        let (valid, mut rejected) = match outcome {
            FetchOutcome::OwnAddress => {
                mark_own(peer, now, &mut events);
                return events;
            }
            FetchOutcome::Failed(reason) => {
                mark_down(peer, reason, &mut events);
                return events;
            }
            FetchOutcome::Keys { valid, rejected } => (valid, rejected),
        };

        let mut is_own = false;
        let mut accepted = Vec::new();
        for key in valid {
            match own_key(&key.issuer, &key.jwk.kid) {
                Some(o) if o.n == key.jwk.n && o.e == key.jwk.e => is_own = true,
                Some(_) => rejected.push(format!(
                    "key {}: kid clashes with this replica's own key (different modulus); \
                     give each replica its own INSTANCE_ID",
                    key.label()
                )),
                None => accepted.push(key),
            }
        }
        if rejected != peer.rejected {
            if !rejected.is_empty() {
                events.push(Event::Rejected {
                    url: url.to_string(),
                    reasons: rejected.clone(),
                });
            }
            peer.rejected = rejected;
        }
        if is_own && accepted.is_empty() {
            mark_own(peer, now, &mut events);
            return events;
        }
        if accepted.is_empty() {
            let reason = if peer.rejected.is_empty() {
                "answered an empty key set".to_string()
            } else {
                format!("served no usable key ({})", peer.rejected.join("; "))
            };
            mark_down(peer, reason, &mut events);
            return events;
        }

        if peer.state != PeerState::Up {
            events.push(Event::Up {
                url: url.to_string(),
                recovered: peer.state == PeerState::Down,
            });
        }
        peer.state = PeerState::Up;
        peer.last_success = Some(now);
        peer.last_error = None;
        peer.failures = 0;
        for key in accepted {
            let id = (key.issuer.clone(), key.jwk.kid.clone());
            if !peer.keys.contains_key(&id) {
                events.push(Event::KeyAdded {
                    url: url.to_string(),
                    kid: key.label(),
                });
            }
            peer.keys.insert(
                id,
                SeenKey {
                    key,
                    last_seen: now,
                },
            );
        }
        events
    }

    /// Drops keys not seen for longer than the retention, then forgets
    /// unlisted peers that have nothing left.
    pub fn expire(&mut self, now: Instant) -> Vec<Event> {
        let mut events = Vec::new();
        for peer in self.peers.values_mut() {
            let retention = self.retention;
            peer.keys.retain(|(issuer, kid), seen| {
                let keep = now.saturating_duration_since(seen.last_seen) <= retention;
                if !keep {
                    events.push(Event::KeyExpired {
                        url: peer.url.clone(),
                        kid: label(issuer, kid),
                    });
                }
                keep
            });
        }
        self.peers.retain(|url, peer| {
            let keep = peer.listed || !peer.keys.is_empty();
            if !keep {
                events.push(Event::Forgotten { url: url.clone() });
            }
            keep
        });
        events
    }

    /// The peers' keys to serve, per issuer: deduplicated by `kid` (most
    /// recently seen copy wins), without this replica's own kids, sorted by `kid`.
    pub fn peer_keys(&self) -> KeysByIssuer {
        let mut best: BTreeMap<&(String, String), &SeenKey> = BTreeMap::new();
        for peer in self.peers.values() {
            for (id, seen) in &peer.keys {
                if self.own_key(&id.0, &id.1).is_some() {
                    continue;
                }
                match best.get(id) {
                    Some(current) if current.last_seen >= seen.last_seen => {}
                    _ => {
                        best.insert(id, seen);
                    }
                }
            }
        }
        let mut out = KeysByIssuer::new();
        for ((issuer, _), seen) in best {
            out.entry(issuer.clone())
                .or_default()
                .push(seen.key.jwk.clone());
        }
        out
    }

    /// Every known peer, by URL.
    pub fn peers(&self) -> impl Iterator<Item = &Peer> {
        self.peers.values()
    }

    /// The peer at `url`, if known.
    pub fn peer(&self, url: &str) -> Option<&Peer> {
        self.peers.get(url)
    }
}

fn mark_own(peer: &mut Peer, now: Instant, events: &mut Vec<Event>) {
    if peer.state != PeerState::Own {
        events.push(Event::Own {
            url: peer.url.clone(),
        });
    }
    peer.state = PeerState::Own;
    peer.last_success = Some(now);
    peer.last_error = None;
    peer.failures = 0;
    peer.keys.clear();
}

fn mark_down(peer: &mut Peer, reason: String, events: &mut Vec<Event>) {
    if peer.state != PeerState::Down {
        events.push(Event::Down {
            url: peer.url.clone(),
            reason: reason.clone(),
            was_up: peer.state == PeerState::Up,
        });
    }
    peer.state = PeerState::Down;
    peer.failures = peer.failures.saturating_add(1);
    peer.last_error = Some(reason);
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETENTION: Duration = Duration::from_secs(10);

    fn key(kid: &str, fill: u8) -> Jwk {
        Jwk::rsa_sig(kid, &[fill; 256], &[1, 0, 1])
    }

    fn ok(keys: &[Jwk]) -> FetchOutcome {
        FetchOutcome::Keys {
            valid: keys.iter().cloned().map(IssuerJwk::root).collect(),
            rejected: Vec::new(),
        }
    }

    fn kids(book: &PeerBook) -> Vec<String> {
        book.peer_keys()
            .remove("")
            .unwrap_or_default()
            .into_iter()
            .map(|k| k.kid)
            .collect()
    }

    fn own_root(keys: Vec<Jwk>) -> KeysByIssuer {
        [(String::new(), keys)].into_iter().collect()
    }

    fn book() -> (PeerBook, Instant) {
        let mut book = PeerBook::new(own_root(vec![key("own", 0x81)]), RETENTION);
        book.set_listed(["http://a", "http://b"]);
        (book, Instant::now())
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn merges_and_dedups_by_kid() {
        let (mut book, t0) = book();
        assert!(
            book.peers().all(|p| p.state == PeerState::Pending),
            "listed peers start pending"
        );
        let events = book.record("http://a", ok(&[key("a1", 0x82), key("shared", 0x83)]), t0);
        assert_eq!(
            events[0],
            Event::Up {
                url: "http://a".into(),
                recovered: false
            }
        );
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, Event::KeyAdded { .. }))
                .count(),
            2
        );
        book.record(
            "http://b",
            ok(&[key("b1", 0x84), key("shared", 0x85)]),
            t0 + secs(1),
        );
        assert_eq!(kids(&book), ["a1", "b1", "shared"]);
        // The most recently seen copy of a duplicated kid wins.
        let shared = book.peer_keys()[""]
            .iter()
            .find(|k| k.kid == "shared")
            .cloned();
        assert_eq!(shared, Some(key("shared", 0x85)));
    }

    #[test]
    fn keys_stay_with_their_issuer() {
        let (mut book, t0) = book();
        let scoped = |issuer: &str, jwk: Jwk| IssuerJwk {
            issuer: issuer.into(),
            jwk,
        };
        let events = book.record(
            "http://a",
            FetchOutcome::Keys {
                valid: vec![
                    scoped("", key("r1", 0x82)),
                    scoped("tenant", key("t1", 0x83)),
                    // Same kid as our own root key, but another issuer's: no clash.
                    scoped("tenant", key("own", 0x84)),
                ],
                rejected: vec![],
            },
            t0,
        );
        assert!(events.contains(&Event::KeyAdded {
            url: "http://a".into(),
            kid: "tenant/t1".into()
        }));
        let by = book.peer_keys();
        assert_eq!(
            by[""].iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
            ["r1"]
        );
        assert_eq!(
            by["tenant"]
                .iter()
                .map(|k| k.kid.as_str())
                .collect::<Vec<_>>(),
            ["own", "t1"]
        );
        // Once "tenant" has its own key "own", the peer's copy clashes.
        let mut own = own_root(vec![key("own", 0x81)]);
        own.insert("tenant".into(), vec![key("own", 0x90)]);
        book.set_own(own);
        assert_eq!(
            book.peer_keys()["tenant"]
                .iter()
                .map(|k| k.kid.as_str())
                .collect::<Vec<_>>(),
            ["t1"]
        );
    }

    #[test]
    fn own_key_in_answer_means_self_and_is_never_added() {
        let (mut book, t0) = book();
        let events = book.record("http://a", ok(&[key("own", 0x81)]), t0);
        assert_eq!(
            events,
            [Event::Own {
                url: "http://a".into()
            }]
        );
        assert_eq!(book.peer("http://a").map(|p| p.state), Some(PeerState::Own));
        assert!(kids(&book).is_empty());
        // Seen again: no new event (transitions only).
        assert!(
            book.record("http://a", ok(&[key("own", 0x81)]), t0)
                .is_empty()
        );
        // Recognised by address: not fetched at all.
        let events = book.record("http://b", FetchOutcome::OwnAddress, t0);
        assert!(matches!(&events[..], [Event::Own { .. }]), "{events:?}");
    }

    #[test]
    fn kid_clash_with_own_key_is_refused_and_reported() {
        let (mut book, t0) = book();
        let impostor = key("own", 0x99);
        let events = book.record("http://a", ok(&[impostor, key("a1", 0x82)]), t0);
        assert!(
            events.iter().any(
                |e| matches!(e, Event::Rejected { reasons, .. } if reasons[0].contains("INSTANCE_ID"))
            ),
            "{events:?}"
        );
        assert_eq!(kids(&book), ["a1"]);
        // Same refusal next time: not reported again.
        let events = book.record("http://a", ok(&[key("own", 0x99), key("a1", 0x82)]), t0);
        assert!(events.is_empty(), "{events:?}");
    }

    #[test]
    fn answer_with_only_garbage_is_down_with_the_reasons() {
        let (mut book, t0) = book();
        let events = book.record(
            "http://a",
            FetchOutcome::Keys {
                valid: vec![],
                rejected: vec!["key ec1: kty is \"EC\", expected \"RSA\"".into()],
            },
            t0,
        );
        let peer = book.peer("http://a").cloned().unwrap();
        assert_eq!(peer.state, PeerState::Down);
        assert!(
            peer.last_error
                .as_deref()
                .unwrap()
                .contains("kty is \"EC\""),
            "{peer:?}"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Down { was_up: false, .. }))
        );
        assert!(kids(&book).is_empty());
    }

    #[test]
    fn down_peer_keeps_its_keys_for_the_retention_then_loses_them() {
        let (mut book, t0) = book();
        book.record("http://a", ok(&[key("a1", 0x82)]), t0);
        let events = book.record(
            "http://a",
            FetchOutcome::Failed("refused".into()),
            t0 + secs(1),
        );
        assert_eq!(
            events,
            [Event::Down {
                url: "http://a".into(),
                reason: "refused".into(),
                was_up: true
            }]
        );
        // Repeated failures: no new event, the error and count are updated.
        assert!(
            book.record(
                "http://a",
                FetchOutcome::Failed("timeout".into()),
                t0 + secs(2)
            )
            .is_empty()
        );
        let peer = book.peer("http://a").cloned().unwrap();
        assert_eq!(
            (peer.failures, peer.last_error.as_deref()),
            (2, Some("timeout"))
        );
        assert_eq!(peer.last_success, Some(t0));

        assert!(
            book.expire(t0 + RETENTION).is_empty(),
            "exactly at the retention: kept"
        );
        assert_eq!(kids(&book), ["a1"]);
        let events = book.expire(t0 + RETENTION + Duration::from_millis(1));
        assert_eq!(
            events,
            [Event::KeyExpired {
                url: "http://a".into(),
                kid: "a1".into()
            }]
        );
        assert!(kids(&book).is_empty());
        // Still listed: the peer stays visible (down) even with no key.
        assert_eq!(
            book.peer("http://a").map(|p| p.state),
            Some(PeerState::Down)
        );
    }

    #[test]
    fn restarted_peer_adds_its_new_key_and_the_old_one_ages_out() {
        let (mut book, t0) = book();
        book.record("http://a", ok(&[key("a-old", 0x82)]), t0);
        book.record(
            "http://a",
            FetchOutcome::Failed("refused".into()),
            t0 + secs(2),
        );
        let events = book.record("http://a", ok(&[key("a-new", 0x83)]), t0 + secs(4));
        assert_eq!(
            events,
            [
                Event::Up {
                    url: "http://a".into(),
                    recovered: true
                },
                Event::KeyAdded {
                    url: "http://a".into(),
                    kid: "a-new".into()
                }
            ]
        );
        assert_eq!(kids(&book), ["a-new", "a-old"]);
        book.record("http://a", ok(&[key("a-new", 0x83)]), t0 + secs(11));
        book.expire(t0 + secs(11));
        assert_eq!(kids(&book), ["a-new"], "old key last seen at t0 is gone");
    }

    #[test]
    fn unlisted_peer_is_forgotten_once_its_keys_expire() {
        let (mut book, t0) = book();
        book.record("http://a", ok(&[key("a1", 0x82)]), t0);
        book.set_listed(["http://b"]);
        assert!(book.expire(t0 + secs(5)).is_empty());
        assert_eq!(kids(&book), ["a1"], "keys outlive the DNS record");
        assert_eq!(book.peer("http://a").map(|p| p.listed), Some(false));
        let events = book.expire(t0 + secs(11));
        assert_eq!(
            events,
            [
                Event::KeyExpired {
                    url: "http://a".into(),
                    kid: "a1".into()
                },
                Event::Forgotten {
                    url: "http://a".into()
                }
            ]
        );
        assert!(book.peer("http://a").is_none());
        assert!(
            book.peer("http://b").is_some(),
            "listed, never fetched: kept"
        );
    }
}
