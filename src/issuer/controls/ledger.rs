//! The request ledger (`GET <mount>/_admin/requests`): the last
//! [`CAPACITY`] requests of one issuer, so a test can assert what its
//! backend asked (navikt/mock-oauth2-server's `takeRequest`).
//!
//! Bounded memory: a fixed-capacity ring, every field length-capped, so a
//! full ledger holds at most [`CAPACITY`] × ~1.1 KiB whatever goes through
//! it. No secret is ever recorded: no header (so no `Authorization`), no
//! body (so no form secret), and secret query parameters and JWT-looking
//! query values are replaced by [`REDACTED`] before anything is stored.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize, Serializer};

use crate::issuer::{Form, OAuthError};

/// Entries kept per issuer; the oldest is dropped first.
pub const CAPACITY: usize = 1000;
/// Longest `path` kept, in bytes.
pub const MAX_PATH: usize = 256;
/// Longest `query` kept (after redaction), in bytes.
pub const MAX_QUERY: usize = 512;
/// Longest `method`, `client_id`, `sub` or `jti` kept, in bytes.
pub const MAX_FIELD: usize = 128;
/// What replaces a secret query value.
pub const REDACTED: &str = "<redacted>";
/// Marks a value cut at its limit.
const CUT: &str = "…";

/// Query parameters whose values are secrets (besides any name containing
/// `secret` or `password`, or ending in `token`, `token_hint` or `assertion`).
const SECRET_PARAMS: &[&str] = &[
    "client_secret",
    "password",
    "code",
    "code_verifier",
    "refresh_token",
    "token",
    "access_token",
    "id_token",
    "assertion",
    "client_assertion",
    "id_token_hint",
    "device_code",
];

/// Who a token response was for: set by the token endpoint from the access
/// token it issued, read by the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFacts {
    /// `client_id` (else `azp`) of the token.
    pub client_id: Option<String>,
    /// `sub` of the token.
    pub sub: Option<String>,
    /// `jti` of the token.
    pub jti: Option<String>,
}

impl TokenFacts {
    /// Reads `client_id` (else `azp`), `sub` and `jti` from a JWT's payload
    /// (unverified: it was just issued by this server). Empty when the
    /// token is not a JWT.
    pub fn from_access_token(token: &str) -> TokenFacts {
        token
            .split('.')
            .nth(1)
            .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
            .and_then(|json| serde_json::from_slice::<Lenient>(&json).ok())
            .map(|l| TokenFacts {
                client_id: l
                    .client_id
                    .and_then(into_string)
                    .or(l.azp.and_then(into_string)),
                sub: l.sub.and_then(into_string),
                jti: l.jti.and_then(into_string),
            })
            .unwrap_or_default()
    }
}

/// The payload fields, whatever their JSON type (a token may carry odd ones).
#[derive(Deserialize)]
struct Lenient {
    client_id: Option<serde_json::Value>,
    azp: Option<serde_json::Value>,
    sub: Option<serde_json::Value>,
    jti: Option<serde_json::Value>,
}

fn into_string(v: serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// One request as the HTTP layer saw it, before redaction and capping.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// When it arrived, UNIX milliseconds (system clock).
    pub unix_ms: i64,
    /// HTTP method.
    pub method: &'a str,
    /// The full request path (with the issuer's mount).
    pub path: &'a str,
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    /// Status answered.
    pub status: u16,
    /// What the token endpoint issued, if it did.
    pub facts: Option<&'a TokenFacts>,
    /// Time to the response head.
    pub duration: Duration,
}

/// One recorded request, as `GET /_admin/requests` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// When it arrived (RFC 3339, UTC, milliseconds).
    #[serde(serialize_with = "rfc3339")]
    pub time: i64,
    /// HTTP method.
    pub method: Box<str>,
    /// Full request path.
    pub path: Box<str>,
    /// Query string with secrets redacted; `None` when there was none.
    pub query: Option<Box<str>>,
    /// Status answered.
    pub status: u16,
    /// The client: of the issued token, else the query's `client_id`.
    pub client_id: Option<Box<str>>,
    /// `sub` of the issued token.
    pub sub: Option<Box<str>>,
    /// `jti` of the issued token.
    pub jti: Option<Box<str>>,
    /// Milliseconds to the response head (microsecond precision).
    pub duration_ms: f64,
}

impl Entry {
    /// Redacts and caps `seen`.
    pub fn new(seen: &Observed<'_>) -> Entry {
        let query = seen.query.filter(|q| !q.is_empty());
        let facts = seen.facts;
        let client_id = facts
            .and_then(|f| f.client_id.as_deref())
            .map(str::to_string)
            .or_else(|| query.and_then(|q| query_param(q, "client_id")));
        let micros = u64::try_from(seen.duration.as_micros()).unwrap_or(u64::MAX);
        Entry {
            time: seen.unix_ms,
            method: cap(seen.method, MAX_FIELD),
            path: cap(seen.path, MAX_PATH),
            query: query.map(|q| cap(&redact_query(q), MAX_QUERY)),
            status: seen.status,
            client_id: client_id.map(|c| cap(&c, MAX_FIELD)),
            sub: facts
                .and_then(|f| f.sub.as_deref())
                .map(|s| cap(s, MAX_FIELD)),
            jti: facts
                .and_then(|f| f.jti.as_deref())
                .map(|s| cap(s, MAX_FIELD)),
            duration_ms: micros as f64 / 1000.0,
        }
    }

    /// Bytes this entry holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        let opt = |s: &Option<Box<str>>| s.as_ref().map_or(0, |s| s.len());
        self.method.len()
            + self.path.len()
            + opt(&self.query)
            + opt(&self.client_id)
            + opt(&self.sub)
            + opt(&self.jti)
    }
}

/// The most an entry can hold on the heap.
pub const MAX_ENTRY_HEAP: usize = MAX_FIELD * 4 + MAX_PATH + MAX_QUERY + CUT.len() * 6;

/// `s`, cut to at most `max` bytes (on a character boundary, marked with `…`).
fn cap(s: &str, max: usize) -> Box<str> {
    if s.len() <= max {
        return s.into();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT}", &s[..end]).into_boxed_str()
}

/// Whether the query parameter `name` (decoded) holds a secret.
pub fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMS.contains(&name.as_str())
        || name.contains("secret")
        || name.contains("password")
        || name.ends_with("token")
        || name.ends_with("token_hint")
        || name.ends_with("assertion")
}

/// Whether a query value may be a token: base64url of a JSON object
/// (`eyJ...`, what every JWT starts with), however it was cut.
fn looks_like_jwt(raw_value: &str) -> bool {
    raw_value.starts_with("eyJ")
}

/// A query-string component, decoded (borrowed when nothing is encoded).
fn decode(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['%', '+']) {
        return Cow::Borrowed(raw);
    }
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("{raw}="))
        .ok()
        .and_then(|mut v| v.pop())
        .map_or(Cow::Borrowed(raw), |(k, _)| Cow::Owned(k))
}

/// The first value of `name` in `query`, decoded.
fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == name).then(|| decode(v).into_owned())
    })
}

/// `query` with the value of every secret parameter (and of anything that
/// looks like a JWT) replaced by [`REDACTED`]; other pairs kept as sent.
/// Stops once past [`MAX_QUERY`] (the result is cut there anyway).
pub fn redact_query(query: &str) -> String {
    let mut out = String::with_capacity(query.len().min(MAX_QUERY + REDACTED.len()));
    for pair in query.split('&') {
        if out.len() > MAX_QUERY {
            break;
        }
        if !out.is_empty() {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, value)) if is_secret_param(&decode(name)) || looks_like_jwt(value) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
    }
    out
}

/// The ledger of one issuer: a ring of the last [`CAPACITY`] entries.
#[derive(Debug)]
pub struct Ledger {
    ring: Mutex<VecDeque<Entry>>,
    capacity: usize,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger::with_capacity(CAPACITY)
    }
}

impl Ledger {
    /// A ledger keeping the last `capacity` entries (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Ledger {
            // Grows on use, so an issuer nobody calls costs nothing.
            ring: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
        }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a request (redacted and capped before the lock is taken).
    pub fn record(&self, seen: &Observed<'_>) {
        let entry = Entry::new(seen);
        let evicted = {
            let mut ring = self.ring();
            let evicted = if ring.len() >= self.capacity {
                ring.pop_front()
            } else {
                None
            };
            ring.push_back(entry);
            evicted
        };
        // Freed outside the lock.
        drop(evicted);
    }

    /// The newest `limit` entries whose path is `path` (any when `None`),
    /// newest first.
    pub fn list(&self, path: Option<&str>, limit: usize) -> Vec<Entry> {
        self.ring()
            .iter()
            .rev()
            .filter(|e| path.is_none_or(|p| *e.path == *p))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        let old = std::mem::take(&mut *self.ring());
        drop(old);
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.ring().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most entries it keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Heap bytes held: the ring's slots plus every entry's strings.
    pub fn heap_bytes(&self) -> usize {
        let ring = self.ring();
        ring.capacity() * std::mem::size_of::<Entry>()
            + ring.iter().map(Entry::heap_bytes).sum::<usize>()
    }
}

/// The parameters of `GET /_admin/requests`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Only entries with exactly this path.
    pub path: Option<String>,
    /// At most this many (newest first).
    pub limit: usize,
}

impl ListQuery {
    /// Parses `path=...&limit=N` (limit 1 to `capacity`, default all);
    /// unknown parameters are an error naming them.
    pub fn parse(query: Option<&str>, capacity: usize) -> Result<ListQuery, OAuthError> {
        let form = Form::parse(query.unwrap_or("").as_bytes(), "query string")?;
        let mut out = ListQuery {
            path: None,
            limit: capacity,
        };
        for (name, value) in form.pairs() {
            match name.as_str() {
                "path" => out.path = Some(value.clone()),
                "limit" => {
                    out.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=capacity).contains(n))
                        .ok_or_else(|| {
                            OAuthError::invalid_request(format!(
                                "limit: {value:?} is not a number from 1 to {capacity}"
                            ))
                        })?;
                }
                other => {
                    return Err(OAuthError::invalid_request(format!(
                        "{other}: unknown parameter; use path (the full request path) or limit"
                    )));
                }
            }
        }
        Ok(out)
    }
}

/// Serializes UNIX milliseconds as RFC 3339 UTC (`2024-05-01T12:00:00.123Z`).
fn rfc3339<S: Serializer>(unix_ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::utc::rfc3339_ms(*unix_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen<'a>(path: &'a str, query: Option<&'a str>) -> Observed<'a> {
        Observed {
            unix_ms: 1_700_000_000_123,
            method: "GET",
            path,
            query,
            status: 200,
            facts: None,
            duration: Duration::from_micros(1234),
        }
    }

    #[test]
    fn secrets_in_the_query_are_redacted() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        let cases = [
            (
                "client_id=web&client_secret=s3cret",
                "client_id=web&client_secret=<redacted>",
            ),
            (
                "password=hunter2&username=bob",
                "password=<redacted>&username=bob",
            ),
            (
                "code=abc&code_verifier=v&state=s",
                "code=<redacted>&code_verifier=<redacted>&state=s",
            ),
            (
                "refresh_token=r&token=t&access_token=a&id_token=i",
                "refresh_token=<redacted>&token=<redacted>&access_token=<redacted>&id_token=<redacted>",
            ),
            (
                "assertion=x&client_assertion=y&id_token_hint=z",
                "assertion=<redacted>&client_assertion=<redacted>&id_token_hint=<redacted>",
            ),
            (
                "Client%5FSecret=s&subject_token=t&my_password_2=p",
                "Client%5FSecret=<redacted>&subject_token=<redacted>&my_password_2=<redacted>",
            ),
            (&format!("state={jwt}&local"), "state=<redacted>&local"),
            ("x=eyJhbGciOiJSUzI1NiJ9.eyJzdW", "x=<redacted>"),
            (
                "sub=alice&scope=openid+email&local",
                "sub=alice&scope=openid+email&local",
            ),
            (
                "response_type=code&code_challenge_method=S256",
                "response_type=code&code_challenge_method=S256",
            ),
        ];
        for (query, want) in cases {
            assert_eq!(redact_query(query), want, "query {query}");
        }
    }

    #[test]
    fn entries_take_facts_then_the_query_client_and_are_capped() {
        let facts = TokenFacts {
            client_id: Some("web".into()),
            sub: Some("user_alice".into()),
            jti: Some("j1".into()),
        };
        let e = Entry::new(&Observed {
            facts: Some(&facts),
            ..seen("/token", Some("client_id=other"))
        });
        assert_eq!(
            (e.client_id.as_deref(), e.sub.as_deref(), e.jti.as_deref()),
            (Some("web"), Some("user_alice"), Some("j1"))
        );
        let e = Entry::new(&seen("/authorize", Some("client_id=spa&code_challenge=x")));
        assert_eq!(e.client_id.as_deref(), Some("spa"));
        assert_eq!(e.duration_ms, 1.234);
        let long = "é".repeat(1000);
        let e = Entry::new(&Observed {
            method: &long,
            ..seen(&long, Some(&long))
        });
        assert!(e.path.len() <= MAX_PATH + CUT.len() && e.path.ends_with(CUT));
        assert!(e.query.as_ref().unwrap().len() <= MAX_QUERY + CUT.len());
        assert!(e.method.len() <= MAX_FIELD + CUT.len());
        assert!(e.heap_bytes() <= MAX_ENTRY_HEAP);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["time"], "2023-11-14T22:13:20.123Z");
        let empty = Entry::new(&seen("/jwks", Some("")));
        assert_eq!(
            serde_json::to_value(&empty).unwrap()["query"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn token_facts_come_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"s","jti":"j","azp":"a","exp":1}"#);
        let facts = TokenFacts::from_access_token(&format!("h.{payload}.sig"));
        assert_eq!(
            (
                facts.client_id.as_deref(),
                facts.sub.as_deref(),
                facts.jti.as_deref()
            ),
            (Some("a"), Some("s"), Some("j"))
        );
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":7,"client_id":"c","azp":"a"}"#);
        let facts = TokenFacts::from_access_token(&format!("h.{payload}.sig"));
        assert_eq!(
            (facts.client_id.as_deref(), facts.sub.as_deref()),
            (Some("c"), Some("7"))
        );
        assert_eq!(
            TokenFacts::from_access_token("opaque"),
            TokenFacts::default()
        );
    }

    #[test]
    fn ring_keeps_the_newest_and_filters_by_path() {
        let ledger = Ledger::with_capacity(3);
        for path in ["/a", "/b", "/a", "/c", "/a"] {
            ledger.record(&seen(path, None));
        }
        let paths = |v: Vec<Entry>| v.iter().map(|e| e.path.to_string()).collect::<Vec<_>>();
        assert_eq!(paths(ledger.list(None, 10)), ["/a", "/c", "/a"]);
        assert_eq!(paths(ledger.list(Some("/a"), 10)), ["/a", "/a"]);
        assert_eq!(paths(ledger.list(None, 1)), ["/a"]);
        assert!(ledger.list(Some("/b"), 10).is_empty(), "evicted");
        ledger.clear();
        assert!(ledger.is_empty());
    }

    #[test]
    fn one_million_requests_keep_memory_flat() {
        let ledger = Ledger::default();
        let path = format!("/tenant/{}", "p".repeat(400));
        let query = format!(
            "client_id={}&password=x&q={}",
            "c".repeat(300),
            "v".repeat(900)
        );
        let mut full = 0;
        // 1M in release (`cargo test --release --lib one_million`, 0.7 s); a
        // debug build is ~25x slower, so it checks 100k there.
        let n: u32 = if cfg!(debug_assertions) {
            100_000
        } else {
            1_000_000
        };
        for i in 0..n {
            ledger.record(&Observed {
                unix_ms: i64::from(i),
                ..seen(&path, Some(&query))
            });
            if i as usize == CAPACITY {
                full = ledger.heap_bytes();
            }
        }
        assert_eq!(ledger.len(), CAPACITY);
        let bound =
            CAPACITY.next_power_of_two() * std::mem::size_of::<Entry>() + CAPACITY * MAX_ENTRY_HEAP;
        let now = ledger.heap_bytes();
        assert_eq!(now, full, "no growth after the ring is full");
        assert!(now <= bound, "{now} bytes > bound {bound}");
        assert_eq!(
            ledger.list(None, 1)[0].time,
            i64::from(n - 1),
            "the newest is kept"
        );
    }

    #[test]
    fn list_queries_are_checked() {
        assert_eq!(
            ListQuery::parse(Some("path=%2Ft%2Ftoken&limit=5"), 10).unwrap(),
            ListQuery {
                path: Some("/t/token".into()),
                limit: 5
            }
        );
        assert_eq!(ListQuery::parse(None, 10).unwrap().limit, 10);
        for (query, want) in [
            ("limit=0", "limit"),
            ("limit=11", "limit"),
            ("limit=x", "limit"),
            ("pth=/token", "pth: unknown parameter"),
        ] {
            let e = ListQuery::parse(Some(query), 10).unwrap_err().to_string();
            assert!(
                e.contains(want),
                "query {query}: {e:?} should contain {want:?}"
            );
        }
    }
}
