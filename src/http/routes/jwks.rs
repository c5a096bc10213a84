//! JWKS, served from pre-serialized bytes: each issuer at
//! `<mount>/.well-known/jwks.json` and `<mount>/jwks`; the root also at
//! `/certs` and `/api/pkeys` (`?local=true`: this replica's own keys only).

use axum::Router;
use axum::extract::RawQuery;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;

use crate::http::extract::Iss;
use crate::http::{SharedState, issuer_route};
use crate::issuer::paths::{self, server};

/// `Cache-Control` of JWKS responses: short, because replicas come and go.
pub const JWKS_CACHE_CONTROL: &str = "public, max-age=60";

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    let mut router = Router::new()
        .route(server::CERTS, get(jwks_get))
        .route(server::PKEYS, get(pkeys_get));
    for path in [paths::JWKS_WELL_KNOWN, paths::JWKS] {
        router = issuer_route(router, path, get(jwks_get));
    }
    router
}

/// `GET <mount>/.well-known/jwks.json`, `<mount>/jwks`, `/certs`: the merged set.
pub async fn jwks_get(Iss(issuer): Iss) -> Response {
    issuer.counters().jwks_request();
    jwks_response(issuer.jwks().json.clone())
}

/// `GET /api/pkeys[?local=true]` (the root issuer).
pub async fn pkeys_get(Iss(issuer): Iss, RawQuery(query): RawQuery) -> Response {
    issuer.counters().jwks_request();
    let local = query.as_deref().is_some_and(|q| {
        q.split('&')
            .any(|pair| matches!(pair, "local=true" | "local=1" | "local"))
    });
    let set = if local {
        issuer.keys().local()
    } else {
        issuer.jwks()
    };
    jwks_response(set.json.clone())
}

/// A JWKS response from serialized bytes.
pub fn jwks_response(json: Bytes) -> Response {
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
