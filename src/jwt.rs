//! Compact JWS (RFC 7515) encoding with a cached signing key, and verification
//! of tokens against the merged key set.
//!
//! Signing is the hot path: the JOSE header is encoded once per key and the
//! RSA key pair is parsed once ([`crate::keys::SigningKey`]); per token we only
//! serialize the claims, base64url them and sign.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use crate::keys::{JwksSnapshot, KeyError, SigningKey};

/// Why a token could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The claims could not be turned into JSON.
    #[error("the claims cannot be serialized as JSON")]
    Serialize(#[source] serde_json::Error),
    /// The signature failed inside aws-lc.
    #[error(transparent)]
    Sign(#[from] KeyError),
}

/// Signs `claims` with `key` and returns the compact JWS. Like
/// [`encode_typed`], it notes the token's `exp` on the key, which keeps a
/// rotated-out key published until the last token it signed expires.
pub fn encode(key: &SigningKey, claims: &Map<String, Value>) -> Result<String, EncodeError> {
    encode_with_header(key, key.header_b64(), claims)
}

/// Signs `claims` with a JOSE header whose `typ` is `typ` instead of `JWT`.
///
/// Authorization codes and refresh tokens use their own `typ`: the header is
/// the one part of a token that `POST /token`'s mint cannot set, so a minted
/// token can never pass for a code or a refresh token (RFC 8725 §3.11).
pub fn encode_typed(
    key: &SigningKey,
    typ: &str,
    claims: &Map<String, Value>,
) -> Result<String, EncodeError> {
    let header = serde_json::json!({"alg": key.alg().as_str(), "typ": typ, "kid": key.kid()});
    encode_with_header(key, &URL_SAFE_NO_PAD.encode(header.to_string()), claims)
}

fn encode_with_header(
    key: &SigningKey,
    header_b64: &str,
    claims: &Map<String, Value>,
) -> Result<String, EncodeError> {
    let token = encode_raw(header_b64, claims, |input| key.sign(input))?;
    note_exp(key, claims);
    Ok(token)
}

/// Notes `claims`' `exp` (if any) on `key` (see [`SigningKey::note_exp`]);
/// for tokens signed through [`encode_with`].
pub fn note_exp(key: &SigningKey, claims: &Map<String, Value>) {
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
        key.note_exp(exp);
    }
}

/// Encodes `header` (any JSON object: tokens that are broken on purpose
/// need headers no key would produce) and `claims`, signed by `sign` over
/// the signing input (RFC 7515 §5.1); an empty signature gives `h.p.`.
pub fn encode_with(
    header: &Value,
    claims: &Map<String, Value>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, KeyError>,
) -> Result<String, EncodeError> {
    let header = serde_json::to_vec(header).map_err(EncodeError::Serialize)?;
    encode_raw(&URL_SAFE_NO_PAD.encode(header), claims, sign)
}

fn encode_raw(
    header_b64: &str,
    claims: &Map<String, Value>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, KeyError>,
) -> Result<String, EncodeError> {
    let payload = serde_json::to_vec(claims).map_err(EncodeError::Serialize)?;
    let mut token = String::with_capacity(header_b64.len() + payload.len() * 4 / 3 + 2 + 344);
    token.push_str(header_b64);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// The `typ` of the token's JOSE header, unverified (`None` when absent).
pub fn header_typ(token: &str) -> Result<Option<String>, VerifyError> {
    jsonwebtoken::decode_header(token)
        .map(|h| h.typ)
        .map_err(|e| VerifyError::Malformed(e.to_string()))
}

/// Why a presented token was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// Not three base64url parts, bad JSON, or not RS256.
    #[error("token is malformed: {0}")]
    Malformed(String),
    /// No `kid`, or a `kid` no known key has.
    #[error("token was signed by an unknown key (kid {0:?})")]
    UnknownKey(String),
    /// The signature or a time claim does not check out.
    #[error("token is invalid: {0}")]
    Invalid(String),
}

/// Verifies `token` against `keys` at the system clock; see [`verify_at`].
pub fn verify(
    token: &str,
    keys: &JwksSnapshot,
    issuer: Option<&str>,
) -> Result<Map<String, Value>, VerifyError> {
    verify_at(token, keys, issuer, crate::unix_now())
}

/// Verifies `token` against `keys` at `now` (an issuer's clock): RS256
/// signature by a known `kid`, `exp` required and in the future, `nbf` (when
/// present) not after `now`, no leeway, and `iss` when `issuer` is given.
/// Returns the claims.
pub fn verify_at(
    token: &str,
    keys: &JwksSnapshot,
    issuer: Option<&str>,
    now: i64,
) -> Result<Map<String, Value>, VerifyError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if matches!(
        header.alg,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return Err(VerifyError::Malformed(format!(
            "alg is {:?}; only the published (asymmetric) keys verify here",
            header.alg
        )));
    }
    let kid = header.kid.unwrap_or_default();
    let (key_alg, key) = keys
        .decoding_key(&kid)
        .ok_or_else(|| VerifyError::UnknownKey(kid.clone()))?;
    // RFC 8725 §3.1: the key decides the algorithm, not the token.
    if header.alg != key_alg.to_jsonwebtoken() {
        return Err(VerifyError::Invalid(format!(
            "alg is {:?} but key {kid:?} is for {key_alg}",
            header.alg
        )));
    }
    // Times are checked below against `now`, which may be an issuer's
    // shifted or frozen clock rather than the system's.
    let mut validation = Validation::new(header.alg);
    validation.leeway = 0;
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    if let Some(iss) = issuer {
        validation.set_issuer(&[iss]);
    }
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| VerifyError::Invalid(e.to_string()))?;
    let time = |name: &str| -> Result<Option<i64>, VerifyError> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| VerifyError::Invalid(format!("{name} is not an integer"))),
        }
    };
    match time("exp")? {
        None => return Err(VerifyError::Invalid("it has no exp".into())),
        Some(exp) if exp <= now => {
            return Err(VerifyError::Invalid(format!(
                "it expired at {exp} (now is {now})"
            )));
        }
        Some(_) => {}
    }
    if let Some(nbf) = time("nbf")?
        && nbf > now
    {
        return Err(VerifyError::Invalid(format!(
            "it is not valid before {nbf} (now is {now})"
        )));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyStore, KidPolicy};
    use serde_json::json;

    fn claims(exp_offset: i64) -> Map<String, Value> {
        let now = crate::unix_now();
        json!({"sub": "s", "iss": "https://i", "exp": now + exp_offset, "nbf": now - 1})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn encode_then_verify_round_trips() {
        let store = KeyStore::new(SigningKey::generate(&KidPolicy::default()).unwrap());
        let token = encode(&store.signing_key().unwrap(), &claims(60)).unwrap();
        assert_eq!(token.split('.').count(), 3);
        let got = verify(&token, &store.merged(), Some("https://i")).unwrap();
        assert_eq!(got["sub"], "s");
    }

    #[test]
    fn verify_rejects_what_it_must() {
        let store = KeyStore::new(SigningKey::generate(&KidPolicy::default()).unwrap());
        let other = SigningKey::generate(&KidPolicy::default()).unwrap();
        let keys = store.merged();
        let good = encode(&store.signing_key().unwrap(), &claims(60)).unwrap();

        let expired = encode(&store.signing_key().unwrap(), &claims(-5)).unwrap();
        assert!(matches!(
            verify(&expired, &keys, None),
            Err(VerifyError::Invalid(_))
        ));
        assert!(matches!(
            verify(&good, &keys, Some("https://x")),
            Err(VerifyError::Invalid(_))
        ));
        let foreign = encode(&other, &claims(60)).unwrap();
        assert_eq!(
            verify(&foreign, &keys, None),
            Err(VerifyError::UnknownKey(other.kid().into()))
        );
        assert!(matches!(
            verify("garbage", &keys, None),
            Err(VerifyError::Malformed(_))
        ));
        let mut tampered = good.clone();
        tampered.replace_range(good.len() - 4.., "AAAA");
        assert!(matches!(
            verify(&tampered, &keys, None),
            Err(VerifyError::Invalid(_))
        ));
        let hs = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            "e30.sig"
        );
        assert!(matches!(
            verify(&hs, &keys, None),
            Err(VerifyError::Malformed(_))
        ));
    }

    #[test]
    fn typed_tokens_carry_their_typ_and_verify() {
        let store = KeyStore::new(SigningKey::generate(&KidPolicy::default()).unwrap());
        let token = encode_typed(&store.signing_key().unwrap(), "x+jwt", &claims(60)).unwrap();
        assert_eq!(header_typ(&token).unwrap().as_deref(), Some("x+jwt"));
        assert!(verify(&token, &store.merged(), Some("https://i")).is_ok());
        let plain = encode(&store.signing_key().unwrap(), &claims(60)).unwrap();
        assert_eq!(header_typ(&plain).unwrap().as_deref(), Some("JWT"));
        assert!(header_typ("nope").is_err());
    }
}
