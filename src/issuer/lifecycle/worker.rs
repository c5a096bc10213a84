//! The auto-renewal worker: one task per server ([`run`], spawned by
//! [`crate::server::run`] and stopped with it). It runs each issuer of
//! profile `jwt-auth-service` at once and then every
//! `auto_renew_worker_interval` seconds ([`Issuer::lifecycle_tick`]); an
//! issuer created later (a dynamic one) is picked up within a second. The
//! schedule is [`tokio::time`], so a test with a paused clock drives it
//! without sleeping.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::super::Issuer;
use super::super::registry::Registry;

/// How often the worker looks for issuers it does not know yet.
pub const RESCAN: Duration = Duration::from_secs(1);

/// When each issuer runs next, by name.
#[derive(Debug, Default)]
pub struct Schedule {
    next: HashMap<String, Instant>,
}

impl Schedule {
    /// Runs every issuer of `issuers` that is due at `now` and returns when
    /// the next one is (at most [`RESCAN`] later).
    pub fn run_due(&mut self, issuers: &[Arc<Issuer>], now: Instant) -> Instant {
        let mut wake = now + RESCAN;
        for issuer in issuers {
            let Some(lc) = issuer.lifecycle() else {
                continue;
            };
            let due = self.next.entry(issuer.name().to_string()).or_insert(now);
            if *due <= now {
                let minted = issuer.lifecycle_tick();
                if minted > 0 {
                    tracing::debug!(issuer = issuer.name(), minted, "auto-renewed children");
                }
                *due = now + Duration::from_secs(lc.settings().interval_sec.max(1));
            }
            wake = wake.min(*due);
        }
        wake
    }
}

/// Runs the worker over `registry` until `stop` turns `true` or its sender
/// goes away.
pub async fn run(registry: Arc<Registry>, mut stop: watch::Receiver<bool>) {
    let mut schedule = Schedule::default();
    loop {
        if *stop.borrow_and_update() {
            break;
        }
        let wake = schedule.run_due(&registry.all(), Instant::now());
        tokio::select! {
            biased;
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            () = tokio::time::sleep_until(wake) => {}
        }
    }
    tracing::debug!("auto-renewal worker stopped");
}
