//! `cognito`: an Amazon Cognito user pool as aws-jwt-verify sees it. The
//! issuer's name is the pool id (`us-east-1_Abc123`); `iss` is
//! `https://cognito-idp.{region}.amazonaws.com/{pool}`. Access tokens carry
//! `token_use: "access"`, `client_id` (no `aud`), `username`,
//! `cognito:groups` (groups, then roles), `scope` (with the persona's
//! permissions as custom scopes); ID tokens `token_use: "id"`, `aud`,
//! `cognito:username` and the profile claims. Paths: `/oauth2/token`,
//! `/oauth2/authorize`, `/oauth2/userInfo`, `/oauth2/revoke`.

use serde_json::{Map, Value, json};

use super::{
    DefaultIss, Endpoint, ProfileSettings, Shape, Shaped, Subject, TokenInput, TokenKind, ids,
    oidc_profile, put_list, put_str, registered,
};
use crate::random::RandomError;

/// The `cognito` profile.
#[derive(Debug, Clone, Copy)]
pub struct Cognito;

/// `scope` of a JSON-minted access token when none is asked (what the
/// hosted UI grants by default).
pub const DEFAULT_SCOPE: &str = "aws.cognito.signin.user.admin";

impl Shape for Cognito {
    fn name(&self) -> &'static str {
        "cognito"
    }

    fn claims(&self, t: &TokenInput<'_>) -> Result<Shaped, RandomError> {
        let mut c = registered(t);
        // Cognito access tokens have no aud; ID tokens are for the client.
        c.remove("aud");
        let client = t.client_id().or(t.azp);
        c.insert("auth_time".into(), json!(t.iat));
        match t.kind {
            TokenKind::Client => {
                put_str(&mut c, "client_id", client);
                c.insert("token_use".into(), json!("access"));
                put_str(&mut c, "scope", t.scope);
                c.insert("version".into(), json!(2));
            }
            TokenKind::Access => {
                session(&mut c, t)?;
                put_list(&mut c, "cognito:groups", &groups(&t.subject));
                c.insert("version".into(), json!(2));
                put_str(&mut c, "client_id", client);
                c.insert("token_use".into(), json!("access"));
                c.insert("scope".into(), json!(scope(t)));
                put_str(&mut c, "username", t.subject.username);
            }
            TokenKind::Id => {
                session(&mut c, t)?;
                put_list(&mut c, "cognito:groups", &groups(&t.subject));
                put_str(&mut c, "aud", client);
                c.insert("token_use".into(), json!("id"));
                put_str(&mut c, "cognito:username", t.subject.username);
                c.extend(oidc_profile(&t.subject, None));
            }
        }
        c.insert("jti".into(), json!(ids::uuid_v4()?));
        Ok(c.into())
    }

    fn paths(&self) -> &'static [(Endpoint, &'static str)] {
        &[
            (Endpoint::Token, "/oauth2/token"),
            (Endpoint::Authorize, "/oauth2/authorize"),
            (Endpoint::Userinfo, "/oauth2/userInfo"),
            (Endpoint::Revoke, "/oauth2/revoke"),
        ]
    }

    fn default_iss(&self, settings: &ProfileSettings) -> DefaultIss {
        DefaultIss::Fixed(format!(
            "https://cognito-idp.{}.amazonaws.com/{}",
            settings.region, settings.name
        ))
    }

    fn userinfo(&self, s: &Subject<'_>) -> Map<String, Value> {
        oidc_profile(s, Some("username"))
    }
}

/// The region of a pool id `<region>_<id>` (`us-east-1_Abc123` ->
/// `us-east-1`), when the part before `_` looks like an AWS region.
pub fn region_of(pool_id: &str) -> Option<&str> {
    let (region, id) = pool_id.split_once('_')?;
    let parts: Vec<&str> = region.split('-').collect();
    let looks_like_region = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    (looks_like_region && !id.is_empty()).then_some(region)
}

/// `cognito:groups`: the groups, then the roles, without duplicates.
fn groups(s: &Subject<'_>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for g in s.groups.iter().chain(s.roles) {
        if !all.contains(g) {
            all.push(g.clone());
        }
    }
    all
}

/// Granted scope (default [`DEFAULT_SCOPE`]) plus the persona's
/// permissions as custom scopes.
fn scope(t: &TokenInput<'_>) -> String {
    let mut all: Vec<&str> = t
        .scope
        .unwrap_or(DEFAULT_SCOPE)
        .split_whitespace()
        .collect();
    for p in t.subject.permissions {
        if !all.contains(&p.as_str()) {
            all.push(p);
        }
    }
    all.join(" ")
}

/// `origin_jti` and `event_id`: shared by the tokens of one grant.
fn session(c: &mut Map<String, Value>, t: &TokenInput<'_>) -> Result<(), RandomError> {
    let origin = match t.session {
        Some(s) => s.to_string(),
        None => ids::uuid_v4()?,
    };
    c.insert(
        "event_id".into(),
        json!(ids::uuid_v5(&format!("event|{origin}"))),
    );
    c.insert("origin_jti".into(), json!(origin));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{claims, input};
    use super::super::{ClientRef, Profile, ProfileOptions};
    use super::*;

    fn web() -> Option<ClientRef<'static>> {
        Some(ClientRef {
            id: "3n4b",
            confidential: true,
        })
    }

    #[test]
    fn regions() {
        assert_eq!(region_of("us-east-1_Abc123"), Some("us-east-1"));
        assert_eq!(region_of("ap-southeast-2_x"), Some("ap-southeast-2"));
        assert_eq!(region_of("us-gov-west-1_x"), Some("us-gov-west-1"));
        for bad in [
            "pool",
            "us-east-1_",
            "_x",
            "US-EAST-1_x",
            "east_x",
            "us-east-x_y",
        ] {
            assert_eq!(region_of(bad), None, "{bad}");
        }
        let s = ProfileSettings::resolve("eu-west-1_Pool", &ProfileOptions::default());
        assert_eq!(
            Profile::Cognito.shape().default_iss(&s),
            DefaultIss::Fixed("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool".into())
        );
    }

    #[test]
    fn access_and_id_tokens_of_one_grant() {
        let mut t = input(TokenKind::Access);
        t.client = web();
        t.session = Some("o-1");
        t.scope = Some("openid email");
        let api = json!("ignored");
        t.aud = Some(&api);
        let at = claims(Profile::Cognito, &t);
        assert_eq!(at["token_use"], "access");
        assert_eq!(at["client_id"], "3n4b");
        assert!(!at.contains_key("aud"));
        assert_eq!(at["username"], "alice");
        assert_eq!(
            at["cognito:groups"],
            json!(["staff", "engineering", "admin", "editor"])
        );
        assert_eq!(at["scope"], "openid email read:reports write:reports");
        assert_eq!(at["version"], 2);
        t.kind = TokenKind::Id;
        let id = claims(Profile::Cognito, &t);
        assert_eq!(
            (id["token_use"].as_str(), id["aud"].as_str()),
            (Some("id"), Some("3n4b"))
        );
        assert_eq!(id["cognito:username"], "alice");
        assert_eq!(id["email_verified"], true);
        assert_eq!(id["origin_jti"], at["origin_jti"]);
        assert_eq!(id["event_id"], at["event_id"]);
        assert!(!id.contains_key("username") && !id.contains_key("scope"));
    }

    #[test]
    fn json_mint_default_scope_and_machine_token() {
        let mut t = input(TokenKind::Access);
        t.azp = Some("3n4b");
        let c = claims(Profile::Cognito, &t);
        assert_eq!(c["client_id"], "3n4b");
        assert!(c["scope"].as_str().unwrap().starts_with(DEFAULT_SCOPE));
        let mut m = input(TokenKind::Client);
        m.client = web();
        m.subject = Subject {
            sub: "3n4b",
            ..Subject::default()
        };
        m.scope = Some("reports/read");
        let c = claims(Profile::Cognito, &m);
        assert_eq!(
            (c["sub"].as_str(), c["client_id"].as_str()),
            (Some("3n4b"), Some("3n4b"))
        );
        assert_eq!(c["scope"], "reports/read");
        assert!(!c.contains_key("username") && !c.contains_key("cognito:groups"));
    }
}
