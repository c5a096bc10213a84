//! Token variants: each differs from the same request without it in
//! exactly one defect, and keeps the current `kid` unless the defect is the
//! kid, so a test failing for another reason cannot pass by accident. The
//! names and descriptions are [`crate::claims::Variant`].

use serde_json::{Map, Value, json};

use super::OAuthError;
pub use crate::claims::Variant;
use crate::jwt::{self, EncodeError};
use crate::keys::{Alg, KeyError, SigningKey};
use crate::random::{self, Alphabet};

/// How far in the past `expired` puts `exp` (and in the future
/// `not_yet_valid` puts `nbf`): one hour, beyond every common leeway
/// (Google's Java verifier allows 300 s).
pub const OFFSET: i64 = 3600;
/// The `iss` of `wrong_issuer`.
pub const WRONG_ISSUER: &str = "https://wrong-issuer.mock-idp.invalid";
/// The `aud` of `wrong_audience`.
pub const WRONG_AUDIENCE: &str = "wrong-audience.mock-idp.invalid";
/// The `typ` of `wrong_typ`: a registered token type that is not an access token.
pub const WRONG_TYP: &str = "secevent+jwt";

/// Whether `variant` can be made with `alg`: `hs256_key_confusion` signs
/// with a published key's PEM, and an HS256 key publishes nothing.
pub fn check(variant: Variant, alg: Alg) -> Result<(), OAuthError> {
    if variant == Variant::Hs256KeyConfusion && alg == Alg::HS256 {
        return Err(OAuthError::invalid_request(
            "variant: hs256_key_confusion signs HS256 with a published key's PEM, and with \
             alg HS256 nothing is published: leave alg out or pick an asymmetric one (RS256, ES256, ...)",
        ));
    }
    Ok(())
}

/// Applies `variant`'s claim defects (`expired`, `not_yet_valid`, `wrong_*`,
/// `missing_*`) at `now`; the others are in the header or signature.
pub fn apply_claims(variant: Variant, claims: &mut Map<String, Value>, now: i64) {
    match variant {
        Variant::Expired => {
            claims.insert("exp".into(), json!(now - OFFSET));
        }
        Variant::NotYetValid => {
            claims.insert("nbf".into(), json!(now + OFFSET));
        }
        Variant::WrongIssuer => {
            claims.insert("iss".into(), json!(WRONG_ISSUER));
        }
        Variant::WrongAudience => {
            let aud = match claims.get("aud") {
                Some(Value::Array(_)) => json!([WRONG_AUDIENCE]),
                _ => json!(WRONG_AUDIENCE),
            };
            claims.insert("aud".into(), aud);
        }
        Variant::MissingExp => {
            claims.remove("exp");
        }
        Variant::MissingSub => {
            claims.remove("sub");
        }
        Variant::BadSignature
        | Variant::UnknownKid
        | Variant::NoKid
        | Variant::AlgNone
        | Variant::Hs256KeyConfusion
        | Variant::WrongTyp => {}
    }
}

/// Encodes `claims` with `key` and `variant`'s header or signature
/// defect; `typ` is the `typ` the token would have without it.
pub fn encode(
    variant: Variant,
    key: &SigningKey,
    typ: &str,
    claims: &Map<String, Value>,
) -> Result<String, EncodeError> {
    let alg = key.alg().as_str();
    let kid = key.kid();
    let sign = |input: &[u8]| key.sign(input);
    match variant {
        Variant::BadSignature => jwt::encode_with(
            &json!({"alg": alg, "typ": typ, "kid": kid}),
            claims,
            |input| {
                let mut signature = key.sign(input)?;
                if let Some(first) = signature.first_mut() {
                    *first ^= 0x01;
                }
                Ok(signature)
            },
        ),
        Variant::UnknownKid => {
            let unknown = random::token(16, Alphabet::Hex).map_err(|_| KeyError::Sign)?;
            jwt::encode_with(
                &json!({"alg": alg, "typ": typ, "kid": format!("unknown-{unknown}")}),
                claims,
                sign,
            )
        }
        Variant::NoKid => jwt::encode_with(&json!({"alg": alg, "typ": typ}), claims, sign),
        Variant::AlgNone => jwt::encode_with(
            &json!({"alg": "none", "typ": typ, "kid": kid}),
            claims,
            |_| Ok(Vec::new()),
        ),
        Variant::Hs256KeyConfusion => {
            let secret = key.spki_pem()?;
            let hmac = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
            jwt::encode_with(
                &json!({"alg": "HS256", "typ": typ, "kid": kid}),
                claims,
                |input| Ok(aws_lc_rs::hmac::sign(&hmac, input).as_ref().to_vec()),
            )
        }
        Variant::WrongTyp => jwt::encode_with(
            &json!({"alg": alg, "typ": WRONG_TYP, "kid": kid}),
            claims,
            sign,
        ),
        Variant::Expired
        | Variant::NotYetValid
        | Variant::WrongIssuer
        | Variant::WrongAudience
        | Variant::MissingExp
        | Variant::MissingSub => {
            jwt::encode_with(&json!({"alg": alg, "typ": typ, "kid": kid}), claims, sign)
        }
    }
}
