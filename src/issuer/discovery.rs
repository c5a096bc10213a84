//! OpenID Connect Discovery 1.0 / RFC 8414 metadata of an issuer. It lists
//! only what is implemented and only the issuer's own endpoints, at its
//! profile's paths where the provider has its own; every URL is built from
//! the same path constants as the router.

use serde_json::{Value, json};

use super::pkce::PkceMethod;
use super::{Issuer, authorize, paths};
use crate::clients::GrantType;
use crate::profiles::Endpoint;

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
    "given_name",
    "family_name",
    "preferred_username",
    "email",
    "email_verified",
    "roles",
    "groups",
    "permissions",
];

impl Issuer {
    /// The path (under the mount) the discovery document names for
    /// `endpoint`: the profile's own, else the generic one.
    pub fn endpoint_path(&self, endpoint: Endpoint) -> &'static str {
        if let Some(own) = self.profile().shape().path_of(endpoint) {
            return own;
        }
        match endpoint {
            Endpoint::Token => paths::TOKEN,
            Endpoint::Jwks | Endpoint::JwksAlias | Endpoint::X509Certs => paths::JWKS_WELL_KNOWN,
            Endpoint::Discovery | Endpoint::RealmInfo => paths::DISCOVERY,
            Endpoint::Authorize => paths::AUTHORIZE,
            Endpoint::Userinfo => paths::USERINFO,
            Endpoint::Introspect => paths::INTROSPECT,
            Endpoint::Revoke => paths::REVOKE,
            // The root keeps its historical path; named issuers use navikt's.
            Endpoint::Logout if self.is_root() => paths::LOGOUT,
            Endpoint::Logout => paths::ENDSESSION,
        }
    }

    /// The discovery document for a client that reached the server at
    /// `base` (scheme and authority): the profile's paths where it has
    /// its own, and its provider-specific members.
    pub fn discovery(&self, base: &str) -> Value {
        let url =
            |endpoint: Endpoint| format!("{base}{}{}", self.mount(), self.endpoint_path(endpoint));
        let mut doc = json!({
            "issuer": self.iss(base),
            "authorization_endpoint": url(Endpoint::Authorize),
            "token_endpoint": url(Endpoint::Token),
            "userinfo_endpoint": url(Endpoint::Userinfo),
            "jwks_uri": url(Endpoint::Jwks),
            "introspection_endpoint": url(Endpoint::Introspect),
            "revocation_endpoint": url(Endpoint::Revoke),
            "end_session_endpoint": url(Endpoint::Logout),
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
        });
        if let Value::Object(map) = &mut doc {
            self.profile()
                .shape()
                .discovery(map, self.profile_settings());
            map.insert("mock_idp".into(), Value::Bool(true));
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use crate::claims::Users;
    use crate::clients::Clients;
    use crate::issuer::{Issuer, testing};
    use crate::profiles::{Profile, ProfileOptions};

    fn named(name: &str, profile: Profile) -> Issuer {
        let mut settings = testing::settings(name, None);
        settings.profile = profile;
        Issuer::new(settings, Users::new(), Clients::new())
    }

    #[test]
    fn each_profile_lists_its_own_paths() {
        let b = "http://h:1";
        let cases = [
            (
                Profile::Auth0,
                "a0",
                "http://h:1/a0/",
                [
                    ("token_endpoint", "http://h:1/a0/oauth/token"),
                    ("revocation_endpoint", "http://h:1/a0/oauth/revoke"),
                    ("end_session_endpoint", "http://h:1/a0/oidc/logout"),
                    ("jwks_uri", "http://h:1/a0/.well-known/jwks.json"),
                ],
            ),
            (
                Profile::Keycloak,
                "kc",
                "http://h:1/realms/kc",
                [
                    (
                        "token_endpoint",
                        "http://h:1/realms/kc/protocol/openid-connect/token",
                    ),
                    (
                        "authorization_endpoint",
                        "http://h:1/realms/kc/protocol/openid-connect/auth",
                    ),
                    (
                        "jwks_uri",
                        "http://h:1/realms/kc/protocol/openid-connect/certs",
                    ),
                    (
                        "introspection_endpoint",
                        "http://h:1/realms/kc/protocol/openid-connect/token/introspect",
                    ),
                ],
            ),
            (
                Profile::Google,
                "g",
                "https://accounts.google.com",
                [
                    ("jwks_uri", "http://h:1/g/oauth2/v3/certs"),
                    ("token_endpoint", "http://h:1/g/token"),
                    ("authorization_endpoint", "http://h:1/g/authorize"),
                    ("userinfo_endpoint", "http://h:1/g/userinfo"),
                ],
            ),
            (
                Profile::Cognito,
                "us-east-1_P1",
                "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_P1",
                [
                    ("token_endpoint", "http://h:1/us-east-1_P1/oauth2/token"),
                    (
                        "authorization_endpoint",
                        "http://h:1/us-east-1_P1/oauth2/authorize",
                    ),
                    (
                        "userinfo_endpoint",
                        "http://h:1/us-east-1_P1/oauth2/userInfo",
                    ),
                    ("jwks_uri", "http://h:1/us-east-1_P1/.well-known/jwks.json"),
                ],
            ),
            (
                Profile::Clerk,
                "c",
                "http://h:1/c",
                [
                    ("jwks_uri", "http://h:1/c/.well-known/jwks.json"),
                    ("token_endpoint", "http://h:1/c/token"),
                    ("end_session_endpoint", "http://h:1/c/endsession"),
                    ("userinfo_endpoint", "http://h:1/c/userinfo"),
                ],
            ),
        ];
        for (profile, name, iss, urls) in cases {
            let doc = named(name, profile).discovery(b);
            assert_eq!(doc["issuer"], iss, "{profile}");
            assert_eq!(doc["mock_idp"], true, "{profile}");
            for (member, url) in urls {
                assert_eq!(doc[member], url, "{profile} {member}");
            }
        }
    }

    #[test]
    fn entra_tenant_discovery() {
        let mut settings = testing::settings("entra", None);
        settings.profile = Profile::Entra;
        settings.profile_options = ProfileOptions {
            tenant_id: Some("8eaef023-2b34-4da1-9baa-8bc8c9d6a490".into()),
            ..Default::default()
        };
        let doc = Issuer::new(settings, Users::new(), Clients::new()).discovery("http://h:1");
        assert_eq!(
            doc["issuer"],
            "https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0"
        );
        assert_eq!(doc["jwks_uri"], "http://h:1/entra/discovery/v2.0/keys");
        assert_eq!(doc["token_endpoint"], "http://h:1/entra/oauth2/v2.0/token");
        assert_eq!(
            doc["subject_types_supported"],
            serde_json::json!(["pairwise"])
        );
    }

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
        assert_eq!(doc["jwks_uri"], "http://h:1/a/.well-known/jwks.json");
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
