//! Startup and the serving loop: [`load_state`] builds the issuers (and the
//! root issuer's key, before any async runtime exists), [`run`] serves an
//! already bound listener until `shutdown` resolves ([`conn`]: timeouts,
//! connection limit, draining).

pub mod conn;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::federation::merge::KeysByIssuer;
use crate::federation::{Federation, KeyRing};
use crate::http::{self, AppState, SharedState};
use crate::issuer::lifecycle;
use crate::issuer::registry::Registry;
use crate::metrics::Metrics;

/// Builds the state for `config`: the issuers, and the root issuer's key
/// (loaded or created per `PERSIST_KEYS_DIR`). Named issuers create their
/// keys on first use. Blocking: call it before starting the runtime.
pub fn load_state(config: Config) -> anyhow::Result<SharedState> {
    let issuers = Registry::from_config(&config);
    issuers.root().prepare_key_blocking()?;
    let configured = issuers.configured();
    if !configured.is_empty() {
        tracing::info!(issuers = ?configured, "configured issuers (keys are created on first use)");
    }
    let personas = issuers.root().users().len();
    if config.users_file_given() && personas == 0 {
        tracing::warn!("the users file has no personas; `user` in a request will find nobody");
    }
    tracing::info!(
        personas,
        clients = issuers.root().clients().len(),
        "root issuer ready"
    );
    let federation = Federation::from_config(&config).map(Arc::new);
    Ok(Arc::new(AppState {
        config,
        issuers: Arc::new(issuers),
        federation,
        metrics: Metrics::default(),
        shutdown: watch::Sender::new(false),
    }))
}

impl KeyRing for Registry {
    fn own_keys(&self) -> KeysByIssuer {
        Registry::own_keys(self)
    }

    fn set_peer_keys(&self, keys: KeysByIssuer) {
        Registry::set_peer_keys(self, keys);
    }

    fn created(&self) -> &tokio::sync::Notify {
        Registry::created(self)
    }

    fn learn_revocations(&self, revoked: Vec<crate::federation::fetch::PeerRevocation>) {
        Registry::learn_revocations(self, revoked);
    }
}

/// Serves `state` on `listener` until `shutdown` resolves, then drains (see
/// [`conn`]). It also runs the auto-renewal worker of the lifecycle
/// service and, with peers configured, the federation refresher (first
/// round at once, never awaited by serving); both stop on shutdown, on a
/// serving error, or when this future is dropped. Event streams end when
/// shutdown begins.
pub async fn run(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop = StopOnDrop(Arc::new(stop_tx));
    let refresher = match &state.federation {
        Some(federation) => {
            let ring: Arc<dyn KeyRing> = Arc::clone(&state.issuers) as Arc<dyn KeyRing>;
            Some(
                federation
                    .start(ring, listener.local_addr()?, stop_rx)
                    .map_err(|e| {
                        std::io::Error::other(format!("cannot create the peer HTTP client: {e}"))
                    })?,
            )
        }
        None => None,
    };
    let worker = tokio::spawn(lifecycle::worker::run(
        Arc::clone(&state.issuers),
        stop.0.subscribe(),
    ));
    let stop_on_signal = Arc::clone(&stop.0);
    let app_state = Arc::clone(&state);
    let shutdown = async move {
        shutdown.await;
        stop_on_signal.send_replace(true);
        app_state.shutdown.send_replace(true);
    };
    let limits = conn::Limits {
        header_timeout: state.config.header_timeout,
        idle_timeout: state.config.idle_timeout,
        shutdown_grace: state.config.shutdown_grace,
        max_connections: state.config.max_connections,
    };
    let served = conn::serve(listener, http::router(state), limits, shutdown).await;
    // Also when serving failed before any shutdown signal.
    drop(stop);
    if let Err(e) = worker.await {
        tracing::error!(error = %e, "auto-renewal worker task failed");
    }
    if let Some(handle) = refresher
        && let Err(e) = handle.await
    {
        tracing::error!(error = %e, "peer refresher task failed");
    }
    served
}

/// Tells the refresher to stop when dropped (end of `run`, or `run` dropped).
struct StopOnDrop(Arc<watch::Sender<bool>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
