//! Endpoint paths, typed once and used by both the router and the
//! discovery document. Issuer paths are relative to the issuer's mount
//! (`""` for the root issuer, `/{name}` for a named one); server paths
//! exist at the root only. Each profile's own paths are in
//! [`crate::profiles`] ([`crate::profiles::Shape::paths`]).

use crate::profiles::Profile;

/// Token endpoint (mint and OAuth grants).
pub const TOKEN: &str = "/token";
/// The list of token variants (`GET`).
pub const TOKEN_VARIANTS: &str = "/token/variants";
/// JWKS, standard location.
pub const JWKS_WELL_KNOWN: &str = "/.well-known/jwks.json";
/// JWKS, navikt/mock-oauth2-server location.
pub const JWKS: &str = "/jwks";
/// OpenID Connect Discovery 1.0.
pub const DISCOVERY: &str = "/.well-known/openid-configuration";
/// RFC 8414 authorization server metadata.
pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
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
/// OIDC RP-initiated logout (the root's `end_session_endpoint`).
pub const LOGOUT: &str = "/logout";
/// OIDC RP-initiated logout, navikt's name (named issuers' `end_session_endpoint`).
pub const ENDSESSION: &str = "/endsession";

/// Where Keycloak issuers are mounted: `/realms/{name}`.
pub const REALMS: &str = "/realms";

/// Every path each issuer serves under its mount.
pub const ISSUER_PATHS: &[&str] = &[
    TOKEN,
    TOKEN_VARIANTS,
    JWKS_WELL_KNOWN,
    JWKS,
    DISCOVERY,
    OAUTH_METADATA,
    AUTHORIZE,
    AUTHORIZE_LOGIN,
    USERINFO,
    INTROSPECT,
    REVOKE,
    LOGOUT,
    ENDSESSION,
];

/// Server endpoints, at the root only.
pub mod server {
    /// JWKS of the root issuer, Keycloak/Google-style alias.
    pub const CERTS: &str = "/certs";
    /// JWKS of the root issuer, Stoke-style alias; `?local=true` = this
    /// replica's own keys only.
    pub const PKEYS: &str = "/api/pkeys";
    /// Liveness/readiness (with peer states when federation is on).
    pub const HEALTH: &str = "/health";
    /// Federation status: settings, peers, own and served kids.
    pub const CLUSTER: &str = "/cluster";
    /// Every issuer's own public keys, for peers (federation).
    pub const CLUSTER_KEYS: &str = "/cluster/keys";
    /// Prometheus metrics.
    pub const METRICS: &str = "/metrics";
    /// The list of issuers.
    pub const ISSUERS: &str = "/issuers";

    /// Every server path.
    pub const ALL: &[&str] = &[
        CERTS,
        PKEYS,
        HEALTH,
        CLUSTER,
        CLUSTER_KEYS,
        METRICS,
        ISSUERS,
    ];
}

/// First path segments of endpoints that exist or are planned at the root
/// besides [`ISSUER_PATHS`] and [`server::ALL`] (provider layouts, test
/// controls, the lifecycle service), so no issuer name can shadow them.
pub const PLANNED_ROOT_SEGMENTS: &[&str] = &[
    "realms",
    "ext-authz",
    "_admin",
    "oauth",
    "oauth2",
    "discovery",
    "v2",
    "v2.0",
    "protocol",
    "tokens",
    "token-pairs",
    "renew",
    "users",
    "workbench",
    "assets",
    "favicon.ico",
    "robots.txt",
];

/// The first segment of `path` (`/a/b` -> `a`).
pub fn first_segment(path: &str) -> &str {
    path.trim_start_matches('/').split('/').next().unwrap_or("")
}

/// Whether `name` equals (ignoring ASCII case) the first segment of a root
/// endpoint, so an issuer of that name would shadow it.
pub fn is_reserved(name: &str) -> bool {
    let profile_paths = Profile::ALL
        .iter()
        .flat_map(|p| p.shape().paths())
        .map(|(_, path)| *path);
    ISSUER_PATHS
        .iter()
        .chain(server::ALL)
        .copied()
        .chain(profile_paths)
        .map(first_segment)
        .filter(|seg| !seg.is_empty())
        .chain(PLANNED_ROOT_SEGMENTS.iter().copied())
        .any(|seg| seg.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_come_from_the_paths() {
        for name in [
            "token",
            "Token",
            "authorize",
            "userinfo",
            "introspect",
            "revoke",
            "logout",
            "endsession",
            "jwks",
            "certs",
            "api",
            "health",
            "metrics",
            "cluster",
            "issuers",
            "realms",
            "ext-authz",
            "_admin",
            ".well-known",
            // First segments of profile paths (the root issuer may have any profile).
            "oauth",
            "oidc",
            "v2",
            "v1",
            "protocol",
            "oauth2",
            "discovery",
            "v2.0",
        ] {
            assert!(is_reserved(name), "{name} should be reserved");
        }
        for name in ["tenant-a", "google", "auth0", "us-east-1_Abc123", "default"] {
            assert!(!is_reserved(name), "{name} should be allowed");
        }
        assert_eq!(first_segment("/.well-known/jwks.json"), ".well-known");
    }
}
