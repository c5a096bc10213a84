//! `GET /health`: 200 `{"status":"ok"}` once serving.

use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::paths;
use crate::app::SharedState;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    Router::new().route(paths::HEALTH, get(health_get))
}

/// `GET /health`.
pub async fn health_get() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}
