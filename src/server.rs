//! Startup and the serving loop: [`load_state`] builds the keys and state,
//! [`run`] serves an already bound listener until `shutdown` resolves.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::{self, AppState, SharedState};
use crate::config::Config;
use crate::keys::persist::{self, Outcome};
use crate::keys::{KeyStore, KidPolicy, SigningKey};

/// Builds the state for `config`: loads or creates the key, per `PERSIST_KEYS_DIR`.
pub fn load_state(config: Config) -> anyhow::Result<SharedState> {
    let policy = KidPolicy {
        fixed: config.kid.clone(),
        instance_id: config.instance_id.clone(),
    };
    let key = match &config.persist_keys_dir {
        Some(dir) => {
            let (key, outcome) = persist::load_or_create(dir, &policy)?;
            let what = match outcome {
                Outcome::Created => "created new key pair",
                Outcome::Loaded => "loaded key pair",
                Outcome::PublicRegenerated => "loaded private key; wrote missing public.pem",
            };
            tracing::info!(dir = %dir.display(), kid = key.kid(), "{what}");
            key
        }
        None => {
            let key = SigningKey::generate_fast(&policy)?;
            tracing::info!(kid = key.kid(), "generated in-memory key pair");
            key
        }
    };
    Ok(AppState::new(config, KeyStore::new(key)))
}

/// Serves `state` on `listener` until `shutdown` resolves, then finishes the
/// requests in flight. With peers configured it also runs the federation
/// refresher (first round at once, never awaited by serving), stopped on
/// shutdown, on a serving error, or when this future is dropped.
pub async fn run(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop = StopOnDrop(Arc::new(stop_tx));
    let refresher = match &state.federation {
        Some(federation) => Some(
            federation
                .start(Arc::clone(&state.keys), listener.local_addr()?, stop_rx)
                .map_err(|e| {
                    std::io::Error::other(format!("cannot create the peer HTTP client: {e}"))
                })?,
        ),
        None => None,
    };
    let stop_on_signal = Arc::clone(&stop.0);
    let shutdown = async move {
        shutdown.await;
        stop_on_signal.send_replace(true);
    };
    let served = axum::serve(listener, app::router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    // Also when serving failed before any shutdown signal.
    drop(stop);
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
