//! The JWKS at `/.well-known/jwks.json`, `/certs` and `/api/pkeys`, served from
//! pre-serialized bytes. `/api/pkeys?local=true` serves this replica's own keys
//! only: that is what peers fetch, so merging never recurses.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;

use super::paths;
use crate::app::SharedState;

/// `Cache-Control` of JWKS responses: short, because replicas come and go.
pub const JWKS_CACHE_CONTROL: &str = "public, max-age=60";

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route(paths::JWKS, get(jwks_get))
        .route(paths::CERTS, get(jwks_get))
        .route(paths::PKEYS, get(pkeys_get))
}

/// `GET /.well-known/jwks.json` and `GET /certs`: the merged set.
pub async fn jwks_get(State(state): State<SharedState>) -> Response {
    state.metrics.jwks_request();
    jwks_response(state.keys.merged().json.clone())
}

/// `GET /api/pkeys[?local=true]`.
pub async fn pkeys_get(State(state): State<SharedState>, RawQuery(query): RawQuery) -> Response {
    state.metrics.jwks_request();
    let local = query.as_deref().is_some_and(|q| {
        q.split('&')
            .any(|pair| matches!(pair, "local=true" | "local=1" | "local"))
    });
    if local {
        jwks_response(state.keys.local().json.clone())
    } else {
        jwks_response(state.keys.merged().json.clone())
    }
}

fn jwks_response(json: Bytes) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(JWKS_CACHE_CONTROL),
            ),
        ],
        json,
    )
        .into_response()
}
