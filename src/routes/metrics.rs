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

/// Peer gauges when federation is on: how many peers are up/down, and the
/// size of the served key set.
fn federation_gauges(state: &SharedState) -> String {
    use crate::federation::merge::PeerState;
    use std::fmt::Write as _;
    let Some(federation) = &state.federation else {
        return String::new();
    };
    let status = federation.status();
    let count = |wanted: PeerState| status.peers.iter().filter(|p| p.state == wanted).count();
    let mut out = String::new();
    out.push_str("# HELP mock_idp_peers Federation peers by state.\n");
    out.push_str("# TYPE mock_idp_peers gauge\n");
    for (label, state) in [
        ("up", PeerState::Up),
        ("down", PeerState::Down),
        ("pending", PeerState::Pending),
        ("self", PeerState::Own),
    ] {
        let _ = writeln!(out, "mock_idp_peers{{state=\"{label}\"}} {}", count(state));
    }
    out.push_str("# HELP mock_idp_served_keys Keys in the served (merged) JWKS.\n");
    out.push_str("# TYPE mock_idp_served_keys gauge\n");
    let _ = writeln!(
        out,
        "mock_idp_served_keys {}",
        state.keys.merged().keys.len()
    );
    out
}

/// `GET /metrics`.
pub async fn metrics_get(State(state): State<SharedState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(&federation_gauges(&state)),
    )
}
