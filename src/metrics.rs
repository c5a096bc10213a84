//! Prometheus metrics (`GET /metrics`, text exposition format 0.0.4), kept
//! with atomics so the token hot path never takes a lock.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::claims::Preset;

/// How a token was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// `POST /token` with JSON, query string or empty body.
    Mint,
    /// OAuth `client_credentials`.
    ClientCredentials,
    /// OAuth `password`.
    Password,
    /// OAuth `authorization_code`.
    AuthorizationCode,
    /// OAuth `refresh_token`.
    RefreshToken,
}

impl Grant {
    const ALL: [Grant; 5] = [
        Grant::Mint,
        Grant::ClientCredentials,
        Grant::Password,
        Grant::AuthorizationCode,
        Grant::RefreshToken,
    ];

    /// Label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::Mint => "mint",
            Grant::ClientCredentials => "client_credentials",
            Grant::Password => "password",
            Grant::AuthorizationCode => "authorization_code",
            Grant::RefreshToken => "refresh_token",
        }
    }
}

const PRESETS: [Preset; 2] = [Preset::Clerk, Preset::Plain];

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

/// All counters of one process.
#[derive(Debug, Default)]
pub struct Metrics {
    tokens: [[AtomicU64; 2]; 5],
    jwks_requests: AtomicU64,
    latency: RwLock<BTreeMap<(String, String), Arc<Histogram>>>,
}

impl Metrics {
    /// Counts one issued token.
    pub fn token_issued(&self, grant: Grant, preset: Preset) {
        let g = Grant::ALL.iter().position(|x| *x == grant).unwrap_or(0);
        let p = PRESETS.iter().position(|x| *x == preset).unwrap_or(0);
        self.tokens[g][p].fetch_add(1, Ordering::Relaxed);
    }

    /// Tokens issued so far for `grant` and `preset`.
    pub fn tokens_issued(&self, grant: Grant, preset: Preset) -> u64 {
        let g = Grant::ALL.iter().position(|x| *x == grant).unwrap_or(0);
        let p = PRESETS.iter().position(|x| *x == preset).unwrap_or(0);
        self.tokens[g][p].load(Ordering::Relaxed)
    }

    /// Counts one JWKS request.
    pub fn jwks_request(&self) {
        self.jwks_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the latency of a request to `route` (the matched path) by `method`.
    pub fn observe_request(&self, method: &str, route: &str, elapsed: Duration) {
        let found = self
            .latency
            .read()
            .ok()
            .and_then(|map| map.get(&(route.to_string(), method.to_string())).cloned());
        let histogram = match found {
            Some(h) => h,
            None => match self.latency.write() {
                Ok(mut map) => Arc::clone(
                    map.entry((route.to_string(), method.to_string()))
                        .or_default(),
                ),
                Err(_) => return,
            },
        };
        histogram.observe(elapsed);
    }

    /// Renders every metric in the Prometheus text format. `extra` is
    /// appended (other modules' gauges, e.g. federation peers).
    pub fn render(&self, extra: &str) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP mock_idp_tokens_issued_total Tokens issued, by grant and claims preset.\n",
        );
        out.push_str("# TYPE mock_idp_tokens_issued_total counter\n");
        for grant in Grant::ALL {
            for preset in PRESETS {
                let _ = writeln!(
                    out,
                    "mock_idp_tokens_issued_total{{grant=\"{}\",preset=\"{}\"}} {}",
                    grant.as_str(),
                    preset.as_str(),
                    self.tokens_issued(grant, preset)
                );
            }
        }
        out.push_str("# HELP mock_idp_jwks_requests_total JWKS requests served.\n");
        out.push_str("# TYPE mock_idp_jwks_requests_total counter\n");
        let _ = writeln!(
            out,
            "mock_idp_jwks_requests_total {}",
            self.jwks_requests.load(Ordering::Relaxed)
        );
        out.push_str("# HELP mock_idp_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE mock_idp_http_request_duration_seconds histogram\n");
        if let Ok(map) = self.latency.read() {
            for ((route, method), h) in map.iter() {
                let labels = format!("route=\"{route}\",method=\"{method}\"");
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
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.token_issued(Grant::Mint, Preset::Clerk);
        m.token_issued(Grant::Mint, Preset::Clerk);
        m.token_issued(Grant::ClientCredentials, Preset::Plain);
        m.jwks_request();
        m.observe_request("POST", "/token", Duration::from_micros(300));
        m.observe_request("POST", "/token", Duration::from_millis(3));
        m.observe_request("POST", "/token", Duration::from_secs(9));
        let text = m.render("mock_idp_extra 1\n");
        assert!(
            text.contains("mock_idp_tokens_issued_total{grant=\"mint\",preset=\"clerk\"} 2"),
            "{text}"
        );
        assert!(text.contains(
            "mock_idp_tokens_issued_total{grant=\"client_credentials\",preset=\"plain\"} 1"
        ));
        assert!(
            text.contains("mock_idp_tokens_issued_total{grant=\"password\",preset=\"clerk\"} 0")
        );
        assert!(text.contains("mock_idp_jwks_requests_total 1"));
        let bucket = |le: &str| {
            format!(
                "mock_idp_http_request_duration_seconds_bucket{{route=\"/token\",method=\"POST\",le=\"{le}\"}}"
            )
        };
        assert!(text.contains(&format!("{} 1", bucket("0.0005"))), "{text}");
        assert!(text.contains(&format!("{} 2", bucket("0.005"))), "{text}");
        assert!(text.contains(&format!("{} 2", bucket("5"))), "{text}");
        assert!(text.contains(&format!("{} 3", bucket("+Inf"))), "{text}");
        assert!(text.contains(
            "mock_idp_http_request_duration_seconds_count{route=\"/token\",method=\"POST\"} 3"
        ));
        assert!(text.ends_with("mock_idp_extra 1\n"));
    }
}
