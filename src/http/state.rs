//! [`AppState`]: what every handler can reach, shared behind an `Arc`.

use std::sync::Arc;

use crate::config::Config;
use crate::federation::Federation;
use crate::issuer::registry::Registry;
use crate::metrics::Metrics;

/// Largest request body accepted, in bytes (larger -> 413).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Everything a handler needs.
#[derive(Debug)]
pub struct AppState {
    /// The resolved configuration (server-wide settings: `PUBLIC_URL`, CORS, ...).
    pub config: Config,
    /// The root issuer and the named ones (shared with the federation refresher).
    pub issuers: Arc<Registry>,
    /// Peer federation (settings and last status); `None` without peers.
    pub federation: Option<Arc<Federation>>,
    /// Latency histograms (token counters live in each issuer).
    pub metrics: Metrics,
    /// Turns `true` when the server starts shutting down: long-lived
    /// responses (event streams) end then instead of holding the drain.
    pub shutdown: tokio::sync::watch::Sender<bool>,
}

/// The state type handlers extract.
pub type SharedState = Arc<AppState>;
