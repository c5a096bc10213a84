//! Request -> claims. Nothing here knows about HTTP, so the same code serves
//! `POST /token`, the OAuth grants and unit tests. [`build`] resolves the
//! request over the persona into a [`crate::profiles::TokenInput`] and lets the
//! profile ([`Profile`]: the issuer's, or the request's `preset`) shape the
//! claims; this is the one claims path of every token.
//!
//! Order of precedence, lowest first: configured defaults (`ISSUER`,
//! `AUDIENCE`, `TOKEN_TTL`) < the persona named by `user` < request fields <
//! the persona's `claims` < the request's `claims` (merged last, wins over
//! everything; a `null` value removes the claim, for deliberately broken tokens).

pub mod users;
pub mod variant;

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use users::{Persona, Users};
pub use variant::Variant;

pub use crate::profiles::Profile;
use crate::profiles::{ClientRef, ProfileSettings, Subject, TokenInput, TokenKind};
use crate::random::RandomError;

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

/// What a test asks `POST /token` for. Every field is optional; the
/// mapping fields (`email` ... `client_roles`) override the persona's and
/// each profile puts them into its own claims (`docs/profiles.md`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// Subject (default: the persona's, else `user_default`).
    pub sub: Option<String>,
    /// A persona name from the users file; its fields are the base.
    pub user: Option<String>,
    /// The claim shape: any profile name (default: the issuer's profile).
    pub preset: Option<Profile>,
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
    /// E-mail address.
    pub email: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Login name (default: the persona's name).
    pub username: Option<String>,
    /// Roles.
    pub roles: Option<Vec<String>>,
    /// Groups.
    pub groups: Option<Vec<String>>,
    /// Permissions.
    pub permissions: Option<Vec<String>>,
    /// Organization permissions, Clerk keys `org:<feature>:<permission>`.
    pub org_permissions: Option<Vec<String>>,
    /// Client roles: client id -> roles.
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
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

/// Server-side defaults a token is built with. Start from
/// [`MintContext::new`] and set what differs.
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
    /// The issuer's profile: the claim shape unless the request or persona
    /// names a `preset`.
    pub profile: Profile,
    /// Access, ID or client token.
    pub kind: TokenKind,
    /// The OAuth client of a grant.
    pub client: Option<ClientRef<'a>>,
    /// An id shared by the tokens of one grant.
    pub session: Option<&'a str>,
    /// The request's `Origin` header.
    pub origin: Option<&'a str>,
    /// The issuer's `authorized_party`.
    pub authorized_party: Option<&'a str>,
    /// The issuer's profile settings.
    pub settings: &'a ProfileSettings,
}

static DEFAULT_SETTINGS: std::sync::LazyLock<ProfileSettings> =
    std::sync::LazyLock::new(ProfileSettings::default);

impl<'a> MintContext<'a> {
    /// An access token of the default profile for `issuer`, no audience,
    /// `TOKEN_TTL` 900 s.
    pub fn new(issuer: &'a str, users: &'a Users) -> Self {
        MintContext {
            issuer,
            audience: None,
            token_ttl: 900,
            users,
            profile: Profile::default(),
            kind: TokenKind::Access,
            client: None,
            session: None,
            origin: None,
            authorized_party: None,
            settings: &DEFAULT_SETTINGS,
        }
    }
}

/// The claims of a token to sign, and its lifetime as requested.
#[derive(Clone, Debug, PartialEq)]
pub struct Minted {
    /// The JWT claims set.
    pub claims: Map<String, Value>,
    /// Seconds until `exp` as requested (negative for expired tokens).
    pub expires_in: i64,
    /// The profile whose shape was used.
    pub preset: Profile,
    /// Extra JOSE header members the profile asks for (Clerk M2M: `cat`).
    pub header: &'static [(&'static str, &'static str)],
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
    let pick = |ours, theirs| pick(ours, p, theirs);
    let list = |ours, theirs| pick_list(ours, p, theirs);

    let preset = req
        .preset
        .or(p.and_then(|p| p.preset))
        .unwrap_or(ctx.profile);
    let sub = req
        .sub
        .clone()
        .or_else(|| persona.map(|(name, p)| p.subject(name)))
        .unwrap_or_else(|| DEFAULT_SUB.to_string());
    let aud = req
        .aud
        .as_ref()
        .or_else(|| p.and_then(|p| p.aud.as_ref()))
        .or(ctx.audience)
        .map(|a| serde_json::to_value(a).unwrap_or(Value::Null));
    let iss = req.iss.as_deref().unwrap_or(ctx.issuer);

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

    let input = TokenInput {
        kind: ctx.kind,
        subject: Subject {
            sub: &sub,
            username: pick(&req.username, |p| &p.username).or(persona.map(|(name, _)| name)),
            email: pick(&req.email, |p| &p.email),
            name: pick(&req.name, |p| &p.name),
            given_name: pick(&req.given_name, |p| &p.given_name),
            family_name: pick(&req.family_name, |p| &p.family_name),
            roles: list(&req.roles, |p| &p.roles),
            groups: list(&req.groups, |p| &p.groups),
            permissions: list(&req.permissions, |p| &p.permissions),
            org_permissions: list(&req.org_permissions, |p| &p.org_permissions),
            client_roles: req
                .client_roles
                .as_ref()
                .or_else(|| p.and_then(|p| p.client_roles.as_ref())),
            org_id: pick(&req.org_id, |p| &p.org_id),
            org_role: pick(&req.org_role, |p| &p.org_role),
            org_slug: pick(&req.org_slug, |p| &p.org_slug),
        },
        iss,
        aud: aud.as_ref(),
        azp: pick(&req.azp, |p| &p.azp),
        client: ctx.client,
        scope: pick(&req.scope, |p| &p.scope),
        iat,
        exp,
        session: ctx.session,
        origin: ctx.origin,
        authorized_party: ctx.authorized_party,
        settings: ctx.settings,
    };
    let shaped = preset.shape().claims(&input)?;
    let mut c = shaped.claims;
    let extra = p.map(|p| &p.claims).into_iter().chain(req.claims.as_ref());
    for claims in extra {
        merge_claims(&mut c, claims);
    }
    Ok(Minted {
        claims: c,
        expires_in,
        preset,
        header: shaped.header,
    })
}

/// The request's value, else the persona's.
fn pick<'a>(
    ours: &'a Option<String>,
    persona: Option<&'a Persona>,
    theirs: fn(&Persona) -> &Option<String>,
) -> Option<&'a str> {
    ours.as_deref()
        .or_else(|| persona.and_then(|p| theirs(p).as_deref()))
}

/// The request's list, else the persona's, else empty.
fn pick_list<'a>(
    ours: &'a Option<Vec<String>>,
    persona: Option<&'a Persona>,
    theirs: fn(&Persona) -> &Option<Vec<String>>,
) -> &'a [String] {
    ours.as_deref()
        .or_else(|| persona.and_then(|p| theirs(p).as_deref()))
        .unwrap_or(&[])
}

/// The [`Subject`] persona `name` describes, with subject `sub` (what
/// `userinfo` maps for a known persona).
pub fn persona_subject<'a>(name: &'a str, p: &'a Persona, sub: &'a str) -> Subject<'a> {
    let list = |l: &'a Option<Vec<String>>| l.as_deref().unwrap_or(&[]);
    Subject {
        sub,
        username: p.username.as_deref().or(Some(name)),
        email: p.email.as_deref(),
        name: p.name.as_deref(),
        given_name: p.given_name.as_deref(),
        family_name: p.family_name.as_deref(),
        roles: list(&p.roles),
        groups: list(&p.groups),
        permissions: list(&p.permissions),
        org_permissions: list(&p.org_permissions),
        client_roles: p.client_roles.as_ref(),
        org_id: p.org_id.as_deref(),
        org_role: p.org_role.as_deref(),
        org_slug: p.org_slug.as_deref(),
    }
}

/// "an object", "an array", ... for messages about a JSON value's type.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
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
    use serde_json::json;

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
        MintContext::new("https://issuer.local", users)
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
        let err = serde_json::from_value::<MintRequest>(json!({"preset": "okta"}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown profile \"okta\"; the profiles are: clerk"),
            "{err}"
        );
    }

    #[test]
    fn preset_takes_any_profile_and_beats_the_issuers() {
        let users = users();
        let ctx = MintContext {
            profile: Profile::Plain,
            ..ctx(&users)
        };
        let req: MintRequest = serde_json::from_value(json!({"preset": "keycloak"})).unwrap();
        let m = build(&req, &ctx, NOW).unwrap();
        assert_eq!(m.preset, Profile::Keycloak);
        assert_eq!(m.claims["typ"], "Bearer");
        let m = build(&MintRequest::default(), &ctx, NOW).unwrap();
        assert_eq!(m.preset, Profile::Plain, "the issuer's profile by default");
        assert!(!m.claims.contains_key("v"));
    }

    #[test]
    fn mapping_fields_request_over_persona() {
        let users = users::parse_users(
            "dana: {email: d@x, roles: [a, b], groups: [g], client_roles: {web: [r]}, \
             org_permissions: ['org:f:p']}",
        )
        .unwrap();
        let ctx = MintContext {
            profile: Profile::Plain,
            ..ctx(&users)
        };
        let req: MintRequest = serde_json::from_value(json!({"user": "dana"})).unwrap();
        let c = build(&req, &ctx, NOW).unwrap().claims;
        assert_eq!(
            c["preferred_username"], "dana",
            "username defaults to the persona's name"
        );
        assert_eq!(c["roles"], json!(["a", "b"]));
        assert_eq!(c["client_roles"], json!({"web": ["r"]}));
        let req: MintRequest = serde_json::from_value(json!({
            "user": "dana", "roles": ["c"], "email": "e@x", "username": "dd", "groups": []
        }))
        .unwrap();
        let c = build(&req, &ctx, NOW).unwrap().claims;
        assert_eq!(
            c["roles"],
            json!(["c"]),
            "a request list replaces the persona's"
        );
        assert_eq!(c["email"], "e@x");
        assert_eq!(c["preferred_username"], "dd");
        assert!(!c.contains_key("groups"), "an empty list clears it");
        let err = serde_json::from_value::<MintRequest>(json!({"roles": "admin"})).unwrap_err();
        assert!(err.to_string().contains("expected a sequence"), "{err}");
    }
}
