//! Prometheus metrics (`GET /metrics`, text exposition format 0.0.4), kept
//! with atomics so the token hot path never takes a lock.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::clients::GrantType;
use crate::profiles::Profile;

/// How a token was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `POST /token` with JSON, query string or empty body.
    Mint,
    /// An OAuth grant.
    Grant(GrantType),
}

impl TokenSource {
    const ALL: [TokenSource; 5] = [
        TokenSource::Mint,
        TokenSource::Grant(GrantType::ClientCredentials),
        TokenSource::Grant(GrantType::Password),
        TokenSource::Grant(GrantType::AuthorizationCode),
        TokenSource::Grant(GrantType::RefreshToken),
    ];

    /// Label value.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenSource::Mint => "mint",
            TokenSource::Grant(g) => g.as_str(),
        }
    }

    fn index(self) -> usize {
        match self {
            TokenSource::Mint => 0,
            TokenSource::Grant(GrantType::ClientCredentials) => 1,
            TokenSource::Grant(GrantType::Password) => 2,
            TokenSource::Grant(GrantType::AuthorizationCode) => 3,
            TokenSource::Grant(GrantType::RefreshToken) => 4,
        }
    }
}

/// One issuer's counters (lock-free: the token hot path only adds).
#[derive(Debug, Default)]
pub struct TokenCounters {
    tokens: [[AtomicU64; Profile::ALL.len()]; TokenSource::ALL.len()],
    jwks_requests: AtomicU64,
}

impl TokenCounters {
    /// Counts one issued token.
    pub fn issued(&self, source: TokenSource, preset: Profile) {
        self.tokens[source.index()][preset.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Tokens issued so far from `source` with `preset`.
    pub fn count(&self, source: TokenSource, preset: Profile) -> u64 {
        self.tokens[source.index()][preset.index()].load(Ordering::Relaxed)
    }

    /// Tokens issued so far, all sources and presets.
    pub fn total(&self) -> u64 {
        self.tokens
            .iter()
            .flatten()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// Counts one JWKS request.
    pub fn jwks_request(&self) {
        self.jwks_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// JWKS requests so far.
    pub fn jwks_requests(&self) -> u64 {
        self.jwks_requests.load(Ordering::Relaxed)
    }
}

/// Upper bounds (seconds) of the latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|le| secs <= *le) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// Histograms by issuer, then route, then method: nested so that a
/// request finds its histogram by `&str` keys, without allocating.
type ByRoute = BTreeMap<String, BTreeMap<String, BTreeMap<String, Arc<Histogram>>>>;

/// Latency histograms of one process, by (issuer, route, method).
#[derive(Debug, Default)]
pub struct Metrics {
    latency: RwLock<ByRoute>,
}

/// Escapes a Prometheus label value (`\`, `"`, newline).
pub fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Records the latency of a request to `issuer`'s `route` (the matched
    /// path pattern) by `method`.
    pub fn observe_request(&self, issuer: &str, method: &str, route: &str, elapsed: Duration) {
        let found = self
            .latency
            .read()
            .ok()
            .and_then(|map| map.get(issuer)?.get(route)?.get(method).cloned());
        let histogram = match found {
            Some(h) => h,
            None => match self.latency.write() {
                Ok(mut map) => Arc::clone(
                    map.entry(issuer.to_string())
                        .or_default()
                        .entry(route.to_string())
                        .or_default()
                        .entry(method.to_string())
                        .or_default(),
                ),
                Err(_) => return,
            },
        };
        histogram.observe(elapsed);
    }

    /// Renders every metric in the Prometheus text format: the counters of
    /// each `(name, counters)` issuer, the latency histograms, then `extra`
    /// (other modules' gauges, e.g. federation peers).
    pub fn render<'a>(
        &self,
        issuers: impl IntoIterator<Item = (&'a str, &'a TokenCounters)> + Clone,
        extra: &str,
    ) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP mock_idp_tokens_issued_total Tokens issued, by issuer, grant and claims preset (profile name).\n",
        );
        out.push_str("# TYPE mock_idp_tokens_issued_total counter\n");
        for (name, counters) in issuers.clone() {
            for source in TokenSource::ALL {
                for preset in Profile::ALL {
                    let _ = writeln!(
                        out,
                        "mock_idp_tokens_issued_total{{issuer=\"{}\",grant=\"{}\",preset=\"{}\"}} {}",
                        label(name),
                        source.as_str(),
                        preset.as_str(),
                        counters.count(source, preset)
                    );
                }
            }
        }
        out.push_str("# HELP mock_idp_jwks_requests_total JWKS requests served, by issuer.\n");
        out.push_str("# TYPE mock_idp_jwks_requests_total counter\n");
        for (name, counters) in issuers {
            let _ = writeln!(
                out,
                "mock_idp_jwks_requests_total{{issuer=\"{}\"}} {}",
                label(name),
                counters.jwks_requests()
            );
        }
        out.push_str(
            "# HELP mock_idp_http_request_duration_seconds Request latency by issuer and route.\n",
        );
        out.push_str("# TYPE mock_idp_http_request_duration_seconds histogram\n");
        if let Ok(map) = self.latency.read() {
            let all = map.iter().flat_map(|(issuer, routes)| {
                routes.iter().flat_map(move |(route, methods)| {
                    methods
                        .iter()
                        .map(move |(method, h)| (issuer, route, method, h))
                })
            });
            for (issuer, route, method, h) in all {
                let labels = format!(
                    "issuer=\"{}\",route=\"{}\",method=\"{}\"",
                    label(issuer),
                    label(route),
                    label(method)
                );
                let mut cumulative = 0;
                for (le, bucket) in LATENCY_BUCKETS.iter().zip(&h.buckets) {
                    cumulative += bucket.load(Ordering::Relaxed);
                    let _ = writeln!(
                        out,
                        "mock_idp_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                    );
                }
                let count = h.count.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "mock_idp_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
                );
                let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
                let _ = writeln!(
                    out,
                    "mock_idp_http_request_duration_seconds_sum{{{labels}}} {sum}"
                );
                let _ = writeln!(
                    out,
                    "mock_idp_http_request_duration_seconds_count{{{labels}}} {count}"
                );
            }
        }
        out.push_str(extra);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_per_issuer_and_cumulative_buckets() {
        let m = Metrics::default();
        let root = TokenCounters::default();
        let named = TokenCounters::default();
        root.issued(TokenSource::Mint, Profile::Clerk);
        root.issued(TokenSource::Mint, Profile::Clerk);
        named.issued(
            TokenSource::Grant(GrantType::ClientCredentials),
            Profile::Plain,
        );
        named.jwks_request();
        assert_eq!(root.total(), 2);
        m.observe_request("", "POST", "/token", Duration::from_micros(300));
        m.observe_request("", "POST", "/token", Duration::from_millis(3));
        m.observe_request("", "POST", "/token", Duration::from_secs(9));
        m.observe_request("a\"b", "GET", "/{issuer}/jwks", Duration::from_millis(1));
        let text = m.render([("", &root), ("tenant-a", &named)], "mock_idp_extra 1\n");
        let has = |line: &str| assert!(text.contains(line), "missing {line:?} in\n{text}");
        has("mock_idp_tokens_issued_total{issuer=\"\",grant=\"mint\",preset=\"clerk\"} 2");
        has(
            "mock_idp_tokens_issued_total{issuer=\"tenant-a\",grant=\"client_credentials\",preset=\"plain\"} 1",
        );
        has(
            "mock_idp_tokens_issued_total{issuer=\"tenant-a\",grant=\"password\",preset=\"clerk\"} 0",
        );
        has("mock_idp_jwks_requests_total{issuer=\"tenant-a\"} 1");
        has("mock_idp_jwks_requests_total{issuer=\"\"} 0");
        let bucket = |le: &str| {
            format!(
                "mock_idp_http_request_duration_seconds_bucket{{issuer=\"\",route=\"/token\",method=\"POST\",le=\"{le}\"}}"
            )
        };
        has(&format!("{} 1", bucket("0.0005")));
        has(&format!("{} 2", bucket("0.005")));
        has(&format!("{} 2", bucket("5")));
        has(&format!("{} 3", bucket("+Inf")));
        has(
            "mock_idp_http_request_duration_seconds_count{issuer=\"\",route=\"/token\",method=\"POST\"} 3",
        );
        has("issuer=\"a\\\"b\"");
        assert!(text.ends_with("mock_idp_extra 1\n"));
    }
}
