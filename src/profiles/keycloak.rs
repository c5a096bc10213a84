//! `keycloak`: a Keycloak realm as keycloak-connect and python-keycloak see
//! it. Issuers are mounted at `/realms/{name}`, endpoints under
//! `/protocol/openid-connect/`, the realm document at the mount itself.
//! Tokens carry `typ` (`Bearer` / `ID`, which the adapters check),
//! `realm_access.roles`, `resource_access.{client}.roles`,
//! `preferred_username`, `sid`; service accounts (`client_credentials`)
//! are `service-account-<client>` with the client's roles.

use serde_json::{Map, Value, json};

use super::{
    Endpoint, Shape, Shaped, TokenInput, TokenKind, id_token_base, ids, oidc_profile, plain,
    put_list, put_str, registered,
};
use crate::random::RandomError;

/// The `keycloak` profile.
#[derive(Debug, Clone, Copy)]
pub struct Keycloak;

/// Where a realm's OpenID Connect endpoints live, under its mount.
pub const OIDC: &str = "/protocol/openid-connect";

/// `scope` when none was asked (Keycloak's default client scopes).
pub const DEFAULT_SCOPE: &str = "profile email";

impl Shape for Keycloak {
    fn name(&self) -> &'static str {
        "keycloak"
    }

    fn claims(&self, t: &TokenInput<'_>) -> Result<Shaped, RandomError> {
        let mut c = match t.kind {
            TokenKind::Access => user(t, registered(t), "Bearer")?,
            TokenKind::Id => {
                let mut c = user(t, id_token_base(t), "ID")?;
                c.remove("scope");
                c.remove("realm_access");
                c.remove("resource_access");
                c
            }
            TokenKind::Client => service_account(t),
        };
        c.insert("jti".into(), json!(ids::uuid_v4()?));
        Ok(c.into())
    }

    fn paths(&self) -> &'static [(Endpoint, &'static str)] {
        &[
            (Endpoint::Token, "/protocol/openid-connect/token"),
            (Endpoint::Authorize, "/protocol/openid-connect/auth"),
            (Endpoint::Userinfo, "/protocol/openid-connect/userinfo"),
            (Endpoint::Logout, "/protocol/openid-connect/logout"),
            (Endpoint::Jwks, "/protocol/openid-connect/certs"),
            (
                Endpoint::Introspect,
                "/protocol/openid-connect/token/introspect",
            ),
            (Endpoint::Revoke, "/protocol/openid-connect/revoke"),
            (Endpoint::RealmInfo, ""),
        ]
    }

    fn realm_mounted(&self) -> bool {
        true
    }

    fn discovery(&self, doc: &mut Map<String, Value>, _settings: &super::ProfileSettings) {
        doc.insert("frontchannel_logout_supported".into(), json!(false));
        doc.insert("backchannel_logout_supported".into(), json!(false));
    }
}

fn audience(c: &mut Map<String, Value>, t: &TokenInput<'_>) {
    if t.aud.is_none() {
        // Keycloak's default audience: the account console client.
        c.insert("aud".into(), json!("account"));
    }
}

fn roles(c: &mut Map<String, Value>, t: &TokenInput<'_>) {
    c.insert("realm_access".into(), json!({"roles": t.subject.roles}));
    if let Some(by_client) = t.subject.client_roles.filter(|r| !r.is_empty()) {
        let access: Map<String, Value> = by_client
            .iter()
            .map(|(client, roles)| (client.clone(), json!({"roles": roles})))
            .collect();
        c.insert("resource_access".into(), Value::Object(access));
    }
}

/// A user's access or ID token (`typ` = `Bearer` or `ID`).
fn user(
    t: &TokenInput<'_>,
    mut c: Map<String, Value>,
    typ: &str,
) -> Result<Map<String, Value>, RandomError> {
    c.insert("typ".into(), json!(typ));
    if typ == "Bearer" {
        audience(&mut c, t);
    }
    put_str(&mut c, "azp", plain::azp(t));
    let sid = match t.session {
        Some(s) => s.to_string(),
        None => ids::uuid_v4()?,
    };
    c.insert("sid".into(), json!(sid));
    c.insert("acr".into(), json!("1"));
    roles(&mut c, t);
    c.insert("scope".into(), json!(t.scope.unwrap_or(DEFAULT_SCOPE)));
    c.extend(oidc_profile(&t.subject, Some("preferred_username")));
    put_list(&mut c, "groups", t.subject.groups);
    if let Some(org) = t.subject.org_slug.or(t.subject.org_id) {
        // Keycloak 26 Organizations mapper, default (array) form.
        c.insert("organization".into(), json!([org]));
    }
    Ok(c)
}

/// A service account's token (`client_credentials`).
fn service_account(t: &TokenInput<'_>) -> Map<String, Value> {
    let mut c = registered(t);
    let client = t.client_id().unwrap_or(t.subject.sub);
    // Service-account users have a GUID, stable per realm and client.
    c.insert(
        "sub".into(),
        json!(ids::uuid_v5(&format!("{}|{client}", t.iss))),
    );
    c.insert("typ".into(), json!("Bearer"));
    audience(&mut c, t);
    c.insert("azp".into(), json!(client));
    c.insert("client_id".into(), json!(client));
    c.insert(
        "preferred_username".into(),
        json!(format!("service-account-{client}")),
    );
    c.insert("email_verified".into(), json!(false));
    c.insert("acr".into(), json!("1"));
    roles(&mut c, t);
    c.insert("scope".into(), json!(t.scope.unwrap_or(DEFAULT_SCOPE)));
    c
}

#[cfg(test)]
mod tests {
    use super::super::testing::{claims, input};
    use super::super::{ClientRef, Profile, ProfileSettings};
    use super::*;

    #[test]
    fn access_token_for_alice() {
        let c = claims(Profile::Keycloak, &input(TokenKind::Access));
        assert_eq!(c["typ"], "Bearer");
        assert_eq!(c["aud"], "account");
        assert_eq!(c["realm_access"], json!({"roles": ["admin", "editor"]}));
        assert_eq!(
            c["resource_access"]["billing-api"],
            json!({"roles": ["invoice-reader"]})
        );
        assert_eq!(c["preferred_username"], "alice");
        assert_eq!(c["email_verified"], true);
        assert_eq!(c["scope"], DEFAULT_SCOPE);
        assert_eq!(c["organization"], json!(["acme"]));
        assert!(ids::is_guid(c["sid"].as_str().unwrap()));
        assert!(ids::is_guid(c["jti"].as_str().unwrap()));
        for absent in ["permissions", "org_role", "org_permissions", "roles", "azp"] {
            assert!(!c.contains_key(absent), "{absent}");
        }
    }

    #[test]
    fn id_token_shares_the_session() {
        let mut t = input(TokenKind::Id);
        t.client = Some(ClientRef {
            id: "web-app",
            confidential: true,
        });
        t.session = Some("s-1");
        let id = claims(Profile::Keycloak, &t);
        assert_eq!(
            (id["typ"].as_str(), id["aud"].as_str(), id["azp"].as_str()),
            (Some("ID"), Some("web-app"), Some("web-app"))
        );
        assert_eq!(id["sid"], "s-1");
        t.kind = TokenKind::Access;
        assert_eq!(claims(Profile::Keycloak, &t)["sid"], "s-1");
    }

    #[test]
    fn service_account() {
        let mut t = input(TokenKind::Client);
        t.client = Some(ClientRef {
            id: "billing-api",
            confidential: true,
        });
        t.subject.sub = "billing-api";
        let c = claims(Profile::Keycloak, &t);
        assert!(ids::is_guid(c["sub"].as_str().unwrap()));
        assert_eq!(c["sub"], claims(Profile::Keycloak, &t)["sub"], "stable");
        assert_eq!(c["preferred_username"], "service-account-billing-api");
        assert_eq!(c["client_id"], "billing-api");
        assert!(!c.contains_key("sid"));
    }

    #[test]
    fn realm_layout() {
        let shape = Profile::Keycloak.shape();
        assert!(shape.realm_mounted());
        assert_eq!(
            shape.path_of(Endpoint::Jwks),
            Some("/protocol/openid-connect/certs")
        );
        assert_eq!(shape.path_of(Endpoint::RealmInfo), Some(""));
        for (_, p) in shape.paths() {
            assert!(p.is_empty() || p.starts_with(OIDC), "{p}");
        }
        assert_eq!(
            shape.default_iss(&ProfileSettings::default()),
            super::super::DefaultIss::Mount {
                trailing_slash: false
            }
        );
    }
}
