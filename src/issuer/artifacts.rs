//! Authorization codes and refresh tokens: self-contained JWTs signed with
//! the issuer's key and verified against its merged key set, so a code
//! issued by replica A can be redeemed at a federated replica B.
//!
//! Each kind has its own JOSE `typ` ([`ArtifactKind::typ`]), which the mint
//! endpoint cannot produce, and `aud` = the issuer, so a resource server
//! that checks `aud` never mistakes one for an access token. They are bound
//! to their issuer by its keys (every issuer has its own), not by the `iss`
//! text, which depends on the URL the client used. One-time use is enforced
//! per issuer and replica by [`super::spent::SpentJtis`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::OAuthError;
use crate::jwt;
use crate::keys::{JwksSnapshot, SigningKey};
use crate::random::{self, Alphabet};

/// Lifetime of an authorization code, in seconds (RFC 6749 §4.1.2 advises at most 10 minutes).
pub const CODE_TTL: i64 = 60;
/// Lifetime of a refresh token, in seconds (one day; each use rotates it).
pub const REFRESH_TTL: i64 = 86_400;

/// The kinds of artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// An authorization code.
    Code,
    /// A refresh token.
    Refresh,
}

impl ArtifactKind {
    /// The JOSE `typ` of this kind.
    pub fn typ(self) -> &'static str {
        match self {
            ArtifactKind::Code => "mock-idp-code+jwt",
            ArtifactKind::Refresh => "mock-idp-refresh+jwt",
        }
    }

    /// The form field that carries it (named in errors).
    pub fn field(self) -> &'static str {
        match self {
            ArtifactKind::Code => "code",
            ArtifactKind::Refresh => "refresh_token",
        }
    }

    /// The kind whose `typ` is `typ`, if any.
    pub fn from_typ(typ: &str) -> Option<ArtifactKind> {
        [ArtifactKind::Code, ArtifactKind::Refresh]
            .into_iter()
            .find(|k| k.typ() == typ)
    }
}

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
    /// Issuer (`iss` as the client saw it when the artifact was issued).
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
    pub fn new(issuer: &str, client_id: &str, now: i64, ttl: i64) -> Result<Self, OAuthError> {
        Ok(Envelope {
            iss: issuer.to_string(),
            aud: issuer.to_string(),
            iat: now,
            exp: now.saturating_add(ttl),
            jti: random::token(32, Alphabet::Hex)
                .map_err(|e| OAuthError::server("drawing a jti failed", e))?,
            client_id: client_id.to_string(),
        })
    }

    /// `invalid_grant` naming `kind`'s field unless the artifact was issued
    /// to `client_id`.
    pub fn check_client(&self, kind: ArtifactKind, client_id: &str) -> Result<(), OAuthError> {
        if self.client_id == client_id {
            return Ok(());
        }
        Err(OAuthError::invalid_grant(format!(
            "{}: was issued to another client, not {client_id:?}",
            kind.field()
        )))
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

/// Signs `content` as an artifact of `kind`.
pub fn seal<T: Serialize>(
    key: &SigningKey,
    kind: ArtifactKind,
    content: &T,
) -> Result<String, OAuthError> {
    let claims = match serde_json::to_value(content) {
        Ok(Value::Object(map)) => map,
        Ok(other) => {
            return Err(OAuthError::server(
                "an artifact is not a JSON object",
                std::io::Error::other(format!("got {other}")),
            ));
        }
        Err(e) => return Err(OAuthError::server("serializing an artifact failed", e)),
    };
    jwt::encode_typed(key, kind.typ(), &claims)
        .map_err(|e| OAuthError::server("signing an artifact failed", e))
}

/// Verifies a presented artifact of `kind` (its `typ`, a signature by any
/// key of the issuer's merged set, `exp`) and decodes it. Errors are
/// `invalid_grant` naming the form field.
pub fn open<T: DeserializeOwned>(
    token: &str,
    kind: ArtifactKind,
    keys: &JwksSnapshot,
    now: i64,
) -> Result<T, OAuthError> {
    let field = kind.field();
    let bad = |why: String| OAuthError::invalid_grant(format!("{field}: {why}"));
    match jwt::header_typ(token) {
        Ok(Some(t)) if t == kind.typ() => {}
        Ok(_) => {
            return Err(bad(format!(
                "is not a {} issued by this issuer",
                field.replace('_', " ")
            )));
        }
        Err(e) => return Err(bad(e.to_string())),
    }
    let claims = jwt::verify_at(token, keys, None, now).map_err(|e| bad(e.to_string()))?;
    serde_json::from_value(Value::Object(claims)).map_err(|e| bad(format!("is malformed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::ErrorCode;
    use crate::keys::{KeyStore, KidPolicy};

    fn store() -> KeyStore {
        KeyStore::new(SigningKey::generate(&KidPolicy::default()).unwrap())
    }

    fn refresh(now: i64) -> RefreshClaims {
        RefreshClaims {
            envelope: Envelope::new("https://i", "web", now, 60).unwrap(),
            scope: Some("openid".into()),
            login: Login {
                user: Some("alice".into()),
                sub: "user_alice".into(),
                login_claims: serde_json::json!({"x": 1}).as_object().cloned().unwrap(),
                auth_time: now,
            },
        }
    }

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn seal_then_open_round_trips() {
        let store = store();
        let content = refresh(NOW);
        let key = store.signing_key().unwrap();
        let token = seal(&key, ArtifactKind::Refresh, &content).unwrap();
        let back: RefreshClaims =
            open(&token, ArtifactKind::Refresh, &store.merged(), NOW + 1).unwrap();
        assert_eq!(back, content);
        assert_eq!(
            ArtifactKind::from_typ("mock-idp-code+jwt"),
            Some(ArtifactKind::Code)
        );
        assert_eq!(ArtifactKind::from_typ("JWT"), None);
    }

    #[test]
    fn open_rejects_other_kinds_keys_expiry_and_garbage() {
        let store = store();
        let keys = store.merged();
        let key = store.signing_key().unwrap();
        let content = refresh(NOW);
        let token = seal(&key, ArtifactKind::Refresh, &content).unwrap();
        let err = |r: Result<RefreshClaims, OAuthError>| {
            let e = r.unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidGrant);
            e.to_string()
        };
        let e = err(open(&token, ArtifactKind::Code, &keys, NOW));
        assert!(e.starts_with("code: is not a code"), "{e}");
        let access = jwt::encode(
            &key,
            serde_json::to_value(&content).unwrap().as_object().unwrap(),
        )
        .unwrap();
        let e = err(open(&access, ArtifactKind::Refresh, &keys, NOW));
        assert!(e.contains("is not a refresh token"), "{e}");
        let other = SigningKey::generate(&KidPolicy::default()).unwrap();
        let foreign = seal(&other, ArtifactKind::Refresh, &content).unwrap();
        let e = err(open(&foreign, ArtifactKind::Refresh, &keys, NOW));
        assert!(e.contains("unknown key"), "{e}");
        let e = err(open("made-up", ArtifactKind::Refresh, &keys, NOW));
        assert!(e.contains("malformed"), "{e}");
        let e = err(open(&token, ArtifactKind::Refresh, &keys, NOW + 61));
        assert!(e.contains("expired"), "{e}");
    }
}
