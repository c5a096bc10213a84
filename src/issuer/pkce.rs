//! PKCE (RFC 7636): challenge checks at `/authorize`, verifier checks at
//! `POST /token`.

use std::str::FromStr;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::client::constant_time_eq;

/// A code challenge method (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMethod {
    /// `S256`: the challenge is base64url(SHA-256(verifier)).
    S256,
    /// `plain`: the challenge is the verifier.
    Plain,
}

impl PkceMethod {
    /// Every method, as listed in discovery (strongest first).
    pub const ALL: [PkceMethod; 2] = [PkceMethod::S256, PkceMethod::Plain];

    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            PkceMethod::S256 => "S256",
            PkceMethod::Plain => "plain",
        }
    }
}

impl FromStr for PkceMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PkceMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!("code_challenge_method: {s:?} is not supported; use S256 (or plain)")
            })
    }
}

/// RFC 7636 §4.1: 43..=128 characters of `[A-Za-z0-9-._~]`.
fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks a `code_challenge` and its method (default `plain`, §4.3);
/// returns the method.
pub fn check_challenge(challenge: &str, method: Option<&str>) -> Result<PkceMethod, String> {
    let method = method.map_or(Ok(PkceMethod::Plain), str::parse)?;
    if !is_pkce_string(challenge) {
        return Err(
            "code_challenge: must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.2)"
                .into(),
        );
    }
    Ok(method)
}

/// Checks `verifier` against the `challenge` sent with `method` (§4.6).
pub fn verify(verifier: &str, challenge: &str, method: PkceMethod) -> Result<(), String> {
    if !is_pkce_string(verifier) {
        return Err(
            "code_verifier: must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)"
                .into(),
        );
    }
    let derived = match method {
        PkceMethod::S256 => URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes())),
        PkceMethod::Plain => verifier.to_string(),
    };
    if constant_time_eq(&derived, challenge) {
        Ok(())
    } else {
        Err(format!(
            "code_verifier: does not match the code_challenge ({})",
            method.as_str()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_example_verifies() {
        assert_eq!(verify(VERIFIER, CHALLENGE, PkceMethod::S256), Ok(()));
        assert_eq!(verify(VERIFIER, VERIFIER, PkceMethod::Plain), Ok(()));
        assert!(verify(VERIFIER, CHALLENGE, PkceMethod::Plain).is_err());
        assert!(verify(CHALLENGE, CHALLENGE, PkceMethod::S256).is_err());
        assert!(
            verify("short", "short", PkceMethod::Plain)
                .unwrap_err()
                .contains("43 to 128")
        );
    }

    #[test]
    fn challenges_are_checked() {
        assert_eq!(
            check_challenge(CHALLENGE, Some("S256")),
            Ok(PkceMethod::S256)
        );
        assert_eq!(check_challenge(CHALLENGE, None), Ok(PkceMethod::Plain));
        assert!(
            check_challenge(CHALLENGE, Some("S512"))
                .unwrap_err()
                .contains("S512")
        );
        assert!(
            check_challenge("a b", Some("S256"))
                .unwrap_err()
                .contains("code_challenge")
        );
        assert_eq!("plain".parse(), Ok(PkceMethod::Plain));
        assert_eq!(PkceMethod::S256.as_str(), "S256");
    }
}
