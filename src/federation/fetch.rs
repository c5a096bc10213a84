//! Fetching one peer's own keys of every issuer: `GET <peer>/cluster/keys`,
//! bounded in time ([`Fetcher::timeout`] covers connect, headers and body),
//! in size ([`MAX_JWKS_BYTES`]) and in redirects (none followed), then
//! validated issuer by issuer and key by key ([`parse_cluster_keys`]):
//! garbage is reported (with control characters escaped), never served.
//! The same answer carries each issuer's revoked `jti`s (hashed, with their
//! `exp`; [`parse_revocations`]), which the refresher hands to the issuers.

use std::time::Duration;

use reqwest::header::{ACCEPT, LOCATION};
use serde_json::Value;

use super::merge::{FetchOutcome, IssuerJwk};
use crate::issuer::paths::server;
use crate::issuer::registry::check_name;
use crate::keys::Jwk;

/// Largest answer accepted from a peer (4 MiB: a thousand issuers' keys).
pub const MAX_JWKS_BYTES: usize = 4 * 1024 * 1024;

/// Most keys taken from one peer for one issuer (a replica serves one or two).
pub const MAX_KEYS_PER_PEER: usize = 64;

/// Most issuers taken from one peer's answer.
pub const MAX_ISSUERS_PER_PEER: usize = 1100;

/// Most revocations a replica publishes, and takes from one peer, per
/// answer (all issuers together): about 1 MiB of JSON.
pub const MAX_REVOCATIONS_PER_PEER: usize = 20_000;

/// A revocation a peer published: the issuer, the [`hash`] of the `jti`
/// and the token's `exp`.
///
/// [`hash`]: crate::issuer::spent::hash
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRevocation {
    /// The issuer's name (`""` = root).
    pub issuer: String,
    /// The spent-set key of the `jti`.
    pub hash: u128,
    /// Until when it is revoked.
    pub exp: i64,
}

/// The HTTP client for peer fetches.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
    /// Which setting bounds the timeout, for the timeout message.
    timeout_hint: &'static str,
}

/// The URL fetched for peer `base`: its own keys only, so merging never recurses.
pub fn keys_url(base: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), server::CLUSTER_KEYS)
}

impl Fetcher {
    /// A client with `timeout` per fetch, no redirects, no proxy, no pooling.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            // A redirect (or a redirect loop) is an error, never followed.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            // Peers are cluster-internal; an HTTP_PROXY meant for the outside
            // world must not capture them.
            .no_proxy()
            // A fresh connection per fetch: a restarted peer never meets a
            // stale pooled connection, and one fetch per peer per refresh is cheap.
            .pool_max_idle_per_host(0)
            .user_agent(concat!(
                "mock-idp/",
                env!("CARGO_PKG_VERSION"),
                " (peer fetch)"
            ))
            .build()?;
        Ok(Fetcher {
            client,
            timeout,
            timeout_hint: "--peer-timeout-ms / PEER_TIMEOUT_MS",
        })
    }

    /// The same fetcher, naming `hint` as what sets the timeout in its
    /// timeout message (`mock-idp decode --jwks` reuses it).
    pub fn with_timeout_hint(mut self, hint: &'static str) -> Self {
        self.timeout_hint = hint;
        self
    }

    /// The per-fetch timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Fetches and validates `base`'s own keys, and the revocations it
    /// published. Never takes longer than the timeout.
    pub async fn fetch(&self, base: &str) -> (FetchOutcome, Vec<PeerRevocation>) {
        let body = match self.get(&keys_url(base)).await {
            Err(reason) => return (FetchOutcome::Failed(reason), Vec::new()),
            Ok(body) => body,
        };
        match parse_cluster_keys(&body) {
            Ok((valid, mut rejected)) => {
                let (revoked, why) = parse_revocations(&body);
                rejected.extend(why);
                (FetchOutcome::Keys { valid, rejected }, revoked)
            }
            Err(reason) => (FetchOutcome::Failed(reason), Vec::new()),
        }
    }

    /// GETs `url`: the body of a 2xx answer, at most [`MAX_JWKS_BYTES`],
    /// within the timeout, no redirect followed; else one line saying why.
    pub async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        match tokio::time::timeout(self.timeout, self.fetch_body(url)).await {
            Err(_) => Err(self.timed_out()),
            Ok(result) => result,
        }
    }

    fn timed_out(&self) -> String {
        format!(
            "no answer within {} ms ({})",
            self.timeout.as_millis(),
            self.timeout_hint
        )
    }

    async fn fetch_body(&self, url: &str) -> Result<Vec<u8>, String> {
        let mut response = self
            .client
            .get(url)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.describe(&e))?;
        let status = response.status();
        if status.is_redirection() {
            let to = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("nowhere");
            return Err(format!(
                "answered HTTP {status} redirecting to {to}; redirects are not followed"
            ));
        }
        if !status.is_success() {
            return Err(format!("answered HTTP {status}"));
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_JWKS_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.describe(&e))? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// One line with the innermost cause ("cannot connect: Connection
    /// refused"), not reqwest's "error sending request for url (...)".
    fn describe(&self, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            return self.timed_out();
        }
        let mut cause: &dyn std::error::Error = e;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        let what = if e.is_connect() {
            "cannot connect"
        } else if e.is_body() || e.is_decode() {
            "reading the answer failed"
        } else {
            "request failed"
        };
        format!("{what}: {cause}")
    }
}

/// Longest reason kept for one ignored key or issuer: peer input inside it
/// (a `kid`, a `kty`, an issuer name) is clipped, so a peer cannot write
/// megabyte log lines.
pub const MAX_REASON_CHARS: usize = 300;

/// Most reasons kept from one answer; the rest are counted in a last one.
pub const MAX_REASONS: usize = 32;

/// `reason`, at most [`MAX_REASON_CHARS`] characters of it.
fn clip(reason: String) -> String {
    let total = reason.chars().count();
    if total <= MAX_REASON_CHARS {
        return reason;
    }
    let kept: String = reason.chars().take(MAX_REASON_CHARS).collect();
    format!("{kept}... ({total} characters in all)")
}

/// Clips each reason and keeps at most [`MAX_REASONS`] of them.
fn bounded(reasons: Vec<String>) -> Vec<String> {
    let more = reasons.len().saturating_sub(MAX_REASONS);
    let mut out: Vec<String> = reasons.into_iter().take(MAX_REASONS).map(clip).collect();
    if more > 0 {
        out.push(format!("{more} more reasons not shown"));
    }
    out
}

fn too_large() -> String {
    format!("answer is larger than {MAX_JWKS_BYTES} bytes")
}

/// Parses a `/cluster/keys` answer (`{"issuers": {name: JWKS}}`) into
/// valid keys with their issuer and one reason per ignored key or issuer.
/// An answer that is not that shape at all is an error.
pub fn parse_cluster_keys(body: &[u8]) -> Result<(Vec<IssuerJwk>, Vec<String>), String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "answer is not JSON ({e}); starts with {:?}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        )
    })?;
    let Some(issuers) = value.get("issuers").and_then(Value::as_object) else {
        return Err(
            "answer has no \"issuers\" object (is the peer a mock-idp of this version?)".into(),
        );
    };
    let mut valid = Vec::new();
    let mut rejected = Vec::new();
    for (i, (name, jwks)) in issuers.iter().enumerate() {
        if i >= MAX_ISSUERS_PER_PEER {
            rejected.push(format!(
                "{} more issuers ignored (at most {MAX_ISSUERS_PER_PEER} per peer)",
                issuers.len() - i
            ));
            break;
        }
        if !name.is_empty()
            && let Err(e) = check_name(name)
        {
            rejected.push(format!("issuer {name:?}: {e}"));
            continue;
        }
        let (keys, why) = match parse_jwks(&jwks.to_string().into_bytes()) {
            Ok(parsed) => parsed,
            Err(e) => {
                rejected.push(format!("issuer {name:?}: {e}"));
                continue;
            }
        };
        valid.extend(keys.into_iter().map(|jwk| IssuerJwk {
            issuer: name.clone(),
            jwk,
        }));
        rejected.extend(why.into_iter().map(|w| {
            if name.is_empty() {
                w
            } else {
                format!("issuer {name:?}: {w}")
            }
        }));
    }
    Ok((valid, bounded(rejected)))
}

/// The revocations of a `/cluster/keys` answer: per issuer, `"revoked":
/// {"<32 hex digits>": exp, ...}`; each bad entry is one reason. At most
/// [`MAX_REVOCATIONS_PER_PEER`] are taken. An answer without any is none.
pub fn parse_revocations(body: &[u8]) -> (Vec<PeerRevocation>, Vec<String>) {
    let mut out = Vec::new();
    let mut rejected = Vec::new();
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return (out, rejected);
    };
    let Some(issuers) = value.get("issuers").and_then(Value::as_object) else {
        return (out, rejected);
    };
    for (name, entry) in issuers.iter().take(MAX_ISSUERS_PER_PEER) {
        let Some(revoked) = entry.get("revoked") else {
            continue;
        };
        if !name.is_empty() && check_name(name).is_err() {
            continue; // Already reported with the keys.
        }
        let Some(revoked) = revoked.as_object() else {
            rejected.push(format!("issuer {name:?}: \"revoked\" is not an object"));
            continue;
        };
        let mut bad = 0;
        for (hash, exp) in revoked {
            if out.len() >= MAX_REVOCATIONS_PER_PEER {
                rejected.push(format!(
                    "more revocations ignored (at most {MAX_REVOCATIONS_PER_PEER} per peer)"
                ));
                return (out, rejected);
            }
            match (crate::issuer::spent::parse_hash_hex(hash), exp.as_i64()) {
                (Some(hash), Some(exp)) => out.push(PeerRevocation {
                    issuer: name.clone(),
                    hash,
                    exp,
                }),
                _ => bad += 1,
            }
        }
        if bad > 0 {
            rejected.push(format!(
                "issuer {name:?}: {bad} revocations are not \"<32 hex digits>\": <exp>"
            ));
        }
    }
    (out, rejected)
}

/// Parses a JWKS into valid keys and one reason per ignored key. An answer
/// that is not a JWKS at all is an error.
pub fn parse_jwks(body: &[u8]) -> Result<(Vec<Jwk>, Vec<String>), String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "answer is not JSON ({e}); starts with {:?}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        )
    })?;
    let Some(keys) = value.get("keys").and_then(Value::as_array) else {
        return Err("answer is not a JWKS (no \"keys\" array)".into());
    };
    let mut valid = Vec::new();
    let mut rejected = Vec::new();
    for (i, raw) in keys.iter().enumerate() {
        // Peer input reaches our logs: control characters are escaped and
        // the length is capped, so a kid cannot forge log lines.
        let name = match raw.get("kid").and_then(Value::as_str) {
            Some(kid) => format!("key {}", crate::keys::jwk::printable(kid)),
            None => format!("key #{i}"),
        };
        if i >= MAX_KEYS_PER_PEER {
            rejected.push(format!(
                "{} more keys ignored (at most {MAX_KEYS_PER_PEER} per peer)",
                keys.len() - i
            ));
            break;
        }
        match serde_json::from_value::<Jwk>(raw.clone()) {
            Err(e) => rejected.push(format!("{name}: not a JWK ({e})")),
            Ok(jwk) => match jwk.validate() {
                Ok(()) => valid.push(jwk),
                Err(e) => rejected.push(format!("{name}: {e}")),
            },
        }
    }
    Ok((valid, bounded(rejected)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    fn good(kid: &str) -> Jwk {
        Jwk::rsa_sig(kid, &[0x80; 256], &[1, 0, 1])
    }

    #[test]
    fn keys_url_asks_for_own_keys_only() {
        assert_eq!(keys_url("http://a:8081/"), "http://a:8081/cluster/keys");
    }

    #[test]
    fn cluster_keys_keep_their_issuer_and_refuse_bad_names() {
        let body = json!({"issuers": {
            "": {"keys": [good("r")]},
            "tenant": {"keys": [good("t"), {"kty": "EC", "kid": "e"}]},
            "token": {"keys": [good("x")]},
            "bad name": {"keys": [good("y")]},
            "nojwks": {"nope": 1},
        }});
        let (valid, rejected) = parse_cluster_keys(body.to_string().as_bytes()).unwrap();
        let got: Vec<(String, String)> = valid
            .iter()
            .map(|k| (k.issuer.clone(), k.jwk.kid.clone()))
            .collect();
        assert_eq!(
            got,
            [("".into(), "r".into()), ("tenant".into(), "t".into())]
        );
        assert_eq!(rejected.len(), 4, "{rejected:#?}");
        assert!(
            rejected
                .iter()
                .any(|r| r.starts_with("issuer \"tenant\": key e"))
        );
        assert!(
            rejected
                .iter()
                .any(|r| r.contains("\"token\": the name is reserved"))
        );
        assert!(
            rejected
                .iter()
                .any(|r| r.contains("\"nojwks\": answer is not a JWKS"))
        );
        let e = parse_cluster_keys(b"{\"keys\": []}").unwrap_err();
        assert!(e.contains("no \"issuers\""), "{e}");
    }

    #[test]
    fn revocations_are_parsed_validated_and_capped() {
        let h = "0123456789abcdef0123456789abcdef";
        let body = json!({"issuers": {
            "": {"keys": [], "revoked": {h: 100}},
            "jas": {"keys": [], "revoked": {h: 200, "nothex": 1, "0123": 2, (h.to_uppercase()): "x"}},
            "old": {"keys": []},
            "bad name!": {"keys": [], "revoked": {h: 1}},
            "odd": {"keys": [], "revoked": [h]},
        }});
        let (revoked, rejected) = parse_revocations(body.to_string().as_bytes());
        let got: Vec<(&str, i64)> = revoked.iter().map(|r| (r.issuer.as_str(), r.exp)).collect();
        assert_eq!(got, [("", 100), ("jas", 200)]);
        assert_eq!(revoked[0].hash, 0x0123456789abcdef0123456789abcdef);
        assert_eq!(rejected.len(), 2, "{rejected:?}");
        assert!(
            rejected
                .iter()
                .any(|r| r.contains("\"jas\": 3 revocations")),
            "{rejected:?}"
        );
        assert!(
            rejected.iter().any(|r| r.contains("\"odd\"")),
            "{rejected:?}"
        );
        assert_eq!(parse_revocations(b"garbage"), (vec![], vec![]));

        let many: serde_json::Map<String, Value> = (0..MAX_REVOCATIONS_PER_PEER + 5)
            .map(|i| (format!("{i:032x}"), json!(100)))
            .collect();
        let body = json!({"issuers": {"": {"keys": [], "revoked": many}}});
        let (revoked, rejected) = parse_revocations(body.to_string().as_bytes());
        assert_eq!(revoked.len(), MAX_REVOCATIONS_PER_PEER);
        assert_eq!(rejected.len(), 1);
    }

    #[test]
    fn parse_keeps_good_keys_and_names_every_bad_one() {
        let body = json!({"keys": [
            good("ok"),
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "small", "n": URL_SAFE_NO_PAD.encode([0x80; 128]), "e": "AQAB"},
            {"kty": "RSA", "kid": "no-n", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "n": "x", "e": "AQAB", "kid": 7},
            "not an object",
        ]});
        let (valid, rejected) = parse_jwks(body.to_string().as_bytes()).unwrap();
        assert_eq!(valid, [good("ok")]);
        let expect = [
            "key ec: x is not 32 bytes",
            "key small: n is 1024 bits",
            "key no-n: n is 0 bits",
            "key hmac: kty is \"oct\"",
            "key #5: not a JWK",
            "key #6: not a JWK",
        ];
        assert_eq!(rejected.len(), expect.len(), "{rejected:#?}");
        for (got, want) in rejected.iter().zip(expect) {
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
    }

    #[test]
    fn parse_rejects_what_is_not_a_jwks() {
        let cases: [(&[u8], &str); 4] = [
            (b"<html>oops</html>", "not JSON"),
            (b"{\"keys\": {}}", "no \"keys\" array"),
            (b"[]", "no \"keys\" array"),
            (b"", "not JSON"),
        ];
        for (body, want) in cases {
            let err = parse_jwks(body).unwrap_err();
            assert!(err.contains(want), "{body:?}: {err:?}");
        }
    }

    #[test]
    fn parse_caps_the_number_of_keys() {
        let keys: Vec<Jwk> = (0..MAX_KEYS_PER_PEER + 3)
            .map(|i| good(&format!("k{i}")))
            .collect();
        let body = serde_json::to_vec(&json!({ "keys": keys })).unwrap();
        let (valid, rejected) = parse_jwks(&body).unwrap();
        assert_eq!(valid.len(), MAX_KEYS_PER_PEER);
        assert_eq!(rejected.len(), 1);
        assert!(
            rejected[0].starts_with("3 more keys ignored"),
            "{rejected:?}"
        );
    }

    #[test]
    fn peer_input_in_reasons_is_clipped_and_counted() {
        // A 200,000-character kid with CR/LF, a huge `use`, an issuer name of
        // 100,000 characters, and more bad keys than reasons are kept.
        let long_kid = format!("evil\r\nFORGED {}", "k".repeat(200_000));
        let mut keys = vec![json!({"kty": "RSA", "kid": long_kid, "n": "AA", "e": "AQAB"})];
        keys.push(
            json!({"kty": "RSA", "kid": "u", "use": "x".repeat(100_000), "n": "AA", "e": "AQAB"}),
        );
        keys.extend((0..50).map(|i| json!({"kty": "RSA", "kid": format!("bad{i}")})));
        let body = json!({"issuers": {"": {"keys": keys}, "n".repeat(100_000): {"keys": []}}});
        let (valid, rejected) = parse_cluster_keys(body.to_string().as_bytes()).unwrap();
        assert!(valid.is_empty());
        assert_eq!(rejected.len(), MAX_REASONS + 1, "{rejected:#?}");
        for r in &rejected {
            assert!(
                r.chars().count() <= MAX_REASON_CHARS + 40,
                "{} chars",
                r.len()
            );
            assert!(!r.contains(['\r', '\n']), "{r:?}");
        }
        assert!(
            rejected[0].starts_with("key evil\\r\\nFORGED kkk"),
            "{}",
            &rejected[0][..40]
        );
        assert!(
            rejected[0].ends_with("characters in all)"),
            "{}",
            rejected[0]
        );
        assert!(rejected.last().unwrap().ends_with("more reasons not shown"));
    }
}
