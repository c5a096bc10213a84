//! `plain`: registered claims and the mapping fields under OIDC-standard
//! names (`preferred_username` for `username`), everything else verbatim
//! (`roles`, `groups`, `permissions`, `org_permissions`, `client_roles`,
//! `org_id`, `org_role`, `org_slug`). `nbf` = `iat`. Also the ID token of
//! the profiles that have no ID-token shape of their own (clerk,
//! jwt-auth-service).

use serde_json::{Map, Value, json};

use super::{Shape, Shaped, TokenInput, TokenKind, id_token_base, put_list, put_str, registered};
use crate::random::{self, Alphabet, RandomError};

/// The `plain` profile.
#[derive(Debug, Clone, Copy)]
pub struct Plain;

impl Shape for Plain {
    fn name(&self) -> &'static str {
        "plain"
    }

    fn claims(&self, t: &TokenInput<'_>) -> Result<Shaped, RandomError> {
        Ok(claims(t)?.into())
    }
}

/// `azp`: the client of a grant, else the request's or persona's.
pub fn azp<'a>(t: &TokenInput<'a>) -> Option<&'a str> {
    t.client.map(|c| c.id).or(t.azp)
}

/// A random `jti` of 32 hex digits.
pub fn jti() -> Result<String, RandomError> {
    random::token(32, Alphabet::Hex)
}

/// The plain claims of `t` (see the module documentation).
pub fn claims(t: &TokenInput<'_>) -> Result<Map<String, Value>, RandomError> {
    let mut c = match t.kind {
        TokenKind::Id => {
            let mut c = id_token_base(t);
            put_str(&mut c, "azp", t.client_id());
            c
        }
        TokenKind::Access | TokenKind::Client => {
            let mut c = registered(t);
            put_str(&mut c, "azp", azp(t));
            put_str(&mut c, "scope", t.scope);
            put_str(&mut c, "client_id", t.client_id());
            c
        }
    };
    c.insert("nbf".into(), json!(t.iat));
    c.insert("jti".into(), json!(jti()?));
    mapping(&mut c, t);
    Ok(c)
}

/// Adds the person fields of `t.subject` (email, names, the login name as
/// `username_claim`, roles, groups, permissions) under their plain names.
pub fn person(c: &mut Map<String, Value>, t: &TokenInput<'_>, username_claim: &str) {
    let s = &t.subject;
    put_str(c, "email", s.email);
    put_str(c, "name", s.name);
    put_str(c, "given_name", s.given_name);
    put_str(c, "family_name", s.family_name);
    put_str(c, username_claim, s.username);
    put_list(c, "roles", s.roles);
    put_list(c, "groups", s.groups);
    put_list(c, "permissions", s.permissions);
}

/// Adds the mapping fields of `t.subject` under their plain names.
pub fn mapping(c: &mut Map<String, Value>, t: &TokenInput<'_>) {
    person(c, t, "preferred_username");
    let s = &t.subject;
    put_list(c, "org_permissions", s.org_permissions);
    if let Some(roles) = s.client_roles.filter(|r| !r.is_empty()) {
        c.insert("client_roles".into(), json!(roles));
    }
    put_str(c, "org_id", s.org_id);
    put_str(c, "org_role", s.org_role);
    put_str(c, "org_slug", s.org_slug);
}

#[cfg(test)]
mod tests {
    use super::super::testing::{claims, input};
    use super::super::{ClientRef, Profile};
    use super::*;

    #[test]
    fn access_token_has_every_field_under_its_plain_name() {
        let c = claims(Profile::Plain, &input(TokenKind::Access));
        assert_eq!(c["sub"], "user_alice");
        assert_eq!(c["nbf"], c["iat"]);
        assert_eq!(c["preferred_username"], "alice");
        assert_eq!(c["roles"], json!(["admin", "editor"]));
        assert_eq!(c["org_permissions"][2], "org:teams:read");
        assert_eq!(c["client_roles"]["web-app"], json!(["owner"]));
        assert_eq!(c["org_role"], "admin");
        for absent in [
            "v",
            "fva",
            "sid",
            "o",
            "azp",
            "aud",
            "client_id",
            "email_verified",
        ] {
            assert!(!c.contains_key(absent), "{absent}: {c:?}");
        }
    }

    #[test]
    fn grants_name_the_client() {
        let mut t = input(TokenKind::Access);
        t.client = Some(ClientRef {
            id: "web",
            confidential: true,
        });
        t.azp = Some("persona-azp");
        t.scope = Some("openid");
        let c = claims(Profile::Plain, &t);
        assert_eq!(
            (c["azp"].as_str(), c["client_id"].as_str()),
            (Some("web"), Some("web"))
        );
        assert_eq!(c["scope"], "openid");
        t.kind = TokenKind::Id;
        let id = claims(Profile::Plain, &t);
        assert_eq!(
            (id["aud"].as_str(), id["azp"].as_str()),
            (Some("web"), Some("web"))
        );
        assert!(!id.contains_key("scope") && !id.contains_key("client_id"));
        assert_eq!(id["email"], "alice@acme.example");
    }
}
