//! The offline commands of the real binary: `mint` with the key a server
//! persisted (verified against the JWKS that server serves, claims shaped
//! as `POST /token`'s, every variant, ES256 and HS256), `jwks` (the served
//! bytes), `decode` (valid, tampered, expired, each variant's defect,
//! garbage, `--jwks` URL and file, stdin, `HS256_SECRET`), and their
//! errors: no key (exit 2 naming PERSIST_KEYS_DIR, nothing written), bad
//! flags (exit 2, one line), production (78).

use std::path::{Path, PathBuf};

use jsonwebtoken::jwk::JwkSet;
use serde_json::{Value, json};

use crate::support::Idp;
use crate::support::jwt::{self, Claims, verify_with};
use crate::support::process::{Exit, MockIdp, Server, mock_idp};

const USERS: &str = "alice:\n  sub: user_alice\n  org_id: org_1\n  org_role: 'org:admin'\n  \
                     org_slug: acme\n  claims: {email: alice@example.com}\n";

/// A keys directory whose root key a server created on its first start,
/// and the settings shared by that server and the CLI.
struct Setup {
    _dir: tempfile::TempDir,
    keys: PathBuf,
    users: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let users = dir.path().join("users.yaml");
        std::fs::write(&users, USERS).unwrap();
        Setup {
            keys: dir.path().join("keys"),
            users,
            _dir: dir,
        }
    }

    /// `mock-idp` with the shared settings (warnings only on stderr, as a
    /// script would run it).
    fn cmd(&self, name: &str) -> MockIdp {
        mock_idp(name)
            .env("RUST_LOG", "warn")
            .env("PERSIST_KEYS_DIR", &self.keys)
            .env("USERS_FILE", &self.users)
            .env("ISSUER", "https://offline.test")
            .env("AUDIENCE", "default-aud")
            .env("TOKEN_TTL", "600")
    }

    fn server(&self) -> Server {
        self.cmd("server").start()
    }
}

/// `mock-idp ARGS` run to its exit.
fn run(cmd: MockIdp, args: &[&str]) -> Exit {
    cmd.args(args).run_to_exit()
}

/// A successful `mint`: exactly one line, the token, and nothing on stderr.
fn minted(exit: Exit, what: &str) -> String {
    assert_eq!(exit.code, 0, "{what}: {}", exit.stderr);
    assert!(exit.stderr.is_empty(), "{what}: stderr {}", exit.stderr);
    let token = exit
        .stdout
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("{what}: stdout ends with a newline: {:?}", exit.stdout));
    assert!(
        !token.contains('\n') && token.split('.').count() == 3,
        "{what}: one compact JWT: {:?}",
        exit.stdout
    );
    token.to_string()
}

/// An error run: `code`, nothing on stdout, one line on stderr naming `needle`.
fn refused(exit: &Exit, code: i32, needle: &str, what: &str) {
    assert_eq!(exit.code, code, "{what}: stderr {}", exit.stderr);
    assert!(exit.stdout.is_empty(), "{what}: stdout {}", exit.stdout);
    assert_eq!(
        exit.stderr.trim_end().lines().count(),
        1,
        "{what}: one line: {}",
        exit.stderr
    );
    assert!(
        exit.stderr.contains(needle),
        "{what}: stderr should name {needle:?}: {}",
        exit.stderr
    );
}

/// Every file under `dir` (relative path and content), sorted; empty if absent.
fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(root).unwrap().display().to_string();
            if path.is_dir() {
                out.push((format!("{name}/"), Vec::new()));
                walk(root, &path, out);
            } else {
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Claims with the per-token random and time values taken out.
fn shape(claims: &Claims) -> Claims {
    let mut c = claims.clone();
    for random_or_time in ["jti", "sid", "iat", "nbf", "exp"] {
        c.remove(random_or_time);
    }
    c
}

fn num(claims: &Claims, name: &str) -> i64 {
    claims[name]
        .as_i64()
        .unwrap_or_else(|| panic!("{name}: {claims:?}"))
}

#[tokio::test]
async fn mint_signs_like_post_token_with_the_persisted_key() {
    let setup = Setup::new();
    let server = setup.server();
    let served_text = server.get_text("/.well-known/jwks.json").await;
    let served: JwkSet = serde_json::from_str(&served_text).unwrap();
    let kid = server.own_kid().await;

    // (case, mint flags, the same request as POST /token JSON)
    let cases: [(&str, &[&str], Value); 6] = [
        ("defaults", &[], json!({})),
        (
            "sub, aud, expires_in",
            &["--sub", "u1", "--aud", "api", "--expires-in", "120"],
            json!({"sub": "u1", "aud": "api", "expires_in": 120}),
        ),
        ("persona", &["--user", "alice"], json!({"user": "alice"})),
        (
            "plain preset with org, azp, scope",
            &[
                "--preset",
                "plain",
                "--org-id",
                "org_9",
                "--org-role",
                "org:member",
                "--org-slug",
                "nine",
                "--azp",
                "http://app.test",
                "--scope",
                "read write",
            ],
            json!({"preset": "plain", "org_id": "org_9", "org_role": "org:member",
                   "org_slug": "nine", "azp": "http://app.test", "scope": "read write"}),
        ),
        (
            "several audiences, iss and claims",
            &[
                "--aud",
                "a",
                "--aud",
                "b",
                "--iss",
                "https://other.test",
                "--claims",
                r#"{"email":"x@y.test","roles":["admin"],"sid":null}"#,
            ],
            json!({"aud": ["a", "b"], "iss": "https://other.test",
                   "claims": {"email": "x@y.test", "roles": ["admin"], "sid": null}}),
        ),
        (
            "RFC 9068 access token",
            &["--typ", "at+jwt", "--client-id", "c1"],
            json!({"typ": "at+jwt", "client_id": "c1"}),
        ),
    ];
    for (case, flags, body) in cases {
        let mut args = vec!["mint"];
        args.extend_from_slice(flags);
        let cli_token = minted(run(setup.cmd(case), &args), case);
        let server_token = server.token(body.clone()).await;

        // An independent verifier accepts the CLI token with the served JWKS.
        let aud = jwt::peek(&server_token)["aud"].clone();
        let first_aud = match &aud {
            Value::String(a) => Some(a.clone()),
            Value::Array(all) => all[0].as_str().map(str::to_string),
            _ => None,
        };
        let (header, cli) = verify_with(&served, &cli_token, first_aud.as_deref())
            .unwrap_or_else(|e| panic!("{case}: the CLI token does not verify: {e}"));
        let (server_header, srv) = verify_with(&served, &server_token, first_aud.as_deref())
            .unwrap_or_else(|e| panic!("{case}: the server token does not verify: {e}"));
        assert_eq!(header.kid.as_deref(), Some(kid.as_str()), "{case}");
        assert_eq!(
            (header.alg, header.typ.clone()),
            (server_header.alg, server_header.typ.clone()),
            "{case}"
        );

        // The same claims: names and values, except what is random per token.
        assert_eq!(shape(&cli), shape(&srv), "{case}: claims differ");
        let keys = |c: &Claims| c.keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&cli), keys(&srv), "{case}: claim names differ");
        assert_eq!(
            num(&cli, "exp") - num(&cli, "iat"),
            num(&srv, "exp") - num(&srv, "iat"),
            "{case}: lifetime"
        );
        assert_eq!(
            num(&cli, "nbf") - num(&cli, "iat"),
            num(&srv, "nbf") - num(&srv, "iat"),
            "{case}: nbf"
        );
        assert!(
            (num(&cli, "iat") - num(&srv, "iat")).abs() <= 5,
            "{case}: issued now"
        );
        assert_ne!(cli["jti"], srv["jti"], "{case}: a fresh jti");
    }

    // Spot checks that the table exercised what it says.
    let persona = jwt::peek(&minted(
        run(setup.cmd("persona"), &["mint", "--user", "alice"]),
        "persona",
    ));
    assert_eq!(persona["sub"], "user_alice");
    assert_eq!(
        persona["o"],
        json!({"id": "org_1", "rol": "admin", "slg": "acme"})
    );
    assert_eq!(persona["iss"], "https://offline.test");
    assert_eq!(persona["aud"], "default-aud");
    assert_eq!(num(&persona, "exp") - num(&persona, "iat"), 600);

    // `jwks` prints the served bytes.
    let exit = run(setup.cmd("jwks"), &["jwks"]);
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    assert_eq!(exit.stdout, format!("{served_text}\n"));
}

#[tokio::test]
async fn named_issuer_mint_and_jwks() {
    let setup = Setup::new();
    let server = setup.server();
    // The server creates (and persists) tenant's key on first use.
    let served_text = server.get_text("/tenant/.well-known/jwks.json").await;
    let served: JwkSet = serde_json::from_str(&served_text).unwrap();
    let port = server.port().to_string();

    let exit = run(
        setup.cmd("jwks tenant"),
        &["jwks", "--issuer-name", "tenant"],
    );
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    assert_eq!(exit.stdout, format!("{served_text}\n"));

    // The derived iss: http://HOST:PORT/tenant, as the server says to a
    // client that reached it there.
    let exit = run(
        setup.cmd("mint tenant").env("PORT", &port),
        &["mint", "--issuer-name", "tenant", "--sub", "t1"],
    );
    let token = minted(exit, "mint tenant");
    let (_, claims) = verify_with(&served, &token, Some("default-aud")).unwrap();
    let res = server
        .client()
        .post(server.url("/tenant/token"))
        .json(&json!({"sub": "t1"}))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    let srv = jwt::peek(body["access_token"].as_str().unwrap());
    assert_eq!(claims["iss"], srv["iss"]);
    assert_eq!(claims["iss"], format!("{}/tenant", server.base));
    assert_eq!(shape(&claims), shape(&srv));

    // The root key never signs for tenant.
    let root = minted(run(setup.cmd("mint root"), &["mint"]), "mint root");
    assert_ne!(jwt::kid(&root), jwt::kid(&token));
}

/// Each variant from `mint` is the one `POST /token` gives (same header,
/// same claims), and `decode` against the served JWKS names its defect.
#[tokio::test]
async fn variants_match_post_token_and_decode_names_each_defect() {
    let setup = Setup::new();
    let server = setup.server();
    let jwks_url = server.url("/.well-known/jwks.json");
    // (variant, decode's verdict, a problem it must report, exit code)
    let cases: [(&str, &str, Option<&str>, i32); 12] = [
        ("expired", "valid", Some("expired 1h"), 0),
        ("not_yet_valid", "valid", Some("not yet valid: nbf is "), 0),
        ("wrong_issuer", "valid", None, 0),
        ("wrong_audience", "valid", None, 0),
        (
            "bad_signature",
            "invalid",
            Some("the signature does not match"),
            1,
        ),
        ("unknown_kid", "invalid", Some("unknown kid \"unknown-"), 1),
        ("no_kid", "valid", Some("no kid in the header"), 0),
        ("alg_none", "invalid", Some("alg is none"), 1),
        (
            "hs256_key_confusion",
            "invalid",
            Some("alg HS256 is an HMAC algorithm"),
            1,
        ),
        ("missing_exp", "valid", Some("no exp"), 0),
        ("missing_sub", "valid", Some("no sub"), 0),
        ("wrong_typ", "valid", Some("typ is \"secevent+jwt\""), 0),
    ];
    for (variant, verdict, problem, code) in cases {
        let cli_token = minted(
            run(
                setup.cmd(variant),
                &["mint", "--sub", "v1", "--variant", variant],
            ),
            variant,
        );
        let server_token = server.token(json!({"sub": "v1", "variant": variant})).await;
        let (mut cli_header, mut srv_header) = (raw_header(&cli_token), raw_header(&server_token));
        if variant == "unknown_kid" {
            assert_ne!(
                cli_header["kid"], srv_header["kid"],
                "a fresh unknown kid each time"
            );
            cli_header.remove("kid");
            srv_header.remove("kid");
        }
        assert_eq!(cli_header, srv_header, "{variant}: header");
        let (cli, srv) = (jwt::peek(&cli_token), jwt::peek(&server_token));
        assert_eq!(shape(&cli), shape(&srv), "{variant}: claims");
        let keys = |c: &Claims| c.keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&cli), keys(&srv), "{variant}: claim names");

        for (whose, token) in [("CLI", &cli_token), ("server", &server_token)] {
            let what = format!("decode {whose} {variant}");
            let exit = run(
                mock_idp(&what).env("RUST_LOG", "warn"),
                &["decode", token, "--jwks", &jwks_url],
            );
            let r = report(&exit, code, &what);
            assert_eq!(r["signature"], verdict, "{what}: {r}");
            let found = problems(&r);
            match problem {
                Some(p) => assert!(found.iter().any(|f| f.contains(p)), "{what}: {found:?}"),
                None => assert!(found.is_empty(), "{what}: {found:?}"),
            }
        }
    }
}

/// `jsonwebtoken` verification with the algorithm of the token's header and
/// the served key of its `kid` (no audience check).
fn verify_any(jwks: &JwkSet, token: &str) -> Claims {
    let header = jwt::header(token);
    let kid = header.kid.clone().expect("a kid");
    let jwk = jwks
        .find(&kid)
        .unwrap_or_else(|| panic!("kid {kid} not in the served JWKS"));
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.leeway = 0;
    validation.validate_aud = false;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("{:?} token does not verify: {e}", header.alg))
        .claims
}

/// `ALG` picks the key: ES256 from the file a server wrote on the first
/// ES256 request, EdDSA refused while no server has made one; HS256 from
/// `HS256_SECRET`, with no key file at all.
#[tokio::test]
async fn algorithms_use_the_persisted_key_of_each() {
    let setup = Setup::new();
    let server = setup.server();
    let server_es = server.token(json!({"sub": "e1", "alg": "ES256"})).await;
    let served = server.jwks().await;
    assert_eq!(served.keys.len(), 2, "RS256 and, from now on, ES256");

    let cli_es = minted(
        run(
            setup.cmd("ES256").env("ALG", "ES256"),
            &["mint", "--sub", "e1"],
        ),
        "ES256",
    );
    assert_eq!(jwt::header(&cli_es).alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(
        jwt::kid(&cli_es),
        jwt::kid(&server_es),
        "the server's ES256 key"
    );
    assert_eq!(
        shape(&verify_any(&served, &cli_es)),
        shape(&verify_any(&served, &server_es))
    );
    let exit = run(setup.cmd("jwks ES256").env("ALG", "ES256"), &["jwks"]);
    assert_eq!(exit.code, 0, "{}", exit.stderr);
    let printed: JwkSet = serde_json::from_str(&exit.stdout).unwrap();
    assert_eq!(printed.keys.len(), 1);
    assert_eq!(
        serde_json::to_value(&printed.keys[0]).unwrap(),
        serde_json::to_value(served.find(&jwt::kid(&cli_es)).unwrap()).unwrap(),
        "what a server with ALG=ES256 serves: its ES256 key"
    );
    let r = report(
        &run(
            mock_idp("decode ES256").env("RUST_LOG", "warn"),
            &[
                "decode",
                &cli_es,
                "--jwks",
                &server.url("/.well-known/jwks.json"),
            ],
        ),
        0,
        "decode ES256",
    );
    assert_eq!(r["signature"], "valid", "{r}");

    let before = listing(&setup.keys);
    let exit = run(setup.cmd("EdDSA").env("ALG", "EdDSA"), &["mint"]);
    refused(&exit, 2, "private-eddsa.pem", "EdDSA without a key");
    assert!(exit.stderr.contains("PERSIST_KEYS_DIR"), "{}", exit.stderr);
    assert_eq!(listing(&setup.keys), before, "nothing written");

    // HS256: the secret is the key; no PERSIST_KEYS_DIR needed.
    const SECRET: &str = "offline-test-secret";
    let hs = minted(
        run(
            mock_idp("HS256")
                .env("RUST_LOG", "warn")
                .env("ALG", "HS256")
                .env("HS256_SECRET", SECRET),
            &["mint", "--sub", "h1"],
        ),
        "HS256",
    );
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(
        &hs,
        &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["sub"], "h1");
    let decode = |what: &str, secret: Option<&str>| {
        let mut cmd = mock_idp(what).env("RUST_LOG", "warn");
        if let Some(secret) = secret {
            cmd = cmd.env("HS256_SECRET", secret);
        }
        run(cmd, &["decode", &hs])
    };
    let r = report(
        &decode("HS256 with the secret", Some(SECRET)),
        0,
        "with the secret",
    );
    assert_eq!(
        (r["signature"].as_str(), problems(&r).len()),
        (Some("valid"), 0),
        "{r}"
    );
    let r = report(
        &decode("HS256, wrong secret", Some("other")),
        1,
        "wrong secret",
    );
    assert_eq!(r["signature"], "invalid", "{r}");
    let r = report(&decode("HS256, no secret", None), 0, "no secret");
    assert_eq!(r["signature"], "unchecked", "{r}");
    assert!(
        problems(&r)[0].starts_with("alg HS256 is an HMAC algorithm"),
        "{r}"
    );
}

#[test]
fn no_key_is_exit_2_naming_persist_keys_dir_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("empty")).unwrap();
    // A root key without a key for issuer `tenant`.
    let with_root_key = root.join("with-root-key");
    {
        let server = mock_idp("first start")
            .env("PERSIST_KEYS_DIR", &with_root_key)
            .start();
        drop(server);
    }
    assert!(with_root_key.join("private.pem").exists());
    let absent = root.join("absent");
    let empty = root.join("empty");
    let tenant = with_root_key.join("tenant");

    // (case, PERSIST_KEYS_DIR, extra flags); the message names the
    // directory looked in: PERSIST_KEYS_DIR, or its `tenant/` for the issuer.
    let cases: [(&str, Option<&Path>, &[&str]); 4] = [
        ("unset", None, &[]),
        ("absent directory", Some(absent.as_path()), &[]),
        ("empty directory", Some(empty.as_path()), &[]),
        (
            "named issuer without its key",
            Some(with_root_key.as_path()),
            &["--issuer-name", "tenant"],
        ),
    ];
    for (case, keys, flags) in cases {
        let looked_in = keys.map(|k| {
            if flags.is_empty() {
                k.to_path_buf()
            } else {
                k.join("tenant")
            }
        });
        for command in ["mint", "jwks"] {
            let what = format!("{command}, {case}");
            let before = listing(root);
            let mut cmd = mock_idp(&what).env("RUST_LOG", "warn");
            if let Some(keys) = keys {
                cmd = cmd.env("PERSIST_KEYS_DIR", keys);
            }
            let mut args = vec![command];
            args.extend_from_slice(flags);
            let exit = run(cmd, &args);
            refused(&exit, 2, "PERSIST_KEYS_DIR", &what);
            if let Some(dir) = &looked_in {
                assert!(
                    exit.stderr.contains(&dir.display().to_string()),
                    "{what}: names {}: {}",
                    dir.display(),
                    exit.stderr
                );
            }
            assert!(
                exit.stderr.contains("never create a key"),
                "{what}: says that it writes nothing: {}",
                exit.stderr
            );
            assert_eq!(listing(root), before, "{what}: nothing created or changed");
        }
    }
    assert!(!absent.exists() && !tenant.exists());
}

#[test]
fn bad_flags_and_production_are_refused_in_one_line() {
    let setup = Setup::new();
    drop(setup.server()); // creates the root key
    // (case, arguments, exit code, what stderr must name)
    let cases: [(&str, &[&str], i32, &str); 11] = [
        (
            "expires_in not a number",
            &["--expires-in", "soon"],
            2,
            "--expires-in",
        ),
        (
            "expires_in beyond 100 years",
            &["--expires-in", "9999999999"],
            2,
            "--expires-in",
        ),
        ("unknown preset", &["--preset", "okta"], 2, "--preset"),
        ("claims not JSON", &["--claims", "{"], 2, "--claims"),
        ("claims not an object", &["--claims", "[1]"], 2, "--claims"),
        ("unknown persona", &["--user", "mallory"], 2, "--user"),
        ("missing value", &["--aud"], 2, "--aud"),
        ("unknown flag", &["--subject", "x"], 2, "--subject"),
        (
            "reserved issuer name",
            &["--issuer-name", "token"],
            2,
            "--issuer-name",
        ),
        ("bad setting", &["--token-ttl", "0"], 2, "TOKEN_TTL"),
        ("port not a number", &["--port", "eighty"], 2, "--port"),
    ];
    for (case, flags, code, needle) in cases {
        let mut args = vec!["mint"];
        args.extend_from_slice(flags);
        let exit = run(setup.cmd(case), &args);
        refused(&exit, code, needle, case);
        assert!(
            exit.stderr.starts_with("mock-idp"),
            "{case}: {}",
            exit.stderr
        );
    }
    let exit = run(setup.cmd("decode without a token"), &["decode"]);
    refused(&exit, 2, "<TOKEN>", "decode without a token");
    let exit = run(
        setup
            .cmd("dynamic issuers off")
            .env("DYNAMIC_ISSUERS", "false"),
        &["mint", "--issuer-name", "tenant"],
    );
    refused(&exit, 2, "DYNAMIC_ISSUERS=false", "dynamic issuers off");

    for (var, value) in [("NODE_ENV", "production"), ("APP_ENV", " Prod ")] {
        let what = format!("{var}={value}");
        let exit = run(setup.cmd(&what).env(var, value), &["mint"]);
        refused(&exit, 78, var, &what);
    }
}

/// `decode`'s JSON report.
fn report(exit: &Exit, code: i32, what: &str) -> Value {
    assert_eq!(exit.code, code, "{what}: {}{}", exit.stdout, exit.stderr);
    serde_json::from_str(&exit.stdout)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", exit.stdout))
}

fn problems(report: &Value) -> Vec<String> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn decode_reports_signature_and_problems() {
    let setup = Setup::new();
    let server = setup.server();
    let jwks_url = server.url("/.well-known/jwks.json");
    let jwks_file = setup.keys.with_file_name("served-jwks.json");
    std::fs::write(&jwks_file, server.get_text("/.well-known/jwks.json").await).unwrap();
    let jwks_file = jwks_file.display().to_string();
    let decode = |what: &str, args: &[&str]| {
        let mut all = vec!["decode"];
        all.extend_from_slice(args);
        run(mock_idp(what).env("RUST_LOG", "warn"), &all)
    };

    // Valid: a CLI token and a server token, against the URL and the file.
    let cli_token = minted(run(setup.cmd("mint"), &["mint", "--sub", "d1"]), "mint");
    let server_token = server.token(json!({"sub": "d2"})).await;
    for (what, token, jwks) in [
        ("CLI token, JWKS URL", &cli_token, &jwks_url),
        ("server token, JWKS URL", &server_token, &jwks_url),
        ("CLI token, JWKS file", &cli_token, &jwks_file),
    ] {
        let r = report(&decode(what, &[token, "--jwks", jwks]), 0, what);
        assert_eq!(r["signature"], "valid", "{what}: {r}");
        assert_eq!(problems(&r), Vec::<String>::new(), "{what}");
        assert_eq!(r["header"]["alg"], "RS256");
        assert_eq!(r["payload"], Value::Object(jwt::peek(token)), "{what}");
    }
    // Without a JWKS: decoded, unchecked.
    let r = report(&decode("unchecked", &[&cli_token]), 0, "unchecked");
    assert_eq!(r["signature"], "unchecked");
    assert_eq!(r["payload"]["sub"], "d1");
    // From stdin, as pasted from an Authorization header.
    let exit = mock_idp("stdin")
        .env("RUST_LOG", "warn")
        .args(["decode", "-", "--jwks", &jwks_url])
        .stdin(format!("Bearer {cli_token}\n"))
        .run_to_exit();
    let r = report(&exit, 0, "stdin");
    assert_eq!(
        (r["signature"].as_str(), r["payload"]["sub"].as_str()),
        (Some("valid"), Some("d1"))
    );

    // Tampered: the payload changed, the signature kept.
    let parts: Vec<&str> = cli_token.split('.').collect();
    let mut claims = jwt::peek(&cli_token);
    claims.insert("sub".into(), json!("admin"));
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64_url(&Value::Object(claims)),
        parts[2]
    );
    let r = report(
        &decode("tampered", &[&forged, "--jwks", &jwks_url]),
        1,
        "tampered",
    );
    assert_eq!(r["signature"], "invalid");
    assert_eq!(r["payload"]["sub"], "admin");
    assert!(
        problems(&r)
            .iter()
            .any(|p| p.contains("signature does not match")),
        "{r}"
    );

    // Expired 700 s ago: valid signature, a problem, exit 0.
    let expired = minted(
        run(setup.cmd("mint expired"), &["mint", "--expires-in=-700"]),
        "mint expired",
    );
    let r = report(
        &decode("expired", &[&expired, "--jwks", &jwks_url]),
        0,
        "expired",
    );
    assert_eq!(r["signature"], "valid");
    let p = problems(&r);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("expired 11m 4") && p[0].contains(" ago (exp "),
        "{p:?}"
    );

    // A kid the JWKS does not have.
    let mut foreign: Value =
        serde_json::from_str(&std::fs::read_to_string(&jwks_file).unwrap()).unwrap();
    foreign["keys"][0]["kid"] = json!("someone-else");
    let foreign_file = setup.keys.with_file_name("foreign-jwks.json");
    std::fs::write(&foreign_file, foreign.to_string()).unwrap();
    let r = report(
        &decode(
            "unknown kid",
            &[&cli_token, "--jwks", foreign_file.to_str().unwrap()],
        ),
        1,
        "unknown kid",
    );
    assert_eq!(r["signature"], "invalid");
    assert!(
        problems(&r)
            .iter()
            .any(|p| p.starts_with("unknown kid") && p.contains("someone-else")),
        "{r}"
    );

    // Garbage: malformed, exit 1.
    for (what, token) in [("garbage", "not-a-jwt"), ("two parts", "e30.e30")] {
        let r = report(&decode(what, &[token]), 1, what);
        assert!(problems(&r)[0].starts_with("malformed: "), "{what}: {r}");
        assert!(r["header"].is_null() && r["payload"].is_null(), "{what}");
    }

    // JWKS that cannot be used: exit 2, one line.
    let refused_port = crate::support::process::free_ports(1)[0];
    let dead = format!("http://127.0.0.1:{refused_port}/.well-known/jwks.json");
    let missing = setup
        .keys
        .with_file_name("missing.json")
        .display()
        .to_string();
    let health = server.url("/health");
    for (what, jwks, needle) in [
        (
            "https",
            "https://idp.example/.well-known/jwks.json",
            "https is not supported",
        ),
        ("refused", dead.as_str(), "cannot connect"),
        ("missing file", missing.as_str(), "cannot read it"),
        ("not a JWKS", health.as_str(), "not a JWKS"),
    ] {
        let exit = decode(what, &[&cli_token, "--jwks", jwks]);
        refused(&exit, 2, needle, what);
        assert!(
            exit.stderr.starts_with("mock-idp decode: --jwks "),
            "{what}: {}",
            exit.stderr
        );
    }
}

/// The JOSE header as JSON (also for `alg: none`, which jsonwebtoken refuses to parse).
fn raw_header(token: &str) -> Claims {
    use base64::Engine;
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

fn base64_url(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}
