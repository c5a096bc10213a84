//! OAuth clients as registered in the config file (`clients:`, RFC 7591
//! field names) and the closed set of grant types. A leaf module: the
//! config reads these, the issuer core uses them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::claims::Audience;

/// The grants of `POST /token` (RFC 6749 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    /// `authorization_code` (RFC 6749 §4.1).
    AuthorizationCode,
    /// `refresh_token` (RFC 6749 §6).
    RefreshToken,
    /// `client_credentials` (RFC 6749 §4.4).
    ClientCredentials,
    /// `password` (RFC 6749 §4.3).
    Password,
}

impl GrantType {
    /// Every grant, in the order discovery lists them.
    pub const ALL: [GrantType; 4] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::Password,
    ];

    /// The `grant_type` value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::Password => "password",
        }
    }

    /// `"a, b, c"` of every grant, for messages.
    pub fn list() -> String {
        GrantType::ALL.map(GrantType::as_str).join(", ")
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `grant_type` that is not one of [`GrantType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("grant_type {0:?} is not supported; supported: {list}", list = GrantType::list())]
pub struct UnknownGrantType(pub String);

impl FromStr for GrantType {
    type Err = UnknownGrantType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GrantType::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| UnknownGrantType(s.to_string()))
    }
}

impl<'de> Deserialize<'de> for GrantType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for GrantType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A registered OAuth client (RFC 7591 field names), from the config file.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Client identifier.
    pub client_id: String,
    /// Secret; none = public client (PKCE required).
    pub client_secret: Option<String>,
    /// Allowed redirect URIs (exact match).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Allowed grant types; empty = all.
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    /// Where `GET /logout` may send the browser (besides `redirect_uris`).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Display name on the login page.
    pub client_name: Option<String>,
    /// Default scope granted when none is asked.
    pub scope: Option<String>,
    /// Default `aud` of this client's tokens.
    pub audience: Option<Audience>,
    /// Claims added to this client's tokens.
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// E-mail of the client's own (`client_credentials`) tokens, e.g. a
    /// Google service account's; each profile maps it like a persona's.
    pub email: Option<String>,
    /// Display name in the client's own tokens.
    pub name: Option<String>,
    /// Login name in the client's own tokens.
    pub username: Option<String>,
    /// Roles of the client's own tokens (Keycloak service-account realm
    /// roles, Entra app roles, ...).
    pub roles: Option<Vec<String>>,
    /// Groups of the client's own tokens.
    pub groups: Option<Vec<String>>,
    /// Permissions of the client's own tokens.
    pub permissions: Option<Vec<String>>,
    /// Client roles of the client's own tokens: client id -> roles
    /// (Keycloak `resource_access`).
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<hidden>"),
            )
            .field("redirect_uris", &self.redirect_uris)
            .field("grant_types", &self.grant_types)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// Whether this client may use `grant` (none listed = all).
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.is_empty() || self.grant_types.contains(&grant)
    }

    /// Whether this is a public client (no secret: PKCE instead).
    pub fn is_public(&self) -> bool {
        self.client_secret.is_none()
    }
}

/// Registered clients by `client_id`; empty = open mode (any client accepted).
pub type Clients = BTreeMap<String, Arc<ClientConfig>>;

/// Builds the client map, refusing empty or duplicate ids; `place` names
/// where the list came from in the error (e.g. "config file: clients").
pub fn to_map(list: Vec<ClientConfig>, place: &str) -> Result<Clients, String> {
    let mut map = Clients::new();
    for (i, c) in list.into_iter().enumerate() {
        if c.client_id.trim().is_empty() {
            return Err(format!("{place}[{i}].client_id is empty"));
        }
        if map.contains_key(&c.client_id) {
            return Err(format!(
                "{place}[{i}].client_id {:?} is listed twice",
                c.client_id
            ));
        }
        map.insert(c.client_id.clone(), Arc::new(c));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_types_parse_and_list() {
        for g in GrantType::ALL {
            assert_eq!(g.as_str().parse::<GrantType>(), Ok(g));
        }
        let e = "implicit".parse::<GrantType>().unwrap_err().to_string();
        assert_eq!(
            e,
            "grant_type \"implicit\" is not supported; supported: authorization_code, \
             refresh_token, client_credentials, password"
        );
        let c: ClientConfig = serde_json::from_value(
            serde_json::json!({"client_id": "a", "grant_types": ["password"]}),
        )
        .unwrap();
        assert!(c.allows(GrantType::Password) && !c.allows(GrantType::RefreshToken));
        assert!(c.is_public());
        let e = serde_json::from_value::<ClientConfig>(
            serde_json::json!({"client_id": "a", "grant_types": ["implicit"]}),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("\"implicit\" is not supported"), "{e}");
    }

    #[test]
    fn client_map_refuses_empty_and_duplicate_ids() {
        let c = |id: &str| ClientConfig {
            client_id: id.into(),
            client_secret: Some("s3cret".into()),
            ..Default::default()
        };
        assert_eq!(to_map(vec![c("a"), c("b")], "clients").unwrap().len(), 2);
        assert_eq!(
            to_map(vec![c("a"), c(" ")], "clients").unwrap_err(),
            "clients[1].client_id is empty"
        );
        assert!(
            to_map(vec![c("a"), c("a")], "clients")
                .unwrap_err()
                .contains("twice")
        );
        assert!(!format!("{:?}", c("a")).contains("s3cret"));
    }
}
