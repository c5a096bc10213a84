//! The background task: a round at start, then one per `PEER_REFRESH_SEC`
//! ([`tokio::time::interval`], delayed rather than bunched when a round runs
//! long). A round resolves the peers, fetches them all concurrently (each
//! bounded by the fetch timeout), updates the [`PeerBook`], swaps the merged
//! JWKS of every issuer into the key ring when it changed, hands the
//! peers' revocations to the issuers, publishes the status and logs
//! transitions only. A dynamic issuer created on this
//! replica triggers a round at once (its peers' keys may already exist). A
//! stop signal interrupts a round in flight.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use super::discovery::{self, is_own_address};
use super::fetch::Fetcher;
use super::merge::{Event, FetchOutcome, KeysByIssuer, PeerBook};
use super::{ClusterStatus, Federation, KeyRing};

/// The refresher's own state; it lives in its task, nothing else touches it.
pub struct Refresher {
    federation: Arc<Federation>,
    keys: Arc<dyn KeyRing>,
    local: SocketAddr,
    fetcher: Fetcher,
    book: PeerBook,
    dns_addrs: Vec<String>,
    dns_error: Option<String>,
    served: KeysByIssuer,
    rounds: u64,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher")
            .field("local", &self.local)
            .field("rounds", &self.rounds)
            .finish_non_exhaustive()
    }
}

impl Refresher {
    /// A refresher for the issuers' `keys`, this replica listening on `local`.
    pub fn new(
        federation: Arc<Federation>,
        keys: Arc<dyn KeyRing>,
        local: SocketAddr,
    ) -> Result<Self, reqwest::Error> {
        let fetcher = Fetcher::new(federation.timeout)?;
        let book = PeerBook::new(keys.own_keys(), federation.retention);
        Ok(Refresher {
            federation,
            keys,
            local,
            fetcher,
            book,
            dns_addrs: Vec::new(),
            dns_error: None,
            served: KeysByIssuer::new(),
            rounds: 0,
        })
    }

    /// Runs rounds until `stop` turns `true` or its sender goes away.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        tracing::info!(
            peers = ?self.federation.static_peers,
            dns = ?self.federation.dns.as_ref().map(ToString::to_string),
            refresh_sec = self.federation.refresh.as_secs(),
            timeout_ms = u64::try_from(self.federation.timeout.as_millis()).unwrap_or(u64::MAX),
            retention_sec = self.federation.retention.as_secs(),
            "key federation on"
        );
        let mut interval = tokio::time::interval(self.federation.refresh);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let ring = Arc::clone(&self.keys);
        loop {
            tokio::select! {
                biased;
                () = stopped(&mut stop) => break,
                _ = interval.tick() => {}
                // A new issuer here: its peers' keys may exist already.
                () = ring.created().notified() => {}
            }
            tokio::select! {
                biased;
                () = stopped(&mut stop) => break,
                () = self.round() => {}
            }
        }
        tracing::debug!("peer refresher stopped");
    }

    /// One round: resolve, fetch all, record, expire, publish.
    pub async fn round(&mut self) {
        let urls = self.discover().await;
        self.book.set_listed(urls.iter().map(String::as_str));
        self.book.set_own(self.keys.own_keys());

        let mut outcomes = Vec::with_capacity(urls.len());
        let mut fetches = JoinSet::new();
        for url in urls {
            if is_own_address(&url, self.local) {
                outcomes.push((url, FetchOutcome::OwnAddress));
                continue;
            }
            let fetcher = self.fetcher.clone();
            fetches.spawn(async move {
                let (outcome, revoked) = fetcher.fetch(&url).await;
                (url, outcome, revoked)
            });
        }
        let mut revoked = Vec::new();
        while let Some(joined) = fetches.join_next().await {
            match joined {
                Ok((url, outcome, theirs)) => {
                    outcomes.push((url, outcome));
                    revoked.extend(theirs);
                }
                // The peer keeps its previous state; the next round tries again.
                Err(e) => tracing::error!(error = %e, "peer fetch task failed"),
            }
        }

        // Revocations made on the peers: refused here from now on.
        if !revoked.is_empty() {
            self.keys.learn_revocations(revoked);
        }

        let now = Instant::now();
        let mut events = Vec::new();
        for (url, outcome) in outcomes {
            events.extend(self.book.record(&url, outcome, now));
        }
        events.extend(self.book.expire(now));
        events.iter().for_each(log_event);

        let peer_keys = self.book.peer_keys();
        if peer_keys != self.served {
            let kids: Vec<String> = peer_keys
                .iter()
                .flat_map(|(issuer, keys)| {
                    keys.iter().map(move |k| {
                        if issuer.is_empty() {
                            k.kid.clone()
                        } else {
                            format!("{issuer}/{}", k.kid)
                        }
                    })
                })
                .collect();
            self.keys.set_peer_keys(peer_keys.clone());
            // Peer-chosen kids (up to 256 characters each): name a few, count all.
            let count = kids.len();
            let kids: Vec<&String> = kids.iter().take(16).collect();
            tracing::info!(peer_keys = count, peer_kids = ?kids, "serving new merged JWKS");
            self.served = peer_keys;
        }
        self.rounds += 1;
        self.federation.publish(ClusterStatus {
            rounds: self.rounds,
            last_round: Some(now),
            dns_error: self.dns_error.clone(),
            peers: self.book.peers().cloned().collect(),
        });
    }

    /// This round's peer URLs: the static ones plus what the DNS name
    /// resolves to now (the last good answer when the lookup fails).
    async fn discover(&mut self) -> Vec<String> {
        let mut urls: BTreeSet<String> = self.federation.static_peers.iter().cloned().collect();
        if let Some(dns) = &self.federation.dns {
            match discovery::resolve(dns, self.federation.timeout).await {
                Ok(addrs) => {
                    if self.dns_error.take().is_some() {
                        tracing::info!(name = %dns, "peer DNS name resolves again");
                    }
                    if addrs != self.dns_addrs {
                        tracing::info!(name = %dns, peers = ?addrs, "peer DNS name resolved to a new address set");
                        self.dns_addrs = addrs;
                    }
                }
                Err(e) => {
                    if self.dns_error.as_ref() != Some(&e) {
                        tracing::warn!(
                            error = %e,
                            using = ?self.dns_addrs,
                            "peer DNS lookup failed; keeping the last addresses"
                        );
                    }
                    self.dns_error = Some(e);
                }
            }
            urls.extend(self.dns_addrs.iter().cloned());
        }
        urls.into_iter().collect()
    }
}

/// Resolves when `stop` is `true` or its sender was dropped.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            return;
        }
    }
}

fn log_event(event: &Event) {
    match event {
        Event::Up {
            url,
            recovered: true,
        } => tracing::info!(peer = %url, "peer is back up"),
        Event::Up {
            url,
            recovered: false,
        } => tracing::info!(peer = %url, "peer is up"),
        Event::Down {
            url,
            reason,
            was_up: true,
        } => {
            tracing::warn!(peer = %url, reason = %reason, "peer went down; its keys are kept for the retention")
        }
        Event::Down {
            url,
            reason,
            was_up: false,
        } => tracing::warn!(peer = %url, reason = %reason, "peer is unreachable"),
        Event::Own { url } => {
            tracing::info!(peer = %url, "peer address is this replica; skipped")
        }
        Event::KeyAdded { url, kid } => tracing::info!(peer = %url, kid = ?kid, "peer key added"),
        Event::KeyExpired { url, kid } => {
            tracing::info!(peer = %url, kid = ?kid, "peer key not seen for the retention; dropped")
        }
        Event::Rejected { url, reasons } => {
            tracing::warn!(peer = %url, reasons = ?reasons, "peer served keys that are ignored")
        }
        Event::Forgotten { url } => {
            tracing::info!(peer = %url, "peer no longer listed and has no key left; forgotten")
        }
    }
}
