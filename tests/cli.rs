//! Process-level tests of the real `mock-idp` binary: startup line, prod
//! guard, key persistence across restarts, configuration errors, the
//! healthcheck subcommand and graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]
mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mock-idp");

/// The environment variable of every option.
const OPTION_VARS: [&str; 18] = [
    "CONFIG_FILE",
    "HOST",
    "PORT",
    "ISSUER",
    "AUDIENCE",
    "TOKEN_TTL",
    "KID",
    "PERSIST_KEYS_DIR",
    "USERS_FILE",
    "PEERS",
    "PEERS_DNS",
    "PEER_REFRESH_SEC",
    "PEER_TIMEOUT_MS",
    "PEER_RETENTION_SEC",
    "INSTANCE_ID",
    "CORS_ORIGINS",
    "PUBLIC_URL",
    "LOG_FORMAT",
];

/// A command for the binary with a clean environment for our variables.
fn mock_idp() -> Command {
    let mut cmd = Command::new(BIN);
    for var in ["NODE_ENV", "APP_ENV", "RUST_LOG"]
        .iter()
        .chain(&OPTION_VARS)
    {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "info");
    cmd
}

/// A running server process, killed on drop.
struct Server {
    child: Child,
    base: String,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(cmd: &mut Command) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let line = line_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("startup line within 10 s");
        // "mock-idp listening on http://127.0.0.1:PORT (JWKS: http://127.0.0.1:PORT/.well-known/jwks.json)"
        let base = line
            .strip_prefix("mock-idp listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected startup line {line:?}"))
            .to_string();
        assert!(
            line.trim_end()
                .ends_with(&format!("(JWKS: {base}/.well-known/jwks.json)")),
            "{line:?}"
        );
        Server {
            child,
            base,
            stderr: err_rx,
        }
    }

    fn get(&self, path: &str) -> Value {
        reqwest::blocking::get(format!("{}{path}", self.base))
            .unwrap()
            .json()
            .unwrap()
    }

    fn first_key(&self) -> (String, String) {
        let jwks = self.get("/.well-known/jwks.json");
        let key = &jwks["keys"][0];
        (
            key["kid"].as_str().unwrap().to_string(),
            key["n"].as_str().unwrap().to_string(),
        )
    }
}

/// Runs the binary to completion (bounded) and returns (exit code, stdout, stderr).
fn run_to_exit(cmd: &mut Command) -> (i32, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within 10 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code().unwrap_or(-1), out, err)
}

#[test]
fn prod_guard_refuses_before_binding_or_writing_keys() {
    let cases = [
        ("NODE_ENV", "production"),
        ("NODE_ENV", "Production"),
        ("NODE_ENV", " prod "),
        ("APP_ENV", "PROD"),
        ("APP_ENV", "production\n"),
        ("APP_ENV", "pRoDuCtIoN"),
    ];
    for (var, value) in cases {
        // Hold the port: if the binary tried to bind before the guard it would
        // fail with "cannot listen" and exit 1, not 78.
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let (code, out, err) = run_to_exit(
            mock_idp()
                .env(var, value)
                .env("PORT", port.to_string())
                .env("PERSIST_KEYS_DIR", &keys),
        );
        let case = format!("{var}={value:?}");
        assert_eq!(code, 78, "{case}: stderr {err}");
        assert!(
            err.contains(var),
            "{case}: stderr must name the variable: {err}"
        );
        assert!(!err.contains("cannot listen"), "{case}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{case}: one line: {err}");
        assert!(out.is_empty(), "{case}: nothing on stdout: {out}");
        assert!(!keys.exists(), "{case}: no key directory written");
    }
    // Non-production values start normally.
    for value in ["development", "test", "staging", ""] {
        let server = Server::start(
            mock_idp()
                .env("NODE_ENV", value)
                .env("APP_ENV", value)
                .env("PORT", "0"),
        );
        assert_eq!(server.get("/health")["status"], "ok", "NODE_ENV={value:?}");
    }
}

#[test]
fn persisted_key_survives_restarts_and_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("nested/keys");
    let start = || Server::start(mock_idp().env("PORT", "0").env("PERSIST_KEYS_DIR", &keys));

    let first = start();
    let (kid1, n1) = first.first_key();
    let token: Value = reqwest::blocking::Client::new()
        .post(format!("{}/token", first.base))
        .json(&serde_json::json!({"sub": "user_1"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    drop(first);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.join("private.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "private.pem mode");
    }
    let private_before = std::fs::read(keys.join("private.pem")).unwrap();
    assert!(String::from_utf8_lossy(&private_before).starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(
        std::fs::read_to_string(keys.join("public.pem"))
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );

    let second = start();
    assert_eq!(
        second.first_key(),
        (kid1.clone(), n1),
        "same n and kid after restart"
    );
    // A token from before the restart still verifies against the new process's JWKS.
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::blocking::get(format!("{}/certs", second.base))
        .unwrap()
        .json()
        .unwrap();
    common::verify_with(&jwks, token["access_token"].as_str().unwrap(), None).unwrap();
    drop(second);
    assert_eq!(
        std::fs::read(keys.join("private.pem")).unwrap(),
        private_before,
        "never rewritten"
    );

    // Without public.pem, it is regenerated from private.pem.
    std::fs::remove_file(keys.join("public.pem")).unwrap();
    let third = start();
    assert_eq!(third.first_key().0, kid1);
    assert!(keys.join("public.pem").exists());
}

fn assert_refused_untouched(dir: &Path, file: &str, content: &[u8]) {
    std::fs::write(dir.join(file), content).unwrap();
    let (code, out, err) = run_to_exit(mock_idp().env("PORT", "0").env("PERSIST_KEYS_DIR", dir));
    assert_ne!(code, 0, "{file}: must not start; stdout {out}");
    assert!(out.is_empty(), "{file}: never listened: {out}");
    let last = err.trim().lines().last().unwrap_or_default();
    assert!(
        last.contains(&dir.join(file).display().to_string()),
        "{file}: error names the file: {err}"
    );
    assert_eq!(
        std::fs::read(dir.join(file)).unwrap(),
        content,
        "{file}: byte-for-byte unchanged"
    );
}

#[test]
fn corrupt_or_foreign_key_files_are_refused_and_untouched() {
    let corrupt = tempfile::tempdir().unwrap();
    assert_refused_untouched(
        corrupt.path(),
        "private.pem",
        b"-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n",
    );

    let truncated = tempfile::tempdir().unwrap();
    {
        let _ = Server::start(
            mock_idp()
                .env("PORT", "0")
                .env("PERSIST_KEYS_DIR", truncated.path()),
        );
    }
    let full = std::fs::read(truncated.path().join("private.pem")).unwrap();
    assert_refused_untouched(truncated.path(), "private.pem", &full[..full.len() / 2]);

    let orphan = tempfile::tempdir().unwrap();
    assert_refused_untouched(
        orphan.path(),
        "public.pem",
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    );
}

#[cfg(unix)]
#[test]
fn unreadable_key_file_is_refused_and_untouched() {
    use std::os::unix::fs::PermissionsExt;
    if unsafe_is_root() {
        // root reads mode-000 files anyway; a directory in place of the file is unreadable for everyone.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("private.pem")).unwrap();
        let (code, _, err) = run_to_exit(
            mock_idp()
                .env("PORT", "0")
                .env("PERSIST_KEYS_DIR", dir.path()),
        );
        assert_ne!(code, 0);
        assert!(err.contains("private.pem"), "{err}");
        assert!(dir.path().join("private.pem").is_dir());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.pem");
    std::fs::write(&path, b"secret").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let (code, _, err) = run_to_exit(
        mock_idp()
            .env("PORT", "0")
            .env("PERSIST_KEYS_DIR", dir.path()),
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("private.pem") && err.contains("cannot read"),
        "{err}"
    );
}

fn unsafe_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn bad_configuration_is_one_line_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mock-idp.yaml");
    std::fs::write(&config, "issuer: http://x\ntoken_tll: 5\n").unwrap();
    let cases: Vec<(&str, Vec<(&str, String)>, &str)> = vec![
        ("ttl zero", vec![("TOKEN_TTL", "0".into())], "TOKEN_TTL"),
        (
            "issuer not a URL",
            vec![("ISSUER", "issuer.local".into())],
            "ISSUER",
        ),
        (
            "missing users file",
            vec![("USERS_FILE", "/nonexistent/users.yaml".into())],
            "/nonexistent/users.yaml",
        ),
        (
            "unknown config key",
            vec![("CONFIG_FILE", config.display().to_string())],
            "token_tll",
        ),
        (
            "bad peer",
            vec![("PEERS", "replica-1:8081".into())],
            "PEERS",
        ),
        (
            "port not a number",
            vec![("PORT", "eighty".into())],
            "--port",
        ),
    ];
    for (name, env, expected) in cases {
        let mut cmd = mock_idp();
        cmd.env("PORT", "0");
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let (code, out, err) = run_to_exit(&mut cmd);
        assert_eq!(code, 2, "case {name}: {err}");
        assert!(out.is_empty(), "case {name}: {out}");
        assert!(
            err.contains(expected),
            "case {name}: {err:?} should name {expected:?}"
        );
    }
    let (code, _, err) = run_to_exit(
        mock_idp()
            .env("CONFIG_FILE", config.display().to_string())
            .env("PORT", "0"),
    );
    assert_eq!(code, 2);
    assert!(err.contains("mock-idp.yaml"), "names the file: {err}");
}

#[test]
fn flags_win_over_env_and_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.yaml");
    std::fs::write(
        &config,
        "issuer: http://from-file\ntoken_ttl: 77\naudience: file-aud\n",
    )
    .unwrap();
    let server = Server::start(
        mock_idp()
            .args([
                "--config",
                config.to_str().unwrap(),
                "--issuer",
                "http://from-flag",
                "--port",
                "0",
            ])
            .env("ISSUER", "http://from-env")
            .env("TOKEN_TTL", "88"),
    );
    let body: Value = reqwest::blocking::Client::new()
        .post(format!("{}/token", server.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::blocking::get(format!("{}/certs", server.base))
        .unwrap()
        .json()
        .unwrap();
    let (_, c) = common::verify_with(
        &jwks,
        body["access_token"].as_str().unwrap(),
        Some("file-aud"),
    )
    .unwrap();
    assert_eq!(c["iss"], "http://from-flag", "flag beats env and file");
    assert_eq!(body["expires_in"], 88, "env beats file");
}

#[cfg(unix)]
#[test]
fn healthcheck_subcommand_and_graceful_shutdown() {
    let mut server = Server::start(mock_idp().env("PORT", "0"));
    let port = server.base.rsplit(':').next().unwrap().to_string();
    let (code, _, err) = run_to_exit(mock_idp().args(["healthcheck", "--port", &port]));
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = run_to_exit(
        mock_idp()
            .args(["healthcheck"])
            .env("PORT", &port)
            .env("HOST", "0.0.0.0"),
    );
    assert_eq!(code, 0, "wildcard host is checked on loopback");

    // SIGTERM: graceful shutdown, exit 0, then the port is closed.
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status:?}");
    let logs: Vec<String> = server.stderr.try_iter().collect();
    assert!(logs.iter().any(|l| l.contains("shutting down")), "{logs:?}");

    let (code, _, err) = run_to_exit(mock_idp().args(["healthcheck", "--port", &port]));
    assert_eq!(code, 1);
    assert!(err.contains("healthcheck"), "{err}");
}

#[test]
fn json_logs_and_no_key_material_in_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        mock_idp()
            .env("PORT", "0")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "debug")
            .env("PERSIST_KEYS_DIR", dir.path()),
    );
    let _ = server.get("/health");
    let _ = reqwest::blocking::Client::new()
        .post(format!("{}/token", server.base))
        .send()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let logs: Vec<String> = server.stderr.try_iter().collect();
    assert!(!logs.is_empty());
    for line in &logs {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v.get("level").is_some(), "{line}");
    }
    let private = std::fs::read_to_string(dir.path().join("private.pem")).unwrap();
    let body_line = private.lines().nth(1).unwrap();
    assert!(
        logs.iter().all(|l| !l.contains(body_line)),
        "private key bytes must never be logged"
    );
    assert!(
        logs.iter()
            .any(|l| l.contains("loaded key pair") || l.contains("created new key pair"))
    );
}

#[test]
fn help_documents_env_vars() {
    let (code, out, _) = run_to_exit(mock_idp().arg("--help"));
    assert_eq!(code, 0);
    for var in OPTION_VARS {
        assert!(
            out.contains(&format!("env: {var}=")),
            "--help must mention {var}"
        );
    }
    assert!(out.contains("healthcheck"));
}
