//! External authorization for gateways (Envoy's HTTP `ext_authz` filter,
//! Istio's `envoyExtAuthzHttp` provider), on every issuer: is this bearer
//! token a valid, unrevoked token of this issuer, and does it meet the
//! requirements the operator set? The HTTP layer finds the token and the
//! requirements in the request and renders the answer: `200` with
//! `x-auth-sub` and `x-auth-claims`, `401`, or `403 insufficient_scope`.
//!
//! Validity is introspection's ([`Issuer::verify_presented`]): a signature
//! by one of the issuer's keys (own or a replica's), `exp`/`nbf`, an `iss`
//! of this issuer (whatever host name it was minted under), not revoked,
//! and for a lifecycle child, a parent that is not revoked either.
//!
//! Requirements, all of which must hold:
//! - `require_scope=<s>` (repeatable; one value may hold several scopes
//!   separated by spaces): each is in the token's `scope` (a space-separated
//!   string) or `scp` (a string or an array);
//! - `require_claim=<name>:<value>` (repeatable; split at the first `:`):
//!   the claim equals the value (a string as is, a number or a boolean by
//!   its JSON text) or, for an array, contains it; `<name>` may be a dotted
//!   path into objects (`realm_access.roles:admin`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::Issuer;
use super::inspect::Kind;

/// What a check requires of a token besides validity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    /// Scopes that must all be granted.
    pub scopes: Vec<String>,
    /// `(claim path, value)` pairs that must all hold.
    pub claims: Vec<(String, String)>,
}

impl Requirements {
    /// Adds one `require_scope` value (several scopes separated by spaces).
    pub fn add_scope(&mut self, value: &str) {
        self.scopes
            .extend(value.split_whitespace().map(str::to_string));
    }

    /// Adds one `require_claim` value (`name:value`); a value without `:`
    /// requires the claim to be present with an empty value, which no
    /// token meets, so a typo denies instead of allowing.
    pub fn add_claim(&mut self, value: &str) {
        let (name, wanted) = value.split_once(':').unwrap_or((value, ""));
        self.claims
            .push((name.trim().to_string(), wanted.to_string()));
    }

    /// Whether nothing is required.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty() && self.claims.is_empty()
    }

    /// The first requirement `claims` does not meet, as a sentence.
    pub fn unmet(&self, claims: &Map<String, Value>) -> Option<String> {
        let granted = granted_scopes(claims);
        if let Some(missing) = self
            .scopes
            .iter()
            .find(|s| !granted.iter().any(|g| g == *s))
        {
            return Some(format!("the token does not grant the scope {missing:?}"));
        }
        self.claims
            .iter()
            .find(|(name, wanted)| !claim_holds(claims, name, wanted))
            .map(|(name, wanted)| format!("the token's claim {name:?} is not {wanted:?}"))
    }
}

/// The scopes of `scope` (space-separated) and `scp` (string or array).
fn granted_scopes(claims: &Map<String, Value>) -> Vec<&str> {
    let mut out = Vec::new();
    for name in ["scope", "scp"] {
        match claims.get(name) {
            Some(Value::String(s)) => out.extend(s.split_whitespace()),
            Some(Value::Array(all)) => out.extend(all.iter().filter_map(Value::as_str)),
            _ => {}
        }
    }
    out
}

/// Whether the claim at the dotted `path` equals `wanted` or, for an
/// array, contains it.
fn claim_holds(claims: &Map<String, Value>, path: &str, wanted: &str) -> bool {
    let mut parts = path.split('.');
    let Some(first) = parts.next() else {
        return false;
    };
    let mut value = claims.get(first);
    for part in parts {
        value = value.and_then(|v| v.get(part));
    }
    let matches = |v: &Value| match v {
        Value::String(s) => s == wanted,
        Value::Number(n) => n.to_string() == wanted,
        Value::Bool(b) => wanted == if *b { "true" } else { "false" },
        _ => false,
    };
    match value {
        Some(Value::Array(items)) => items.iter().any(matches),
        Some(v) => matches(v),
        None => false,
    }
}

/// Why a check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// No bearer token in the request (401, no `error` attribute).
    NoToken,
    /// Not a valid token of this issuer, or revoked (401 `invalid_token`).
    Invalid(String),
    /// Valid, but a requirement is not met (403 `insufficient_scope`).
    Insufficient(String),
}

/// A token that passed: what the gateway forwards upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// `x-auth-sub`: the `sub` claim, when it is a string.
    pub sub: Option<String>,
    /// `x-auth-claims`: the claims JSON as signed, base64url without padding.
    pub claims_b64: String,
}

impl Issuer {
    /// The external authorization check of `token` against `required`.
    pub fn ext_authz(
        &self,
        token: Option<&str>,
        required: &Requirements,
    ) -> Result<Allowed, Denial> {
        let token = token.filter(|t| !t.is_empty()).ok_or(Denial::NoToken)?;
        let (kind, claims) = self.verify_presented(token).map_err(Denial::Invalid)?;
        if kind != Kind::Access {
            return Err(Denial::Invalid(
                "a refresh token is not an access token".into(),
            ));
        }
        if let Some(why) = required.unmet(&claims) {
            return Err(Denial::Insufficient(why));
        }
        // The payload segment is the claims JSON as signed, already base64url
        // without padding (RFC 7515 §7.1): forwarded as is.
        let claims_b64 = match token.split('.').nth(1) {
            Some(payload) => payload.to_string(),
            None => URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string()),
        };
        Ok(Allowed {
            sub: claims
                .get("sub")
                .and_then(Value::as_str)
                .map(str::to_string),
            claims_b64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::MintRequest;
    use crate::issuer::{RequestCtx, testing};
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn required(scopes: &[&str], wanted: &[&str]) -> Requirements {
        let mut r = Requirements::default();
        scopes.iter().for_each(|s| r.add_scope(s));
        wanted.iter().for_each(|c| r.add_claim(c));
        r
    }

    #[test]
    fn requirements_table() {
        let c = claims(json!({
            "scope": "read write", "scp": ["admin"], "roles": ["ops", "dev"],
            "network": "mainnet", "rate_limit": 100, "email_verified": true,
            "o": {"rol": "admin", "n": {"deep": "x"}}, "url": "http://a:b"
        }));
        let cases: &[(&[&str], &[&str], bool)] = &[
            (&[], &[], true),
            (&["read"], &[], true),
            (&["read write"], &[], true),
            (&["read", "admin"], &[], true),
            (&["delete"], &[], false),
            (&["read", "delete"], &[], false),
            (&[], &["roles:ops"], true),
            (&[], &["roles:root"], false),
            (&[], &["network:mainnet", "rate_limit:100"], true),
            (&[], &["email_verified:true"], true),
            (&[], &["email_verified:false"], false),
            (&[], &["o.rol:admin"], true),
            (&[], &["o.n.deep:x"], true),
            (&[], &["o.missing:x"], false),
            (&[], &["url:http://a:b"], true),
            (&[], &["network"], false),
            (&[], &["absent:"], false),
        ];
        for (scopes, wanted, ok) in cases {
            let r = required(scopes, wanted);
            assert_eq!(
                r.unmet(&c).is_none(),
                *ok,
                "{scopes:?} {wanted:?}: {:?}",
                r.unmet(&c)
            );
        }
        assert!(required(&[" "], &[]).is_empty());
        assert!(
            required(&["x"], &[])
                .unmet(&claims(json!({})))
                .unwrap()
                .contains("\"x\"")
        );
    }

    #[test]
    fn valid_revoked_and_foreign_tokens() {
        let issuer = testing::issuer("", vec![]);
        let rc = RequestCtx::new("http://h");
        let req: MintRequest =
            serde_json::from_value(json!({"sub": "svc", "claims": {"scope": "read"}})).unwrap();
        let token = issuer.mint(&rc, &req).unwrap().access_token;
        let none = Requirements::default();
        let allowed = issuer.ext_authz(Some(&token), &none).unwrap();
        assert_eq!(allowed.sub.as_deref(), Some("svc"));
        let decoded: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&allowed.claims_b64).unwrap()).unwrap();
        assert_eq!(decoded["sub"], "svc");
        assert_eq!(issuer.ext_authz(None, &none), Err(Denial::NoToken));
        assert_eq!(issuer.ext_authz(Some(""), &none), Err(Denial::NoToken));
        assert!(matches!(
            issuer.ext_authz(Some("garbage"), &none),
            Err(Denial::Invalid(_))
        ));
        assert!(matches!(
            issuer.ext_authz(Some(&token), &required(&["admin"], &[])),
            Err(Denial::Insufficient(_))
        ));
        let other = testing::issuer("", vec![]);
        assert!(matches!(
            other.ext_authz(Some(&token), &none),
            Err(Denial::Invalid(_))
        ));
        let jti = decoded["jti"].as_str().unwrap();
        issuer.spent().spend(jti, i64::MAX, 0).unwrap();
        assert!(matches!(
            issuer.ext_authz(Some(&token), &none),
            Err(Denial::Invalid(why)) if why.contains("revoked")
        ));
    }
}
