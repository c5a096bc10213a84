//! OpenID Connect Discovery 1.0 (`<mount>/.well-known/openid-configuration`)
//! and RFC 8414 metadata (`<mount>/.well-known/oauth-authorization-server`).

use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use crate::http::extract::{BaseUrl, Iss};
use crate::http::{SharedState, issuer_route};
use crate::issuer::paths;

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    let router = issuer_route(Router::new(), paths::DISCOVERY, get(discovery_get));
    issuer_route(router, paths::OAUTH_METADATA, get(discovery_get))
}

/// `GET <mount>/.well-known/openid-configuration`.
pub async fn discovery_get(Iss(issuer): Iss, BaseUrl(base): BaseUrl) -> Json<Value> {
    Json(issuer.discovery(&base))
}
