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

/// External authorization for gateways (every issuer, any method); any
/// path below it too ([`EXT_AUTHZ_ANY`]).
pub const EXT_AUTHZ: &str = "/ext-authz";
/// [`EXT_AUTHZ`] with the path Envoy appends.
pub const EXT_AUTHZ_ANY: &str = "/ext-authz/{*rest}";
/// [`EXT_AUTHZ`] with Envoy's path `/` appended (a catch-all needs one
/// character more).
pub const EXT_AUTHZ_SLASH: &str = "/ext-authz/";

/// The token lifecycle service (profile `jwt-auth-service`), relative to
/// the issuer's mount like the original's paths are to its root.
pub mod lifecycle {
    /// `POST`: one token.
    pub const TOKENS: &str = "/tokens";
    /// `POST`: a parent and maybe a child.
    pub const TOKEN_PAIRS: &str = "/token-pairs";
    /// `POST`: a child from a parent token.
    pub const RENEW: &str = "/renew";
    /// `GET ?parent_jti=`: the latest auto-renewed child.
    pub const LATEST: &str = "/tokens/latest";
    /// `GET ?parent_jti=`: the same as Server-Sent Events.
    pub const STREAM: &str = "/tokens/stream";
    /// `DELETE`: revoke a token.
    pub const TOKEN: &str = "/tokens/{jti}";
    /// `DELETE`: revoke a user's tokens.
    pub const USER_TOKENS: &str = "/users/{user_id}/tokens";
    /// `GET`: the service's health document (named issuers only: the
    /// root's `/health` is the server's).
    pub const HEALTH: &str = "/health";
    /// `GET`: the same.
    pub const HEALTHZ: &str = "/healthz";
}

/// Where Keycloak issuers are mounted: `/realms/{name}`.
pub const REALMS: &str = "/realms";

/// Test controls (`<mount>/_admin/...`): personas, clients, clock, faults,
/// the request ledger, reset and keys. Requests to them are never faulted nor
/// recorded in the ledger.
pub mod admin {
    /// Prefix of every test-control path.
    pub const PREFIX: &str = "/_admin";
    /// `GET`: every persona (the users file's shape).
    pub const USERS: &str = "/_admin/users";
    /// `GET|PUT|DELETE`: one persona.
    pub const USER: &str = "/_admin/users/{name}";
    /// `GET`: every registered client.
    pub const CLIENTS: &str = "/_admin/clients";
    /// `GET|PUT|DELETE`: one client.
    pub const CLIENT: &str = "/_admin/clients/{client_id}";
    /// `GET|PUT|DELETE`: the issuer's clock.
    pub const CLOCK: &str = "/_admin/clock";
    /// `GET|PUT|DELETE`: injected faults.
    pub const FAULTS: &str = "/_admin/faults";
    /// `DELETE`: the fault of one endpoint.
    pub const FAULT: &str = "/_admin/faults/{endpoint}";
    /// `GET|DELETE`: the request ledger.
    pub const REQUESTS: &str = "/_admin/requests";
    /// `POST`: back to the startup state.
    pub const RESET: &str = "/_admin/reset";
    /// `GET`: the issuer's own keys and their state.
    pub const KEYS: &str = "/_admin/keys";
    /// `POST`: the key rotation drill.
    pub const KEYS_ROTATE: &str = "/_admin/keys/rotate";
    /// `DELETE`: unpublish a key.
    pub const KEY: &str = "/_admin/keys/{kid}";

    /// Whether a path relative to an issuer's mount is a test control.
    pub fn is_admin(relative: &str) -> bool {
        relative == PREFIX
            || relative
                .strip_prefix(PREFIX)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// The endpoints a fault can target (`PUT /_admin/faults` `endpoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// Every JWKS path of the issuer.
    Jwks,
    /// `POST /token` (mint and grants).
    Token,
    /// OIDC discovery and RFC 8414 metadata.
    Discovery,
    /// OIDC UserInfo.
    Userinfo,
    /// RFC 7662 introspection.
    Introspect,
    /// The authorization endpoint and its login page submit.
    Authorize,
}

impl Endpoint {
    /// Every endpoint kind, in listing order.
    pub const ALL: [Endpoint; 6] = [
        Endpoint::Jwks,
        Endpoint::Token,
        Endpoint::Discovery,
        Endpoint::Userinfo,
        Endpoint::Introspect,
        Endpoint::Authorize,
    ];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Jwks => "jwks",
            Endpoint::Token => "token",
            Endpoint::Discovery => "discovery",
            Endpoint::Userinfo => "userinfo",
            Endpoint::Introspect => "introspect",
            Endpoint::Authorize => "authorize",
        }
    }

    /// `"a, b, c"` of every name, for messages.
    pub fn list() -> String {
        Endpoint::ALL.map(Endpoint::as_str).join(", ")
    }

    /// The endpoint named `name`, if any.
    pub fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// Which [`Endpoint`] each path is (relative to the issuer's mount; the
/// root's JWKS aliases included), so a fault on `jwks` covers every JWKS path.
pub const ENDPOINT_PATHS: &[(&str, Endpoint)] = &[
    (TOKEN, Endpoint::Token),
    (JWKS_WELL_KNOWN, Endpoint::Jwks),
    (JWKS, Endpoint::Jwks),
    (server::CERTS, Endpoint::Jwks),
    (server::PKEYS, Endpoint::Jwks),
    (DISCOVERY, Endpoint::Discovery),
    (OAUTH_METADATA, Endpoint::Discovery),
    (USERINFO, Endpoint::Userinfo),
    (INTROSPECT, Endpoint::Introspect),
    (AUTHORIZE, Endpoint::Authorize),
    (AUTHORIZE_LOGIN, Endpoint::Authorize),
];

impl Endpoint {
    /// The fault target of a profile's own endpoint (every JWKS-like path,
    /// Google's X.509 map included, is `jwks`); `None` for those faults do
    /// not target.
    pub fn of_profile(kind: crate::profiles::Endpoint) -> Option<Endpoint> {
        use crate::profiles::Endpoint as P;
        match kind {
            P::Token => Some(Endpoint::Token),
            P::Jwks | P::JwksAlias | P::X509Certs => Some(Endpoint::Jwks),
            P::Discovery => Some(Endpoint::Discovery),
            P::Authorize => Some(Endpoint::Authorize),
            P::Userinfo => Some(Endpoint::Userinfo),
            P::Introspect => Some(Endpoint::Introspect),
            P::Revoke | P::Logout | P::RealmInfo => None,
        }
    }
}

/// The endpoint kind of `relative` (a route path relative to the mount):
/// the generic paths of [`ENDPOINT_PATHS`], then every profile's own paths
/// ([`crate::profiles::Shape::paths`]).
pub fn endpoint_of(relative: &str) -> Option<Endpoint> {
    if let Some((_, endpoint)) = ENDPOINT_PATHS.iter().find(|(path, _)| *path == relative) {
        return Some(*endpoint);
    }
    Profile::ALL
        .iter()
        .flat_map(|p| p.shape().paths())
        .find(|(_, path)| *path == relative)
        .and_then(|(kind, _)| Endpoint::of_profile(*kind))
}

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

    #[test]
    fn endpoints_and_admin_paths() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::from_name(e.as_str()), Some(e));
            assert!(
                ENDPOINT_PATHS.iter().any(|(_, k)| *k == e),
                "{e:?} has no path"
            );
        }
        assert_eq!(Endpoint::from_name("revoke"), None);
        for jwks in [JWKS, JWKS_WELL_KNOWN, server::CERTS, server::PKEYS] {
            assert_eq!(endpoint_of(jwks), Some(Endpoint::Jwks), "{jwks}");
        }
        assert_eq!(endpoint_of(REVOKE), None);
        // Profiles' own paths: Keycloak's certs, Google's two key sets, Entra's token.
        for (path, kind) in [
            ("/protocol/openid-connect/certs", Endpoint::Jwks),
            ("/oauth2/v3/certs", Endpoint::Jwks),
            ("/oauth2/v1/certs", Endpoint::Jwks),
            ("/oauth2/v2.0/token", Endpoint::Token),
            ("/protocol/openid-connect/userinfo", Endpoint::Userinfo),
        ] {
            assert_eq!(endpoint_of(path), Some(kind), "{path}");
        }
        assert_eq!(endpoint_of(""), None, "Keycloak's realm document");
        assert!(admin::is_admin(admin::USERS) && admin::is_admin("/_admin"));
        assert!(!admin::is_admin("/_administrator") && !admin::is_admin(TOKEN));
        assert!(is_reserved(first_segment(admin::PREFIX)));
    }
}
