//! OpenID Connect Discovery 1.0 / RFC 8414 metadata of an issuer. It lists
//! only what is implemented and only the issuer's own endpoints; every URL
//! is built from the same path constants as the router.

use serde_json::{Value, json};

use super::pkce::PkceMethod;
use super::{Issuer, authorize, paths};
use crate::clients::GrantType;

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

impl Issuer {
    /// The discovery document for a client that reached the server at
    /// `base` (scheme and authority).
    pub fn discovery(&self, base: &str) -> Value {
        let url = |path: &str| format!("{base}{}{path}", self.mount());
        // The root keeps its historical paths; named issuers use navikt's.
        let (jwks, end_session) = if self.is_root() {
            (paths::JWKS_WELL_KNOWN, paths::LOGOUT)
        } else {
            (paths::JWKS, paths::ENDSESSION)
        };
        json!({
            "issuer": self.iss(base),
            "authorization_endpoint": url(paths::AUTHORIZE),
            "token_endpoint": url(paths::TOKEN),
            "userinfo_endpoint": url(paths::USERINFO),
            "jwks_uri": url(jwks),
            "introspection_endpoint": url(paths::INTROSPECT),
            "revocation_endpoint": url(paths::REVOKE),
            "end_session_endpoint": url(end_session),
            "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
            "response_types_supported": authorize::RESPONSE_TYPES,
            "response_modes_supported": authorize::RESPONSE_MODES,
            "code_challenge_methods_supported": PkceMethod::ALL.map(PkceMethod::as_str),
            "scopes_supported": authorize::SCOPES,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": self.algorithms().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
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
}

#[cfg(test)]
mod tests {
    use crate::claims::Users;
    use crate::clients::Clients;
    use crate::issuer::{Issuer, testing};

    #[test]
    fn each_issuer_names_only_its_own_endpoints() {
        let root = Issuer::new(
            testing::settings("", Some("https://issuer.local")),
            Users::new(),
            Clients::new(),
        );
        let doc = root.discovery("http://h:1");
        assert_eq!(doc["issuer"], "https://issuer.local");
        assert_eq!(doc["jwks_uri"], "http://h:1/.well-known/jwks.json");
        assert_eq!(doc["end_session_endpoint"], "http://h:1/logout");
        assert_eq!(doc["mock_idp"], true);
        let named = Issuer::new(testing::settings("a", None), Users::new(), Clients::new());
        let doc = named.discovery("http://h:1");
        assert_eq!(doc["issuer"], "http://h:1/a");
        assert_eq!(doc["token_endpoint"], "http://h:1/a/token");
        assert_eq!(doc["jwks_uri"], "http://h:1/a/jwks");
        assert_eq!(doc["end_session_endpoint"], "http://h:1/a/endsession");
        assert_eq!(doc["grant_types_supported"][0], "authorization_code");
        assert_eq!(doc["code_challenge_methods_supported"][0], "S256");
        for (k, v) in doc.as_object().unwrap() {
            if let Some(url) = v.as_str().filter(|u| u.starts_with("http://")) {
                assert!(
                    url.starts_with("http://h:1/a"),
                    "{k}: {url} is not under /a"
                );
            }
        }
    }
}
