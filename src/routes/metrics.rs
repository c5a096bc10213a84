//! `GET /metrics`: Prometheus text format (see [`crate::metrics`]).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::paths;
use crate::app::SharedState;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    Router::new().route(paths::METRICS, get(metrics_get))
}

/// `GET /metrics`.
pub async fn metrics_get(State(state): State<SharedState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(""),
    )
}
