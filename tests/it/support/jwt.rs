//! The one JWT toolbox of the tests, none of it mock-idp's own code:
//! verification against a served JWKS with `jsonwebtoken`, unverified
//! decoding for inspecting codes and headers, the OIDC `at_hash`, and an
//! RS256 re-signer (aws-lc-rs) for forging tokens with a persisted key.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde_json::{Map, Value};

/// Claims of a verified token.
pub(crate) type Claims = Map<String, Value>;

/// Verifies `token` with `jwks`: RS256, the key named by its `kid`, `exp`
/// with no leeway, and `aud` when given. Panics if the `kid` is not served.
pub(crate) fn verify_with(
    jwks: &JwkSet,
    token: &str,
    aud: Option<&str>,
) -> Result<(Header, Claims), jsonwebtoken::errors::Error> {
    let header = jsonwebtoken::decode_header(token)?;
    let kid = header.kid.clone().expect("token has a kid");
    let jwk = jwks
        .find(&kid)
        .unwrap_or_else(|| panic!("kid {kid} not in served JWKS"));
    let key = DecodingKey::from_jwk(jwk)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    match aud {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)?;
    Ok((header, data.claims))
}

/// The header of a JWT, not verified.
pub(crate) fn header(token: &str) -> Header {
    jsonwebtoken::decode_header(token).unwrap_or_else(|e| panic!("not a JWT ({e}): {token}"))
}

/// The `kid` of a JWT, not verified.
pub(crate) fn kid(token: &str) -> String {
    header(token).kid.expect("token has a kid")
}

/// The claims of a JWT, not verified.
pub(crate) fn peek(token: &str) -> Claims {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// OIDC Core §3.1.3.6 `at_hash` of an RS256 access token: base64url of the
/// left half of its SHA-256.
pub(crate) fn at_hash(access_token: &str) -> String {
    let hash = digest(&SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16])
}

/// `token` with its claims changed by `edit`, signed again (RS256, same
/// header) with a PKCS#8 private key PEM, as mock-idp persists it in
/// `PERSIST_KEYS_DIR/private.pem`.
pub(crate) fn resign(token: &str, private_pem: &str, edit: impl FnOnce(&mut Claims)) -> String {
    let header = token.split('.').next().expect("a JWT has a header");
    let mut claims = peek(token);
    edit(&mut claims);
    let input = format!(
        "{header}.{}",
        URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string())
    );
    let der = pem::parse(private_pem).expect("a PEM private key");
    let key = RsaKeyPair::from_pkcs8(der.contents()).expect("a PKCS#8 RSA key");
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .expect("RSA signing");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
