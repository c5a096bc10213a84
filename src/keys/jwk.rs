//! JSON Web Keys (RFC 7517) for RSA public keys, and the RFC 7638 thumbprint.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

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

/// An RSA public key as a JWK (RFC 7517 §4, RFC 7518 §6.3.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type; always `RSA` for keys we serve.
    pub kty: String,
    /// Intended use; `sig` for keys we serve.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Algorithm; `RS256` for keys we serve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Key id, matched against the `kid` JOSE header.
    pub kid: String,
    /// Modulus, base64url without padding, big-endian without leading zeros.
    pub n: String,
    /// Public exponent, base64url without padding.
    pub e: String,
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
    /// `kty` is not `RSA`.
    #[error("kty is {0:?}, expected \"RSA\"")]
    NotRsa(String),
    /// `use` is present and not `sig`.
    #[error("use is {0:?}, expected \"sig\"")]
    NotForSigning(String),
    /// `alg` is present and not `RS256`.
    #[error("alg is {0:?}, expected \"RS256\"")]
    WrongAlg(String),
    /// `kid` is empty.
    #[error("kid is empty")]
    EmptyKid,
    /// `kid` is longer than [`MAX_KID_LEN`].
    #[error("kid is {0} characters long, at most {MAX_KID_LEN} are accepted")]
    LongKid(usize),
    /// `n` or `e` is not base64url or has an impossible value.
    #[error("{0}")]
    BadComponent(String),
}

impl Jwk {
    /// Builds the JWK of an RS256 signing key from its big-endian modulus and exponent.
    pub fn rsa_sig(kid: impl Into<String>, modulus: &[u8], exponent: &[u8]) -> Self {
        Jwk {
            kty: "RSA".into(),
            use_: Some("sig".into()),
            alg: Some("RS256".into()),
            kid: kid.into(),
            n: URL_SAFE_NO_PAD.encode(strip_leading_zeros(modulus)),
            e: URL_SAFE_NO_PAD.encode(strip_leading_zeros(exponent)),
        }
    }

    /// Checks that this is a well-formed RS256 verification key (used on
    /// keys fetched from peers: garbage is never served).
    pub fn validate(&self) -> Result<(), JwkError> {
        if self.kty != "RSA" {
            return Err(JwkError::NotRsa(self.kty.clone()));
        }
        if let Some(u) = &self.use_
            && u != "sig"
        {
            return Err(JwkError::NotForSigning(u.clone()));
        }
        if let Some(a) = &self.alg
            && a != "RS256"
        {
            return Err(JwkError::WrongAlg(a.clone()));
        }
        if self.kid.trim().is_empty() {
            return Err(JwkError::EmptyKid);
        }
        if self.kid.chars().count() > MAX_KID_LEN {
            return Err(JwkError::LongKid(self.kid.chars().count()));
        }
        let n = URL_SAFE_NO_PAD
            .decode(&self.n)
            .map_err(|e| JwkError::BadComponent(format!("n is not base64url: {e}")))?;
        let e = URL_SAFE_NO_PAD
            .decode(&self.e)
            .map_err(|e| JwkError::BadComponent(format!("e is not base64url: {e}")))?;
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
        Ok(())
    }

    /// The RFC 7638 thumbprint of this key (SHA-256, base64url).
    pub fn thumbprint(&self) -> String {
        thumbprint(&self.n, &self.e)
    }
}

/// RFC 7638 §3: SHA-256 over the required members in lexicographic order
/// with no whitespace, base64url-encoded.
pub fn thumbprint(n_b64: &str, e_b64: &str) -> String {
    let canonical = format!(r#"{{"e":"{e_b64}","kty":"RSA","n":"{n_b64}"}}"#);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
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
        assert!(good().validate().is_ok());
    }

    type Mutation = Box<dyn Fn(&mut Jwk)>;

    #[test]
    fn validate_rejects_garbage() {
        let cases: Vec<(&str, Mutation, &str)> = vec![
            ("ec key", Box::new(|j| j.kty = "EC".into()), "kty"),
            ("enc use", Box::new(|j| j.use_ = Some("enc".into())), "use"),
            ("hs256", Box::new(|j| j.alg = Some("HS256".into())), "alg"),
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
    }
}
