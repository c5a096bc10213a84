//! # Provider profiles
//!
//! A [`Profile`] makes an issuer look like a well-known provider to a
//! backend and to that provider's own SDK: the claims of its access, ID and
//! `client_credentials` tokens, its endpoint paths, its discovery document
//! and its default `iss`. One module per provider, each a unit struct
//! implementing [`Shape`]; [`Profile::shape`] is the table that ties the
//! names to them. Adding a provider = one new file, one enum variant and
//! one row in that table.
//!
//! Nothing here knows about HTTP or keys: [`crate::claims::build`] resolves a
//! request and a persona into a [`TokenInput`] and asks the profile for the
//! claims; the issuer core (`crate::issuer`) asks for paths, the default
//! `iss` and discovery members; the HTTP layer registers the paths.
//!
//! The exact claims per provider and what each SDK checks are in
//! `docs/profiles-spec.md`; the user's view is `docs/profiles.md`.

pub mod auth0;
pub mod clerk;
pub mod cognito;
pub mod entra;
pub mod google;
pub mod ids;
pub mod jwt_auth_service;
pub mod keycloak;
pub mod plain;
pub mod x509;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::random::RandomError;

/// The closed set of profiles (`profile` of an issuer, `preset` of a request).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// Clerk session tokens v2 (the default).
    #[default]
    Clerk,
    /// OIDC-standard claim names, no provider specifics.
    Plain,
    /// Auth0 (tenant URL with a trailing slash, `/oauth/token`, RBAC `permissions`).
    Auth0,
    /// Keycloak (realm layout under `/realms/{name}`, `realm_access`, `resource_access`).
    Keycloak,
    /// Microsoft Entra ID / Azure AD v2 (tenant layout, `tid`, `oid`, `scp`).
    Entra,
    /// Google (ID tokens, `/oauth2/v3/certs`, X.509 certificates at `/oauth2/v1/certs`).
    Google,
    /// Amazon Cognito user pools (`token_use`, `cognito:groups`).
    Cognito,
    /// klazomenai/jwt-auth-service's claims (`user_id`, `network`, `rate_limit`).
    JwtAuthService,
}

impl Profile {
    /// Every profile, in the order listings and metrics use.
    pub const ALL: [Profile; 8] = [
        Profile::Clerk,
        Profile::Plain,
        Profile::Auth0,
        Profile::Keycloak,
        Profile::Entra,
        Profile::Google,
        Profile::Cognito,
        Profile::JwtAuthService,
    ];

    /// The name used in config, requests and metrics.
    pub fn as_str(self) -> &'static str {
        self.shape().name()
    }

    /// Position in [`Profile::ALL`] (for arrays indexed by profile).
    pub fn index(self) -> usize {
        self as usize
    }

    /// `"a, b, c"` of every name, for messages.
    pub fn list() -> String {
        Profile::ALL.map(Profile::as_str).join(", ")
    }

    /// The table: each profile's [`Shape`].
    pub fn shape(self) -> &'static dyn Shape {
        match self {
            Profile::Clerk => &clerk::Clerk,
            Profile::Plain => &plain::Plain,
            Profile::Auth0 => &auth0::Auth0,
            Profile::Keycloak => &keycloak::Keycloak,
            Profile::Entra => &entra::Entra,
            Profile::Google => &google::Google,
            Profile::Cognito => &cognito::Cognito,
            Profile::JwtAuthService => &jwt_auth_service::JwtAuthService,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`Profile::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {0:?}; the profiles are: {list}", list = Profile::list())]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownProfile(s.to_string()))
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// What a token is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TokenKind {
    /// A user's access token (JSON mint, password, code and refresh grants).
    #[default]
    Access,
    /// A user's OpenID Connect ID token.
    Id,
    /// A `client_credentials` token: the subject is the client itself.
    Client,
}

/// Who a token is about, resolved from the request over the persona (or
/// the registered client, for `client_credentials`): the mapping fields
/// every profile puts into its own claims.
#[derive(Clone, Copy, Debug, Default)]
pub struct Subject<'a> {
    /// `sub`.
    pub sub: &'a str,
    /// Login name (Keycloak `preferred_username`, Cognito `username`, ...);
    /// defaults to the persona's name.
    pub username: Option<&'a str>,
    /// E-mail address.
    pub email: Option<&'a str>,
    /// Full name.
    pub name: Option<&'a str>,
    /// Given name.
    pub given_name: Option<&'a str>,
    /// Family name.
    pub family_name: Option<&'a str>,
    /// Roles (realm roles, app roles, ...).
    pub roles: &'a [String],
    /// Groups.
    pub groups: &'a [String],
    /// Permissions (Auth0 RBAC, custom scopes, ...).
    pub permissions: &'a [String],
    /// Organization permissions, Clerk keys `org:<feature>:<permission>`
    /// (the `org:` prefix is optional).
    pub org_permissions: &'a [String],
    /// Client roles: client id -> roles (Keycloak `resource_access`).
    pub client_roles: Option<&'a BTreeMap<String, Vec<String>>>,
    /// Active organization id.
    pub org_id: Option<&'a str>,
    /// Role in the active organization (`org:` prefix optional).
    pub org_role: Option<&'a str>,
    /// Slug (or name) of the active organization.
    pub org_slug: Option<&'a str>,
}

/// The OAuth client a token is issued to (grants only).
#[derive(Clone, Copy, Debug)]
pub struct ClientRef<'a> {
    /// `client_id`.
    pub id: &'a str,
    /// Whether it authenticated with a secret (Entra `azpacr`).
    pub confidential: bool,
}

/// Everything a profile needs to shape one token.
#[derive(Clone, Copy, Debug)]
pub struct TokenInput<'a> {
    /// Access, ID or client token.
    pub kind: TokenKind,
    /// Who the token is about.
    pub subject: Subject<'a>,
    /// `iss`.
    pub iss: &'a str,
    /// `aud` as resolved from request > persona > client > issuer (a JSON
    /// string or array), before any profile default.
    pub aud: Option<&'a Value>,
    /// `azp` from the request or the persona.
    pub azp: Option<&'a str>,
    /// The OAuth client of a grant.
    pub client: Option<ClientRef<'a>>,
    /// Granted (or requested) scope.
    pub scope: Option<&'a str>,
    /// `iat`.
    pub iat: i64,
    /// `exp`.
    pub exp: i64,
    /// An id shared by the tokens of one grant (Keycloak `sid`, Cognito
    /// `origin_jti`); `None` = each token draws its own.
    pub session: Option<&'a str>,
    /// The request's `Origin` header (Clerk `azp` fallback).
    pub origin: Option<&'a str>,
    /// The issuer's `authorized_party` (Clerk `azp` fallback).
    pub authorized_party: Option<&'a str>,
    /// The issuer's profile settings.
    pub settings: &'a ProfileSettings,
}

impl TokenInput<'_> {
    /// Whether the scope contains `wanted`.
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scope
            .is_some_and(|s| s.split_whitespace().any(|x| x == wanted))
    }

    /// The client id of a grant.
    pub fn client_id(&self) -> Option<&str> {
        self.client.map(|c| c.id)
    }
}

/// Claims a profile produced, and JOSE header members beyond `alg`/`typ`/`kid`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shaped {
    /// The claims (persona and request `claims` are merged on top later).
    pub claims: Map<String, Value>,
    /// Extra JOSE header members (Clerk M2M: `cat`).
    pub header: &'static [(&'static str, &'static str)],
}

impl From<Map<String, Value>> for Shaped {
    fn from(claims: Map<String, Value>) -> Self {
        Shaped {
            claims,
            header: &[],
        }
    }
}

/// An endpoint a profile may serve at its own path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Token endpoint (JSON mint and OAuth grants).
    Token,
    /// JWKS.
    Jwks,
    /// The JWKS at another path that discovery does not list (Clerk's
    /// Backend API `/v1/jwks`).
    JwksAlias,
    /// OpenID Connect discovery.
    Discovery,
    /// Authorization endpoint.
    Authorize,
    /// UserInfo endpoint.
    Userinfo,
    /// RFC 7662 introspection.
    Introspect,
    /// RFC 7009 revocation.
    Revoke,
    /// RP-initiated logout (GET redirect; POST with a refresh token: 204).
    Logout,
    /// Google's `kid -> X.509 PEM` map.
    X509Certs,
    /// Keycloak's realm document (`GET /realms/{name}`).
    RealmInfo,
}

/// How an issuer's `iss` is formed when no `issuer` is configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefaultIss {
    /// `<base URL><mount>`, plus a trailing slash when `trailing_slash`.
    Mount {
        /// Auth0's tenant URLs end with `/`.
        trailing_slash: bool,
    },
    /// A fixed string, whatever URL the client used.
    Fixed(String),
}

/// An issuer's profile settings as configured (all optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileOptions {
    /// Auth0: prefix of the namespaced `roles`/`groups` claims.
    pub claims_namespace: Option<String>,
    /// Entra: the tenant id.
    pub tenant_id: Option<String>,
    /// Cognito: the AWS region of the user pool.
    pub region: Option<String>,
}

/// Default Auth0 claims namespace (decision 3 of `docs/profiles-spec.md`).
pub const DEFAULT_CLAIMS_NAMESPACE: &str = "https://mock-idp.local/";

/// Cognito region when the issuer name does not start with one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// An issuer's profile settings, resolved once when the issuer is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileSettings {
    /// The issuer's name (`""` for the root).
    pub name: String,
    /// Auth0 claims namespace ([`DEFAULT_CLAIMS_NAMESPACE`]).
    pub claims_namespace: String,
    /// Entra tenant id: configured, else the name when it is a GUID, else a
    /// UUID v5 of the name.
    pub tenant_id: String,
    /// Cognito region: configured, else the name's prefix before `_` when
    /// it looks like a region (`us-east-1_Abc123`), else [`DEFAULT_REGION`].
    pub region: String,
}

impl ProfileSettings {
    /// Resolves `options` for the issuer named `name`.
    pub fn resolve(name: &str, options: &ProfileOptions) -> Self {
        let tenant_id = options.tenant_id.clone().unwrap_or_else(|| {
            if ids::is_guid(name) {
                name.to_ascii_lowercase()
            } else {
                ids::uuid_v5(name)
            }
        });
        let region = options
            .region
            .clone()
            .or_else(|| cognito::region_of(name).map(str::to_string))
            .unwrap_or_else(|| DEFAULT_REGION.to_string());
        ProfileSettings {
            name: name.to_string(),
            claims_namespace: options
                .claims_namespace
                .clone()
                .unwrap_or_else(|| DEFAULT_CLAIMS_NAMESPACE.to_string()),
            tenant_id,
            region,
        }
    }
}

impl Default for ProfileSettings {
    fn default() -> Self {
        ProfileSettings::resolve("", &ProfileOptions::default())
    }
}

/// One provider's token shapes, paths and discovery. Default methods give
/// the generic behaviour; a provider overrides what it does differently.
pub trait Shape: Sync {
    /// The profile's name (config, `preset`, metrics).
    fn name(&self) -> &'static str;

    /// The claims of a token described by `t`.
    fn claims(&self, t: &TokenInput<'_>) -> Result<Shaped, RandomError>;

    /// The provider's own paths, relative to the issuer's mount, for
    /// endpoints it serves besides the generic paths. Where an endpoint has
    /// several, discovery lists the first.
    fn paths(&self) -> &'static [(Endpoint, &'static str)] {
        &[]
    }

    /// Whether issuers of this profile are mounted at `/realms/{name}`
    /// (instead of `/{name}`).
    fn realm_mounted(&self) -> bool {
        false
    }

    /// The default `iss` of a named issuer.
    fn default_iss(&self, _settings: &ProfileSettings) -> DefaultIss {
        DefaultIss::Mount {
            trailing_slash: false,
        }
    }

    /// Adds or replaces provider-specific members of the discovery document
    /// (URLs are already the profile's).
    fn discovery(&self, _doc: &mut Map<String, Value>, _settings: &ProfileSettings) {}

    /// The claims `userinfo` adds for a known persona (OIDC profile claims
    /// under the provider's names).
    fn userinfo(&self, s: &Subject<'_>) -> Map<String, Value> {
        oidc_profile(s, Some("preferred_username"))
    }
}

impl dyn Shape {
    /// The first path of `endpoint`, if the profile has its own.
    pub fn path_of(&self, endpoint: Endpoint) -> Option<&'static str> {
        self.paths()
            .iter()
            .find(|(e, _)| *e == endpoint)
            .map(|(_, p)| *p)
    }
}

/// The registered claims every profile starts from: `iss`, `sub`, `iat`,
/// `exp`, and `aud` when known.
pub fn registered(t: &TokenInput<'_>) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("iss".into(), json!(t.iss));
    c.insert("sub".into(), json!(t.subject.sub));
    if let Some(aud) = t.aud {
        c.insert("aud".into(), aud.clone());
    }
    c.insert("iat".into(), json!(t.iat));
    c.insert("exp".into(), json!(t.exp));
    c
}

/// Inserts `value` under `name` when it is `Some`.
pub fn put_str(c: &mut Map<String, Value>, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        c.insert(name.into(), json!(v));
    }
}

/// Inserts the list under `name` when it is not empty.
pub fn put_list(c: &mut Map<String, Value>, name: &str, values: &[String]) {
    if !values.is_empty() {
        c.insert(name.into(), json!(values));
    }
}

/// The OIDC standard profile claims of `s`: `email`, `email_verified`
/// (true when an email is known), `name`, `given_name`, `family_name`, and
/// the username under `username_claim`.
pub fn oidc_profile(s: &Subject<'_>, username_claim: Option<&str>) -> Map<String, Value> {
    let mut c = Map::new();
    if let Some(email) = s.email {
        c.insert("email".into(), json!(email));
        c.insert("email_verified".into(), json!(true));
    }
    put_str(&mut c, "name", s.name);
    put_str(&mut c, "given_name", s.given_name);
    put_str(&mut c, "family_name", s.family_name);
    if let Some(claim) = username_claim {
        put_str(&mut c, claim, s.username);
    }
    c
}

/// The ID token claims every profile shares: registered claims with `aud`
/// = the client of the grant.
pub fn id_token_base(t: &TokenInput<'_>) -> Map<String, Value> {
    let mut c = registered(t);
    if let Some(client) = t.client_id() {
        c.insert("aud".into(), json!(client));
    }
    c
}

/// `aud` as a list of strings (a string is a list of one).
pub fn aud_list(aud: Option<&Value>) -> Vec<String> {
    match aud {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(all)) => all
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Scopes that only concern OpenID Connect, not an API.
pub const OIDC_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "offline_access",
    "phone",
    "address",
];

#[cfg(test)]
pub(crate) mod testing {
    //! Inputs for the profile unit tests: alice, a full persona.
    use super::*;
    use std::sync::LazyLock;

    pub static ROLES: LazyLock<Vec<String>> =
        LazyLock::new(|| vec!["admin".into(), "editor".into()]);
    pub static GROUPS: LazyLock<Vec<String>> =
        LazyLock::new(|| vec!["staff".into(), "engineering".into()]);
    pub static PERMISSIONS: LazyLock<Vec<String>> =
        LazyLock::new(|| vec!["read:reports".into(), "write:reports".into()]);
    pub static ORG_PERMISSIONS: LazyLock<Vec<String>> = LazyLock::new(|| {
        vec![
            "org:dashboard:read".into(),
            "org:dashboard:manage".into(),
            "org:teams:read".into(),
        ]
    });
    pub static CLIENT_ROLES: LazyLock<BTreeMap<String, Vec<String>>> = LazyLock::new(|| {
        BTreeMap::from([
            ("web-app".to_string(), vec!["owner".to_string()]),
            (
                "billing-api".to_string(),
                vec!["invoice-reader".to_string()],
            ),
        ])
    });
    pub static SETTINGS: LazyLock<ProfileSettings> =
        LazyLock::new(|| ProfileSettings::resolve("t", &ProfileOptions::default()));

    /// alice with every mapping field.
    pub fn alice() -> Subject<'static> {
        Subject {
            sub: "user_alice",
            username: Some("alice"),
            email: Some("alice@acme.example"),
            name: Some("Alice Liddell"),
            given_name: Some("Alice"),
            family_name: Some("Liddell"),
            roles: &ROLES,
            groups: &GROUPS,
            permissions: &PERMISSIONS,
            org_permissions: &ORG_PERMISSIONS,
            client_roles: Some(&CLIENT_ROLES),
            org_id: Some("org_acme"),
            org_role: Some("admin"),
            org_slug: Some("acme"),
        }
    }

    /// A token input of `kind` for alice at t = 1000, ttl 900.
    pub fn input(kind: TokenKind) -> TokenInput<'static> {
        TokenInput {
            kind,
            subject: alice(),
            iss: "http://h/t",
            aud: None,
            azp: None,
            client: None,
            scope: None,
            iat: 1000,
            exp: 1900,
            session: None,
            origin: None,
            authorized_party: None,
            settings: &SETTINGS,
        }
    }

    /// The claims `profile` gives `t`.
    pub fn claims(profile: Profile, t: &TokenInput<'_>) -> Map<String, Value> {
        profile.shape().claims(t).unwrap().claims
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn names_parse_and_list() {
        for p in Profile::ALL {
            assert_eq!(p.as_str().parse::<Profile>(), Ok(p));
            assert_eq!(Profile::ALL[p.index()], p);
            assert_eq!(serde_json::to_value(p).unwrap(), json!(p.as_str()));
        }
        assert_eq!(Profile::default(), Profile::Clerk);
        assert_eq!(
            Profile::list(),
            "clerk, plain, auth0, keycloak, entra, google, cognito, jwt-auth-service"
        );
        let e = "okta".parse::<Profile>().unwrap_err().to_string();
        assert!(
            e.starts_with("unknown profile \"okta\"; the profiles are: clerk"),
            "{e}"
        );
        let e = serde_json::from_value::<Profile>(json!("Auth0")).unwrap_err();
        assert!(e.to_string().contains("unknown profile"), "{e}");
    }

    #[test]
    fn a_path_shared_by_profiles_is_the_same_endpoint() {
        // The router registers each distinct path once for every profile
        // that has it; two profiles may share a path only for one endpoint.
        let mut seen: HashMap<(&str, bool), Endpoint> = HashMap::new();
        for p in Profile::ALL {
            let shape = p.shape();
            for (endpoint, path) in shape.paths() {
                assert!(
                    path.is_empty() || path.starts_with('/'),
                    "{p}: {path} must start with /"
                );
                assert!(!path.ends_with('/'), "{p}: {path} must not end with /");
                let prior = seen.insert((path, shape.realm_mounted()), *endpoint);
                assert!(
                    prior.is_none_or(|e| e == *endpoint),
                    "{p}: {path} is another profile's {prior:?}"
                );
            }
        }
    }

    #[test]
    fn settings_defaults() {
        let s = ProfileSettings::resolve("us-west-2_Xyz", &ProfileOptions::default());
        assert_eq!(s.region, "us-west-2");
        assert_eq!(s.claims_namespace, DEFAULT_CLAIMS_NAMESPACE);
        assert!(ids::is_guid(&s.tenant_id));
        let guid = "8EAEF023-2B34-4DA1-9BAA-8BC8C9D6A490";
        let s = ProfileSettings::resolve(guid, &ProfileOptions::default());
        assert_eq!(s.tenant_id, guid.to_ascii_lowercase());
        assert_eq!(s.region, DEFAULT_REGION);
        let s = ProfileSettings::resolve(
            "x",
            &ProfileOptions {
                claims_namespace: Some("https://acme/".into()),
                tenant_id: Some("t1".into()),
                region: Some("eu-west-1".into()),
            },
        );
        assert_eq!(
            (
                s.claims_namespace.as_str(),
                s.tenant_id.as_str(),
                s.region.as_str()
            ),
            ("https://acme/", "t1", "eu-west-1")
        );
    }

    #[test]
    fn oidc_profile_claims() {
        let c = oidc_profile(&testing::alice(), Some("nickname"));
        assert_eq!(c["email_verified"], true);
        assert_eq!(c["nickname"], "alice");
        assert_eq!(c["family_name"], "Liddell");
        let none = oidc_profile(&Subject::default(), None);
        assert!(none.is_empty(), "{none:?}");
        assert_eq!(aud_list(Some(&json!(["a", "b"]))), ["a", "b"]);
        assert_eq!(aud_list(Some(&json!("a"))), ["a"]);
    }
}
