//! `mock-idp decode TOKEN [--jwks URL|FILE]`: the header and payload of a
//! JWT, its signature checked against a JWKS when one is given, and what a
//! verifier would complain about ([`analyze`], a pure function of the
//! token, the keys and the time).
//!
//! The signature is checked with `jsonwebtoken` for every algorithm it
//! implements (RS*, PS*, ES256/384, EdDSA; HS* only against an `oct` key),
//! using the JWKS key named by the token's `kid` (every key when it has
//! none, as lenient verifiers do). Verdicts:
//!
//! - `valid`: a key of the JWKS verifies the signature;
//! - `invalid`: a JWKS was given and no key of it verifies the token (bad
//!   signature, unknown `kid`, `alg: none`, an algorithm the key cannot
//!   do): a verifier using that JWKS rejects it;
//! - `unchecked`: no JWKS was given, or the algorithm cannot be checked here.
//!
//! Problems are sentences; each starts with what a verifier checks.

use std::io::Read;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Serialize;
use serde_json::{Map, Value};

use super::CmdError;
use crate::claims::json_type;
use crate::cli::DecodeArgs;
use crate::federation::fetch::{Fetcher, MAX_JWKS_BYTES};
use crate::utc::rfc3339;

/// How long fetching `--jwks URL` may take, connect to last byte.
pub const JWKS_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest token read from stdin.
pub const MAX_TOKEN_BYTES: usize = 1024 * 1024;

/// Algorithms of RFC 7518 §3.1 and RFC 8037 (and RFC 8812's ES256K): a
/// verifier knows what they are, even when it cannot check them.
const REGISTERED_ALGS: [&str; 15] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256",
    "PS384", "PS512", "EdDSA", "ES256K", "none",
];

/// The signature verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Signature {
    /// A key of the JWKS verifies it.
    Valid,
    /// No key of the given JWKS verifies it.
    Invalid,
    /// Not checked (no JWKS, or an algorithm this build cannot check).
    Unchecked,
}

/// What `decode` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The JOSE header (`null` when it cannot be decoded).
    pub header: Value,
    /// The claims (`null` when they cannot be decoded; a string when they
    /// are text but not JSON).
    pub payload: Value,
    /// The signature verdict.
    pub signature: Signature,
    /// What a verifier would complain about, one sentence each.
    pub problems: Vec<String>,
    /// Whether the token is not a well-formed JWS.
    #[serde(skip)]
    pub malformed: bool,
}

impl Report {
    /// 1 when the signature is invalid or the token malformed, else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.malformed || self.signature == Signature::Invalid)
    }

    /// Pretty JSON, keys in the documented order.
    pub fn to_json(&self) -> String {
        // A struct of JSON values always serializes.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }
}

/// What signatures are checked with: the keys of a JWKS that
/// `jsonwebtoken` can use, and the HS256 secret (`HS256_SECRET`) for HMAC
/// tokens.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<Jwk>,
    /// Whether a JWKS was given (else only the secret checks anything).
    jwks: bool,
    secret: Option<Vec<u8>>,
}

impl std::fmt::Debug for KeySet {
    // The secret never reaches Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.kids())
            .field("jwks", &self.jwks)
            .field("secret", &self.secret.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl KeySet {
    /// No JWKS, only the HS256 secret.
    pub fn secret_only(secret: &[u8]) -> Self {
        KeySet {
            secret: Some(secret.to_vec()),
            ..KeySet::default()
        }
    }

    /// The same keys, and `secret` for HMAC tokens.
    pub fn with_secret(mut self, secret: Option<&[u8]>) -> Self {
        self.secret = secret.map(<[u8]>::to_vec);
        self
    }

    /// The verdict on `token`'s signature, or `None` when nothing here can
    /// check it (an asymmetric token and only a secret).
    fn check(
        &self,
        token: &str,
        alg: &str,
        kid: Option<&str>,
    ) -> Option<(Signature, Option<String>)> {
        if let (Some(secret), true) = (&self.secret, alg.starts_with("HS")) {
            return Some(verify_hmac(token, alg, secret));
        }
        self.jwks.then(|| check_signature(token, alg, kid, self))
    }

    /// Parses a JWKS (`{"keys": [...]}`). Keys that are not usable JWKs are
    /// left out; the second value says which and why.
    pub fn parse(bytes: &[u8]) -> Result<(KeySet, Vec<String>), String> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
        let Some(Value::Array(items)) = value.get("keys") else {
            return Err(format!(
                "not a JWKS: expected a JSON object with a \"keys\" array, got {}",
                json_type(&value)
            ));
        };
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match serde_json::from_value::<Jwk>(item.clone()) {
                Ok(jwk) => keys.push(jwk),
                Err(e) => {
                    let kid = item.get("kid").and_then(Value::as_str).unwrap_or("?");
                    skipped.push(format!("key #{i} (kid {kid:?}) left out: {e}"));
                }
            }
        }
        Ok((
            KeySet {
                keys,
                jwks: true,
                secret: None,
            },
            skipped,
        ))
    }

    fn kids(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| k.common.key_id.clone().unwrap_or_else(|| "(none)".into()))
            .collect()
    }
}

/// Reads the token (stdin for `-`), loads the JWKS when asked and analyzes
/// the token at `now`; `secret` (`HS256_SECRET`) checks HMAC tokens.
pub fn run(
    args: &DecodeArgs,
    secret: Option<&[u8]>,
    stdin: impl Read,
    now: i64,
) -> Result<Report, CmdError> {
    let token = if args.token == "-" {
        let mut text = String::new();
        stdin
            .take(MAX_TOKEN_BYTES as u64 + 1)
            .read_to_string(&mut text)
            .map_err(|e| CmdError::Usage(format!("cannot read the token from stdin: {e}")))?;
        if text.len() > MAX_TOKEN_BYTES {
            return Err(CmdError::Usage(format!(
                "the token on stdin is longer than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        text
    } else {
        args.token.clone()
    };
    let keys = match &args.jwks {
        Some(source) => {
            let (keys, skipped) = KeySet::parse(&load_jwks(source)?)
                .map_err(|e| CmdError::Usage(format!("--jwks {source}: {e}")))?;
            for note in skipped {
                tracing::warn!("--jwks {source}: {note}");
            }
            Some(keys.with_secret(secret))
        }
        None => secret.map(KeySet::secret_only),
    };
    Ok(analyze(clean(&token), keys.as_ref(), now))
}

/// The compact token in `text`: surrounding whitespace and a `Bearer `
/// prefix (as copied from an `Authorization` header) removed.
pub fn clean(text: &str) -> &str {
    let text = text.trim();
    match text.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => text[7..].trim_start(),
        _ => text,
    }
}

/// The JWKS bytes of `--jwks`: an `http://` URL fetched (bounded), or a file.
fn load_jwks(source: &str) -> Result<Vec<u8>, CmdError> {
    let usage = |msg: String| CmdError::Usage(format!("--jwks {source}: {msg}"));
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Err(usage(
            "https is not supported (mock-idp has no TLS stack); fetch it with e.g. `curl -o \
             jwks.json URL` and pass the file, or use mock-idp's http:// URL"
                .into(),
        ));
    }
    if lower.starts_with("http://") {
        return fetch(source).map_err(usage);
    }
    if let Some((scheme, _)) = source.split_once("://") {
        return Err(usage(format!(
            "{scheme}:// is not supported; give an http:// URL or a file"
        )));
    }
    let file = std::fs::File::open(source).map_err(|e| usage(format!("cannot read it: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_JWKS_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| usage(format!("cannot read it: {e}")))?;
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(usage(format!("larger than {MAX_JWKS_BYTES} bytes")));
    }
    Ok(bytes)
}

/// GETs `url` with the peer fetcher's bounds: [`JWKS_TIMEOUT`],
/// [`MAX_JWKS_BYTES`], no redirects, no proxy.
fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let fetcher = Fetcher::new(JWKS_TIMEOUT)
            .map_err(|e| format!("cannot create the HTTP client: {e}"))?
            .with_timeout_hint("mock-idp decode waits this long for --jwks");
        fetcher.get(url).await
    })
}

/// What `token` is and what a verifier would say about it at `now`, its
/// signature checked against `keys` when given.
pub fn analyze(token: &str, keys: Option<&KeySet>, now: i64) -> Report {
    let mut report = Report {
        header: Value::Null,
        payload: Value::Null,
        signature: if keys.is_some() {
            Signature::Invalid
        } else {
            Signature::Unchecked
        },
        problems: Vec::new(),
        malformed: false,
    };
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        report.malformed = true;
        report.problems.push(match parts.len() {
            _ if token.is_empty() => "malformed: the token is empty".into(),
            5 => "malformed: 5 parts separated by '.' is an encrypted JWT (JWE); only signed \
                  JWTs (JWS: header.payload.signature) can be decoded"
                .into(),
            n => format!(
                "malformed: {n} part{} separated by '.'; a signed JWT has 3 \
                 (header.payload.signature)",
                if n == 1 { "" } else { "s" }
            ),
        });
        return report;
    }
    let malformed = |report: &mut Report, problem: String| {
        report.malformed = true;
        report.problems.push(format!("malformed: {problem}"));
    };

    let header = match json_part(parts[0], "header") {
        Ok(Value::Object(map)) => Some(map),
        Ok(other) => {
            malformed(
                &mut report,
                format!("the header is {}, not a JSON object", json_type(&other)),
            );
            report.header = other;
            None
        }
        Err((problem, text)) => {
            malformed(&mut report, problem);
            report.header = text.map_or(Value::Null, Value::String);
            None
        }
    };
    let payload = match json_part(parts[1], "payload") {
        Ok(Value::Object(map)) => Some(map),
        Ok(other) => {
            malformed(
                &mut report,
                format!(
                    "the payload is {}, not a JSON object (a JWT's claims set is one, RFC 7519 \
                     §7.2)",
                    json_type(&other)
                ),
            );
            report.payload = other;
            None
        }
        Err((problem, text)) => {
            malformed(&mut report, problem);
            report.payload = text.map_or(Value::Null, Value::String);
            None
        }
    };
    let signature = URL_SAFE_NO_PAD.decode(parts[2]);
    if let Err(e) = &signature {
        malformed(&mut report, format!("the signature is not base64url ({e})"));
    }

    let mut alg = None;
    if let Some(header) = &header {
        match header.get("alg") {
            None => malformed(
                &mut report,
                "the header has no alg (RFC 7515 §4.1.1 requires it)".into(),
            ),
            Some(Value::String(a)) => alg = Some(a.clone()),
            Some(other) => malformed(
                &mut report,
                format!("alg is {}, not a string", json_type(other)),
            ),
        }
        report
            .problems
            .extend(header_problems(header, alg.as_deref()));
        report.header = Value::Object(header.clone());
    }
    if let Some(payload) = &payload {
        report.problems.extend(claim_problems(payload, now));
        report.payload = Value::Object(payload.clone());
    }
    let signature_empty = signature.as_ref().is_ok_and(Vec::is_empty);
    if signature_empty && alg.as_deref().is_some_and(|a| a != "none") {
        report.problems.push("the signature is empty".into());
    }

    match (keys, &alg) {
        (Some(keys), Some(alg)) if !report.malformed => {
            let kid = header
                .as_ref()
                .and_then(|h| h.get("kid"))
                .and_then(Value::as_str);
            match keys.check(token, alg, kid) {
                Some((verdict, problem)) => {
                    report.signature = verdict;
                    report.problems.extend(problem);
                }
                None => report.signature = Signature::Unchecked,
            }
            if keys.secret.is_some() && report.signature == Signature::Valid {
                // Verified with the shared secret: HMAC is not a problem here.
                report.problems.retain(|p| !p.starts_with("alg HS"));
            }
        }
        // A malformed token fails every verifier; without keys, nothing is checked.
        (Some(_), _) => report.signature = Signature::Invalid,
        (None, _) => report.signature = Signature::Unchecked,
    }
    report
}

/// One base64url part as JSON; on failure the problem and, when the part
/// is text, the text.
fn json_part(part: &str, name: &str) -> Result<Value, (String, Option<String>)> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| (format!("the {name} is not base64url ({e})"), None))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let text = String::from_utf8(bytes).ok();
        (format!("the {name} is not JSON ({e})"), text)
    })
}

/// What a verifier says about the JOSE header.
fn header_problems(header: &Map<String, Value>, alg: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    match alg {
        Some("none") => problems.push(
            "alg is none: the token is unsigned; verifiers must reject it (RFC 8725 §3.1)".into(),
        ),
        Some(a) if a.starts_with("HS") => problems.push(format!(
            "alg {a} is an HMAC algorithm: it needs a shared secret, which a JWKS does not \
             publish; verifiers that take keys from a JWKS reject it, and must never use a \
             public key as the secret (algorithm confusion, RFC 8725 §2.1)"
        )),
        Some(a) if !REGISTERED_ALGS.contains(&a) => problems.push(format!(
            "alg {a} is not a JWS algorithm (RFC 7518 §3.1, RFC 8037): verifiers reject it"
        )),
        Some(a) if Algorithm::from_str(a).is_err() => problems.push(format!(
            "alg {a} cannot be checked here (jsonwebtoken does not implement it), and some \
             verifiers do not support it"
        )),
        _ => {}
    }
    match header.get("kid") {
        None => problems
            .push("no kid in the header: verifiers that pick the JWKS key by kid reject it".into()),
        Some(Value::String(_)) => {}
        Some(other) => problems.push(format!(
            "kid is {}, not a string: verifiers reject it",
            json_type(other)
        )),
    }
    if let Some(typ) = header.get("typ") {
        let known = typ.as_str().is_some_and(|t| {
            ["JWT", "at+jwt", "application/at+jwt", "application/jwt"]
                .iter()
                .any(|k| t.eq_ignore_ascii_case(k))
        });
        if !known {
            problems.push(format!(
                "typ is {typ}: verifiers that check typ expect JWT (or at+jwt for RFC 9068 \
                 access tokens)"
            ));
        }
    }
    if header.contains_key("crit") {
        problems.push(
            "the header has crit: verifiers reject critical extensions they do not \
             understand (RFC 7515 §4.1.11)"
                .into(),
        );
    }
    problems
}

/// What a verifier says about the claims at `now`.
fn claim_problems(claims: &Map<String, Value>, now: i64) -> Vec<String> {
    let mut problems = Vec::new();
    let time = |name: &str, problems: &mut Vec<String>| match claims.get(name) {
        None => None,
        Some(v) => match v.as_f64().filter(|f| f.is_finite()) {
            // NumericDate may have a fraction (RFC 7519 §2); whole seconds matter here.
            Some(f) => Some(f.floor() as i64),
            None => {
                problems.push(format!(
                    "{name} is {}, not a NumericDate (seconds since 1970): verifiers reject it",
                    json_type(v)
                ));
                None
            }
        },
    };
    match (claims.contains_key("exp"), time("exp", &mut problems)) {
        (false, _) => problems.push(
            "no exp: the token never expires; many verifiers require exp (RFC 7519 §4.1.4)".into(),
        ),
        (true, Some(exp)) if now >= exp => problems.push(format!(
            "expired {} ago (exp {exp} = {})",
            human_duration(now.saturating_sub(exp)),
            rfc3339(exp)
        )),
        _ => {}
    }
    if let Some(nbf) = time("nbf", &mut problems)
        && nbf > now
    {
        problems.push(format!(
            "not yet valid: nbf is {} from now (nbf {nbf} = {})",
            human_duration(nbf - now),
            rfc3339(nbf)
        ));
    }
    if let Some(iat) = time("iat", &mut problems)
        && iat > now
    {
        problems.push(format!(
            "issued in the future: iat is {} from now (iat {iat} = {}); some verifiers reject it",
            human_duration(iat - now),
            rfc3339(iat)
        ));
    }
    for (claim, why) in [
        ("iss", "verifiers that check the issuer reject it"),
        (
            "sub",
            "verifiers that need a subject (OpenID Connect, most APIs) reject it",
        ),
    ] {
        match claims.get(claim) {
            None => problems.push(format!("no {claim}: {why}")),
            Some(Value::String(_)) => {}
            Some(other) => problems.push(format!(
                "{claim} is {}, not a string: {why}",
                json_type(other)
            )),
        }
    }
    if let Some(aud) = claims.get("aud") {
        let ok = match aud {
            Value::String(_) => true,
            Value::Array(items) => items.iter().all(Value::is_string),
            _ => false,
        };
        if !ok {
            problems.push(format!(
                "aud is {}, not a string or an array of strings: verifiers reject it",
                json_type(aud)
            ));
        }
    }
    problems
}

/// Checks the signature of `token` (`alg`, `kid` from its header) with
/// the keys of `keys` that could have made it.
fn check_signature(
    token: &str,
    alg: &str,
    kid: Option<&str>,
    keys: &KeySet,
) -> (Signature, Option<String>) {
    if alg == "none" {
        return (Signature::Invalid, None);
    }
    let Ok(algorithm) = Algorithm::from_str(alg) else {
        return if REGISTERED_ALGS.contains(&alg) {
            (Signature::Unchecked, None)
        } else {
            (Signature::Invalid, None)
        };
    };
    let candidates: Vec<&Jwk> = match kid {
        Some(kid) => keys
            .keys
            .iter()
            .filter(|k| k.common.key_id.as_deref() == Some(kid))
            .collect(),
        None => keys.keys.iter().collect(),
    };
    if candidates.is_empty() {
        let problem = match kid {
            Some(kid) => format!(
                "unknown kid {kid:?}: not in the JWKS (its kids: {}); verifiers reject it",
                list(&keys.kids())
            ),
            None => "the JWKS has no key to check the signature with".into(),
        };
        return (Signature::Invalid, Some(problem));
    }
    let mut reasons = Vec::new();
    for jwk in candidates {
        let name = jwk.common.key_id.as_deref().unwrap_or("(no kid)");
        match verify_with(token, algorithm, jwk) {
            Ok(()) => return (Signature::Valid, None),
            Err(reason) => reasons.push(format!("key {name:?}: {reason}")),
        }
    }
    (
        Signature::Invalid,
        Some(format!("signature not verified: {}", reasons.join("; "))),
    )
}

/// Verifies an HMAC `token` with the shared secret.
fn verify_hmac(token: &str, alg: &str, secret: &[u8]) -> (Signature, Option<String>) {
    let Ok(algorithm) = Algorithm::from_str(alg) else {
        return (Signature::Invalid, None);
    };
    match decode_signature_only(token, algorithm, &DecodingKey::from_secret(secret)) {
        Ok(()) => (Signature::Valid, None),
        Err(e) => (
            Signature::Invalid,
            Some(format!(
                "signature not verified with HS256_SECRET: {}",
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature =>
                        "the signature does not match".to_string(),
                    _ => e.to_string(),
                }
            )),
        ),
    }
}

/// jsonwebtoken's signature check alone (times and claims are reported
/// separately).
fn decode_signature_only(
    token: &str,
    algorithm: Algorithm,
    key: &DecodingKey,
) -> Result<(), jsonwebtoken::errors::Error> {
    let mut validation = Validation::new(algorithm);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, key, &validation).map(|_| ())
}

/// Verifies only the signature of `token` with `jwk` (times and claims are
/// reported separately, so they are not checked here).
fn verify_with(token: &str, algorithm: Algorithm, jwk: &Jwk) -> Result<(), String> {
    let alg = format!("{algorithm:?}");
    if let Some(key_alg) = jwk.common.key_algorithm {
        let key_alg = format!("{key_alg:?}");
        if key_alg != alg {
            return Err(format!("the key is for {key_alg}, the token says {alg}"));
        }
    }
    if let Some(jsonwebtoken::jwk::PublicKeyUse::Encryption) = jwk.common.public_key_use {
        return Err("the key is for encryption (use: enc)".into());
    }
    let kty = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => "RSA",
        AlgorithmParameters::EllipticCurve(_) => "EC",
        AlgorithmParameters::OctetKeyPair(_) => "OKP",
        AlgorithmParameters::OctetKey(_) => "oct",
        _ => "unknown",
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("unusable {kty} key ({e})"))?;
    match decode_signature_only(token, algorithm, &key) {
        Ok(_) => Ok(()),
        Err(e) => Err(match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                "the signature does not match".into()
            }
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm
            | jsonwebtoken::errors::ErrorKind::InvalidKeyFormat
            | jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey
            | jsonwebtoken::errors::ErrorKind::InvalidRsaKey(_) => {
                format!("a {kty} key cannot verify {alg} ({e})")
            }
            _ => e.to_string(),
        }),
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// `3d 4h 5m 6s`, leaving out zero units (`0s` for zero).
pub fn human_duration(seconds: i64) -> String {
    let mut left = seconds.max(0);
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        let n = left / size;
        left %= size;
        if n > 0 {
            parts.push(format!("{n}{unit}"));
        }
    }
    if parts.is_empty() {
        "0s".into()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KidPolicy, SigningKey};
    use serde_json::json;

    const NOW: i64 = 1_700_000_000;

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    /// A token with `header` and `claims`, signed RS256 by `key`.
    fn rs256(key: &SigningKey, header: Value, claims: Value) -> String {
        let input = format!("{}.{}", b64(&header), b64(&claims));
        let sig = key.sign(input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn good_claims() -> Value {
        json!({"iss": "https://i", "sub": "u", "aud": "a", "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 600})
    }

    fn jwks_of(keys: Vec<Value>) -> KeySet {
        let (set, skipped) = KeySet::parse(json!({ "keys": keys }).to_string().as_bytes()).unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        set
    }

    fn rsa_setup() -> (SigningKey, KeySet) {
        let key = SigningKey::generate(&KidPolicy::default()).unwrap();
        let set = jwks_of(vec![serde_json::to_value(key.jwk()).unwrap()]);
        (key, set)
    }

    fn has(report: &Report, text: &str) -> bool {
        report.problems.iter().any(|p| p.contains(text))
    }

    #[test]
    fn valid_token_has_no_problems() {
        let (key, set) = rsa_setup();
        let token = crate::jwt::encode(&key, good_claims().as_object().unwrap()).unwrap();
        let r = analyze(&token, Some(&set), NOW);
        assert_eq!(r.signature, Signature::Valid, "{:?}", r.problems);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.exit_code(), 0);
        assert_eq!(r.header["kid"], key.kid());
        assert_eq!(r.payload["sub"], "u");
        let unchecked = analyze(&token, None, NOW);
        assert_eq!(unchecked.signature, Signature::Unchecked);
        assert_eq!(unchecked.exit_code(), 0);
        let printed: Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(
            printed.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["header", "payload", "problems", "signature"]
        );
        assert!(
            r.to_json().starts_with("{\n  \"header\""),
            "documented order"
        );
        assert_eq!(printed["signature"], "valid");
    }

    #[test]
    fn tampered_and_foreign_signatures_are_invalid() {
        let (key, set) = rsa_setup();
        let token = crate::jwt::encode(&key, good_claims().as_object().unwrap()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims = good_claims();
        claims["sub"] = json!("admin");
        let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
        let r = analyze(&tampered, Some(&set), NOW);
        assert_eq!(r.signature, Signature::Invalid);
        assert_eq!(r.exit_code(), 1);
        assert!(has(&r, "the signature does not match"), "{:?}", r.problems);
        assert_eq!(r.payload["sub"], "admin", "still decoded");

        // Same kid, other key (a key rotated away without a kid change).
        let other = SigningKey::generate(&KidPolicy {
            fixed: Some(key.kid().to_string()),
            instance_id: None,
        })
        .unwrap();
        let forged = crate::jwt::encode(&other, good_claims().as_object().unwrap()).unwrap();
        let r = analyze(&forged, Some(&set), NOW);
        assert_eq!(r.signature, Signature::Invalid, "{:?}", r.problems);
    }

    #[test]
    fn time_problems_say_how_long() {
        let (key, set) = rsa_setup();
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": key.kid()});
        let mut claims = good_claims();
        claims["exp"] = json!(NOW - 700);
        let r = analyze(&rs256(&key, header.clone(), claims), Some(&set), NOW);
        assert_eq!(r.signature, Signature::Valid);
        assert_eq!(r.exit_code(), 0, "expired is a problem, not an exit code");
        assert_eq!(
            r.problems,
            [format!(
                "expired 11m 40s ago (exp {} = 2023-11-14T22:01:40Z)",
                NOW - 700
            )]
        );

        let mut claims = good_claims();
        claims["nbf"] = json!(NOW + 3_600);
        claims["iat"] = json!(NOW + 90_061);
        let r = analyze(&rs256(&key, header.clone(), claims), Some(&set), NOW);
        assert!(
            has(&r, "not yet valid: nbf is 1h from now"),
            "{:?}",
            r.problems
        );
        assert!(
            has(&r, "issued in the future: iat is 1d 1h 1m 1s from now"),
            "{:?}",
            r.problems
        );

        let mut claims = good_claims();
        claims.as_object_mut().unwrap().remove("exp");
        claims["nbf"] = json!("soon");
        let r = analyze(&rs256(&key, header.clone(), claims), Some(&set), NOW);
        assert!(
            has(&r, "no exp: the token never expires"),
            "{:?}",
            r.problems
        );
        assert!(
            has(&r, "nbf is a string, not a NumericDate"),
            "{:?}",
            r.problems
        );

        // exp == now is expired (RFC 7519 §4.1.4: "on or after").
        let mut claims = good_claims();
        claims["exp"] = json!(NOW);
        let r = analyze(&rs256(&key, header, claims), None, NOW);
        assert!(has(&r, "expired 0s ago"), "{:?}", r.problems);
    }

    #[test]
    fn header_problems() {
        let (key, set) = rsa_setup();
        // No kid: a lenient verifier tries every key, and it verifies.
        let r = analyze(
            &rs256(&key, json!({"alg": "RS256"}), good_claims()),
            Some(&set),
            NOW,
        );
        assert_eq!(r.signature, Signature::Valid);
        assert!(has(&r, "no kid in the header"), "{:?}", r.problems);

        // Unknown kid.
        let r = analyze(
            &rs256(&key, json!({"alg": "RS256", "kid": "gone"}), good_claims()),
            Some(&set),
            NOW,
        );
        assert_eq!(r.signature, Signature::Invalid);
        assert!(
            has(
                &r,
                &format!(
                    "unknown kid \"gone\": not in the JWKS (its kids: {})",
                    key.kid()
                )
            ),
            "{:?}",
            r.problems
        );

        // Wrong typ and crit.
        let r = analyze(
            &rs256(
                &key,
                json!({"alg": "RS256", "kid": key.kid(), "typ": "refresh+jwt", "crit": ["x"]}),
                good_claims(),
            ),
            Some(&set),
            NOW,
        );
        assert_eq!(r.signature, Signature::Valid);
        assert!(has(&r, "typ is \"refresh+jwt\""), "{:?}", r.problems);
        assert!(has(&r, "crit"), "{:?}", r.problems);

        // alg none: unsigned.
        let none = format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "kid": key.kid()})),
            b64(&good_claims())
        );
        let r = analyze(&none, None, NOW);
        assert_eq!((r.signature, r.exit_code()), (Signature::Unchecked, 0));
        assert!(has(&r, "alg is none"), "{:?}", r.problems);
        let r = analyze(&none, Some(&set), NOW);
        assert_eq!((r.signature, r.exit_code()), (Signature::Invalid, 1));

        // Unknown and unsupported algorithms.
        let odd = |alg: &str| {
            format!(
                "{}.{}.c2ln",
                b64(&json!({"alg": alg, "kid": key.kid()})),
                b64(&good_claims())
            )
        };
        let r = analyze(&odd("XS999"), Some(&set), NOW);
        assert_eq!(r.signature, Signature::Invalid);
        assert!(
            has(&r, "alg XS999 is not a JWS algorithm"),
            "{:?}",
            r.problems
        );
        let r = analyze(&odd("ES512"), Some(&set), NOW);
        assert_eq!(r.signature, Signature::Unchecked);
        assert!(
            has(&r, "alg ES512 cannot be checked here"),
            "{:?}",
            r.problems
        );
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_rejected() {
        let (key, set) = rsa_setup();
        let secret = key.spki_der().unwrap();
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some(key.kid().to_string());
        let token = jsonwebtoken::encode(
            &header,
            &good_claims(),
            &jsonwebtoken::EncodingKey::from_secret(&secret),
        )
        .unwrap();
        let r = analyze(&token, Some(&set), NOW);
        assert_eq!(r.signature, Signature::Invalid);
        assert!(has(&r, "HMAC algorithm"), "{:?}", r.problems);
        assert!(
            has(&r, "the key is for RS256, the token says HS256"),
            "{:?}",
            r.problems
        );
    }

    /// HS256_SECRET checks HMAC tokens, with or without a JWKS; an
    /// asymmetric token with only the secret stays unchecked.
    #[test]
    fn hmac_tokens_are_checked_with_the_secret() {
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some("hs".into());
        let token = jsonwebtoken::encode(
            &header,
            &good_claims(),
            &jsonwebtoken::EncodingKey::from_secret(b"s3cret"),
        )
        .unwrap();
        let r = analyze(&token, Some(&KeySet::secret_only(b"s3cret")), NOW);
        assert_eq!(r.signature, Signature::Valid, "{:?}", r.problems);
        assert!(r.problems.is_empty(), "no HMAC complaint: {:?}", r.problems);
        let r = analyze(&token, Some(&KeySet::secret_only(b"other")), NOW);
        assert_eq!((r.signature, r.exit_code()), (Signature::Invalid, 1));
        assert!(
            has(&r, "signature not verified with HS256_SECRET"),
            "{:?}",
            r.problems
        );
        let (key, set) = rsa_setup();
        let r = analyze(&token, Some(&set.clone().with_secret(Some(b"s3cret"))), NOW);
        assert_eq!(r.signature, Signature::Valid);
        let rs = crate::jwt::encode(&key, good_claims().as_object().unwrap()).unwrap();
        let r = analyze(&rs, Some(&KeySet::secret_only(b"s3cret")), NOW);
        assert_eq!(r.signature, Signature::Unchecked);
        let r = analyze(&rs, Some(&set.with_secret(Some(b"s3cret"))), NOW);
        assert_eq!(r.signature, Signature::Valid);
        assert!(!format!("{:?}", KeySet::secret_only(b"s3cret")).contains("s3cret"));
    }

    #[test]
    fn claim_problems() {
        let r = analyze(
            &format!(
                "{}.{}.c2ln",
                b64(&json!({"alg": "RS256", "kid": "k"})),
                b64(&json!({"exp": NOW + 5, "aud": 3, "sub": 7}))
            ),
            None,
            NOW,
        );
        assert!(has(&r, "no iss"), "{:?}", r.problems);
        assert!(has(&r, "sub is a number, not a string"), "{:?}", r.problems);
        assert!(has(&r, "aud is a number"), "{:?}", r.problems);
        assert!(!r.malformed);
    }

    #[test]
    fn malformed_tokens() {
        let h = b64(&json!({"alg": "RS256", "kid": "k"}));
        let p = b64(&good_claims());
        let cases: Vec<(&str, String, &str)> = vec![
            ("empty", String::new(), "the token is empty"),
            ("garbage", "garbage".into(), "1 part separated by '.'"),
            ("two parts", format!("{h}.{p}"), "2 parts"),
            ("JWE", "a.b.c.d.e".into(), "encrypted JWT (JWE)"),
            (
                "header not base64url",
                format!("{h}!.{p}.c2ln"),
                "the header is not base64url",
            ),
            (
                "header not JSON",
                format!("{}.{p}.c2ln", URL_SAFE_NO_PAD.encode("hello")),
                "the header is not JSON",
            ),
            (
                "header an array",
                format!("{}.{p}.c2ln", b64(&json!([1]))),
                "the header is an array",
            ),
            (
                "no alg",
                format!("{}.{p}.c2ln", b64(&json!({"kid": "k"}))),
                "the header has no alg",
            ),
            (
                "payload an array",
                format!("{h}.{}.c2ln", b64(&json!(["a"]))),
                "the payload is an array",
            ),
            (
                "padded signature",
                format!("{h}.{p}.c2ln=="),
                "the signature is not base64url",
            ),
        ];
        for (name, token, expected) in cases {
            let r = analyze(&token, None, NOW);
            assert!(r.malformed, "{name}");
            assert_eq!(r.exit_code(), 1, "{name}");
            assert!(has(&r, expected), "{name}: {:?}", r.problems);
            assert!(
                r.problems.iter().any(|p| p.starts_with("malformed: ")),
                "{name}"
            );
        }
        // The parts that can be decoded are still shown.
        let r = analyze(
            &format!("{h}.{}.c2ln", URL_SAFE_NO_PAD.encode("plain text")),
            None,
            NOW,
        );
        assert_eq!(r.header["kid"], "k");
        assert_eq!(r.payload, "plain text");
    }

    #[test]
    fn every_asymmetric_family_verifies() {
        use aws_lc_rs::signature::{self as sig, KeyPair};
        let claims = good_claims();
        let sign = |alg: Algorithm, kid: &str, key: jsonwebtoken::EncodingKey| {
            let mut header = jsonwebtoken::Header::new(alg);
            header.kid = Some(kid.into());
            jsonwebtoken::encode(&header, &claims, &key).unwrap()
        };
        // ES256
        let ec = sig::EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = ec.public_key().as_ref().to_vec(); // 0x04 || X || Y
        let ec_jwk = json!({"kty": "EC", "crv": "P-256", "kid": "ec", "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])});
        let ec_der = ec.to_pkcs8v1().unwrap();
        let es256 = sign(
            Algorithm::ES256,
            "ec",
            jsonwebtoken::EncodingKey::from_ec_der(ec_der.as_ref()),
        );
        // EdDSA
        let ed = sig::Ed25519KeyPair::generate().unwrap();
        let ed_jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "alg": "EdDSA",
            "x": URL_SAFE_NO_PAD.encode(ed.public_key().as_ref())});
        let ed_der = ed.to_pkcs8().unwrap();
        let eddsa = sign(
            Algorithm::EdDSA,
            "ed",
            jsonwebtoken::EncodingKey::from_ed_der(ed_der.as_ref()),
        );
        // PS256 with an RSA key (PKCS#1 DER for jsonwebtoken).
        let rsa = sig::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let rsa_public = rsa.public_key();
        let rsa_jwk = json!({"kty": "RSA", "kid": "ps",
            "n": URL_SAFE_NO_PAD.encode(rsa_public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(rsa_public.exponent().big_endian_without_leading_zero())});
        let ps256 = {
            let input = format!(
                "{}.{}",
                b64(&json!({"alg": "PS256", "kid": "ps"})),
                b64(&claims)
            );
            let mut out = vec![0; rsa.public_modulus_len()];
            rsa.sign(
                &sig::RSA_PSS_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut out,
            )
            .unwrap();
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(out))
        };
        let set = jwks_of(vec![ec_jwk, ed_jwk, rsa_jwk]);
        for (name, token) in [("ES256", &es256), ("EdDSA", &eddsa), ("PS256", &ps256)] {
            let r = analyze(token, Some(&set), NOW);
            assert_eq!(r.signature, Signature::Valid, "{name}: {:?}", r.problems);
            assert!(r.problems.is_empty(), "{name}: {:?}", r.problems);
        }
        // A token of one family presented with another family's kid.
        let wrong = es256.replacen(
            es256.split('.').next().unwrap(),
            &b64(&json!({"alg": "ES256", "kid": "ps"})),
            1,
        );
        let r = analyze(&wrong, Some(&set), NOW);
        assert_eq!(r.signature, Signature::Invalid, "{:?}", r.problems);
        assert!(has(&r, "key \"ps\""), "{:?}", r.problems);
    }

    #[test]
    fn jwks_parsing_leaves_out_unusable_keys() {
        let (set, skipped) = KeySet::parse(
            br#"{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"},{"kty":"XYZ","kid":"b"},"c",{"kid":7}]}"#,
        )
        .unwrap();
        // An unknown kty is kept (and reported as unusable when it is the candidate).
        assert_eq!(set.kids(), ["a", "b"]);
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(
            skipped[0].starts_with("key #2 (kid \"?\") left out"),
            "{skipped:?}"
        );
        assert!(skipped[1].starts_with("key #3"), "{skipped:?}");
        let token = format!(
            "{}.{}.c2ln",
            b64(&json!({"alg": "RS256", "kid": "b"})),
            b64(&good_claims())
        );
        let r = analyze(&token, Some(&set), NOW);
        assert_eq!(r.signature, Signature::Invalid);
        assert!(
            has(&r, "key \"b\": unusable unknown key"),
            "{:?}",
            r.problems
        );
        for bad in [&b"[]"[..], b"{}", b"{\"keys\":1}", b"nope"] {
            assert!(
                KeySet::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn cleaning_and_reading_stdin() {
        assert_eq!(clean("  Bearer a.b.c \n"), "a.b.c");
        assert_eq!(clean("bearer   a.b.c"), "a.b.c");
        assert_eq!(clean("a.b.c\n"), "a.b.c");
        let args = DecodeArgs {
            token: "-".into(),
            jwks: None,
        };
        let r = run(&args, None, &b"Bearer x.y\n"[..], NOW).unwrap();
        assert!(has(&r, "2 parts"), "{:?}", r.problems);
        let big = vec![b'a'; MAX_TOKEN_BYTES + 1];
        assert_eq!(run(&args, None, &big[..], NOW).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn jwks_sources() {
        let args = |jwks: &str| DecodeArgs {
            token: "a.b.c".into(),
            jwks: Some(jwks.into()),
        };
        let e = run(&args("https://idp.example/jwks"), None, &b""[..], NOW).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("https is not supported"), "{e}");
        let e = run(&args("ftp://x/jwks"), None, &b""[..], NOW).unwrap_err();
        assert!(e.to_string().contains("ftp:// is not supported"), "{e}");
        let e = run(&args("/nonexistent/jwks.json"), None, &b""[..], NOW).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .starts_with("--jwks /nonexistent/jwks.json: cannot read it"),
            "{e}"
        );
        // Nothing listens on port 9 of loopback (discard): a quick refusal.
        let e = run(&args("http://127.0.0.1:9/jwks"), None, &b""[..], NOW).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("cannot connect"), "{e}");

        let (key, _) = rsa_setup();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwks.json");
        let set = crate::keys::JwksSnapshot::new([key.jwk().clone()]);
        std::fs::write(&file, &set.json).unwrap();
        let token = crate::jwt::encode(&key, good_claims().as_object().unwrap()).unwrap();
        let r = run(
            &DecodeArgs {
                token,
                jwks: Some(file.display().to_string()),
            },
            None,
            &b""[..],
            NOW,
        )
        .unwrap();
        assert_eq!(r.signature, Signature::Valid, "{:?}", r.problems);
    }

    #[test]
    fn time_formatting() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(59), "59s");
        assert_eq!(human_duration(3_600), "1h");
        assert_eq!(human_duration(90_061), "1d 1h 1m 1s");
        assert_eq!(human_duration(-5), "0s");
    }
}
