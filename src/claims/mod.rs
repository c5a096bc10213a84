//! Request -> claims. Nothing here knows about HTTP, so the same code serves
//! `POST /token`, the OAuth grants and unit tests.
//!
//! Order of precedence, lowest first: configured defaults (`ISSUER`,
//! `AUDIENCE`, `TOKEN_TTL`) < the persona named by `user` < request fields <
//! the persona's `claims` < the request's `claims` (merged last, wins over
//! everything; a `null` value removes the claim, for deliberately broken tokens).

pub mod users;
pub mod variant;

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use users::{Persona, Users};
pub use variant::Variant;

use crate::random::{self, Alphabet, RandomError};

/// Claim sets a token can be shaped as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Clerk session token v2: `sid`, `v: 2`, `fva`, nested `o: {id, rol, slg}`.
    #[default]
    Clerk,
    /// Registered claims only, plus what was asked for (org fields flat).
    Plain,
}

impl Preset {
    /// The name used in requests and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Clerk => "clerk",
            Preset::Plain => "plain",
        }
    }
}

/// `aud`: one audience or several (RFC 7519 §4.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience, serialized as a string.
    One(String),
    /// Several audiences, serialized as an array.
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Audience {
    // Hand-written so a wrong type says "expected a string or an array of
    // strings" instead of serde's "did not match any variant".
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AudVisitor;
        impl<'de> Visitor<'de> for AudVisitor {
            type Value = Audience;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Audience, E> {
                Ok(Audience::One(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
                let mut all = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    all.push(item);
                }
                Ok(Audience::Many(all))
            }
        }
        deserializer.deserialize_any(AudVisitor)
    }
}

impl Audience {
    /// The audiences as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Audience::One(a) => vec![a.clone()],
            Audience::Many(all) => all.clone(),
        }
    }
}

/// What a test asks `POST /token` for. Every field is optional.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// Subject (default: the persona's, else `user_default`).
    pub sub: Option<String>,
    /// A persona name from the users file; its fields are the base.
    pub user: Option<String>,
    /// `clerk` (default) or `plain`.
    pub preset: Option<Preset>,
    /// Organisation id.
    pub org_id: Option<String>,
    /// Organisation role (`org:admin` or `admin`).
    pub org_role: Option<String>,
    /// Organisation slug.
    pub org_slug: Option<String>,
    /// Audience (string or array); default `AUDIENCE`.
    pub aud: Option<Audience>,
    /// Issuer; default `ISSUER`.
    pub iss: Option<String>,
    /// Authorized party.
    pub azp: Option<String>,
    /// Space-separated scopes (`scope` claim).
    pub scope: Option<String>,
    /// Lifetime in seconds; negative mints an already expired token.
    pub expires_in: Option<i64>,
    /// Claims merged last; `null` removes a claim.
    pub claims: Option<Map<String, Value>>,
    /// A deliberately broken token (`GET /token/variants`).
    pub variant: Option<Variant>,
    /// Signing algorithm (default: the issuer's `alg`).
    pub alg: Option<crate::keys::Alg>,
    /// JOSE `typ` (default `JWT`); `at+jwt` also adds the RFC 9068 claims.
    pub typ: Option<String>,
    /// `client_id` claim of an `at+jwt` token (default: `azp`, else `sub`).
    pub client_id: Option<String>,
}

/// Server-side defaults a token is built with.
#[derive(Clone, Copy, Debug)]
pub struct MintContext<'a> {
    /// Default `iss`.
    pub issuer: &'a str,
    /// Default `aud`.
    pub audience: Option<&'a Audience>,
    /// Default lifetime in seconds.
    pub token_ttl: i64,
    /// Known personas.
    pub users: &'a Users,
}

/// The claims of a token to sign, and its lifetime as requested.
#[derive(Clone, Debug, PartialEq)]
pub struct Minted {
    /// The JWT claims set.
    pub claims: Map<String, Value>,
    /// Seconds until `exp` as requested (negative for expired tokens).
    pub expires_in: i64,
    /// The preset used.
    pub preset: Preset,
}

/// A request that cannot be turned into claims.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimsError {
    /// `user` names no persona.
    #[error("user: unknown user {name:?}; known users: {}", known_list(.known))]
    UnknownUser {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// `expires_in` is outside +-100 years.
    #[error(
        "expires_in: {0} is out of range; use at most {max} seconds (100 years) either way",
        max = MAX_EXPIRES_IN
    )]
    ExpiresOutOfRange(i64),
    /// No random `jti`/`sid` could be drawn.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// Largest `|expires_in|` accepted: 100 years of 365.25 days.
pub const MAX_EXPIRES_IN: i64 = 3_155_760_000;

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "none (no users file is configured; set USERS_FILE or --users)".into()
    } else {
        known.join(", ")
    }
}

/// The subject used when neither the request nor a persona names one.
pub const DEFAULT_SUB: &str = "user_default";

/// Clerk session tokens are valid from 10 s before issue, for clock skew.
const CLERK_NBF_SKEW: i64 = 10;

/// Builds the claims for `req` at time `now` (UNIX seconds).
pub fn build(req: &MintRequest, ctx: &MintContext<'_>, now: i64) -> Result<Minted, ClaimsError> {
    let persona = match &req.user {
        Some(name) => Some((
            name.as_str(),
            ctx.users
                .get(name)
                .ok_or_else(|| ClaimsError::UnknownUser {
                    name: name.clone(),
                    known: ctx.users.keys().cloned().collect(),
                })?,
        )),
        None => None,
    };
    let p = persona.map(|(_, p)| p);
    let pick = |ours: &Option<String>, theirs: fn(&Persona) -> &Option<String>| {
        ours.clone().or_else(|| p.and_then(|p| theirs(p).clone()))
    };

    let preset = req.preset.or(p.and_then(|p| p.preset)).unwrap_or_default();
    let sub = req
        .sub
        .clone()
        .or_else(|| persona.map(|(name, p)| p.subject(name)))
        .unwrap_or_else(|| DEFAULT_SUB.to_string());
    let org_id = pick(&req.org_id, |p| &p.org_id);
    let org_role = pick(&req.org_role, |p| &p.org_role);
    let org_slug = pick(&req.org_slug, |p| &p.org_slug);
    let azp = pick(&req.azp, |p| &p.azp);
    let scope = pick(&req.scope, |p| &p.scope);
    let aud = req
        .aud
        .clone()
        .or_else(|| p.and_then(|p| p.aud.clone()))
        .or_else(|| ctx.audience.cloned());
    let iss = req.iss.clone().unwrap_or_else(|| ctx.issuer.to_string());

    let expires_in = req.expires_in.unwrap_or(ctx.token_ttl);
    if !(-MAX_EXPIRES_IN..=MAX_EXPIRES_IN).contains(&expires_in) {
        return Err(ClaimsError::ExpiresOutOfRange(expires_in));
    }
    let exp = now
        .checked_add(expires_in)
        .ok_or(ClaimsError::ExpiresOutOfRange(expires_in))?;
    // An already expired token looks like one issued a full TTL before it
    // expired, so `iat <= exp` holds and verifiers report "expired".
    let iat = if expires_in > 0 {
        now
    } else {
        exp.saturating_sub(ctx.token_ttl.max(1))
    };

    let mut c = Map::new();
    c.insert("iss".into(), json!(iss));
    c.insert("sub".into(), json!(sub));
    if let Some(aud) = aud {
        c.insert("aud".into(), json!(aud));
    }
    c.insert("iat".into(), json!(iat));
    c.insert("exp".into(), json!(exp));
    c.insert("jti".into(), json!(random::token(32, Alphabet::Hex)?));
    if let Some(azp) = azp {
        c.insert("azp".into(), json!(azp));
    }
    if let Some(scope) = scope {
        c.insert("scope".into(), json!(scope));
    }
    match preset {
        Preset::Clerk => {
            c.insert("nbf".into(), json!(iat - CLERK_NBF_SKEW));
            c.insert(
                "sid".into(),
                json!(format!("sess_{}", random::token(27, Alphabet::Base62)?)),
            );
            c.insert("v".into(), json!(2));
            c.insert("fva".into(), json!([0, -1]));
            let mut o = Map::new();
            if let Some(id) = org_id {
                o.insert("id".into(), json!(id));
            }
            if let Some(role) = org_role {
                // Clerk v2 drops the `org:` prefix in `o.rol`.
                let role = role.strip_prefix("org:").unwrap_or(&role).to_string();
                o.insert("rol".into(), json!(role));
            }
            if let Some(slug) = org_slug {
                o.insert("slg".into(), json!(slug));
            }
            if !o.is_empty() {
                c.insert("o".into(), Value::Object(o));
            }
        }
        Preset::Plain => {
            c.insert("nbf".into(), json!(iat));
            for (name, value) in [
                ("org_id", org_id),
                ("org_role", org_role),
                ("org_slug", org_slug),
            ] {
                if let Some(v) = value {
                    c.insert(name.into(), json!(v));
                }
            }
        }
    }
    let extra = p.map(|p| &p.claims).into_iter().chain(req.claims.as_ref());
    for claims in extra {
        merge_claims(&mut c, claims);
    }
    Ok(Minted {
        claims: c,
        expires_in,
        preset,
    })
}

/// Merges `extra` into `claims`: values replace, `null` removes.
pub fn merge_claims(claims: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (k, v) in extra {
        if v.is_null() {
            claims.remove(k);
        } else {
            claims.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn users() -> Users {
        users::parse_users(
            "alice: {sub: user_alice, org_id: org_1, org_role: 'org:admin', org_slug: acme, \
             azp: http://app, scope: 'read write', claims: {email: alice@example.com, name: Alice}}\n\
             carl: {preset: plain, aud: persona-aud}\n",
        )
        .unwrap()
    }

    fn ctx(users: &Users) -> MintContext<'_> {
        MintContext {
            issuer: "https://issuer.local",
            audience: None,
            token_ttl: 900,
            users,
        }
    }

    fn mint(req: serde_json::Value) -> Map<String, Value> {
        let users = users();
        let req: MintRequest = serde_json::from_value(req).unwrap();
        build(&req, &ctx(&users), NOW).unwrap().claims
    }

    #[test]
    fn default_is_clerk_v2() {
        let c = mint(json!({}));
        assert_eq!(c["sub"], DEFAULT_SUB);
        assert_eq!(c["iss"], "https://issuer.local");
        assert_eq!(c["iat"], NOW);
        assert_eq!(c["nbf"], NOW - 10);
        assert_eq!(c["exp"], NOW + 900);
        assert_eq!(c["v"], 2);
        assert_eq!(c["fva"], json!([0, -1]));
        assert!(c["sid"].as_str().unwrap().starts_with("sess_"));
        assert_eq!(c["sid"].as_str().unwrap().len(), 5 + 27);
        assert_eq!(c["jti"].as_str().unwrap().len(), 32);
        for absent in ["aud", "azp", "o", "scope"] {
            assert!(!c.contains_key(absent), "{absent} should be absent: {c:?}");
        }
    }

    #[test]
    fn org_is_nested_and_role_prefix_dropped() {
        let c = mint(json!({"org_id": "org_9", "org_role": "org:member", "org_slug": "s"}));
        assert_eq!(c["o"], json!({"id": "org_9", "rol": "member", "slg": "s"}));
        let c = mint(json!({"org_id": "org_9"}));
        assert_eq!(c["o"], json!({"id": "org_9"}));
    }

    #[test]
    fn persona_is_the_base_and_request_overrides() {
        let c = mint(json!({"user": "alice"}));
        assert_eq!(c["sub"], "user_alice");
        assert_eq!(
            c["o"],
            json!({"id": "org_1", "rol": "admin", "slg": "acme"})
        );
        assert_eq!(c["email"], "alice@example.com");
        assert_eq!(c["azp"], "http://app");
        assert_eq!(c["scope"], "read write");

        let c = mint(
            json!({"user": "alice", "org_role": "viewer", "sub": "other",
                            "claims": {"email": "x@y", "name": null}}),
        );
        assert_eq!(c["sub"], "other");
        assert_eq!(c["o"]["rol"], "viewer");
        assert_eq!(c["email"], "x@y");
        assert!(!c.contains_key("name"), "null removes a persona claim");

        let c = mint(json!({"user": "carl"}));
        assert_eq!(c["sub"], "user_carl");
        assert_eq!(c["aud"], "persona-aud");
        assert!(!c.contains_key("v"), "persona preset plain applies");
    }

    #[test]
    fn plain_preset_has_only_registered_and_asked_claims() {
        let c = mint(json!({"preset": "plain", "sub": "s", "aud": ["a", "b"], "org_id": "o1"}));
        let mut keys: Vec<_> = c.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["aud", "exp", "iat", "iss", "jti", "nbf", "org_id", "sub"]
        );
        assert_eq!(c["aud"], json!(["a", "b"]));
        assert_eq!(c["nbf"], NOW);
    }

    #[test]
    fn claims_win_over_everything() {
        let c = mint(
            json!({"iss": "https://other", "claims": {"iss": "https://third", "exp": 5, "v": 3, "o": null}}),
        );
        assert_eq!(c["iss"], "https://third");
        assert_eq!(c["exp"], 5);
        assert_eq!(c["v"], 3);
    }

    #[test]
    fn negative_expiry_mints_an_expired_token() {
        let users = Users::new();
        let req = MintRequest {
            expires_in: Some(-60),
            ..Default::default()
        };
        let m = build(&req, &ctx(&users), NOW).unwrap();
        assert_eq!(m.expires_in, -60);
        assert_eq!(m.claims["exp"], NOW - 60);
        assert_eq!(m.claims["iat"], NOW - 60 - 900);
        let req = MintRequest {
            expires_in: Some(i64::MAX),
            ..Default::default()
        };
        assert_eq!(
            build(&req, &ctx(&users), NOW).unwrap_err(),
            ClaimsError::ExpiresOutOfRange(i64::MAX)
        );
    }

    #[test]
    fn default_audience_applies_unless_overridden() {
        let users = Users::new();
        let aud = Audience::One("api".into());
        let ctx = MintContext {
            audience: Some(&aud),
            ..ctx(&users)
        };
        let c = build(&MintRequest::default(), &ctx, NOW).unwrap().claims;
        assert_eq!(c["aud"], "api");
        let req = MintRequest {
            aud: Some(Audience::Many(vec!["x".into()])),
            ..Default::default()
        };
        assert_eq!(build(&req, &ctx, NOW).unwrap().claims["aud"], json!(["x"]));
        assert_eq!(aud.to_vec(), vec!["api".to_string()]);
    }

    #[test]
    fn unknown_user_lists_known_ones() {
        let users = users();
        let req = MintRequest {
            user: Some("mallory".into()),
            ..Default::default()
        };
        let err = build(&req, &ctx(&users), NOW).unwrap_err().to_string();
        assert_eq!(
            err,
            r#"user: unknown user "mallory"; known users: alice, carl"#
        );
        let empty = Users::new();
        let err = build(&req, &ctx(&empty), NOW).unwrap_err().to_string();
        assert!(err.contains("USERS_FILE"), "{err}");
    }

    #[test]
    fn ids_are_unique() {
        let a = mint(json!({}));
        let b = mint(json!({}));
        assert_ne!(a["jti"], b["jti"]);
        assert_ne!(a["sid"], b["sid"]);
    }

    #[test]
    fn audience_errors_are_readable() {
        let err = serde_json::from_value::<MintRequest>(json!({"aud": 5}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("a string or an array of strings"), "{err}");
        let err = serde_json::from_value::<MintRequest>(json!({"preset": "auth0"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant `auth0`"), "{err}");
        assert_eq!(Preset::Plain.as_str(), "plain");
        assert_eq!(Preset::Clerk.as_str(), "clerk");
    }
}
