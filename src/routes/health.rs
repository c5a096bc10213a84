//! `GET /health`: 200 `{"status":"ok"}` once serving. With federation on it
//! adds `"peers"`: each peer's state (`pending`, `up`, `down`, `self`), last
//! success, last error and kids. Peers being down never makes this replica
//! unhealthy: it still serves its own and the retained keys.

use std::time::Instant;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::paths;
use crate::app::SharedState;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    Router::new().route(paths::HEALTH, get(health_get))
}

/// `GET /health`.
pub async fn health_get(State(state): State<SharedState>) -> Json<Value> {
    match &state.federation {
        None => Json(json!({"status": "ok"})),
        Some(federation) => Json(json!({
            "status": "ok",
            "peers": federation.peers_json(Instant::now(), crate::unix_now()),
        })),
    }
}
