//! `auth0`: Auth0 tenants as express-oauth2-jwt-bearer sees them. `iss` is
//! the tenant URL with its trailing slash; access tokens carry the API as
//! `aud` (an array with `<iss>userinfo` when `openid` is granted), `azp`,
//! `scope`, RBAC `permissions`, the organization (`org_id`, `org_name`)
//! and the roles/groups under the issuer's `claims_namespace` (Auth0
//! reserves the bare names); `client_credentials` tokens are
//! `<client>@clients` with `gty`. Profile claims live in the ID token.
//! Paths: `/oauth/token`, `/oauth/revoke`, `/oidc/logout`, `/v2/logout`.

use serde_json::{Map, Value, json};

use super::{
    DefaultIss, Endpoint, ProfileSettings, Shape, Shaped, Subject, TokenInput, TokenKind, aud_list,
    id_token_base, oidc_profile, plain, put_list, put_str, registered,
};
use crate::random::RandomError;

/// The `auth0` profile.
#[derive(Debug, Clone, Copy)]
pub struct Auth0;

impl Shape for Auth0 {
    fn name(&self) -> &'static str {
        "auth0"
    }

    fn claims(&self, t: &TokenInput<'_>) -> Result<Shaped, RandomError> {
        let mut c = match t.kind {
            TokenKind::Access => access(t),
            TokenKind::Client => machine(t),
            TokenKind::Id => id(t),
        };
        c.insert("jti".into(), json!(plain::jti()?));
        Ok(c.into())
    }

    fn paths(&self) -> &'static [(Endpoint, &'static str)] {
        &[
            (Endpoint::Token, "/oauth/token"),
            (Endpoint::Revoke, "/oauth/revoke"),
            // The first logout path is discovery's end_session_endpoint.
            (Endpoint::Logout, "/oidc/logout"),
            (Endpoint::Logout, "/v2/logout"),
        ]
    }

    fn default_iss(&self, _settings: &ProfileSettings) -> DefaultIss {
        DefaultIss::Mount {
            trailing_slash: true,
        }
    }

    fn userinfo(&self, s: &Subject<'_>) -> Map<String, Value> {
        oidc_profile(s, Some("nickname"))
    }
}

/// Persona permissions, plus the organization's when one is active
/// (Auth0 adds the permissions of the member's organization roles).
fn permissions(t: &TokenInput<'_>) -> Vec<String> {
    let s = &t.subject;
    let mut all: Vec<String> = s.permissions.to_vec();
    if s.org_id.is_some() {
        for p in s.org_permissions {
            if !all.contains(p) {
                all.push(p.clone());
            }
        }
    }
    all
}

fn org(c: &mut Map<String, Value>, s: &Subject<'_>) {
    put_str(c, "org_id", s.org_id);
    if s.org_id.is_some() {
        put_str(c, "org_name", s.org_slug);
    }
}

fn access(t: &TokenInput<'_>) -> Map<String, Value> {
    let mut c = registered(t);
    if t.has_scope("openid") {
        // Auth0 adds its userinfo API to the audience of an OIDC sign-in.
        let mut aud = aud_list(t.aud);
        aud.push(format!("{}userinfo", with_slash(t.iss)));
        c.insert(
            "aud".into(),
            if aud.len() == 1 {
                json!(aud[0])
            } else {
                json!(aud)
            },
        );
    }
    put_str(&mut c, "azp", plain::azp(t));
    put_str(&mut c, "scope", t.scope);
    put_list(&mut c, "permissions", &permissions(t));
    org(&mut c, &t.subject);
    let ns = &t.settings.claims_namespace;
    put_list(&mut c, &format!("{ns}roles"), t.subject.roles);
    put_list(&mut c, &format!("{ns}groups"), t.subject.groups);
    c
}

fn machine(t: &TokenInput<'_>) -> Map<String, Value> {
    let mut c = registered(t);
    let client = t.client_id().unwrap_or(t.subject.sub);
    c.insert("sub".into(), json!(format!("{client}@clients")));
    c.insert("azp".into(), json!(client));
    put_str(&mut c, "scope", t.scope);
    c.insert("gty".into(), json!("client-credentials"));
    // With RBAC on, Auth0 lists the granted scopes as permissions.
    let granted: Vec<String> = t
        .scope
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    put_list(&mut c, "permissions", &granted);
    c
}

fn id(t: &TokenInput<'_>) -> Map<String, Value> {
    let mut c = id_token_base(t);
    if let Some(sid) = t.session {
        c.insert("sid".into(), json!(sid));
    }
    c.extend(oidc_profile(&t.subject, Some("nickname")));
    org(&mut c, &t.subject);
    c
}

fn with_slash(iss: &str) -> String {
    if iss.ends_with('/') {
        iss.to_string()
    } else {
        format!("{iss}/")
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{claims, input};
    use super::super::{ClientRef, Profile};
    use super::*;

    #[test]
    fn access_token_namespaces_roles_and_adds_org_permissions() {
        let mut t = input(TokenKind::Access);
        let api = json!("https://api");
        t.aud = Some(&api);
        t.iss = "http://h/t/";
        t.scope = Some("read:reports");
        let c = claims(Profile::Auth0, &t);
        assert_eq!(c["aud"], "https://api");
        assert_eq!(
            c["https://mock-idp.local/roles"],
            json!(["admin", "editor"])
        );
        assert_eq!(c["https://mock-idp.local/groups"][0], "staff");
        assert!(!c.contains_key("roles") && !c.contains_key("email"));
        assert_eq!(
            c["permissions"],
            json!([
                "read:reports",
                "write:reports",
                "org:dashboard:read",
                "org:dashboard:manage",
                "org:teams:read"
            ])
        );
        assert_eq!(
            (c["org_id"].as_str(), c["org_name"].as_str()),
            (Some("org_acme"), Some("acme"))
        );
        assert!(!c.contains_key("nbf") && !c.contains_key("gty"));
    }

    #[test]
    fn openid_adds_the_userinfo_audience() {
        let mut t = input(TokenKind::Access);
        let api = json!("https://api");
        t.aud = Some(&api);
        t.iss = "http://h/t/";
        t.scope = Some("openid profile");
        assert_eq!(
            claims(Profile::Auth0, &t)["aud"],
            json!(["https://api", "http://h/t/userinfo"])
        );
        t.aud = None;
        assert_eq!(claims(Profile::Auth0, &t)["aud"], "http://h/t/userinfo");
    }

    #[test]
    fn client_credentials_and_id_token() {
        let mut t = input(TokenKind::Client);
        t.client = Some(ClientRef {
            id: "m2m",
            confidential: true,
        });
        t.scope = Some("read:reports write:reports");
        let c = claims(Profile::Auth0, &t);
        assert_eq!(c["sub"], "m2m@clients");
        assert_eq!(c["gty"], "client-credentials");
        assert_eq!(c["permissions"], json!(["read:reports", "write:reports"]));
        t.kind = TokenKind::Id;
        t.session = Some("s1");
        let id = claims(Profile::Auth0, &t);
        assert_eq!(id["aud"], "m2m");
        assert_eq!(id["nickname"], "alice");
        assert_eq!(id["email_verified"], true);
        assert_eq!(id["sid"], "s1");
        assert_eq!(id["org_name"], "acme");
    }

    #[test]
    fn iss_has_a_trailing_slash_and_paths_are_auth0s() {
        let shape = Profile::Auth0.shape();
        assert_eq!(
            shape.default_iss(&ProfileSettings::default()),
            DefaultIss::Mount {
                trailing_slash: true
            }
        );
        assert_eq!(shape.path_of(Endpoint::Token), Some("/oauth/token"));
        assert_eq!(shape.path_of(Endpoint::Logout), Some("/oidc/logout"));
    }
}
