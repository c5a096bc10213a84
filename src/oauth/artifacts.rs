//! Authorization codes and refresh tokens: self-contained JWTs signed with
//! this replica's key and verified against the merged key set, so a code
//! issued by replica A can be redeemed at a federated replica B.
//!
//! Each kind has its own JOSE `typ` ([`CODE_TYP`], [`REFRESH_TYP`]), which
//! the mint endpoint cannot produce, and `aud` = the issuer, so a resource
//! server that checks `aud` never mistakes one for an access token.
//! One-time use is enforced per replica by [`super::spent::SpentJtis`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::claims::{Alphabet, random_token};
use crate::error::ApiError;
use crate::jwt;
use crate::keys::{JwksSnapshot, SigningKey};

/// JOSE `typ` of authorization codes.
pub const CODE_TYP: &str = "mock-idp-code+jwt";
/// JOSE `typ` of refresh tokens.
pub const REFRESH_TYP: &str = "mock-idp-refresh+jwt";
/// Lifetime of an authorization code, in seconds (RFC 6749 §4.1.2 advises at most 10 minutes).
pub const CODE_TTL: i64 = 60;
/// Lifetime of a refresh token, in seconds (one day; each use rotates it).
pub const REFRESH_TTL: i64 = 86_400;

/// Who signed in, carried from the login to every token of the grant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Login {
    /// The persona's name, when the user is a persona.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Subject of the tokens.
    pub sub: String,
    /// Extra claims typed at login (or sent as `claims=` with the password grant).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub login_claims: Map<String, Value>,
    /// When the user authenticated (UNIX seconds), for the ID token's `auth_time`.
    pub auth_time: i64,
}

/// Registered claims every artifact has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Issuer (`ISSUER`).
    pub iss: String,
    /// Audience: the issuer itself; these are for the token endpoint only.
    pub aud: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Unique id, the key of one-time use.
    pub jti: String,
    /// The client the artifact was issued to.
    pub client_id: String,
}

impl Envelope {
    /// A new envelope for `client_id`, valid `ttl` seconds from `now`.
    pub fn new(issuer: &str, client_id: &str, now: i64, ttl: i64) -> Self {
        Envelope {
            iss: issuer.to_string(),
            aud: issuer.to_string(),
            iat: now,
            exp: now.saturating_add(ttl),
            jti: random_token(32, Alphabet::Hex),
            client_id: client_id.to_string(),
        }
    }
}

/// The content of an authorization code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeClaims {
    /// Registered claims.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// `redirect_uri` of the authorization request, when it had one; the
    /// token request must repeat it (RFC 6749 §4.1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Granted scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// OIDC `nonce`, echoed in the ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// PKCE challenge (RFC 7636 §4.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    /// `S256` or `plain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_method: Option<String>,
    /// Who signed in.
    #[serde(flatten)]
    pub login: Login,
}

/// The content of a refresh token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefreshClaims {
    /// Registered claims.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Scope of the original grant; a refresh may only narrow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Who signed in.
    #[serde(flatten)]
    pub login: Login,
}

/// Signs `content` as a JWT of kind `typ`.
pub fn seal<T: Serialize>(key: &SigningKey, typ: &str, content: &T) -> Result<String, ApiError> {
    let claims = match serde_json::to_value(content) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(ApiError::Internal("artifact is not a JSON object".into())),
        Err(e) => return Err(ApiError::Internal(format!("artifact serialization: {e}"))),
    };
    Ok(jwt::encode_typed(key, typ, &claims)?)
}

/// Verifies a presented artifact of kind `typ` (signature by any key of the
/// merged set, `exp`, `iss`, `aud`) and decodes it. `field` names the form
/// field in the `invalid_grant` message.
pub fn open<T: DeserializeOwned>(
    token: &str,
    typ: &str,
    field: &str,
    keys: &JwksSnapshot,
    issuer: &str,
) -> Result<T, ApiError> {
    let bad = |why: String| ApiError::InvalidGrant(format!("{field}: {why}"));
    match jwt::header_typ(token) {
        Ok(Some(t)) if t == typ => {}
        Ok(_) => {
            return Err(bad(format!(
                "is not a {} issued by this mock-idp",
                field.replace('_', " ")
            )));
        }
        Err(e) => return Err(bad(e.to_string())),
    }
    let claims = jwt::verify(token, keys, Some(issuer)).map_err(|e| bad(e.to_string()))?;
    if claims.get("aud").and_then(Value::as_str) != Some(issuer) {
        return Err(bad("has the wrong audience".into()));
    }
    serde_json::from_value(Value::Object(claims)).map_err(|e| bad(format!("is malformed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyStore, KidPolicy};

    fn store() -> KeyStore {
        KeyStore::new(SigningKey::generate(&KidPolicy::default()).unwrap())
    }

    fn refresh(now: i64) -> RefreshClaims {
        RefreshClaims {
            envelope: Envelope::new("https://i", "web", now, 60),
            scope: Some("openid".into()),
            login: Login {
                user: Some("alice".into()),
                sub: "user_alice".into(),
                login_claims: serde_json::json!({"x": 1}).as_object().cloned().unwrap(),
                auth_time: now,
            },
        }
    }

    #[test]
    fn seal_then_open_round_trips() {
        let store = store();
        let content = refresh(crate::unix_now());
        let token = seal(store.signing_key(), REFRESH_TYP, &content).unwrap();
        let back: RefreshClaims = open(
            &token,
            REFRESH_TYP,
            "refresh_token",
            &store.merged(),
            "https://i",
        )
        .unwrap();
        assert_eq!(back, content);
    }

    #[test]
    fn open_rejects_other_kinds_issuers_and_keys() {
        let store = store();
        let keys = store.merged();
        let content = refresh(crate::unix_now());
        let token = seal(store.signing_key(), REFRESH_TYP, &content).unwrap();
        let err = |r: Result<RefreshClaims, ApiError>| r.unwrap_err().to_string();
        let e = err(open(&token, CODE_TYP, "code", &keys, "https://i"));
        assert!(e.starts_with("code: is not a code"), "{e}");
        let e = err(open(
            &token,
            REFRESH_TYP,
            "refresh_token",
            &keys,
            "https://other",
        ));
        assert!(e.contains("refresh_token: token is invalid"), "{e}");
        let access = jwt::encode(
            store.signing_key(),
            serde_json::to_value(&content).unwrap().as_object().unwrap(),
        )
        .unwrap();
        let e = err(open(
            &access,
            REFRESH_TYP,
            "refresh_token",
            &keys,
            "https://i",
        ));
        assert!(e.contains("is not a refresh token"), "{e}");
        let foreign = seal(store_key().as_ref(), REFRESH_TYP, &content).unwrap();
        let e = err(open(
            &foreign,
            REFRESH_TYP,
            "refresh_token",
            &keys,
            "https://i",
        ));
        assert!(e.contains("unknown key"), "{e}");
        let e = err(open(
            "made-up",
            REFRESH_TYP,
            "refresh_token",
            &keys,
            "https://i",
        ));
        assert!(e.contains("malformed"), "{e}");
        let expired = seal(
            store.signing_key(),
            REFRESH_TYP,
            &refresh(crate::unix_now() - 120),
        )
        .unwrap();
        let e = err(open(
            &expired,
            REFRESH_TYP,
            "refresh_token",
            &keys,
            "https://i",
        ));
        assert!(e.contains("Expired"), "{e}");
    }

    fn store_key() -> Box<SigningKey> {
        Box::new(SigningKey::generate(&KidPolicy::default()).unwrap())
    }
}
