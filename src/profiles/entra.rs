//! `entra`: Microsoft Entra ID (Azure AD) v2 tokens of one tenant. `iss`
//! is `https://login.microsoftonline.com/{tenant_id}/v2.0`; user tokens
//! carry `ver`, `tid`, `oid` (a GUID stable per user), `scp` (the API's
//! scopes without their resource prefix, plus the persona's permissions),
//! `roles`, `groups`, `preferred_username`; app tokens
//! (`client_credentials`) carry `idtyp: "app"` and the client's app roles.
//! Paths are MSAL's: `/oauth2/v2.0/token`, `/oauth2/v2.0/authorize`,
//! `/discovery/v2.0/keys`, `/v2.0/.well-known/openid-configuration`.

use serde_json::{Map, Value, json};

use super::{
    DefaultIss, Endpoint, OIDC_SCOPES, ProfileSettings, Shape, Shaped, TokenInput, TokenKind, ids,
    plain, put_list, put_str, registered,
};
use crate::random::{self, Alphabet, RandomError};

/// The `entra` profile.
#[derive(Debug, Clone, Copy)]
pub struct Entra;

/// Microsoft's sign-in host.
pub const LOGIN_HOST: &str = "https://login.microsoftonline.com";

impl Shape for Entra {
    fn name(&self) -> &'static str {
        "entra"
    }

    fn claims(&self, t: &TokenInput<'_>) -> Result<Shaped, RandomError> {
        let mut c = registered(t);
        c.insert("nbf".into(), json!(t.iat));
        let tid = &t.settings.tenant_id;
        match t.kind {
            TokenKind::Id => {
                if let Some(client) = t.client_id() {
                    c.insert("aud".into(), json!(client));
                }
                put_str(&mut c, "email", t.subject.email);
                profile(&mut c, t);
                c.insert("oid".into(), json!(oid(t.iss, t.subject.sub)));
            }
            TokenKind::Access => {
                audience(&mut c, t);
                authorized_party(&mut c, t);
                c.insert("oid".into(), json!(oid(t.iss, t.subject.sub)));
                profile(&mut c, t);
                let scp = scp(t);
                if !scp.is_empty() {
                    c.insert("scp".into(), json!(scp.join(" ")));
                }
                put_list(&mut c, "roles", t.subject.roles);
                put_list(&mut c, "groups", t.subject.groups);
            }
            TokenKind::Client => {
                audience(&mut c, t);
                authorized_party(&mut c, t);
                let client = t.client_id().unwrap_or(t.subject.sub);
                // An app token is about the service principal.
                let principal = oid(t.iss, client);
                c.insert("sub".into(), json!(principal));
                c.insert("oid".into(), json!(principal));
                c.insert("idtyp".into(), json!("app"));
                put_list(&mut c, "roles", t.subject.roles);
            }
        }
        c.insert("tid".into(), json!(tid));
        c.insert("ver".into(), json!("2.0"));
        c.insert("uti".into(), json!(random::token(22, Alphabet::Base62)?));
        c.insert("jti".into(), json!(plain::jti()?));
        Ok(c.into())
    }

    fn paths(&self) -> &'static [(Endpoint, &'static str)] {
        &[
            (
                Endpoint::Discovery,
                "/v2.0/.well-known/openid-configuration",
            ),
            (Endpoint::Jwks, "/discovery/v2.0/keys"),
            (Endpoint::Token, "/oauth2/v2.0/token"),
            (Endpoint::Authorize, "/oauth2/v2.0/authorize"),
            (Endpoint::Logout, "/oauth2/v2.0/logout"),
        ]
    }

    fn default_iss(&self, settings: &ProfileSettings) -> DefaultIss {
        DefaultIss::Fixed(format!("{LOGIN_HOST}/{}/v2.0", settings.tenant_id))
    }

    fn discovery(&self, doc: &mut Map<String, Value>, _settings: &ProfileSettings) {
        doc.insert("subject_types_supported".into(), json!(["pairwise"]));
        doc.insert("cloud_instance_name".into(), json!("microsoftonline.com"));
        doc.insert("tenant_region_scope".into(), json!("NA"));
        doc.insert("msgraph_host".into(), json!("graph.microsoft.com"));
    }
}

/// The object id of `sub` in the tenant of `iss`: a UUID v5, the same in
/// every token of that user.
pub fn oid(iss: &str, sub: &str) -> String {
    ids::uuid_v5(&format!("{iss}|{sub}"))
}

/// `name` and `preferred_username` (the username, else the email).
fn profile(c: &mut Map<String, Value>, t: &TokenInput<'_>) {
    put_str(c, "name", t.subject.name);
    put_str(
        c,
        "preferred_username",
        t.subject.username.or(t.subject.email),
    );
}

/// `aud`: the issuer's (or asked) audience, else the resource of the first
/// API scope (`api://X/...` -> `X`), else the client id.
fn audience(c: &mut Map<String, Value>, t: &TokenInput<'_>) {
    if t.aud.is_some() {
        return;
    }
    let resource = t
        .scope
        .unwrap_or("")
        .split_whitespace()
        .find_map(|s| s.rsplit_once('/').map(|(r, _)| r))
        .map(|r| r.strip_prefix("api://").unwrap_or(r));
    if let Some(aud) = resource.or(t.client_id()) {
        c.insert("aud".into(), json!(aud));
    }
}

/// `azp` and `azpacr` (`1`: the client used a secret; `0`: public client).
fn authorized_party(c: &mut Map<String, Value>, t: &TokenInput<'_>) {
    put_str(c, "azp", plain::azp(t));
    if let Some(client) = t.client {
        c.insert(
            "azpacr".into(),
            json!(if client.confidential { "1" } else { "0" }),
        );
    }
}

/// Delegated scopes: the requested API scopes without their resource
/// prefix (OIDC scopes and `.default` dropped), then the persona's permissions.
fn scp(t: &TokenInput<'_>) -> Vec<String> {
    let mut scp: Vec<String> = Vec::new();
    let scopes = t.scope.unwrap_or("").split_whitespace();
    for s in scopes.filter(|s| !OIDC_SCOPES.contains(s)) {
        let name = s.rsplit_once('/').map_or(s, |(_, n)| n);
        if name != ".default" && !scp.iter().any(|x| x == name) {
            scp.push(name.to_string());
        }
    }
    for p in t.subject.permissions {
        if !scp.contains(p) {
            scp.push(p.clone());
        }
    }
    scp
}

#[cfg(test)]
mod tests {
    use super::super::testing::{claims, input};
    use super::super::{ClientRef, Profile, ProfileOptions};
    use super::*;

    fn app() -> Option<ClientRef<'static>> {
        Some(ClientRef {
            id: "0b1f",
            confidential: true,
        })
    }

    #[test]
    fn user_token_v2() {
        let mut t = input(TokenKind::Access);
        t.client = app();
        t.scope = Some("api://6e74/access_as_user openid profile offline_access");
        let c = claims(Profile::Entra, &t);
        assert_eq!(c["aud"], "6e74", "the resource of the API scope");
        assert_eq!(c["scp"], "access_as_user read:reports write:reports");
        assert_eq!(c["ver"], "2.0");
        assert_eq!(c["tid"], t.settings.tenant_id);
        assert_eq!(
            (c["azp"].as_str(), c["azpacr"].as_str()),
            (Some("0b1f"), Some("1"))
        );
        assert_eq!(c["preferred_username"], "alice");
        assert_eq!(c["roles"], json!(["admin", "editor"]));
        assert!(ids::is_guid(c["oid"].as_str().unwrap()));
        assert!(!c.contains_key("idtyp"));
        t.kind = TokenKind::Id;
        let id = claims(Profile::Entra, &t);
        assert_eq!(id["oid"], c["oid"], "one object id per user");
        assert_eq!(id["aud"], "0b1f");
        assert!(!id.contains_key("scp") && !id.contains_key("roles"));
    }

    #[test]
    fn app_token() {
        let mut t = input(TokenKind::Client);
        t.client = app();
        t.subject.sub = "0b1f";
        let api = json!("6e74");
        t.aud = Some(&api);
        t.scope = Some("api://6e74/.default");
        let c = claims(Profile::Entra, &t);
        assert_eq!(c["idtyp"], "app");
        assert_eq!(c["sub"], c["oid"]);
        assert_eq!(c["aud"], "6e74");
        assert!(!c.contains_key("scp") && !c.contains_key("preferred_username"));
        t.aud = None;
        t.scope = None;
        assert_eq!(
            claims(Profile::Entra, &t)["aud"],
            "0b1f",
            "else the client id"
        );
    }

    #[test]
    fn iss_per_tenant() {
        let s = ProfileSettings::resolve(
            "entra",
            &ProfileOptions {
                tenant_id: Some("8eaef023-2b34-4da1-9baa-8bc8c9d6a490".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            Profile::Entra.shape().default_iss(&s),
            DefaultIss::Fixed(
                "https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0"
                    .into()
            )
        );
        assert_eq!(
            Profile::Entra.shape().path_of(Endpoint::Jwks),
            Some("/discovery/v2.0/keys")
        );
    }
}
