//! `clerk`: Clerk session tokens v2, as `@clerk/backend` decodes them
//! (`packages/shared/src/jwtPayloadParser.ts`): `sid`, `v: 2`, `fva`, the
//! active organization in `o` with its permissions encoded as `o.per`,
//! `o.fpm` and `fea`, and `azp` (Clerk's `authorizedParties` check refuses a
//! token without it). `client_credentials` gives a Clerk M2M JWT (header
//! `cat: cl_B7d4PD333AAA`, `scopes`). ID tokens are the plain ones.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::{Endpoint, Shape, Shaped, TokenInput, TokenKind, plain, put_str, registered};
use crate::random::{self, Alphabet, RandomError};

/// The `clerk` profile.
#[derive(Debug, Clone, Copy)]
pub struct Clerk;

/// Session tokens are valid from 10 s before issue, for clock skew.
pub const NBF_SKEW: i64 = 10;

/// JOSE `cat` of Clerk M2M JWTs (`JWT_CATEGORY_M2M_TOKEN` in @clerk/backend):
/// a session verifier refuses a token of this category.
pub const M2M_CATEGORY: &str = "cl_B7d4PD333AAA";

impl Shape for Clerk {
    fn name(&self) -> &'static str {
        "clerk"
    }

    fn claims(&self, t: &TokenInput<'_>) -> Result<Shaped, RandomError> {
        match t.kind {
            TokenKind::Access => session(t).map(Shaped::from),
            TokenKind::Client => Ok(Shaped {
                claims: machine(t)?,
                header: &[("cat", M2M_CATEGORY)],
            }),
            TokenKind::Id => plain::claims(t).map(Shaped::from),
        }
    }

    fn paths(&self) -> &'static [(Endpoint, &'static str)] {
        // What @clerk/backend fetches from CLERK_API_URL with a secret key.
        &[(Endpoint::JwksAlias, "/v1/jwks")]
    }
}

/// `azp`: the client of a grant, else the request's or persona's, else the
/// request's `Origin`, else the issuer's `authorized_party`.
fn azp<'a>(t: &TokenInput<'a>) -> Option<&'a str> {
    plain::azp(t).or(t.origin).or(t.authorized_party)
}

/// The top-level fields a session-token template adds.
fn custom(c: &mut Map<String, Value>, t: &TokenInput<'_>) {
    plain::person(c, t, "username");
}

/// A session token v2.
fn session(t: &TokenInput<'_>) -> Result<Map<String, Value>, RandomError> {
    let mut c = registered(t);
    c.insert("nbf".into(), json!(t.iat - NBF_SKEW));
    c.insert("jti".into(), json!(plain::jti()?));
    c.insert(
        "sid".into(),
        json!(format!("sess_{}", random::token(27, Alphabet::Base62)?)),
    );
    put_str(&mut c, "azp", azp(t));
    put_str(&mut c, "scope", t.scope);
    put_str(&mut c, "client_id", t.client_id());
    c.insert("v".into(), json!(2));
    c.insert("fva".into(), json!([0, -1]));
    let s = &t.subject;
    let mut o = Map::new();
    put_str(&mut o, "id", s.org_id);
    if let Some(role) = s.org_role {
        // Clerk v2 drops the `org:` prefix in `o.rol`.
        o.insert(
            "rol".into(),
            json!(role.strip_prefix("org:").unwrap_or(role)),
        );
    }
    put_str(&mut o, "slg", s.org_slug);
    // Permissions only with an active organization (has() checks orgId first).
    if s.org_id.is_some()
        && let Some(enc) = encode_permissions(s.org_permissions)
    {
        o.insert("per".into(), json!(enc.per));
        o.insert("fpm".into(), json!(enc.fpm));
        c.insert("fea".into(), json!(enc.fea));
    }
    if !o.is_empty() {
        c.insert("o".into(), Value::Object(o));
    }
    custom(&mut c, t);
    Ok(c)
}

/// A machine-to-machine token: `sub` = the client id (Clerk's SDK treats
/// it as M2M when it starts with `mch_`), `scopes` = the granted scope.
fn machine(t: &TokenInput<'_>) -> Result<Map<String, Value>, RandomError> {
    let mut c = registered(t);
    c.insert("nbf".into(), json!(t.iat - NBF_SKEW));
    c.insert(
        "jti".into(),
        json!(format!("mt_{}", random::token(32, Alphabet::Hex)?)),
    );
    put_str(&mut c, "azp", plain::azp(t));
    put_str(&mut c, "client_id", t.client_id());
    put_str(&mut c, "scopes", t.scope);
    put_str(&mut c, "scope", t.scope);
    custom(&mut c, t);
    Ok(c)
}

/// Organization permissions as Clerk encodes them in a session token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgPermissions {
    /// `fea`: `o:<feature>` of every feature, sorted, comma-separated.
    pub fea: String,
    /// `o.per`: the distinct permission names, sorted, comma-separated.
    pub per: String,
    /// `o.fpm`: one decimal bitmask per feature (in `fea` order); bit *i*
    /// (least significant = 0) is set when the feature has `per[i]`.
    pub fpm: String,
}

/// Encodes `org:<feature>:<permission>` keys (the `org:` prefix optional);
/// `None` when there is none. Keys of another shape are ignored.
pub fn encode_permissions(keys: &[String]) -> Option<OrgPermissions> {
    let pairs: BTreeSet<(&str, &str)> = keys
        .iter()
        .filter_map(|k| {
            let k = k.strip_prefix("org:").unwrap_or(k);
            let (feature, permission) = k.split_once(':')?;
            (!feature.is_empty() && !permission.is_empty() && !permission.contains(':'))
                .then_some((feature, permission))
        })
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let features: BTreeSet<&str> = pairs.iter().map(|(f, _)| *f).collect();
    let names: BTreeSet<&str> = pairs.iter().map(|(_, p)| *p).collect();
    let names: Vec<&str> = names.into_iter().collect();
    let fpm: Vec<String> = features
        .iter()
        .map(|f| {
            let mask = names
                .iter()
                .enumerate()
                .filter(|(_, n)| pairs.contains(&(*f, **n)))
                .fold(0u128, |m, (i, _)| m | (1u128 << i.min(127)));
            mask.to_string()
        })
        .collect();
    Some(OrgPermissions {
        fea: features
            .iter()
            .map(|f| format!("o:{f}"))
            .collect::<Vec<_>>()
            .join(","),
        per: names.join(","),
        fpm: fpm.join(","),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{claims, input};
    use super::super::{ClientRef, Profile};
    use super::*;

    #[test]
    fn the_docs_worked_example() {
        // clerk.com/docs/guides/sessions/session-tokens, "Decode o.fpm manually".
        let keys: Vec<String> = ["org:dashboard:read", "dashboard:manage", "org:teams:read"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            encode_permissions(&keys),
            Some(OrgPermissions {
                fea: "o:dashboard,o:teams".into(),
                per: "manage,read".into(),
                fpm: "3,2".into(),
            })
        );
        assert_eq!(encode_permissions(&[]), None);
        assert_eq!(
            encode_permissions(&["read".to_string(), "a:b:c".to_string()]),
            None
        );
    }

    #[test]
    fn session_token_v2_for_alice() {
        let c = claims(Profile::Clerk, &input(TokenKind::Access));
        assert_eq!(c["v"], 2);
        assert_eq!(c["fva"], json!([0, -1]));
        assert_eq!(c["nbf"], 1000 - NBF_SKEW);
        assert!(c["sid"].as_str().unwrap().starts_with("sess_"));
        assert_eq!(
            c["o"],
            json!({"id": "org_acme", "rol": "admin", "slg": "acme", "per": "manage,read", "fpm": "3,2"})
        );
        assert_eq!(c["fea"], "o:dashboard,o:teams");
        assert_eq!(c["email"], "alice@acme.example");
        assert_eq!(c["username"], "alice");
        assert!(!c.contains_key("client_roles") && !c.contains_key("azp"));
    }

    #[test]
    fn azp_precedence() {
        let mut t = input(TokenKind::Access);
        t.authorized_party = Some("http://ap");
        let azp = |t: &TokenInput<'_>| claims(Profile::Clerk, t)["azp"].clone();
        assert_eq!(azp(&t), "http://ap");
        t.origin = Some("http://origin");
        assert_eq!(azp(&t), "http://origin");
        t.azp = Some("http://asked");
        assert_eq!(azp(&t), "http://asked");
        t.client = Some(ClientRef {
            id: "web",
            confidential: true,
        });
        assert_eq!(azp(&t), "web");
    }

    #[test]
    fn client_credentials_is_an_m2m_jwt() {
        let mut t = input(TokenKind::Client);
        t.client = Some(ClientRef {
            id: "mch_worker",
            confidential: true,
        });
        t.subject.sub = "mch_worker";
        t.scope = Some("reports:read reports:write");
        let shaped = Profile::Clerk.shape().claims(&t).unwrap();
        assert_eq!(shaped.header, &[("cat", M2M_CATEGORY)]);
        let c = shaped.claims;
        assert_eq!(c["sub"], "mch_worker");
        assert_eq!(c["scopes"], "reports:read reports:write");
        assert!(c["jti"].as_str().unwrap().starts_with("mt_"));
        for absent in ["sid", "v", "fva", "o"] {
            assert!(!c.contains_key(absent), "{absent}");
        }
    }

    #[test]
    fn no_org_no_permissions() {
        let mut t = input(TokenKind::Access);
        t.subject.org_id = None;
        let c = claims(Profile::Clerk, &t);
        assert_eq!(c["o"], json!({"rol": "admin", "slg": "acme"}));
        assert!(!c.contains_key("fea"));
        t.subject.org_role = None;
        t.subject.org_slug = None;
        assert!(!claims(Profile::Clerk, &t).contains_key("o"));
    }
}
