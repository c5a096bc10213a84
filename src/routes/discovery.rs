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
use crate::oauth::{authorize, pkce};

/// Grant types `POST /token` implements.
pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
];

/// Client authentication methods of the token, introspection and revocation
/// endpoints (RFC 6749 §2.3.1; `none` = public client with PKCE).
pub const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "none"];

/// Claims tokens and userinfo can carry (persona and login claims come on top).
pub const CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "azp",
    "scope",
    "client_id",
    "auth_time",
    "nonce",
    "at_hash",
    "sid",
    "v",
    "fva",
    "o",
    "org_id",
    "org_role",
    "org_slug",
    "name",
    "email",
];

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
    let url = |path: &str| format!("{base}{path}");
    json!({
        "issuer": config.issuer,
        "authorization_endpoint": url(paths::AUTHORIZE),
        "token_endpoint": url(paths::TOKEN),
        "userinfo_endpoint": url(paths::USERINFO),
        "jwks_uri": url(paths::JWKS),
        "introspection_endpoint": url(paths::INTROSPECT),
        "revocation_endpoint": url(paths::REVOKE),
        "end_session_endpoint": url(paths::LOGOUT),
        "grant_types_supported": GRANT_TYPES,
        "response_types_supported": authorize::RESPONSE_TYPES,
        "response_modes_supported": authorize::RESPONSE_MODES,
        "code_challenge_methods_supported": pkce::METHODS,
        "scopes_supported": authorize::SCOPES,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "claims_supported": CLAIMS,
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        // Non-standard member (ignored by clients): marks this issuer as a mock.
        "mock_idp": true,
    })
}
