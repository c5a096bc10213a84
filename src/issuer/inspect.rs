//! Presented tokens: userinfo (OIDC Core §5.3), introspection (RFC 7662)
//! and revocation (RFC 7009). A token is this issuer's when it is signed by
//! one of its keys (own or a peer replica's for the same issuer), whatever
//! URL the client used; revocations are remembered per issuer and replica
//! ([`super::spent`]).

use serde_json::{Map, Value, json};

use super::artifacts::ArtifactKind;
use super::client::{self, BasicCredentials};
use super::{Form, Issuer, OAuthError};
use crate::jwt;

/// What a verified token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An access token (or any other token this issuer minted as a JWT).
    Access,
    /// A refresh token.
    Refresh,
}

/// Claims that describe the token rather than the user; userinfo leaves them out.
const MECHANICS: &[&str] = &[
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "azp",
    "scope",
    "client_id",
    "at_hash",
    "nonce",
    "auth_time",
    "sid",
    "v",
    "fva",
    // Profile mechanics (Keycloak, Cognito, Entra, Auth0, Clerk M2M).
    "typ",
    "acr",
    "token_use",
    "version",
    "origin_jti",
    "event_id",
    "ver",
    "uti",
    "idtyp",
    "azpacr",
    "scp",
    "gty",
    "scopes",
];

impl Issuer {
    /// Verifies `token` at the issuer's clock (signature by one of its keys,
    /// `exp`/`nbf`, not revoked or rotated) and says what it is.
    pub fn verify_presented(&self, token: &str) -> Result<(Kind, Map<String, Value>), String> {
        let now = self.clock().now();
        let kind = match jwt::header_typ(token)
            .map_err(|e| e.to_string())?
            .as_deref()
            .and_then(ArtifactKind::from_typ)
        {
            Some(ArtifactKind::Refresh) => Kind::Refresh,
            Some(ArtifactKind::Code) => return Err("an authorization code is not a token".into()),
            None => Kind::Access,
        };
        let claims =
            jwt::verify_at(token, &self.keys().merged(), None, now).map_err(|e| e.to_string())?;
        match claims.get("iss").and_then(Value::as_str) {
            Some(iss) if self.iss_matches(iss) => {}
            other => {
                return Err(format!(
                    "token is invalid: its iss {:?} is not this issuer's",
                    other.unwrap_or("")
                ));
            }
        }
        if let Some(jti) = claims.get("jti").and_then(Value::as_str)
            && self.spent().is_spent(jti, now)
        {
            return Err("token was revoked (or, for a refresh token, already used)".into());
        }
        // A lifecycle child dies with its parent, also where the cascade
        // could not reach it (a child minted by another replica).
        if let Some(parent) = claims.get("parent_jti").and_then(Value::as_str)
            && self.spent().is_spent(parent, now)
        {
            return Err("token was revoked with its parent".into());
        }
        Ok((kind, claims))
    }

    /// The claims `GET /userinfo` returns for a Bearer access token: the
    /// user's claims (`sub`, persona and login claims, org), without token
    /// mechanics, plus the profile claims of the persona with that `sub`
    /// (an access token need not carry them: Auth0's and Cognito's do not).
    pub fn userinfo(&self, token: &str) -> Result<Map<String, Value>, OAuthError> {
        let (kind, claims) = self
            .verify_presented(token)
            .map_err(OAuthError::invalid_token)?;
        if kind != Kind::Access {
            return Err(OAuthError::invalid_token(
                "a refresh token is not an access token",
            ));
        }
        if !claims.get("sub").is_some_and(Value::is_string) {
            return Err(OAuthError::invalid_token("token has no sub"));
        }
        let profile = claims
            .get("sub")
            .and_then(Value::as_str)
            .map(|sub| self.persona_profile_claims(sub))
            .unwrap_or_default();
        let mut out: Map<String, Value> = claims
            .into_iter()
            .filter(|(k, _)| !MECHANICS.contains(&k.as_str()))
            .collect();
        for (k, v) in profile {
            out.entry(k).or_insert(v);
        }
        Ok(out)
    }

    /// `POST /introspect` (RFC 7662 §2.2): authenticates the caller, then
    /// `{"active": true, ...claims, "token_type", "client_id"}` for a live
    /// token, `{"active": false}` for anything else.
    pub fn introspect(
        &self,
        basic: Option<&BasicCredentials>,
        form: &Form,
    ) -> Result<Value, OAuthError> {
        client::authenticate_caller(&self.clients(), basic, form)?;
        let token = form.require("token")?;
        let Ok((kind, claims)) = self.verify_presented(token) else {
            return Ok(json!({"active": false}));
        };
        let mut out = Map::new();
        out.insert("active".into(), json!(true));
        let client_id = claims
            .get("client_id")
            .or_else(|| claims.get("azp"))
            .cloned();
        // RFC 7662 `username`: the profile's login-name claim.
        let username = ["preferred_username", "username", "cognito:username", "user"]
            .iter()
            .find_map(|k| claims.get(*k).filter(|v| v.is_string()))
            .cloned();
        out.extend(claims);
        if let Some(id) = client_id {
            out.insert("client_id".into(), id);
        }
        if let Some(user) = username {
            out.insert("username".into(), user);
        }
        let token_type = match kind {
            Kind::Access => "Bearer",
            Kind::Refresh => "refresh_token",
        };
        out.insert("token_type".into(), json!(token_type));
        Ok(Value::Object(out))
    }

    /// `POST <logout>` with a `refresh_token` (Keycloak's logout by a
    /// client, which python-keycloak's `logout()` sends): authenticates the
    /// caller, then ends the session by revoking the refresh token.
    /// `invalid_grant` when it is not a live refresh token of this issuer.
    pub fn logout_refresh_token(
        &self,
        basic: Option<&BasicCredentials>,
        form: &Form,
    ) -> Result<(), OAuthError> {
        client::authenticate_caller(&self.clients(), basic, form)?;
        let token = form.require("refresh_token")?;
        let (kind, claims) = self
            .verify_presented(token)
            .map_err(|e| OAuthError::invalid_grant(format!("refresh_token: {e}")))?;
        if kind != Kind::Refresh {
            return Err(OAuthError::invalid_grant(
                "refresh_token: is not a refresh token",
            ));
        }
        if let (Some(jti), Some(exp)) = (
            claims.get("jti").and_then(Value::as_str),
            claims.get("exp").and_then(Value::as_i64),
        ) {
            self.spent().spend(jti, exp, self.clock().now())?;
        }
        Ok(())
    }

    /// `POST /revoke` (RFC 7009 §2.1): authenticates the caller, then
    /// remembers the `jti` of a valid access or refresh token as revoked
    /// until it expires. Anything else is ignored (still a success).
    /// Returns whether something was revoked; `temporarily_unavailable`
    /// when the replay set is full of live entries.
    pub fn revoke(
        &self,
        basic: Option<&BasicCredentials>,
        form: &Form,
    ) -> Result<bool, OAuthError> {
        client::authenticate_caller(&self.clients(), basic, form)?;
        let token = form.require("token")?;
        let Ok((_, claims)) = self.verify_presented(token) else {
            return Ok(false);
        };
        match (
            claims.get("jti").and_then(Value::as_str),
            claims.get("exp").and_then(Value::as_i64),
        ) {
            (Some(jti), Some(exp)) => Ok(self.spent().spend(jti, exp, self.clock().now())?),
            _ => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::MintRequest;
    use crate::issuer::{ErrorCode, RequestCtx, testing};

    fn form(s: &str) -> Form {
        Form::parse(s.as_bytes(), "form body").unwrap()
    }

    #[test]
    fn introspect_revoke_and_userinfo() {
        let issuer = testing::issuer("", vec![]);
        let minted = issuer
            .mint(
                &RequestCtx::new("http://h"),
                &MintRequest {
                    sub: Some("u1".into()),
                    claims: Some(json!({"email": "u@x"}).as_object().cloned().unwrap()),
                    ..Default::default()
                },
            )
            .unwrap();
        let t = &minted.access_token;
        let info = issuer.userinfo(t).unwrap();
        assert_eq!(info["sub"], "u1");
        assert_eq!(info["email"], "u@x");
        assert!(!info.contains_key("exp") && !info.contains_key("sid"));
        let active = issuer
            .introspect(None, &form(&format!("token={t}")))
            .unwrap();
        assert_eq!(active["active"], true);
        assert_eq!(active["token_type"], "Bearer");
        assert!(issuer.revoke(None, &form(&format!("token={t}"))).unwrap());
        assert!(
            !issuer.revoke(None, &form(&format!("token={t}"))).unwrap(),
            "already revoked"
        );
        assert_eq!(
            issuer
                .introspect(None, &form(&format!("token={t}")))
                .unwrap(),
            json!({"active": false})
        );
        let e = issuer.userinfo(t).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidToken);
        assert!(e.to_string().contains("revoked"), "{e}");
        assert!(!issuer.revoke(None, &form("token=garbage")).unwrap());
        let e = issuer.introspect(None, &form("")).unwrap_err();
        assert_eq!(e.to_string(), "token: is required");
        // Another issuer's token is not active here.
        let other = testing::issuer("", vec![]);
        let foreign = other
            .mint(&RequestCtx::new("http://h"), &MintRequest::default())
            .unwrap();
        let answer = issuer
            .introspect(None, &form(&format!("token={}", foreign.access_token)))
            .unwrap();
        assert_eq!(answer, json!({"active": false}));
    }

    #[test]
    fn the_issuer_clock_decides_expiry() {
        let issuer = testing::issuer("", vec![]);
        let t = issuer
            .mint(&RequestCtx::new("http://h"), &MintRequest::default())
            .unwrap()
            .access_token;
        assert!(issuer.userinfo(&t).is_ok());
        issuer
            .clock()
            .set(crate::issuer::clock::ClockSetting::Offset(3600));
        let e = issuer.userinfo(&t).unwrap_err();
        assert!(e.to_string().contains("expired"), "{e}");
    }
}
