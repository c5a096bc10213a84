//! [`Variant`]: the deliberately broken tokens `POST /token {"variant": ...}`
//! gives (`GET /token/variants` lists them). The defects themselves are
//! applied by the issuer (`crate::issuer::variant`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

/// A deliberately broken token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// `exp` an hour in the past.
    Expired,
    /// `nbf` an hour ahead.
    NotYetValid,
    /// Another `iss`.
    WrongIssuer,
    /// Another `aud`.
    WrongAudience,
    /// A signature that does not verify.
    BadSignature,
    /// A `kid` the JWKS does not have.
    UnknownKid,
    /// No `kid` header.
    NoKid,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 with the published key's SPKI PEM as the secret.
    Hs256KeyConfusion,
    /// No `exp`.
    MissingExp,
    /// No `sub`.
    MissingSub,
    /// A `typ` that is neither `JWT` nor `at+jwt`.
    WrongTyp,
}

impl Variant {
    /// Every variant, in the order `GET /token/variants` lists them.
    pub const ALL: [Variant; 12] = [
        Variant::Expired,
        Variant::NotYetValid,
        Variant::WrongIssuer,
        Variant::WrongAudience,
        Variant::BadSignature,
        Variant::UnknownKid,
        Variant::NoKid,
        Variant::AlgNone,
        Variant::Hs256KeyConfusion,
        Variant::MissingExp,
        Variant::MissingSub,
        Variant::WrongTyp,
    ];

    /// The name in requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Expired => "expired",
            Variant::NotYetValid => "not_yet_valid",
            Variant::WrongIssuer => "wrong_issuer",
            Variant::WrongAudience => "wrong_audience",
            Variant::BadSignature => "bad_signature",
            Variant::UnknownKid => "unknown_kid",
            Variant::NoKid => "no_kid",
            Variant::AlgNone => "alg_none",
            Variant::Hs256KeyConfusion => "hs256_key_confusion",
            Variant::MissingExp => "missing_exp",
            Variant::MissingSub => "missing_sub",
            Variant::WrongTyp => "wrong_typ",
        }
    }

    /// One line on what a verifier must do with it.
    pub fn description(self) -> &'static str {
        match self {
            Variant::Expired => {
                "exp is 1 hour in the past (beyond every common leeway): reject as expired"
            }
            Variant::NotYetValid => "nbf is 1 hour ahead: reject as not yet valid",
            Variant::WrongIssuer => {
                "iss is https://wrong-issuer.mock-idp.invalid: reject for the issuer"
            }
            Variant::WrongAudience => {
                "aud is wrong-audience.mock-idp.invalid: reject for the audience"
            }
            Variant::BadSignature => {
                "signed by the current key, then the signature altered: reject the signature"
            }
            Variant::UnknownKid => {
                "kid is not in the JWKS (signed by the current key): reject or refetch the JWKS, then reject"
            }
            Variant::NoKid => {
                "no kid header (signed by the current key): for verifiers that require a kid"
            }
            Variant::AlgNone => "alg is none and there is no signature: never accept",
            Variant::Hs256KeyConfusion => {
                "HS256 with the published key's SPKI PEM as the HMAC secret (algorithm confusion): reject the alg"
            }
            Variant::MissingExp => "no exp claim: reject when exp is required",
            Variant::MissingSub => "no sub claim: reject when sub is required",
            Variant::WrongTyp => {
                "typ is secevent+jwt, neither JWT nor at+jwt: reject when typ is checked"
            }
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Variant::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown variant {s:?}; variants: {} (GET /token/variants describes them)",
                    Variant::ALL.map(Variant::as_str).join(", ")
                )
            })
    }
}

impl Serialize for Variant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Variant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The `GET /token/variants` document.
pub fn catalogue() -> Value {
    json!({
        "variants": Variant::ALL
            .iter()
            .map(|v| json!({"name": v.as_str(), "tests": v.description()}))
            .collect::<Vec<_>>()
    })
}
