//! `GET /cluster`: the federation status in full: settings, this replica's
//! own kids, the kids it serves (own + peers'), and every peer's state.
//! `{"enabled": false, ...}` when no peers are configured.

use std::time::Instant;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::paths;
use crate::app::SharedState;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    Router::new().route(paths::CLUSTER, get(cluster_get))
}

/// `GET /cluster`.
pub async fn cluster_get(State(state): State<SharedState>) -> Json<Value> {
    let mut doc = match &state.federation {
        Some(federation) => federation.cluster_json(Instant::now(), crate::unix_now()),
        None => json!({"enabled": false}),
    };
    if let Value::Object(map) = &mut doc {
        map.insert(
            "instance_id".into(),
            json!(state.config.instance_id.as_deref()),
        );
        map.insert("own_kids".into(), json!(state.keys.local().kids()));
        map.insert("served_kids".into(), json!(state.keys.merged().kids()));
    }
    Json(doc)
}
