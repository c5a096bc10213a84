//! Server endpoints at the root only: `GET /health`, `GET /issuers`,
//! `GET /cluster`, `GET /cluster/keys` (what peers fetch) and `GET /metrics`.

use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::federation::fetch::MAX_REVOCATIONS_PER_PEER;
use crate::http::SharedState;
use crate::http::extract::BaseUrl;
use crate::issuer::Issuer;
use crate::issuer::lifecycle::LifecycleGauges;
use crate::issuer::lifecycle::store::ParentGauge;
use crate::issuer::paths::server;
use crate::issuer::spent::hash_hex;
use crate::metrics::label;
use crate::profiles::Endpoint;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route(server::HEALTH, get(health_get))
        .route(server::ISSUERS, get(issuers_get))
        .route(server::CLUSTER, get(cluster_get))
        .route(server::CLUSTER_KEYS, get(cluster_keys_get))
        .route(server::METRICS, get(metrics_get))
}

/// `GET /health`: 200 `{"status":"ok"}` once serving; with federation on,
/// each peer's state too (peers being down never makes this replica unhealthy).
pub async fn health_get(State(state): State<SharedState>) -> Json<Value> {
    match &state.federation {
        None => Json(json!({"status": "ok"})),
        Some(federation) => Json(json!({
            "status": "ok",
            "peers": federation.peers_json(Instant::now(), crate::unix_now()),
        })),
    }
}

/// `GET /issuers`: every issuer, the root first (`"name": ""`).
pub async fn issuers_get(State(state): State<SharedState>, BaseUrl(base): BaseUrl) -> Json<Value> {
    Json(issuers_doc(&state, &base))
}

/// The `GET /issuers` document for a client that reached the server at `base`.
pub fn issuers_doc(state: &SharedState, base: &str) -> Value {
    let list: Vec<Value> = state
        .issuers
        .all()
        .iter()
        .map(|issuer| issuer_entry(issuer, base))
        .collect();
    json!({
        "issuers": list,
        "dynamic_issuers": state.issuers.dynamic(),
    })
}

/// One issuer's entry in the `GET /issuers` document.
pub fn issuer_entry(issuer: &Issuer, base: &str) -> Value {
    let url =
        |endpoint: Endpoint| format!("{base}{}{}", issuer.mount(), issuer.endpoint_path(endpoint));
    json!({
        "name": issuer.name(),
        "iss": issuer.iss(base),
        "profile": issuer.profile(),
        "mount": if issuer.is_root() { "/" } else { issuer.mount() },
        "discovery": url(Endpoint::Discovery),
        "jwks_uri": url(Endpoint::Jwks),
        "token_endpoint": url(Endpoint::Token),
        "kids": issuer.keys().merged().kids(),
    })
}

/// `GET /cluster`: federation settings, peers, and per issuer the own and
/// served kids. `{"enabled": false, ...}` without peers.
pub async fn cluster_get(State(state): State<SharedState>) -> Json<Value> {
    let mut doc = match &state.federation {
        Some(federation) => federation.cluster_json(Instant::now(), crate::unix_now()),
        None => json!({"enabled": false}),
    };
    if let Value::Object(map) = &mut doc {
        let root = state.issuers.root();
        map.insert(
            "instance_id".into(),
            json!(state.config.instance_id.as_deref()),
        );
        map.insert("own_kids".into(), json!(root.keys().local().kids()));
        map.insert("served_kids".into(), json!(root.keys().merged().kids()));
        let issuers: Map<String, Value> = state
            .issuers
            .all()
            .iter()
            .map(|i| {
                let keys = i.keys().snapshot();
                (
                    i.name().to_string(),
                    json!({"own_kids": keys.local.kids(), "served_kids": keys.merged.kids()}),
                )
            })
            .collect();
        map.insert("issuers".into(), Value::Object(issuers));
    }
    Json(doc)
}

/// `GET /cluster/keys`: this replica's own public keys of every issuer that
/// has one, `{"issuers": {"": {"keys": [...]}, "name": {"keys": [...]}}}`,
/// and per issuer the live revocations made here, `"revoked":
/// {"<hash of the jti>": exp}` (at most
/// [`MAX_REVOCATIONS_PER_PEER`] in all). Peers fetch this; it never
/// includes keys or revocations learnt from peers.
pub async fn cluster_keys_get(State(state): State<SharedState>) -> Json<Value> {
    let mut issuers: Map<String, Value> = state
        .issuers
        .own_keys()
        .into_iter()
        .map(|(name, keys)| (name, json!({ "keys": keys })))
        .collect();
    for (name, revoked) in state.issuers.own_revocations(MAX_REVOCATIONS_PER_PEER) {
        let revoked: Map<String, Value> = revoked
            .into_iter()
            .map(|(hash, exp)| (hash_hex(hash), json!(exp)))
            .collect();
        let entry = issuers.entry(name).or_insert_with(|| json!({"keys": []}));
        if let Value::Object(entry) = entry {
            entry.insert("revoked".into(), Value::Object(revoked));
        }
    }
    Json(json!({ "issuers": issuers }))
}

/// Peer gauges when federation is on: how many peers are up/down, and the
/// size of the served key sets.
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
    out.push_str("# HELP mock_idp_served_keys Keys in the served (merged) JWKS, by issuer.\n");
    out.push_str("# TYPE mock_idp_served_keys gauge\n");
    for issuer in state.issuers.all() {
        let _ = writeln!(
            out,
            "mock_idp_served_keys{{issuer=\"{}\"}} {}",
            issuer.name(),
            issuer.keys().merged().keys.len()
        );
    }
    out
}

/// A gauge family: name, help text, and the value of one series.
type Family<T, V> = (&'static str, &'static str, fn(&T) -> V);

/// The token lifecycle service's metrics, under jwt-auth-service's names,
/// types and help texts, each series with `issuer="<name>"` (several
/// lifecycle issuers would collide otherwise), and the open event streams.
/// Nothing when no issuer has the `jwt-auth-service` profile.
fn lifecycle_gauges(state: &SharedState) -> String {
    use std::fmt::Write as _;
    let all: Vec<(String, crate::issuer::lifecycle::LifecycleGauges)> = state
        .issuers
        .all()
        .iter()
        .filter_map(|i| Some((i.name().to_string(), i.lifecycle_gauges()?)))
        .collect();
    if all.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let per_parent: [Family<ParentGauge, i64>; 2] = [
        (
            "jwt_parent_token_expiry_timestamp_seconds",
            "Unix timestamp when parent token expires",
            |p| p.expires_at,
        ),
        (
            "jwt_parent_token_issued_timestamp_seconds",
            "Unix timestamp when parent token was issued",
            |p| p.issued_at,
        ),
    ];
    for (name, help, value) in per_parent {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (issuer, g) in &all {
            for p in &g.parents {
                let _ = writeln!(
                    out,
                    "{name}{{issuer=\"{}\",network=\"{}\",parent_jti=\"{}\",user_id=\"{}\"}} {}",
                    label(issuer),
                    label(&p.network),
                    label(&p.parent_jti),
                    label(&p.user_id),
                    value(p)
                );
            }
        }
    }
    let totals: [Family<LifecycleGauges, usize>; 3] = [
        (
            "jwt_parent_tokens_active_total",
            "Total number of active parent tokens",
            |g| g.parents.len(),
        ),
        (
            "jwt_revoked_tokens_total",
            "Total number of revoked tokens",
            |g| g.revoked,
        ),
        (
            "mock_idp_lifecycle_sse_streams",
            "Open token update streams (GET /tokens/stream), by issuer.",
            |g| g.streams,
        ),
    ];
    for (name, help, value) in totals {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (issuer, g) in &all {
            let _ = writeln!(out, "{name}{{issuer=\"{}\"}} {}", label(issuer), value(g));
        }
    }
    out
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics_get(State(state): State<SharedState>) -> impl IntoResponse {
    let issuers = state.issuers.all();
    let counters = issuers.iter().map(|i| (i.name(), i.counters()));
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(
            counters,
            &(federation_gauges(&state) + &lifecycle_gauges(&state)),
        ),
    )
}
