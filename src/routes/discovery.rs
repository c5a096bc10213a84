//! OpenID Connect Discovery 1.0 (`/.well-known/openid-configuration`) and RFC
//! 8414 metadata. It lists only what is implemented; every URL is built from
//! the same path constants as the routers.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{base_url, paths};
use crate::app::SharedState;
use crate::config::Config;

/// Grant types `POST /token` implements.
pub const GRANT_TYPES: &[&str] = &["client_credentials"];

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route(paths::DISCOVERY, get(discovery_get))
        .route(paths::OAUTH_METADATA, get(discovery_get))
}

/// `GET /.well-known/openid-configuration`.
pub async fn discovery_get(State(state): State<SharedState>, headers: HeaderMap) -> Json<Value> {
    Json(document(&state.config, &base_url(&state.config, &headers)))
}

/// The discovery document with endpoint URLs under `base`.
pub fn document(config: &Config, base: &str) -> Value {
    json!({
        "issuer": config.issuer,
        "jwks_uri": format!("{base}{}", paths::JWKS),
        "token_endpoint": format!("{base}{}", paths::TOKEN),
        "grant_types_supported": GRANT_TYPES,
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "azp", "scope", "sid", "v", "fva", "o"],
    })
}
