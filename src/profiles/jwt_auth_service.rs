//! `jwt-auth-service`: the claims of klazomenai/jwt-auth-service
//! (`pkg/auth/jwt.go`, `TokenClaims`): `aud` as an array, a UUID `jti`,
//! `user_id`, `network` and `rate_limit`, no `nbf`. Only the claim shape,
//! paths, default `iss` and discovery live here; the service's API
//! (`/tokens`, `/token-pairs`, ...) is [`crate::issuer::lifecycle`]. `client_credentials` and
//! ID tokens are the plain ones.

use serde_json::{Map, Value, json};

use super::{
    ProfileSettings, Shape, Shaped, TokenInput, TokenKind, aud_list, ids, plain, registered,
};
use crate::random::RandomError;

/// The `jwt-auth-service` profile.
#[derive(Debug, Clone, Copy)]
pub struct JwtAuthService;

/// `network` when the request names none (the service's default).
pub const DEFAULT_NETWORK: &str = "default";
/// `rate_limit` when the request names none (the service's default).
pub const DEFAULT_RATE_LIMIT: u32 = 100;

impl Shape for JwtAuthService {
    fn name(&self) -> &'static str {
        "jwt-auth-service"
    }

    fn claims(&self, t: &TokenInput<'_>) -> Result<Shaped, RandomError> {
        if t.kind != TokenKind::Access {
            return plain::claims(t).map(Shaped::from);
        }
        let mut c = registered(t);
        if t.aud.is_some() {
            // golang-jwt's ClaimStrings: always an array.
            c.insert("aud".into(), json!(aud_list(t.aud)));
        }
        c.insert("jti".into(), json!(ids::uuid_v4()?));
        let sub = t.subject.sub;
        let user_id = t
            .subject
            .username
            .unwrap_or_else(|| sub.strip_prefix("user_").unwrap_or(sub));
        c.insert("user_id".into(), json!(user_id));
        c.insert("network".into(), json!(DEFAULT_NETWORK));
        c.insert("rate_limit".into(), json!(DEFAULT_RATE_LIMIT));
        Ok(c.into())
    }

    /// `<mount>/authorize` is the service's external authorization check on
    /// these issuers, not an OAuth authorization endpoint: discovery does
    /// not offer one, nor the code grant that needs it.
    fn discovery(&self, doc: &mut Map<String, Value>, _settings: &ProfileSettings) {
        doc.remove("authorization_endpoint");
        if let Some(Value::Array(grants)) = doc.get_mut("grant_types_supported") {
            grants.retain(|g| g != "authorization_code");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{claims, input};
    use super::super::{Profile, Subject};
    use super::*;

    #[test]
    fn the_services_claims() {
        let mut t = input(TokenKind::Access);
        let aud = json!("test-api");
        t.aud = Some(&aud);
        let c = claims(Profile::JwtAuthService, &t);
        assert_eq!(c["aud"], json!(["test-api"]));
        assert_eq!(c["user_id"], "alice");
        assert_eq!(
            (c["network"].as_str(), c["rate_limit"].as_u64()),
            (Some("default"), Some(100))
        );
        assert!(ids::is_guid(c["jti"].as_str().unwrap()));
        assert!(!c.contains_key("nbf") && !c.contains_key("roles"));
        t.subject = Subject {
            sub: "user_u123",
            ..Subject::default()
        };
        assert_eq!(claims(Profile::JwtAuthService, &t)["user_id"], "u123");
    }
}
