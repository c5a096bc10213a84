//! HTTP endpoints, one module per area. Each exposes `router()`; paths live in
//! [`paths`] and are used by both the routers and the discovery document.

pub mod authorize;
pub mod cluster;
pub mod discovery;
pub mod health;
pub mod introspect;
pub mod jwks;
pub mod login_page;
pub mod metrics;
pub mod token;
pub mod userinfo;

use axum::http::HeaderMap;

use crate::config::Config;

/// Route paths, shared by the routers and discovery so they are typed once.
pub mod paths {
    /// Token endpoint (mint and OAuth grants).
    pub const TOKEN: &str = "/token";
    /// JWKS, standard location.
    pub const JWKS: &str = "/.well-known/jwks.json";
    /// JWKS, Keycloak/Google-style alias.
    pub const CERTS: &str = "/certs";
    /// JWKS, Stoke-style alias; `?local=true` = this replica's keys only.
    pub const PKEYS: &str = "/api/pkeys";
    /// OpenID Connect Discovery 1.0.
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    /// RFC 8414 authorization server metadata.
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    /// Liveness/readiness (with peer states when federation is on).
    pub const HEALTH: &str = "/health";
    /// OAuth 2.0 authorization endpoint (GET and POST, RFC 6749 §3.1).
    pub const AUTHORIZE: &str = "/authorize";
    /// Where the login page posts the chosen user.
    pub const AUTHORIZE_LOGIN: &str = "/authorize/login";
    /// OIDC UserInfo endpoint (GET and POST).
    pub const USERINFO: &str = "/userinfo";
    /// RFC 7662 token introspection.
    pub const INTROSPECT: &str = "/introspect";
    /// RFC 7009 token revocation.
    pub const REVOKE: &str = "/revoke";
    /// OIDC RP-initiated logout (`end_session_endpoint`).
    pub const LOGOUT: &str = "/logout";
    /// Federation status: settings, peers, own and served kids.
    pub const CLUSTER: &str = "/cluster";
    /// Prometheus metrics.
    pub const METRICS: &str = "/metrics";
}

/// The external base URL of this server as the client sees it: `PUBLIC_URL`
/// if set, else from `X-Forwarded-Proto`/`X-Forwarded-Host`/`Host`, else the issuer.
pub fn base_url(config: &Config, headers: &HeaderMap) -> String {
    if let Some(url) = &config.public_url {
        return url.clone();
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    match header("x-forwarded-host").or_else(|| header("host")) {
        Some(host) => {
            let proto = header("x-forwarded-proto").unwrap_or("http");
            format!("{proto}://{host}")
        }
        None => config.issuer.trim_end_matches('/').to_string(),
    }
}
