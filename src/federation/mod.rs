//! Key federation between replicas (Stoke's design): each replica keeps its
//! own signing key, fetches every peer's own public keys and serves the
//! merged, `kid`-deduplicated set, so a token minted by any replica verifies
//! with the JWKS of every other one.
//!
//! - [`discovery`]: which peers this round (`PEERS`, `PEERS_DNS`), and which
//!   address is this replica.
//! - [`fetch`]: one bounded `GET <peer>/cluster/keys`, key validation, and
//!   the peer's revocations (revoked `jti`s are exchanged with the keys).
//! - [`merge`]: the pure peer book: up/down, ageing, dedup; takes `now`.
//! - [`refresher`]: the background task, started by [`crate::server::run`]:
//!   one round immediately, then every `PEER_REFRESH_SEC`; each round fetches
//!   all peers concurrently, then swaps each issuer's merged JWKS into the
//!   [`KeyRing`] in one go. Serving never waits on it.
//!
//! [`Federation`] is the part shared with the handlers: the settings and the
//! last published [`ClusterStatus`] (for `/health` and `/cluster`).

pub mod discovery;
pub mod fetch;
pub mod merge;
pub mod refresher;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Config, PeerDns};
use merge::{KeysByIssuer, Peer, PeerState};

/// The issuers' keys as federation sees them: what to publish to peers and
/// where to put what peers publish. Implemented by the issuer registry.
pub trait KeyRing: Send + Sync + 'static {
    /// This replica's own public keys, by issuer name (`""` = root).
    fn own_keys(&self) -> KeysByIssuer;
    /// Replaces every issuer's peer keys (names without an issuer here are
    /// kept for when one is created).
    fn set_peer_keys(&self, keys: KeysByIssuer);
    /// Notified when an issuer is created (so its peers' keys are fetched at once).
    fn created(&self) -> &tokio::sync::Notify;
    /// Takes the revocations peers published (issuers this replica does
    /// not have are skipped; the next round brings them again).
    fn learn_revocations(&self, revoked: Vec<fetch::PeerRevocation>);
}

/// Federation settings and the latest status, shared with the handlers.
#[derive(Debug)]
pub struct Federation {
    /// Static peer base URLs (`PEERS`, `cluster.static_peers`), no trailing `/`.
    pub static_peers: Vec<String>,
    /// Name resolved every round (`PEERS_DNS`, `cluster.dns_name`).
    pub dns: Option<PeerDns>,
    /// Interval between rounds (`PEER_REFRESH_SEC`).
    pub refresh: Duration,
    /// Timeout of one fetch and of one DNS lookup (`PEER_TIMEOUT_MS`).
    pub timeout: Duration,
    /// How long a key outlives its last successful fetch (`PEER_RETENTION_SEC`).
    pub retention: Duration,
    status: RwLock<Arc<ClusterStatus>>,
}

/// What the last round found; published by the refresher, read by handlers.
#[derive(Debug, Clone, Default)]
pub struct ClusterStatus {
    /// Rounds completed since start.
    pub rounds: u64,
    /// When the last round completed.
    pub last_round: Option<Instant>,
    /// Why the last DNS lookup failed, if it did (the previous addresses are used).
    pub dns_error: Option<String>,
    /// Every known peer (including this replica's own address when listed), by URL.
    pub peers: Vec<Peer>,
}

impl Federation {
    /// The federation settings of `config`; `None` when no peers are configured.
    pub fn from_config(config: &Config) -> Option<Self> {
        if !config.federation_enabled() {
            return None;
        }
        let mut static_peers: Vec<String> = config
            .peers
            .iter()
            .map(|p| p.trim_end_matches('/').to_string())
            .collect();
        static_peers.sort();
        static_peers.dedup();
        // Listed peers are visible (pending) on /health before the first round ends.
        let mut book = merge::PeerBook::new(KeysByIssuer::new(), config.peer_retention);
        book.set_listed(static_peers.iter().map(String::as_str));
        let status = ClusterStatus {
            peers: book.peers().cloned().collect(),
            ..ClusterStatus::default()
        };
        Some(Federation {
            static_peers,
            dns: config.peers_dns.clone(),
            refresh: config.peer_refresh,
            timeout: config.peer_timeout,
            retention: config.peer_retention,
            status: RwLock::new(Arc::new(status)),
        })
    }

    /// The last published status (a cheap `Arc` clone).
    pub fn status(&self) -> Arc<ClusterStatus> {
        match self.status.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn publish(&self, status: ClusterStatus) {
        let status = Arc::new(status);
        match self.status.write() {
            Ok(mut guard) => *guard = status,
            Err(poisoned) => *poisoned.into_inner() = status,
        }
    }

    /// Starts the refresher for `keys`, this replica listening on `local`;
    /// it stops when `stop` becomes `true` or its sender is dropped.
    pub fn start(
        self: &Arc<Self>,
        keys: Arc<dyn KeyRing>,
        local: SocketAddr,
        stop: watch::Receiver<bool>,
    ) -> Result<JoinHandle<()>, reqwest::Error> {
        let refresher = refresher::Refresher::new(Arc::clone(self), keys, local)?;
        Ok(tokio::spawn(refresher.run(stop)))
    }

    /// The `peers` array of `/health` and `/cluster`.
    pub fn peers_json(&self, now: Instant, unix_now: i64) -> Value {
        let status = self.status();
        Value::Array(
            status
                .peers
                .iter()
                .map(|p| peer_json(p, now, unix_now))
                .collect(),
        )
    }

    /// The `/cluster` document (minus the key lists, added by the handler).
    pub fn cluster_json(&self, now: Instant, unix_now: i64) -> Value {
        let status = self.status();
        let count = |state| status.peers.iter().filter(|p| p.state == state).count();
        json!({
            "enabled": true,
            "static_peers": self.static_peers,
            "dns_name": self.dns.as_ref().map(ToString::to_string),
            "dns_error": status.dns_error,
            "refresh_sec": self.refresh.as_secs(),
            "timeout_ms": u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            "retention_sec": self.retention.as_secs(),
            "rounds": status.rounds,
            "last_round_age_ms": status.last_round.map(|t| age_ms(now, t)),
            "peers_up": count(PeerState::Up),
            "peers_down": count(PeerState::Down),
            "peers": self.peers_json(now, unix_now),
        })
    }
}

fn age_ms(now: Instant, then: Instant) -> u64 {
    u64::try_from(now.saturating_duration_since(then).as_millis()).unwrap_or(u64::MAX)
}

fn peer_json(peer: &Peer, now: Instant, unix_now: i64) -> Value {
    // `kids`: the root issuer's; `issuer_kids`: every issuer's, by name.
    let kids: Vec<&str> = peer
        .keys
        .keys()
        .filter(|(issuer, _)| issuer.is_empty())
        .map(|(_, kid)| kid.as_str())
        .collect();
    let mut issuer_kids = serde_json::Map::new();
    for (issuer, kid) in peer.keys.keys() {
        if let Value::Array(list) = issuer_kids
            .entry(issuer.clone())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(json!(kid));
        }
    }
    let last_success = peer.last_success.map(|t| {
        let age = now.saturating_duration_since(t).as_secs();
        unix_now - i64::try_from(age).unwrap_or(0)
    });
    json!({
        "url": peer.url,
        "state": peer.state,
        "listed": peer.listed,
        "key_count": peer.keys.len(),
        "kids": kids,
        "issuer_kids": issuer_kids,
        "last_success": last_success,
        "last_success_age_ms": peer.last_success.map(|t| age_ms(now, t)),
        "last_error": peer.last_error,
        "failures": peer.failures,
        "rejected_keys": peer.rejected,
    })
}
