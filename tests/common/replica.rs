//! Real `mock-idp` processes for multi-replica tests: start the built binary
//! with a clean environment, parse its startup line, keep its stderr in a log
//! file (printed when the test fails), kill it on drop. Plus bounded polling.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use serde_json::Value;

/// How long a replica may take to print its startup line.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `mock-idp` process.
pub struct Replica {
    pub name: String,
    /// `http://ip:port` as printed on its startup line.
    pub base: String,
    /// When its startup line was read.
    pub started: Instant,
    child: Child,
    log: PathBuf,
}

/// `n` distinct free loopback ports (bound together, then released).
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

impl Replica {
    /// Starts `mock-idp` on `host:port` with `env` (over a cleared
    /// environment) and waits for its startup line.
    pub fn start(name: &str, host: &str, port: u16, env: &[(&str, String)], dir: &Path) -> Replica {
        let log = dir.join(format!("{name}-{}.log", unique()));
        let stderr = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mock-idp"));
        cmd.env_clear()
            .env("HOST", host)
            .env("PORT", port.to_string())
            .env("RUST_LOG", "mock_idp=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn mock-idp");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading so the pipe never fills; only the first line matters.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                panic!(
                    "replica {name} printed no startup line within {START_TIMEOUT:?} ({e}); stderr:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        let base = parse_startup_line(&line)
            .unwrap_or_else(|| panic!("replica {name}: unexpected startup line {line:?}"));
        Replica {
            name: name.to_string(),
            base,
            started: Instant::now(),
            child,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "---- replica {} ({}) stderr, last lines ----\n{}",
                self.name,
                self.base,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

/// `mock-idp listening on http://ADDR (JWKS: ...)` -> `http://ADDR`.
pub fn parse_startup_line(line: &str) -> Option<String> {
    let rest = line.strip_prefix("mock-idp listening on ")?;
    let (url, jwks) = rest.split_once(" (JWKS: ")?;
    (url.starts_with("http://") && jwks.ends_with(')')).then(|| url.to_string())
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A client for talking to replicas: no redirects, short timeout.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .unwrap()
}

/// GET `url` as JSON.
pub async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let res = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(res.status().is_success(), "GET {url}: {}", res.status());
    res.json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: body is not JSON: {e}"))
}

/// The kids served at `base`'s JWKS, in served order.
pub async fn served_kids(client: &reqwest::Client, base: &str) -> Vec<String> {
    let jwks = get_json(client, &format!("{base}/.well-known/jwks.json")).await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// The JWKS at `base` for the independent verifier.
pub async fn jwks(client: &reqwest::Client, base: &str) -> JwkSet {
    serde_json::from_value(get_json(client, &format!("{base}/.well-known/jwks.json")).await)
        .unwrap()
}

/// Mints a token on `base`; returns (token, kid, exp).
pub async fn mint(client: &reqwest::Client, base: &str, sub: &str) -> (String, String, i64) {
    let res: Value = client
        .post(format!("{base}/token"))
        .json(&serde_json::json!({"sub": sub}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = res["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("mint on {base}: {res}"))
        .to_string();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let claims: Value = {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    (token, header.kid.unwrap(), claims["exp"].as_i64().unwrap())
}

/// Polls `check` every 50 ms until it returns `Some`, or panics with `what`
/// after `deadline`.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The peer entry for `url` in a `/health` or `/cluster` document.
pub fn peer<'a>(doc: &'a Value, url: &str) -> Option<&'a Value> {
    doc["peers"]
        .as_array()?
        .iter()
        .find(|p| p["url"].as_str() == Some(url))
}

#[test]
fn startup_line_is_parsed() {
    assert_eq!(
        parse_startup_line(
            "mock-idp listening on http://127.0.0.1:4000 (JWKS: http://127.0.0.1:4000/.well-known/jwks.json)"
        )
        .as_deref(),
        Some("http://127.0.0.1:4000")
    );
    assert_eq!(parse_startup_line("hello"), None);
}
