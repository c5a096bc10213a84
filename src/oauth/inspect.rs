//! Presented tokens: userinfo (OIDC Core §5.3), introspection (RFC 7662)
//! and revocation (RFC 7009). Tokens are verified against the merged key set
//! and this issuer; revocation is remembered per replica ([`super::spent`]).

use serde_json::{Map, Value, json};

use super::artifacts::{CODE_TYP, REFRESH_TYP};
use crate::app::SharedState;
use crate::error::ApiError;
use crate::jwt;

/// What a verified token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An access token (or any other token this mock-idp minted as a JWT).
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
];

/// Verifies `token` (signature by a known key, `exp`/`nbf`, `iss` = this
/// issuer, not revoked or rotated on this replica) and says what it is.
pub fn verify(
    state: &SharedState,
    token: &str,
    now: i64,
) -> Result<(Kind, Map<String, Value>), String> {
    let kind = match jwt::header_typ(token)
        .map_err(|e| e.to_string())?
        .as_deref()
    {
        Some(REFRESH_TYP) => Kind::Refresh,
        Some(CODE_TYP) => return Err("an authorization code is not a token".into()),
        _ => Kind::Access,
    };
    let claims = jwt::verify(token, &state.keys.merged(), Some(&state.config.issuer))
        .map_err(|e| e.to_string())?;
    if let Some(jti) = claims.get("jti").and_then(Value::as_str)
        && state.spent.is_spent(jti, now)
    {
        return Err("token was revoked (or, for a refresh token, already used)".into());
    }
    Ok((kind, claims))
}

/// The claims `GET /userinfo` returns for a Bearer access token: the user's
/// claims (`sub`, persona and login claims, org), without token mechanics.
pub fn userinfo(
    state: &SharedState,
    token: &str,
    now: i64,
) -> Result<Map<String, Value>, ApiError> {
    let (kind, claims) = verify(state, token, now).map_err(ApiError::InvalidToken)?;
    if kind != Kind::Access {
        return Err(ApiError::InvalidToken(
            "a refresh token is not an access token".into(),
        ));
    }
    if !claims.get("sub").is_some_and(Value::is_string) {
        return Err(ApiError::InvalidToken("token has no sub".into()));
    }
    Ok(claims
        .into_iter()
        .filter(|(k, _)| !MECHANICS.contains(&k.as_str()))
        .collect())
}

/// RFC 7662 §2.2: `{"active": true, ...claims, "token_type", "client_id"}`
/// for a live token, `{"active": false}` for anything else.
pub fn introspect(state: &SharedState, token: &str, now: i64) -> Value {
    let Ok((kind, claims)) = verify(state, token, now) else {
        return json!({"active": false});
    };
    let mut out = Map::new();
    out.insert("active".into(), json!(true));
    let client_id = claims
        .get("client_id")
        .or_else(|| claims.get("azp"))
        .cloned();
    let username = claims.get("user").cloned();
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
    Value::Object(out)
}

/// RFC 7009 §2.1: remembers the `jti` of a valid access or refresh token as
/// revoked until it expires. Anything else is ignored (still a 200).
/// Returns whether something was revoked.
pub fn revoke(state: &SharedState, token: &str, now: i64) -> bool {
    let Ok((_, claims)) = verify(state, token, now) else {
        return false;
    };
    match (
        claims.get("jti").and_then(Value::as_str),
        claims.get("exp").and_then(Value::as_i64),
    ) {
        (Some(jti), Some(exp)) => state.spent.spend(jti, exp, now),
        _ => false,
    }
}
