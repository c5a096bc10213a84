//! PKCE (RFC 7636): challenge checks at `/authorize`, verifier checks at
//! `POST /token`.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::constant_time_eq;

/// Challenge methods supported, as listed in discovery.
pub const METHODS: &[&str] = &["S256", "plain"];

/// RFC 7636 §4.1: 43..=128 characters of `[A-Za-z0-9-._~]`.
fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks a `code_challenge` and its method (default `plain`, §4.3).
pub fn check_challenge(challenge: &str, method: Option<&str>) -> Result<(), String> {
    let method = method.unwrap_or("plain");
    if !METHODS.contains(&method) {
        return Err(format!(
            "code_challenge_method: {method:?} is not supported; use S256 (or plain)"
        ));
    }
    if !is_pkce_string(challenge) {
        return Err(
            "code_challenge: must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.2)"
                .into(),
        );
    }
    Ok(())
}

/// Checks `verifier` against the `challenge` sent with `method` (§4.6).
pub fn verify(verifier: &str, challenge: &str, method: &str) -> Result<(), String> {
    if !is_pkce_string(verifier) {
        return Err(
            "code_verifier: must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)"
                .into(),
        );
    }
    let derived = match method {
        "S256" => URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes())),
        _ => verifier.to_string(),
    };
    if constant_time_eq(&derived, challenge) {
        Ok(())
    } else {
        Err(format!(
            "code_verifier: does not match the code_challenge ({method})"
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
        assert_eq!(verify(VERIFIER, CHALLENGE, "S256"), Ok(()));
        assert_eq!(verify(VERIFIER, VERIFIER, "plain"), Ok(()));
        assert!(verify(VERIFIER, CHALLENGE, "plain").is_err());
        assert!(verify(CHALLENGE, CHALLENGE, "S256").is_err());
        assert!(
            verify("short", "short", "plain")
                .unwrap_err()
                .contains("43 to 128")
        );
    }

    #[test]
    fn challenges_are_checked() {
        assert!(check_challenge(CHALLENGE, Some("S256")).is_ok());
        assert!(check_challenge(CHALLENGE, None).is_ok());
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
    }
}
