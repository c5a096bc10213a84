//! Process-level tests of the real `mock-idp` binary: startup line, prod
//! guard, key persistence across restarts, configuration errors, the
//! healthcheck subcommand, graceful shutdown, logs, and every option's
//! environment variable (derived from the clap definition).

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use clap::{ArgAction, CommandFactory};
use jsonwebtoken::jwk::JwkSet;
use serde_json::{Value, json};

use crate::support::Idp;
use crate::support::jwt::verify_with;
use crate::support::poll::eventually;
use crate::support::process::{Server, mock_idp};

#[tokio::test]
async fn prod_guard_refuses_before_binding_or_writing_keys() {
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
        let case = format!("{var}={value:?}");
        let exit = mock_idp(&case)
            .env(var, value)
            .env("PORT", port.to_string())
            .env("PERSIST_KEYS_DIR", &keys)
            .run_to_exit();
        let err = &exit.stderr;
        assert_eq!(exit.code, 78, "{case}: stderr {err}");
        assert!(
            err.contains(var),
            "{case}: stderr must name the variable: {err}"
        );
        assert!(!err.contains("cannot listen"), "{case}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{case}: one line: {err}");
        assert!(
            exit.stdout.is_empty(),
            "{case}: nothing on stdout: {}",
            exit.stdout
        );
        assert!(!keys.exists(), "{case}: no key directory written");
    }
    // Non-production values start normally.
    for value in ["development", "test", "staging", ""] {
        let server = mock_idp(&format!("NODE_ENV={value:?}"))
            .env("NODE_ENV", value)
            .env("APP_ENV", value)
            .start();
        assert_eq!(
            server.get_json("/health").await["status"],
            "ok",
            "NODE_ENV={value:?}"
        );
    }
}

/// The first served key's (kid, n).
async fn first_key(server: &Server) -> (String, String) {
    let jwks = server.get_json("/.well-known/jwks.json").await;
    let key = &jwks["keys"][0];
    (
        key["kid"].as_str().unwrap().to_string(),
        key["n"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn persisted_key_survives_restarts_and_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("nested/keys");
    let start = |name: &str| mock_idp(name).env("PERSIST_KEYS_DIR", &keys).start();

    let first = start("first");
    let (kid1, n1) = first_key(&first).await;
    let token = first.token(json!({"sub": "user_1"})).await;
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

    let second = start("second");
    assert_eq!(
        first_key(&second).await,
        (kid1.clone(), n1),
        "same n and kid after restart"
    );
    // A token from before the restart still verifies against the new process's JWKS.
    let jwks: JwkSet = second.get_as("/certs").await;
    verify_with(&jwks, &token, None).unwrap();
    drop(second);
    assert_eq!(
        std::fs::read(keys.join("private.pem")).unwrap(),
        private_before,
        "never rewritten"
    );

    // Without public.pem, it is regenerated from private.pem.
    std::fs::remove_file(keys.join("public.pem")).unwrap();
    let third = start("third");
    assert_eq!(first_key(&third).await.0, kid1);
    assert!(keys.join("public.pem").exists());
}

fn assert_refused_untouched(dir: &Path, file: &str, content: &[u8]) {
    std::fs::write(dir.join(file), content).unwrap();
    let exit = mock_idp(file).env("PERSIST_KEYS_DIR", dir).run_to_exit();
    let (out, err) = (&exit.stdout, &exit.stderr);
    assert_ne!(exit.code, 0, "{file}: must not start; stdout {out}");
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
    drop(
        mock_idp("writes a key")
            .env("PERSIST_KEYS_DIR", truncated.path())
            .start(),
    );
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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.pem");
    if is_root() {
        // root reads mode-000 files anyway; a directory in place of the file is unreadable for everyone.
        std::fs::create_dir(&path).unwrap();
        let exit = mock_idp("dir as key")
            .env("PERSIST_KEYS_DIR", dir.path())
            .run_to_exit();
        assert_ne!(exit.code, 0);
        assert!(exit.stderr.contains("private.pem"), "{}", exit.stderr);
        assert!(path.is_dir());
        return;
    }
    std::fs::write(&path, b"secret").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let exit = mock_idp("mode 000 key")
        .env("PERSIST_KEYS_DIR", dir.path())
        .run_to_exit();
    assert_ne!(exit.code, 0);
    assert!(
        exit.stderr.contains("private.pem") && exit.stderr.contains("cannot read"),
        "{}",
        exit.stderr
    );
}

fn is_root() -> bool {
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
    let config = config.display().to_string();
    // (case, environment, text the error must contain)
    let cases: [(&str, (&str, &str), &str); 10] = [
        ("ttl zero", ("TOKEN_TTL", "0"), "TOKEN_TTL"),
        ("issuer not a URL", ("ISSUER", "issuer.local"), "ISSUER"),
        (
            "missing users file",
            ("USERS_FILE", "/nonexistent/users.yaml"),
            "/nonexistent/users.yaml",
        ),
        ("unknown config key", ("CONFIG_FILE", &config), "token_tll"),
        ("bad peer", ("PEERS", "replica-1:8081"), "PEERS"),
        ("port not a number", ("PORT", "eighty"), "--port / PORT"),
        (
            "host not an address",
            ("HOST", "999.1.1.1"),
            "--host / HOST",
        ),
        ("unknown algorithm", ("ALG", "RS1024"), "--alg / ALG"),
        ("HS256 without a secret", ("ALG", "HS256"), "HS256_SECRET"),
        (
            "replay capacity",
            ("REPLAY_CAPACITY", "0"),
            "REPLAY_CAPACITY",
        ),
    ];
    for (name, (var, value), expected) in cases {
        let exit = mock_idp(name).env(var, value).run_to_exit();
        assert_eq!(exit.code, 2, "case {name}: {}", exit.stderr);
        assert!(exit.stdout.is_empty(), "case {name}: {}", exit.stdout);
        assert_eq!(
            exit.stderr.trim().lines().count(),
            1,
            "case {name}: one line: {}",
            exit.stderr
        );
        assert!(
            exit.stderr.contains(expected),
            "case {name}: {:?} should name {expected:?}",
            exit.stderr
        );
    }
    let exit = mock_idp("config file")
        .env("CONFIG_FILE", &config)
        .run_to_exit();
    assert_eq!(exit.code, 2);
    assert!(
        exit.stderr.contains("mock-idp.yaml"),
        "names the file: {}",
        exit.stderr
    );
}

#[tokio::test]
async fn flags_win_over_env_and_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.yaml");
    std::fs::write(
        &config,
        "issuer: http://from-file\ntoken_ttl: 77\naudience: file-aud\n",
    )
    .unwrap();
    let server = mock_idp("layers")
        .args([
            "--config",
            config.to_str().unwrap(),
            "--issuer",
            "http://from-flag",
            "--port",
            "0",
        ])
        .env("ISSUER", "http://from-env")
        .env("TOKEN_TTL", "88")
        .start();
    let body: Value = server
        .client()
        .post(server.url("/token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks: JwkSet = server.get_as("/certs").await;
    let (_, c) = verify_with(
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
    let mut server = mock_idp("server").start();
    let port = server.port().to_string();
    let exit = mock_idp("healthcheck --port")
        .args(["healthcheck", "--port", &port])
        .run_to_exit();
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    let exit = mock_idp("healthcheck, PORT and wildcard HOST")
        .args(["healthcheck"])
        .env("PORT", &port)
        .env("HOST", "0.0.0.0")
        .run_to_exit();
    assert_eq!(exit.code, 0, "wildcard host is checked on loopback");

    // SIGTERM: graceful shutdown, exit 0, then the port is closed.
    let status = server.terminate(Duration::from_secs(5));
    assert!(status.success(), "{status:?}");
    let log = server.log();
    assert!(log.contains("shutting down"), "{log}");

    let exit = mock_idp("healthcheck after shutdown")
        .args(["healthcheck", "--port", &port])
        .run_to_exit();
    assert_eq!(exit.code, 1);
    assert!(exit.stderr.contains("healthcheck"), "{}", exit.stderr);
}

#[tokio::test]
async fn json_logs_and_no_key_material_in_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = mock_idp("json logs")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .env("PERSIST_KEYS_DIR", dir.path())
        .start();
    let _ = server.get_json("/health").await;
    let token = server.token(json!({})).await;
    // The request's own log line has been written: what follows covers it.
    let log = eventually(
        "the POST /token response is logged",
        Duration::from_secs(5),
        || async {
            let log = server.log();
            log.lines()
                .any(|l| l.contains("finished processing request") && l.contains("/token"))
                .then_some(log)
        },
    )
    .await;
    let logs: Vec<&str> = log.lines().collect();
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
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        logs.iter().all(|l| !l.contains(signature)),
        "minted tokens must never be logged"
    );
    assert!(
        logs.iter()
            .any(|l| l.contains("loaded key pair") || l.contains("created new key pair"))
    );
}

/// Every setting is a flag and an environment variable, in `--help` and in
/// README's options table; a subcommand's own flags (`mint`'s token fields,
/// `decode`'s `--jwks`: per call, so no variable) are in its `--help` and
/// on its row of README's subcommands table, which lists every subcommand.
#[test]
fn every_option_has_an_env_var_in_help_and_readme() {
    let cli = mock_idp::cli::Cli::command();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let help_of = |subcommand: Option<&str>| {
        let exit = mock_idp("--help")
            .args(subcommand.into_iter().chain(["--help"]))
            .run_to_exit();
        assert_eq!(exit.code, 0, "{subcommand:?} --help: {}", exit.stderr);
        exit.stdout
    };
    let top_help = help_of(None);
    assert!(top_help.contains("healthcheck"));

    // The top-level options (global ones included) and each subcommand's own.
    let mut flags = BTreeSet::new();
    let mut envs = BTreeSet::new();
    let mut own_flags = 0;
    let scopes =
        std::iter::once((None, &cli)).chain(cli.get_subcommands().map(|s| (Some(s.get_name()), s)));
    for (subcommand, command) in scopes {
        let row = subcommand.map(|name| {
            let start = format!("| `mock-idp {name}");
            readme
                .lines()
                .find(|l| l.starts_with(&start))
                .unwrap_or_else(|| panic!("README.md's subcommands table needs a row {start}...`"))
        });
        let options: Vec<_> = command
            .get_arguments()
            .filter(|a| {
                !matches!(
                    a.get_action(),
                    ArgAction::Help
                        | ArgAction::HelpShort
                        | ArgAction::HelpLong
                        | ArgAction::Version
                )
            })
            .collect();
        if options.is_empty() {
            continue;
        }
        let help = match subcommand {
            None => top_help.clone(),
            Some(name) => help_of(Some(name)),
        };
        for arg in options {
            let id = arg.get_id();
            if arg.is_positional() {
                let name = arg.get_value_names().unwrap_or_default().join(" ");
                assert!(
                    help.contains(&format!("<{name}>")) && row.is_some_and(|r| r.contains(&name)),
                    "{subcommand:?}: the argument {id} must be in --help and README"
                );
                continue;
            }
            let long = arg
                .get_long()
                .unwrap_or_else(|| panic!("option {id} has no --long flag"));
            let Some(env) = arg.get_env() else {
                // Only a subcommand's own per-call flags may go without a variable.
                let row = row.unwrap_or_else(|| {
                    panic!("--{long} has no environment variable (env = \"...\")")
                });
                assert!(
                    help.contains(&format!("--{long}")),
                    "{subcommand:?} --help must document --{long}"
                );
                assert!(
                    row.contains(&format!("`--{long}")),
                    "README.md's row for {subcommand:?} must list `--{long}`: {row}"
                );
                own_flags += 1;
                continue;
            };
            let env = env.to_str().unwrap();
            // Secrets hide their value: `[env: VAR]` instead of `[env: VAR=value]`.
            let documented = help.contains(&format!("env: {env}="))
                || (arg.is_hide_env_values_set() && help.contains(&format!("env: {env}]")));
            assert!(
                help.contains(&format!("--{long}")) && documented,
                "--help must document --{long} and its variable {env}"
            );
            assert!(
                readme
                    .lines()
                    .any(|l| l.starts_with(&format!("| `--{long}` | `{env}` |"))),
                "README.md's options table must have a row | `--{long}` | `{env}` |"
            );
            flags.insert(long.to_string());
            envs.insert(env.to_string());
        }
    }
    assert!(own_flags >= 10, "mint's fields were found: {own_flags}");
    assert!(
        envs.contains("PORT") && envs.contains("CONFIG_FILE") && envs.contains("LOG_FORMAT"),
        "the options were found: {envs:?}"
    );
    // And the README lists no option that does not exist.
    for line in readme.lines().filter(|l| l.starts_with("| `--")) {
        let flag = line
            .trim_start_matches("| `--")
            .split('`')
            .next()
            .unwrap_or_default();
        assert!(
            flags.contains(flag),
            "README.md documents --{flag}, which mock-idp does not have"
        );
    }
}

#[test]
fn a_wildcard_bind_prints_a_url_one_can_open() {
    let server = mock_idp("wildcard").env("HOST", "0.0.0.0").start();
    assert!(
        server.base().starts_with("http://127.0.0.1:"),
        "startup line: {}",
        server.base()
    );
    let health = std::net::TcpStream::connect(server.base().trim_start_matches("http://"));
    assert!(health.is_ok(), "the printed URL answers");
}

#[tokio::test]
async fn a_kid_may_start_with_a_hyphen() {
    // One RFC 7638 thumbprint in 64 starts with '-': reused as KID it must work.
    let server = mock_idp("hyphen kid")
        .args(["--kid", "-starts-with-a-hyphen"])
        .start();
    let kid = crate::support::jwt::kid(&server.token(serde_json::json!({})).await);
    assert_eq!(kid, "-starts-with-a-hyphen");
}
