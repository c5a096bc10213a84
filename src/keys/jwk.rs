//! JSON Web Keys (RFC 7517) for the public keys mock-idp signs with: RSA
//! (RFC 7518 §6.3), EC P-256/P-384 (§6.2) and Ed25519 OKP (RFC 8037), and
//! their RFC 7638 thumbprints. Also the validation of keys fetched from peers.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::alg::{Alg, Family};

/// The smallest RSA modulus accepted from anyone (2048 bits).
pub const MIN_MODULUS_BYTES: usize = 256;
/// The largest RSA modulus accepted from peers (8192 bits).
pub const MAX_MODULUS_BYTES: usize = 1024;
/// The longest `kid` accepted from peers.
pub const MAX_KID_LEN: usize = 256;

/// `s` with control characters escaped (and quotes, as Rust's `{:?}` does),
/// for putting peer input into a log line or message.
pub fn printable(s: &str) -> String {
    let escaped = format!("{s:?}");
    escaped[1..escaped.len() - 1].to_string()
}

/// A public key as a JWK (RFC 7517 §4). Members that do not apply to the
/// key type are empty and not serialized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `RSA`, `EC` or `OKP`.
    pub kty: String,
    /// Intended use; `sig` for keys we serve.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Algorithm (`RS256`, `ES256`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Key id, matched against the `kid` JOSE header.
    pub kid: String,
    /// RSA modulus, base64url, big-endian without leading zeros.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub n: String,
    /// RSA public exponent, base64url.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub e: String,
    /// Curve: `P-256`, `P-384` (EC) or `Ed25519` (OKP).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub crv: String,
    /// EC x coordinate, or the OKP public key, base64url.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub x: String,
    /// EC y coordinate, base64url.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub y: String,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// Why a JWK was rejected by [`Jwk::validate`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwkError {
    /// `kty` is not `RSA`, `EC` or `OKP`.
    #[error("kty is {0:?}, expected \"RSA\", \"EC\" or \"OKP\"")]
    UnsupportedKty(String),
    /// `use` is present and not `sig`.
    #[error("use is {0:?}, expected \"sig\"")]
    NotForSigning(String),
    /// `alg` is present and does not fit the key (or is not one we verify).
    #[error("alg is {0:?}, which does not fit this {1} key")]
    WrongAlg(String, String),
    /// `kid` is empty.
    #[error("kid is empty")]
    EmptyKid,
    /// `kid` is longer than [`MAX_KID_LEN`].
    #[error("kid is {0} characters long, at most {MAX_KID_LEN} are accepted")]
    LongKid(usize),
    /// A key component is not base64url or has an impossible value.
    #[error("{0}")]
    BadComponent(String),
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Jwk {
    fn new(kty: &str, alg: Alg, kid: impl Into<String>) -> Self {
        Jwk {
            kty: kty.into(),
            use_: Some("sig".into()),
            alg: Some(alg.as_str().into()),
            kid: kid.into(),
            n: String::new(),
            e: String::new(),
            crv: String::new(),
            x: String::new(),
            y: String::new(),
        }
    }

    /// The JWK of an RS256 signing key from its big-endian modulus and exponent.
    pub fn rsa_sig(kid: impl Into<String>, modulus: &[u8], exponent: &[u8]) -> Self {
        Self::rsa(Alg::RS256, kid, modulus, exponent)
    }

    /// The JWK of an RSA key for `alg` (RS* or PS*).
    pub fn rsa(alg: Alg, kid: impl Into<String>, modulus: &[u8], exponent: &[u8]) -> Self {
        Jwk {
            n: b64(strip_leading_zeros(modulus)),
            e: b64(strip_leading_zeros(exponent)),
            ..Self::new("RSA", alg, kid)
        }
    }

    /// The JWK of an EC key for `alg` from its uncompressed point `04 || x || y`.
    pub fn ec(alg: Alg, kid: impl Into<String>, point: &[u8]) -> Self {
        let coords = point.get(1..).unwrap_or_default();
        let (x, y) = coords.split_at(coords.len() / 2);
        Jwk {
            crv: if alg == Alg::ES384 { "P-384" } else { "P-256" }.into(),
            x: b64(x),
            y: b64(y),
            ..Self::new("EC", alg, kid)
        }
    }

    /// The JWK of an Ed25519 key (RFC 8037 §2).
    pub fn ed25519(kid: impl Into<String>, public: &[u8]) -> Self {
        Jwk {
            crv: "Ed25519".into(),
            x: b64(public),
            ..Self::new("OKP", Alg::EdDSA, kid)
        }
    }

    /// The algorithm the key is for: its `alg`, else the key type's usual one.
    pub fn algorithm(&self) -> Option<Alg> {
        match &self.alg {
            Some(a) => a.parse().ok(),
            None => match (self.kty.as_str(), self.crv.as_str()) {
                ("RSA", _) => Some(Alg::RS256),
                ("EC", "P-256") => Some(Alg::ES256),
                ("EC", "P-384") => Some(Alg::ES384),
                ("OKP", "Ed25519") => Some(Alg::EdDSA),
                _ => None,
            },
        }
    }

    /// Whether `other` is the same public key (kid aside).
    pub fn same_key(&self, other: &Jwk) -> bool {
        (&self.kty, &self.n, &self.e, &self.crv, &self.x, &self.y)
            == (
                &other.kty, &other.n, &other.e, &other.crv, &other.x, &other.y,
            )
    }

    /// Checks that this is a well-formed verification key of a kind we
    /// verify (used on keys fetched from peers: garbage is never served).
    pub fn validate(&self) -> Result<(), JwkError> {
        let family = match self.kty.as_str() {
            "RSA" => Family::Rsa,
            "EC" => Family::Ec,
            "OKP" => Family::Okp,
            other => return Err(JwkError::UnsupportedKty(other.to_string())),
        };
        let public_family = family;
        if let Some(u) = &self.use_
            && u != "sig"
        {
            return Err(JwkError::NotForSigning(u.clone()));
        }
        let alg = self
            .algorithm()
            .filter(|a| a.family() == family)
            .ok_or_else(|| {
                JwkError::WrongAlg(
                    self.alg.clone().unwrap_or_else(|| self.crv.clone()),
                    self.kty.clone(),
                )
            })?;
        if self.kid.trim().is_empty() {
            return Err(JwkError::EmptyKid);
        }
        if self.kid.chars().count() > MAX_KID_LEN {
            return Err(JwkError::LongKid(self.kid.chars().count()));
        }
        let decode = |name: &str, v: &str| {
            URL_SAFE_NO_PAD
                .decode(v)
                .map_err(|e| JwkError::BadComponent(format!("{name} is not base64url: {e}")))
        };
        match public_family {
            Family::Rsa => {
                let n = decode("n", &self.n)?;
                let e = decode("e", &self.e)?;
                let n_len = strip_leading_zeros(&n).len();
                if !(MIN_MODULUS_BYTES..=MAX_MODULUS_BYTES).contains(&n_len) {
                    return Err(JwkError::BadComponent(format!(
                        "n is {} bits, expected 2048 to 8192",
                        n_len * 8
                    )));
                }
                let e = strip_leading_zeros(&e);
                if e.is_empty() || e.len() > 8 || e.last().is_some_and(|b| b % 2 == 0) {
                    return Err(JwkError::BadComponent(
                        "e is not a valid RSA exponent".into(),
                    ));
                }
            }
            Family::Ec => {
                let size = if alg == Alg::ES384 { 48 } else { 32 };
                let want_crv = if alg == Alg::ES384 { "P-384" } else { "P-256" };
                if self.crv != want_crv {
                    return Err(JwkError::BadComponent(format!(
                        "crv is {:?}, expected {want_crv:?} for {alg}",
                        self.crv
                    )));
                }
                for (name, v) in [("x", &self.x), ("y", &self.y)] {
                    if decode(name, v)?.len() != size {
                        return Err(JwkError::BadComponent(format!(
                            "{name} is not {size} bytes"
                        )));
                    }
                }
            }
            // Only RSA, EC and OKP reach here (kty was matched above).
            Family::Okp | Family::Hmac => {
                if self.crv != "Ed25519" || decode("x", &self.x)?.len() != 32 {
                    return Err(JwkError::BadComponent(
                        "an OKP key must be Ed25519 with a 32-byte x".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The RFC 7638 thumbprint of this key (SHA-256, base64url).
    pub fn thumbprint(&self) -> String {
        // §3.2: the required members only, in lexicographic order, no whitespace.
        let canonical = match self.kty.as_str() {
            "EC" => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                self.crv, self.x, self.y
            ),
            "OKP" => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, self.crv, self.x),
            _ => return thumbprint(&self.n, &self.e),
        };
        digest_b64(&canonical)
    }
}

fn digest_b64(canonical: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// RFC 7638 §3 for an RSA key: SHA-256 over the required members in
/// lexicographic order with no whitespace, base64url-encoded.
pub fn thumbprint(n_b64: &str, e_b64: &str) -> String {
    digest_b64(&format!(r#"{{"e":"{e_b64}","kty":"RSA","n":"{n_b64}"}}"#))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 §3.1 example key and its published thumbprint.
    #[test]
    fn thumbprint_matches_rfc7638_example() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    /// RFC 8037 appendix A.3: the thumbprint of the Ed25519 example key.
    #[test]
    fn thumbprint_matches_rfc8037_example() {
        let jwk = Jwk {
            x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into(),
            crv: "Ed25519".into(),
            ..Jwk::new("OKP", Alg::EdDSA, "k")
        };
        assert_eq!(
            jwk.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    fn good() -> Jwk {
        Jwk::rsa_sig("k1", &[0x80; 256], &[1, 0, 1])
    }

    #[test]
    fn rsa_sig_strips_leading_zeros_and_sets_members() {
        let mut m = vec![0u8, 0];
        m.extend_from_slice(&[0x80; 256]);
        let jwk = Jwk::rsa_sig("k1", &m, &[0, 1, 0, 1]);
        assert_eq!(jwk, good());
        assert_eq!(jwk.e, "AQAB");
        assert_eq!(jwk.use_.as_deref(), Some("sig"));
        assert_eq!(jwk.alg.as_deref(), Some("RS256"));
        let json = serde_json::to_value(&jwk).unwrap();
        assert_eq!(json["use"], "sig");
        assert!(
            json.get("crv").is_none() && json.get("x").is_none(),
            "{json}"
        );
        assert!(good().validate().is_ok());
    }

    #[test]
    fn ec_and_okp_keys_serialize_their_members() {
        let mut point = vec![4u8];
        point.extend_from_slice(&[7u8; 64]);
        let ec = Jwk::ec(Alg::ES256, "e1", &point);
        let json = serde_json::to_value(&ec).unwrap();
        assert_eq!(
            (json["kty"].as_str(), json["crv"].as_str()),
            (Some("EC"), Some("P-256"))
        );
        assert!(json.get("n").is_none());
        assert_eq!(URL_SAFE_NO_PAD.decode(&ec.x).unwrap().len(), 32);
        assert!(ec.validate().is_ok());
        let ed = Jwk::ed25519("o1", &[9u8; 32]);
        assert_eq!(ed.algorithm(), Some(Alg::EdDSA));
        assert!(ed.validate().is_ok());
        assert!(!ec.same_key(&ed) && ec.same_key(&ec.clone()));
    }

    type Mutation = Box<dyn Fn(&mut Jwk)>;

    #[test]
    fn validate_rejects_garbage() {
        let cases: Vec<(&str, Mutation, &str)> = vec![
            ("oct key", Box::new(|j| j.kty = "oct".into()), "kty"),
            ("enc use", Box::new(|j| j.use_ = Some("enc".into())), "use"),
            ("hs256", Box::new(|j| j.alg = Some("HS256".into())), "alg"),
            (
                "es256 on rsa",
                Box::new(|j| j.alg = Some("ES256".into())),
                "alg",
            ),
            ("empty kid", Box::new(|j| j.kid = " ".into()), "kid"),
            (
                "long kid",
                Box::new(|j| j.kid = "k".repeat(257)),
                "257 characters",
            ),
            (
                "huge n",
                Box::new(|j| j.n = URL_SAFE_NO_PAD.encode(vec![0x80; 1025])),
                "8200 bits",
            ),
            (
                "n not b64",
                Box::new(|j| j.n = "!!!".into()),
                "n is not base64url",
            ),
            (
                "e not b64",
                Box::new(|j| j.e = "!!!".into()),
                "e is not base64url",
            ),
            (
                "short n",
                Box::new(|j| j.n = URL_SAFE_NO_PAD.encode([0x80; 128])),
                "1024 bits",
            ),
            (
                "even e",
                Box::new(|j| j.e = URL_SAFE_NO_PAD.encode([2])),
                "exponent",
            ),
            ("empty e", Box::new(|j| j.e = String::new()), "exponent"),
        ];
        for (name, mutate, expected) in cases {
            let mut jwk = good();
            mutate(&mut jwk);
            let err = jwk.validate().expect_err(name).to_string();
            assert!(
                err.contains(expected),
                "case {name}: {err:?} should mention {expected:?}"
            );
        }
        let mut ec = Jwk::ec(Alg::ES256, "e", &[4u8; 65]);
        ec.crv = "P-384".into();
        assert!(ec.validate().is_err());
        let short = Jwk::ed25519("o", &[1u8; 31]);
        assert!(short.validate().is_err());
    }

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable("a\r\nINFO forged"), "a\\r\\nINFO forged");
        assert_eq!(printable("plain"), "plain");
    }

    #[test]
    fn optional_members_may_be_absent() {
        let jwk: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "RSA", "kid": "x", "n": good().n, "e": "AQAB"
        }))
        .unwrap();
        assert!(jwk.validate().is_ok());
        assert_eq!(jwk.thumbprint(), good().thumbprint());
        assert_eq!(jwk.algorithm(), Some(Alg::RS256));
    }
}
