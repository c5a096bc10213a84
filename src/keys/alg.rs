//! [`Alg`]: the JWS algorithms mock-idp signs with (RFC 7518 §3, RFC 8037).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JWS signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the default).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// Ed25519 (RFC 8037).
    EdDSA,
    /// HMAC with SHA-256 and the issuer's `hs256_secret` (never published).
    HS256,
}

/// The key family of an algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// RSA (2048 bits for keys mock-idp makes).
    Rsa,
    /// ECDSA on a NIST curve.
    Ec,
    /// Edwards-curve (Ed25519).
    Okp,
    /// A shared secret.
    Hmac,
}

impl Alg {
    /// Every algorithm, in the order discovery lists them (after the issuer's own).
    pub const ALL: [Alg; 10] = [
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::EdDSA,
        Alg::HS256,
    ];

    /// The `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
            Alg::HS256 => "HS256",
        }
    }

    /// The key family.
    pub fn family(self) -> Family {
        match self {
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
                Family::Rsa
            }
            Alg::ES256 | Alg::ES384 => Family::Ec,
            Alg::EdDSA => Family::Okp,
            Alg::HS256 => Family::Hmac,
        }
    }

    /// Whether its key appears in the JWKS (all but HS256).
    pub fn is_public(self) -> bool {
        self.family() != Family::Hmac
    }

    /// The same algorithm in jsonwebtoken's enum (for verification).
    pub fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as A;
        match self {
            Alg::RS256 => A::RS256,
            Alg::RS384 => A::RS384,
            Alg::RS512 => A::RS512,
            Alg::PS256 => A::PS256,
            Alg::PS384 => A::PS384,
            Alg::PS512 => A::PS512,
            Alg::ES256 => A::ES256,
            Alg::ES384 => A::ES384,
            Alg::EdDSA => A::EdDSA,
            Alg::HS256 => A::HS256,
        }
    }

    /// `"RS256, RS384, ..."`, for messages.
    pub fn list() -> String {
        Alg::ALL.map(Alg::as_str).join(", ")
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An algorithm name mock-idp does not sign with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a supported algorithm; use one of {list}", list = Alg::list())]
pub struct UnknownAlg(pub String);

impl FromStr for Alg {
    type Err = UnknownAlg;
    fn from_str(s: &str) -> Result<Self, UnknownAlg> {
        Alg::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAlg(s.to_string()))
    }
}

impl Serialize for Alg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Alg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_errors_list_them() {
        for alg in Alg::ALL {
            assert_eq!(alg.as_str().parse::<Alg>(), Ok(alg));
            assert_eq!(serde_json::to_value(alg).unwrap(), alg.as_str());
        }
        let e = "rs256".parse::<Alg>().unwrap_err().to_string();
        assert!(
            e.contains("\"rs256\" is not a supported algorithm") && e.contains("EdDSA"),
            "{e}"
        );
        assert!(!Alg::HS256.is_public() && Alg::ES256.is_public());
        assert_eq!(Alg::PS384.family(), Family::Rsa);
    }
}
