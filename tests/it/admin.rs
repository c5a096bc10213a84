//! Test controls (`<mount>/_admin`) against a real server on port 0, on the
//! root AND a named issuer: runtime personas and clients (seen at once by
//! grants and `login_hint`), the clock, faults as a JWKS client sees them,
//! the request ledger (and that no secret ever reaches it), reset,
//! `ADMIN_TOKEN`, and a table of bad inputs. Tokens are verified against the
//! served JWKS with jsonwebtoken.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use mock_idp::config::{Config, NamedIssuer};
use mock_idp::issuer::Secret;
use mock_idp::profiles::Profile;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::jwt::{peek, verify_with};
use crate::support::oauth::{
    WEB_CB, basic, code_for, open_config, pkce_pair, post_form, strict_config,
};
use crate::support::{Idp, TestApp, spawn_app, test_config, unix_now};

/// The two issuers every control is checked on.
const MOUNTS: [&str; 2] = ["", "/tenant-a"];

/// An answer: status, headers, raw text and JSON (`null` when not JSON).
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
    body: Value,
}

impl Reply {
    fn description(&self) -> &str {
        self.body["error_description"].as_str().unwrap_or("")
    }
}

/// `method path` with an optional JSON (or raw) body and `Authorization`.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&str>,
    auth: Option<&str>,
) -> Reply {
    let mut req = app.client.request(method, app.url(path));
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

async fn get(app: &TestApp, path: &str) -> Reply {
    send(app, Method::GET, path, None, None).await
}

async fn put(app: &TestApp, path: &str, body: Value) -> Reply {
    send(app, Method::PUT, path, Some(&body.to_string()), None).await
}

async fn delete(app: &TestApp, path: &str) -> Reply {
    send(app, Method::DELETE, path, None, None).await
}

async fn post(app: &TestApp, path: &str) -> Reply {
    send(app, Method::POST, path, None, None).await
}

/// The JWKS served at `url` parsed by jsonwebtoken: what a resource server's
/// key fetch does. Err = what its cache would see as a failed fetch.
async fn fetch_jwks(app: &TestApp, path: &str) -> Result<JwkSet, String> {
    let res = app
        .client
        .get(app.url(path))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let bytes = res.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "status {status}: {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    serde_json::from_slice::<JwkSet>(&bytes).map_err(|e| format!("unparsable JWKS: {e}"))
}

/// Mints on `mount` and verifies against that issuer's served JWKS.
async fn mint_verified(app: &TestApp, mount: &str, body: Value) -> serde_json::Map<String, Value> {
    let r = send(
        app,
        Method::POST,
        &format!("{mount}/token"),
        Some(&body.to_string()),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{mount}/token {body}: {}", r.text);
    let token = r.body["access_token"].as_str().unwrap();
    let jwks = fetch_jwks(app, &format!("{mount}/jwks")).await.unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert!(jwks.find(header.kid.as_deref().unwrap()).is_some());
    // The clock may be moved: check the signature, not the time.
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Map<String, Value>>(
        token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims
}

/// A password grant form; `client_id` in the form when there is no Basic header.
fn password_grant(
    user: &str,
    password: &str,
    client_id: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("grant_type", "password".into()),
        ("username", user.into()),
        ("password", password.into()),
    ];
    form.extend(client_id.map(|c| ("client_id", c.to_string())));
    form
}

async fn token_form(
    app: &TestApp,
    mount: &str,
    auth: Option<&str>,
    form: &[(&str, String)],
) -> Reply {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_form(app, &format!("{mount}/token"), auth, &fields).await;
    Reply {
        status: r.status,
        text: r.body.to_string(),
        headers: r.headers,
        body: r.body,
    }
}

#[tokio::test]
async fn personas_at_runtime_on_root_and_named_issuer() {
    let app = spawn_app(test_config()).await;
    for mount in MOUNTS {
        let users = format!("{mount}/_admin/users");
        let bob = format!("{users}/bob");
        assert_eq!(
            get(&app, &users).await.body,
            json!({}),
            "{mount}: none at start"
        );
        // No persona yet: the password grant takes any name as `sub`.
        let r = put(
            &app,
            &bob,
            json!({"sub": "user_bob", "password": "hunter2",
                                         "claims": {"email": "bob@example.com"}}),
        )
        .await;
        assert_eq!(r.status, 201, "{mount}: {}", r.text);
        assert_eq!(
            r.body,
            json!({"sub": "user_bob", "password": "<set>",
                                  "claims": {"email": "bob@example.com"}})
        );
        assert!(
            !get(&app, &users).await.text.contains("hunter2"),
            "password never shown"
        );
        // Every grant sees it at once.
        let ok = token_form(
            &app,
            mount,
            None,
            &password_grant("bob", "hunter2", Some("any")),
        )
        .await;
        assert_eq!(ok.status, 200, "{mount}: {}", ok.text);
        let claims = peek(ok.body["access_token"].as_str().unwrap());
        assert_eq!(
            (claims["sub"].as_str(), claims["email"].as_str()),
            (Some("user_bob"), Some("bob@example.com"))
        );
        let wrong = token_form(
            &app,
            mount,
            None,
            &password_grant("bob", "nope", Some("any")),
        )
        .await;
        assert_eq!(
            wrong.status, 400,
            "{mount}: wrong password refused: {}",
            wrong.text
        );
        let minted = mint_verified(&app, mount, json!({"user": "bob"})).await;
        assert_eq!(minted["sub"], "user_bob");
        // The login page lists it and login_hint signs it in.
        let page = app
            .client
            .get(app.url(&format!("{mount}/authorize")))
            .query(&[
                ("client_id", "x"),
                ("redirect_uri", "http://app.test/cb"),
                ("response_type", "code"),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("bob"), "{mount}: login page lists bob");
        // Replace: 200, the new claims at once (and no password: login_hint signs in).
        let r = put(&app, &bob, json!({"sub": "user_bob2"})).await;
        assert_eq!(
            (r.status, &r.body),
            (200, &json!({"sub": "user_bob2", "claims": {}}))
        );
        let code = code_for_mount(&app, mount, "bob").await;
        assert_eq!(
            peek(&code)["sub"],
            "user_bob2",
            "{mount}: login_hint found the new bob"
        );
        assert_eq!(
            mint_verified(&app, mount, json!({"user": "bob"})).await["sub"],
            "user_bob2"
        );
        assert_eq!(
            get(&app, &bob).await.body,
            json!({"sub": "user_bob2", "claims": {}})
        );
        // Delete: 204, then gone everywhere.
        assert_eq!(delete(&app, &bob).await.status, 204);
        let r = delete(&app, &bob).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (404, Some("not_found"))
        );
        assert!(r.description().contains("bob"), "{}", r.text);
        assert_eq!(get(&app, &bob).await.status, 404);
        let r = send(
            &app,
            Method::POST,
            &format!("{mount}/token"),
            Some(r#"{"user": "bob"}"#),
            None,
        )
        .await;
        assert_eq!(
            r.status, 400,
            "{mount}: unknown persona after delete: {}",
            r.text
        );
    }
}

/// An authorization code for `user` via `login_hint` on `mount`.
async fn code_for_mount(app: &TestApp, mount: &str, user: &str) -> String {
    let res = app
        .client
        .get(app.url(&format!("{mount}/authorize")))
        .query(&[
            ("client_id", "x"),
            ("redirect_uri", "http://app.test/cb"),
            ("response_type", "code"),
            ("login_hint", user),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        302,
        "{mount}: authorize with login_hint={user}"
    );
    let loc = res.headers()["location"].to_str().unwrap().to_string();
    let query = loc.split_once('?').unwrap().1;
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    params.into_iter().find(|(k, _)| k == "code").unwrap().1
}

#[tokio::test]
async fn clients_at_runtime_switch_between_open_and_strict() {
    let app = spawn_app(test_config()).await;
    for mount in MOUNTS {
        let clients = format!("{mount}/_admin/clients");
        let svc = format!("{clients}/svc");
        let cc = |id: &'static str, secret: &'static str| {
            let app = &app;
            async move {
                token_form(
                    app,
                    mount,
                    Some(&basic(id, secret)),
                    &[("grant_type", "client_credentials".into())],
                )
                .await
                .status
            }
        };
        assert_eq!(get(&app, &clients).await.body, json!([]));
        assert_eq!(cc("anyone", "x").await, 200, "{mount}: open with no client");
        let r = put(
            &app,
            &svc,
            json!({"client_secret": "svc-s3cret", "grant_types": ["client_credentials"],
                                        "scope": "read"}),
        )
        .await;
        assert_eq!(r.status, 201, "{mount}: {}", r.text);
        assert_eq!(
            r.body,
            json!({"client_id": "svc", "redirect_uris": [], "grant_types": ["client_credentials"],
                                  "post_logout_redirect_uris": [], "scope": "read", "claims": {},
                                  "token_endpoint_auth_method": "client_secret_basic"})
        );
        assert_eq!(
            cc("anyone", "x").await,
            401,
            "{mount}: strict after the first client"
        );
        assert_eq!(cc("svc", "wrong").await, 401);
        assert_eq!(cc("svc", "svc-s3cret").await, 200);
        let r = put(
            &app,
            &format!("{clients}/spa"),
            json!({"redirect_uris": ["http://spa.test/cb"],
                                                             "token_endpoint_auth_method": "none"}),
        )
        .await;
        assert_eq!(
            (r.status, r.body["token_endpoint_auth_method"].as_str()),
            (201, Some("none"))
        );
        let listed = get(&app, &clients).await;
        assert_eq!(listed.body.as_array().unwrap().len(), 2);
        assert!(
            !listed.text.contains("svc-s3cret"),
            "client_secret never returned"
        );
        assert_eq!(
            put(&app, &svc, json!({"client_secret": "n3w"}))
                .await
                .status,
            200,
            "replaced"
        );
        assert_eq!(
            cc("svc", "svc-s3cret").await,
            401,
            "old secret refused at once"
        );
        assert_eq!(cc("svc", "n3w").await, 200);
        assert_eq!(get(&app, &svc).await.body["client_id"], "svc");
        assert_eq!(delete(&app, &svc).await.status, 204);
        assert_eq!(
            cc("anyone", "x").await,
            401,
            "{mount}: still strict with one client left"
        );
        assert_eq!(delete(&app, &format!("{clients}/spa")).await.status, 204);
        assert_eq!(
            cc("anyone", "x").await,
            200,
            "{mount}: open again after the last"
        );
        assert_eq!(delete(&app, &svc).await.status, 404);
        assert_eq!(get(&app, &svc).await.status, 404);
    }
}

#[tokio::test]
async fn controls_on_one_issuer_never_reach_another() {
    let app = spawn_app(test_config()).await;
    put(&app, "/_admin/users/alice", json!({"sub": "root_alice"})).await;
    put(&app, "/_admin/clients/web", json!({"client_secret": "s"})).await;
    put(&app, "/_admin/clock", json!({"offset_sec": 7200})).await;
    put(
        &app,
        "/_admin/faults",
        json!({"endpoint": "jwks", "status": 500}),
    )
    .await;
    put(&app, "/tenant-b/_admin/users/carol", json!({})).await;
    for mount in ["/tenant-a", "/tenant-b"] {
        assert_eq!(
            get(&app, &format!("{mount}/_admin/clients")).await.body,
            json!([]),
            "{mount}"
        );
        let users = get(&app, &format!("{mount}/_admin/users")).await.body;
        assert!(
            users.get("alice").is_none(),
            "{mount} sees no root persona: {users}"
        );
        assert_eq!(
            get(&app, &format!("{mount}/_admin/faults")).await.body,
            json!([]),
            "{mount}"
        );
        assert_eq!(
            get(&app, &format!("{mount}/_admin/clock")).await.body["offset_sec"],
            0,
            "{mount}"
        );
        assert!(
            fetch_jwks(&app, &format!("{mount}/jwks")).await.is_ok(),
            "{mount} JWKS unfaulted"
        );
    }
    assert!(
        fetch_jwks(&app, "/.well-known/jwks.json").await.is_err(),
        "root faulted"
    );
    let root_users = get(&app, "/_admin/users").await.body;
    assert!(root_users.get("carol").is_none(), "{root_users}");
    let iat = mint_verified(&app, "/tenant-a", json!({})).await["iat"]
        .as_i64()
        .unwrap();
    assert!(
        (iat - (unix_now() as i64)).abs() < 60,
        "named issuer's clock untouched"
    );
    let ledger = get(&app, "/_admin/requests").await.text;
    assert!(
        !ledger.contains("tenant-a"),
        "root ledger has no named-issuer request: {ledger}"
    );
    let named = get(&app, "/tenant-a/_admin/requests").await.body;
    assert!(
        named
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["path"].as_str().unwrap().starts_with("/tenant-a/")),
        "{named}"
    );
}

#[tokio::test]
async fn the_clock_shifts_and_freezes_tokens_and_expiry() {
    let app = spawn_app(test_config()).await;
    for mount in MOUNTS {
        let clock = format!("{mount}/_admin/clock");
        let r = get(&app, &clock).await;
        assert_eq!(
            (r.body["offset_sec"].as_i64(), r.body["frozen"].as_bool()),
            (Some(0), Some(false))
        );
        let r = put(&app, &clock, json!({"offset_sec": -3600})).await;
        assert_eq!(
            (r.status, r.body["offset_sec"].as_i64()),
            (200, Some(-3600)),
            "{}",
            r.text
        );
        let token = send(
            &app,
            Method::POST,
            &format!("{mount}/token"),
            Some("{}"),
            None,
        )
        .await
        .body["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let claims = peek(&token);
        let iat = claims["iat"].as_i64().unwrap();
        assert!(
            (iat - ((unix_now() as i64) - 3600)).abs() < 60,
            "{mount}: iat one hour back"
        );
        // An independent verifier (system clock) sees it expired; the issuer
        // (its clock) still takes it at userinfo.
        let jwks = fetch_jwks(&app, &format!("{mount}/jwks")).await.unwrap();
        let e = verify_with(&jwks, &token, None).unwrap_err();
        assert_eq!(*e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature);
        let userinfo_path = format!("{mount}/userinfo");
        let userinfo = |t: String| {
            let (app, path) = (&app, &userinfo_path);
            async move {
                let (status, body) = app.userinfo(path, &t).await;
                // A 200 is the persona's claims; anything else an RFC 6750 error.
                if status == 200 {
                    assert!(body["sub"].is_string(), "{body}");
                } else {
                    assert_eq!(body["error"], "invalid_token", "{body}");
                }
                status
            }
        };
        assert_eq!(
            userinfo(token.clone()).await,
            200,
            "{mount}: valid on the issuer's clock"
        );
        assert_eq!(delete(&app, &clock).await.status, 204);
        assert_eq!(
            userinfo(token.clone()).await,
            401,
            "{mount}: expired on the system clock"
        );
        // Frozen: every token carries exactly that instant.
        let r = put(&app, &clock, json!({"now": 2_000_000_000})).await;
        assert_eq!(
            (r.body["now"].as_i64(), r.body["frozen"].as_bool()),
            (Some(2_000_000_000), Some(true))
        );
        for _ in 0..2 {
            let claims = mint_verified(&app, mount, json!({})).await;
            assert_eq!(
                (claims["iat"].as_i64(), claims["exp"].as_i64()),
                (Some(2_000_000_000), Some(2_000_000_900))
            );
        }
        assert_eq!(delete(&app, &clock).await.status, 204);
        assert_eq!(get(&app, &clock).await.body["frozen"], false);
    }
}

#[tokio::test]
async fn faults_as_a_jwks_client_sees_them() {
    let app = spawn_app(test_config()).await;
    for mount in MOUNTS {
        let faults = format!("{mount}/_admin/faults");
        let jwks_paths: Vec<String> = if mount.is_empty() {
            ["/.well-known/jwks.json", "/jwks", "/certs", "/api/pkeys"]
                .map(String::from)
                .to_vec()
        } else {
            ["/.well-known/jwks.json", "/jwks"]
                .map(|p| format!("{mount}{p}"))
                .to_vec()
        };
        // Status for N calls, counted across every JWKS path, then healthy.
        let r = put(
            &app,
            &faults,
            json!({"endpoint": "jwks", "status": 500, "count": jwks_paths.len()}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        for path in &jwks_paths {
            let e = fetch_jwks(&app, path).await.unwrap_err();
            assert!(
                e.contains("500") && e.contains("server_error"),
                "{path}: {e}"
            );
        }
        let jwks = fetch_jwks(&app, &jwks_paths[0])
            .await
            .expect("healthy after count calls");
        assert_eq!(
            get(&app, &faults).await.body,
            json!([]),
            "a counted fault clears itself"
        );
        let claims = mint_verified(&app, mount, json!({"sub": "after-fault"})).await;
        assert_eq!(claims["sub"], "after-fault");
        assert!(!jwks.keys.is_empty());
        // Empty and garbage bodies with 200: the client's parser fails.
        for (body, want) in [("empty", "unparsable"), ("garbage", "unparsable")] {
            put(
                &app,
                &faults,
                json!({"endpoint": "jwks", "body": body, "count": 1}),
            )
            .await;
            let e = fetch_jwks(&app, &format!("{mount}/jwks"))
                .await
                .unwrap_err();
            assert!(e.contains(want), "{mount} {body}: {e}");
        }
        // Until cleared: every call fails; DELETE heals.
        put(&app, &faults, json!({"endpoint": "jwks", "status": 503})).await;
        for _ in 0..5 {
            let r = get(&app, &format!("{mount}/jwks")).await;
            assert_eq!(
                (r.status, r.body["error"].as_str()),
                (503, Some("temporarily_unavailable"))
            );
            assert_eq!(r.headers["retry-after"], "1");
        }
        let listed = get(&app, &faults).await.body;
        assert_eq!(
            listed,
            json!([{"endpoint": "jwks", "status": 503, "delay_ms": 0, "body": null, "count": null}])
        );
        assert_eq!(delete(&app, &format!("{faults}/jwks")).await.status, 204);
        assert!(fetch_jwks(&app, &format!("{mount}/jwks")).await.is_ok());
        // Delay only: the real answer, late.
        put(
            &app,
            &faults,
            json!({"endpoint": "jwks", "delay_ms": 400, "count": 1}),
        )
        .await;
        let start = Instant::now();
        assert!(fetch_jwks(&app, &format!("{mount}/jwks")).await.is_ok());
        assert!(
            start.elapsed() >= Duration::from_millis(400),
            "{:?}",
            start.elapsed()
        );
        let start = Instant::now();
        assert!(fetch_jwks(&app, &format!("{mount}/jwks")).await.is_ok());
        assert!(
            start.elapsed() < Duration::from_millis(400),
            "count 1: only once"
        );
    }
}

#[tokio::test]
async fn each_endpoint_fault_hits_its_endpoint_only_and_faults_stack() {
    let app = spawn_app(open_config()).await;
    let mint_empty = |mount: &str| {
        let (app, path) = (&app, format!("{mount}/token"));
        async move { send(app, Method::POST, &path, Some("{}"), None).await }
    };
    for mount in MOUNTS {
        let faults = format!("{mount}/_admin/faults");
        // A token fault answers an RFC 6749 error, for mint and grants alike.
        put(&app, &faults, json!({"endpoint": "token", "status": 500})).await;
        let r = mint_empty(mount).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (500, Some("server_error")),
            "{}",
            r.text
        );
        assert!(r.description().contains("token"), "{}", r.text);
        let r = token_form(
            &app,
            mount,
            None,
            &[
                ("grant_type", "client_credentials".into()),
                ("client_id", "c".into()),
            ],
        )
        .await;
        assert_eq!(r.status, 500);
        put(&app, &faults, json!({"endpoint": "token", "status": 503})).await;
        let r = mint_empty(mount).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (503, Some("temporarily_unavailable"))
        );
        // Faults on other endpoints stack with it; each hits only its own.
        let cases: [(&str, Method, &str); 4] = [
            (
                "discovery",
                Method::GET,
                "/.well-known/openid-configuration",
            ),
            ("userinfo", Method::GET, "/userinfo"),
            ("introspect", Method::POST, "/introspect"),
            ("authorize", Method::GET, "/authorize"),
        ];
        for (endpoint, _, _) in &cases {
            put(
                &app,
                &faults,
                json!({"endpoint": endpoint, "status": 502, "body": "garbage"}),
            )
            .await;
        }
        assert_eq!(get(&app, &faults).await.body.as_array().unwrap().len(), 5);
        for (endpoint, method, path) in &cases {
            let r = send(&app, method.clone(), &format!("{mount}{path}"), None, None).await;
            assert_eq!(r.status, 502, "{mount} {endpoint}: {}", r.text);
            assert!(
                r.body.is_null() && r.text.contains("garbage"),
                "{endpoint}: {}",
                r.text
            );
        }
        let r = get(
            &app,
            &format!("{mount}/.well-known/oauth-authorization-server"),
        )
        .await;
        assert_eq!(r.status, 502, "discovery covers RFC 8414 metadata");
        assert!(
            fetch_jwks(&app, &format!("{mount}/jwks")).await.is_ok(),
            "JWKS untouched"
        );
        let r = post_form(&app, &format!("{mount}/revoke"), None, &[("token", "x")]).await;
        assert_eq!(r.status, 200, "revoke is not a fault target");
        assert_eq!(delete(&app, &faults).await.status, 204);
        assert_eq!(get(&app, &faults).await.body, json!([]));
        let r = mint_empty(mount).await;
        assert_eq!(r.status, 200, "{mount}: cleared");
        assert!(r.body["access_token"].is_string(), "{mount}: {}", r.text);
    }
}

#[tokio::test]
async fn faults_and_the_ledger_cover_the_profiles_own_paths() {
    let issuer = |profile| NamedIssuer {
        profile: Some(profile),
        ..NamedIssuer::default()
    };
    let app = spawn_app(Config {
        issuers: [
            ("kc".to_string(), issuer(Profile::Keycloak)),
            ("goog".to_string(), issuer(Profile::Google)),
        ]
        .into_iter()
        .collect(),
        ..test_config()
    })
    .await;
    // Keycloak, at /realms/kc: its certs path is a JWKS path like the generic ones.
    let certs = "/realms/kc/protocol/openid-connect/certs";
    let r = put(
        &app,
        "/realms/kc/_admin/faults",
        json!({"endpoint": "jwks", "status": 500, "count": 2}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for path in [certs, "/realms/kc/jwks"] {
        let e = fetch_jwks(&app, path).await.unwrap_err();
        assert!(e.contains("500"), "{path}: {e}");
    }
    assert!(
        fetch_jwks(&app, certs).await.is_ok(),
        "count 2: then healthy"
    );
    put(
        &app,
        "/realms/kc/_admin/faults",
        json!({"endpoint": "token", "status": 503}),
    )
    .await;
    let r = send(
        &app,
        Method::POST,
        "/realms/kc/protocol/openid-connect/token",
        Some("{}"),
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (503, Some("temporarily_unavailable")),
        "{}",
        r.text
    );
    let ledger = get(&app, &format!("/realms/kc/_admin/requests?path={certs}"))
        .await
        .body;
    let statuses: Vec<_> = ledger
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 500], "newest first: {ledger}");
    // Google: both key sets (JWKS v3 and the X.509 map v1) are `jwks`.
    put(
        &app,
        "/goog/_admin/faults",
        json!({"endpoint": "jwks", "status": 502, "body": "empty"}),
    )
    .await;
    for path in [
        "/goog/oauth2/v3/certs",
        "/goog/oauth2/v1/certs",
        "/goog/.well-known/jwks.json",
    ] {
        let r = get(&app, path).await;
        assert_eq!((r.status, r.text.as_str()), (502, ""), "{path}");
    }
    assert!(
        fetch_jwks(&app, "/realms/kc/jwks").await.is_ok(),
        "another issuer untouched"
    );
}

#[tokio::test]
async fn a_delayed_answer_never_blocks_the_server() {
    // #[tokio::test] runs the server on this one thread: a blocking sleep
    // would stall the health check below for the whole delay.
    let app = spawn_app(test_config()).await;
    put(
        &app,
        "/_admin/faults",
        json!({"endpoint": "jwks", "delay_ms": 1500}),
    )
    .await;
    let slow = {
        let (client, url) = (app.client.clone(), app.url("/jwks"));
        tokio::spawn(async move {
            let start = Instant::now();
            let status = client.get(url).send().await.unwrap().status().as_u16();
            (status, start.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = Instant::now();
    assert_eq!(get(&app, "/health").await.status, 200);
    let r = send(&app, Method::POST, "/token", Some("{}"), None).await;
    assert_eq!(r.status, 200);
    assert!(
        start.elapsed() < Duration::from_millis(700),
        "{:?}",
        start.elapsed()
    );
    let (status, took) = slow.await.unwrap();
    assert_eq!(status, 200);
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    let r = put(
        &app,
        "/_admin/faults",
        json!({"endpoint": "jwks", "delay_ms": 60_001}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.description().contains("delay_ms: 60001"), "{}", r.text);
}

#[tokio::test]
async fn the_ledger_records_what_was_asked_and_never_a_secret() {
    let app = spawn_app(strict_config()).await;
    // Every secret this test sends somewhere.
    let mut secrets: Vec<String> = vec![
        "s3cret".into(),
        "hunter2".into(),
        "cli-secret".into(),
        "qs-pass".into(),
    ];
    put(
        &app,
        "/tenant-a/_admin/users/bob",
        json!({"password": "tenant-pw"}),
    )
    .await;
    secrets.push("tenant-pw".into());
    let basic_web = basic("web", "s3cret");
    secrets.push(basic_web.trim_start_matches("Basic ").into());

    // Password grant with a Basic header.
    let pw = token_form(
        &app,
        "",
        Some(&basic("cli", "cli-secret")),
        &[
            ("grant_type", "password".into()),
            ("username", "bob".into()),
            ("password", "hunter2".into()),
            ("scope", "openid".into()),
        ],
    )
    .await;
    assert_eq!(pw.status, 200, "{}", pw.text);
    for field in ["access_token", "refresh_token", "id_token"] {
        secrets.push(pw.body[field].as_str().unwrap().into());
    }
    // Code flow with PKCE, the secret in the form.
    let (verifier, challenge) = pkce_pair();
    let code = code_for(
        &app,
        &[
            ("client_id", "web"),
            ("redirect_uri", WEB_CB),
            ("response_type", "code"),
            ("login_hint", "alice"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let r = token_form(
        &app,
        "",
        None,
        &[
            ("grant_type", "authorization_code".into()),
            ("client_id", "web".into()),
            ("client_secret", "s3cret".into()),
            ("code", code.clone()),
            ("redirect_uri", WEB_CB.into()),
            ("code_verifier", verifier.clone()),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let code_token = r.body["access_token"].as_str().unwrap().to_string();
    secrets.extend([
        code,
        verifier,
        code_token.clone(),
        r.body["refresh_token"].as_str().unwrap().into(),
    ]);
    // Refresh with Basic, userinfo with Bearer, introspection with the token in the form.
    let r = token_form(
        &app,
        "",
        Some(&basic_web),
        &[
            ("grant_type", "refresh_token".into()),
            (
                "refresh_token",
                r.body["refresh_token"].as_str().unwrap().into(),
            ),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    secrets.push(r.body["access_token"].as_str().unwrap().into());
    let (status, info) = app.userinfo("/userinfo", &code_token).await;
    assert_eq!(status, 200, "{info}");
    assert!(info["sub"].is_string(), "{info}");
    let r = post_form(
        &app,
        "/introspect",
        Some(&basic_web),
        &[("token", &code_token)],
    )
    .await;
    assert_eq!(r.body["active"], true);
    // Secrets in query strings (where nobody should put them).
    let r = send(
        &app,
        Method::POST,
        "/token?client_secret=s3cret&password=qs-pass&access_token=eyJxx.yy.zz&sub=q",
        None,
        None,
    )
    .await;
    assert_eq!(
        r.status, 400,
        "unknown fields in a mint request: {}",
        r.text
    );
    let r = app
        .client
        .get(app.url(&format!("/userinfo?access_token={code_token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A named issuer's grant goes to its own ledger.
    let r = token_form(
        &app,
        "/tenant-a",
        Some(&basic("cli", "cli-secret")),
        &password_grant("bob", "tenant-pw", None),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let tenant_claims = peek(r.body["access_token"].as_str().unwrap());
    secrets.push(r.body["access_token"].as_str().unwrap().into());
    // And the admin calls themselves are not recorded.
    get(&app, "/_admin/users").await;

    let all = get(&app, "/_admin/requests").await;
    assert_eq!(all.status, 200);
    for secret in &secrets {
        assert!(
            !all.text.contains(secret.as_str()),
            "secret {secret:?} leaked into the ledger: {}",
            all.text
        );
    }
    let entries = all.body.as_array().unwrap();
    assert!(
        entries
            .iter()
            .all(|e| !e["path"].as_str().unwrap().contains("_admin")),
        "no _admin call recorded"
    );
    // Newest first: the last root request is the userinfo with the query token.
    assert_eq!(entries[0]["path"], "/userinfo");
    assert_eq!(entries[0]["query"], "access_token=<redacted>");
    assert_eq!(entries[0]["status"], 401);
    assert_eq!(
        entries[1]["query"],
        "client_secret=<redacted>&password=<redacted>&access_token=<redacted>&sub=q"
    );
    for e in entries {
        for field in [
            "time",
            "method",
            "path",
            "query",
            "status",
            "client_id",
            "sub",
            "jti",
            "duration_ms",
        ] {
            assert!(e.get(field).is_some(), "{field} missing in {e}");
        }
        assert!(
            e["time"].as_str().unwrap().ends_with('Z') && e["duration_ms"].as_f64().unwrap() >= 0.0,
            "{e}"
        );
    }
    // The token requests carry who the token is for.
    let tokens = get(&app, "/_admin/requests?path=/token").await.body;
    let tokens = tokens.as_array().unwrap();
    assert_eq!(tokens.len(), 4, "{tokens:?}");
    let first_grant = &tokens[3];
    let pw_claims = peek(pw.body["access_token"].as_str().unwrap());
    assert_eq!(
        (&first_grant["method"], &first_grant["status"]),
        (&json!("POST"), &json!(200))
    );
    assert_eq!(first_grant["sub"], pw_claims["sub"]);
    assert_eq!(first_grant["jti"], pw_claims["jti"]);
    assert_eq!(first_grant["client_id"], "cli");
    assert_eq!(tokens[2]["client_id"], "web");
    assert_eq!(tokens[2]["sub"], "user_alice");
    let limited = get(&app, "/_admin/requests?path=/token&limit=2").await.body;
    assert_eq!(limited.as_array().unwrap().as_slice(), &tokens[..2]);
    let authorize = get(&app, "/_admin/requests?path=/authorize").await.body;
    assert_eq!(authorize[0]["client_id"], "web", "client_id from the query");
    assert_eq!(authorize[0]["status"], 302);
    // The named issuer's ledger: only its request, with its token's facts.
    let named = get(&app, "/tenant-a/_admin/requests").await.body;
    let named = named.as_array().unwrap();
    assert_eq!(named.len(), 1, "{named:?}");
    assert_eq!(
        (&named[0]["path"], &named[0]["sub"], &named[0]["jti"]),
        (
            &json!("/tenant-a/token"),
            &tenant_claims["sub"],
            &tenant_claims["jti"]
        )
    );
    // DELETE empties it; the next request is the only one.
    assert_eq!(delete(&app, "/_admin/requests").await.status, 204);
    fetch_jwks(&app, "/certs").await.unwrap();
    let r = get(&app, "/_admin/requests").await.body;
    assert_eq!(r.as_array().unwrap().len(), 1);
    assert_eq!(
        (&r[0]["path"], &r[0]["method"]),
        (&json!("/certs"), &json!("GET"))
    );
    assert_eq!(
        named.len(),
        get(&app, "/tenant-a/_admin/requests")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        "untouched"
    );
    // Server endpoints and the workbench are not issuer requests; unknown
    // paths are (404).
    get(&app, "/health").await;
    get(&app, "/metrics").await;
    get(&app, "/").await;
    get(&app, "/tenant-a/").await;
    get(&app, "/_workbench/app.js").await;
    get(&app, "/no-such-endpoint").await;
    // Unknown admin paths are neither (on the root nor under an issuer).
    assert_eq!(get(&app, "/_admin/nope").await.status, 404);
    assert_eq!(get(&app, "/tenant-a/_admin/nope").await.status, 404);
    let r = get(&app, "/_admin/requests").await.body;
    assert_eq!(r.as_array().unwrap().len(), 2, "{r}");
    assert_eq!(
        (&r[0]["path"], &r[0]["status"]),
        (&json!("/no-such-endpoint"), &json!(404))
    );
    let named_now = get(&app, "/tenant-a/_admin/requests").await.body;
    assert_eq!(
        named_now.as_array().unwrap().len(),
        named.len(),
        "{named_now}"
    );
}

#[tokio::test]
async fn reset_returns_every_control_to_the_startup_state() {
    let app = spawn_app(strict_config()).await;
    for mount in MOUNTS {
        let users_before = get(&app, &format!("{mount}/_admin/users")).await.body;
        let clients_before = get(&app, &format!("{mount}/_admin/clients")).await.body;
        assert!(
            users_before.get("alice").is_some() && clients_before.as_array().unwrap().len() == 6,
            "{mount}"
        );
        let kids_before: Vec<String> = fetch_jwks(&app, &format!("{mount}/jwks"))
            .await
            .unwrap()
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.clone())
            .collect();
        put(&app, &format!("{mount}/_admin/users/zed"), json!({})).await;
        delete(&app, &format!("{mount}/_admin/users/alice")).await;
        delete(&app, &format!("{mount}/_admin/clients/web")).await;
        put(&app, &format!("{mount}/_admin/clients/new"), json!({})).await;
        put(&app, &format!("{mount}/_admin/clock"), json!({"now": 5})).await;
        put(
            &app,
            &format!("{mount}/_admin/faults"),
            json!({"endpoint": "discovery", "status": 500}),
        )
        .await;
        assert_eq!(
            get(&app, &format!("{mount}/.well-known/openid-configuration"))
                .await
                .status,
            500
        );

        let r = post(&app, &format!("{mount}/_admin/reset")).await;
        assert_eq!(r.status, 204, "{}", r.text);
        assert_eq!(
            get(&app, &format!("{mount}/_admin/users")).await.body,
            users_before,
            "{mount}"
        );
        assert_eq!(
            get(&app, &format!("{mount}/_admin/clients")).await.body,
            clients_before,
            "{mount}"
        );
        assert_eq!(
            get(&app, &format!("{mount}/_admin/clock")).await.body["offset_sec"],
            0
        );
        assert_eq!(
            get(&app, &format!("{mount}/_admin/faults")).await.body,
            json!([])
        );
        assert_eq!(
            get(&app, &format!("{mount}/_admin/requests")).await.body,
            json!([]),
            "ledger emptied"
        );
        assert_eq!(
            get(&app, &format!("{mount}/.well-known/openid-configuration"))
                .await
                .status,
            200
        );
        let kids_after: Vec<String> = fetch_jwks(&app, &format!("{mount}/jwks"))
            .await
            .unwrap()
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.clone())
            .collect();
        assert_eq!(kids_before, kids_after, "{mount}: keys stay");
        // The startup clients are strict again: web's secret works, `new` is gone.
        let r = token_form(
            &app,
            mount,
            Some(&basic("cli", "cli-secret")),
            &password_grant("alice", "x", None),
        )
        .await;
        assert_eq!(r.status, 200, "{mount}: alice is back: {}", r.text);
    }
}

#[tokio::test]
async fn admin_token_guards_every_admin_call_and_not_token_minting() {
    let app = spawn_app(Config {
        admin_token: Some(Secret("adm1n-t0ken".to_string())),
        ..test_config()
    })
    .await;
    let calls: [(Method, &str, Option<&str>); 16] = [
        (Method::GET, "/_admin/users", None),
        (Method::GET, "/_admin/users/a", None),
        (Method::PUT, "/_admin/users/a", Some("{}")),
        (Method::DELETE, "/_admin/users/a", None),
        (Method::GET, "/_admin/clients", None),
        (Method::GET, "/_admin/clients/c", None),
        (Method::PUT, "/_admin/clients/c", Some("{}")),
        (Method::DELETE, "/_admin/clients/c", None),
        (Method::GET, "/_admin/clock", None),
        (Method::PUT, "/_admin/clock", Some(r#"{"offset_sec": 1}"#)),
        (Method::DELETE, "/_admin/clock", None),
        (Method::GET, "/_admin/faults", None),
        (
            Method::PUT,
            "/_admin/faults",
            Some(r#"{"endpoint": "jwks", "status": 500}"#),
        ),
        (Method::DELETE, "/_admin/faults", None),
        (Method::GET, "/_admin/requests", None),
        (Method::POST, "/_admin/reset", None),
    ];
    let more: [(Method, &str, Option<&str>); 5] = [
        (Method::DELETE, "/_admin/requests", None),
        (Method::DELETE, "/_admin/faults/jwks", None),
        (Method::GET, "/_admin/keys", None),
        (
            Method::POST,
            "/_admin/keys/rotate",
            Some(r#"{"grace_sec": 0}"#),
        ),
        (Method::DELETE, "/_admin/keys/no-such-kid", None),
    ];
    for mount in ["", "/guarded"] {
        for (method, path, body) in calls.iter().chain(&more) {
            let path = format!("{mount}{path}");
            for (auth, why) in [
                (None, "no Authorization"),
                (Some("Bearer wrong"), "a wrong token"),
                (Some("Bearer adm1n-t0ke"), "a prefix of the token"),
                (Some("Basic YWRtMW4tdDBrZW46"), "Basic"),
                (Some("adm1n-t0ken"), "no scheme"),
            ] {
                let r = send(&app, method.clone(), &path, *body, auth).await;
                assert_eq!(r.status, 401, "{method} {path} with {why}: {}", r.text);
                assert_eq!(
                    r.body["error"], "invalid_token",
                    "{method} {path} with {why}"
                );
                let www = r.headers["www-authenticate"].to_str().unwrap();
                assert!(www.starts_with("Bearer"), "{www}");
                assert!(
                    !r.text.contains("adm1n") && !www.contains("adm1n"),
                    "token never echoed"
                );
            }
            let r = send(
                &app,
                method.clone(),
                &path,
                *body,
                Some("Bearer adm1n-t0ken"),
            )
            .await;
            assert!(
                r.status != 401 && r.status < 500,
                "{method} {path} with the token: {} {}",
                r.status,
                r.text
            );
            let r = send(
                &app,
                method.clone(),
                &path,
                *body,
                Some("bearer   adm1n-t0ken"),
            )
            .await;
            assert_ne!(r.status, 401, "{method} {path}: scheme is case-insensitive");
        }
    }
    // Token minting and the other endpoints stay open.
    assert_eq!(
        send(&app, Method::POST, "/token", Some("{}"), None)
            .await
            .status,
        200
    );
    assert_eq!(
        send(&app, Method::POST, "/guarded/token", Some("{}"), None)
            .await
            .status,
        200
    );
    assert!(fetch_jwks(&app, "/jwks").await.is_ok());
    // An unauthenticated call never creates a dynamic issuer.
    let r = send(&app, Method::GET, "/never-made/_admin/users", None, None).await;
    assert_eq!(r.status, 401);
    let issuers = get(&app, "/issuers").await.text;
    assert!(!issuers.contains("never-made"), "{issuers}");
}

#[tokio::test]
async fn bad_admin_input_is_a_400_naming_the_field() {
    let app = spawn_app(test_config()).await;
    let cases: &[(Method, &str, &str, &str)] = &[
        (
            Method::PUT,
            "/_admin/users/a",
            r#"{"subject": "x"}"#,
            "unknown field `subject`",
        ),
        (
            Method::PUT,
            "/_admin/users/a",
            r#"{"claims": "x"}"#,
            "claims",
        ),
        (Method::PUT, "/_admin/users/a", r#"{"aud": 1}"#, "aud"),
        (Method::PUT, "/_admin/users/a", "", "empty body"),
        (Method::PUT, "/_admin/users/a", "[1]", "JSON object"),
        (Method::PUT, "/_admin/users/a", "{not json", "body"),
        (Method::PUT, "/_admin/users/%20", "{}", "persona name"),
        (
            Method::PUT,
            "/_admin/clients/c",
            r#"{"client_id": "d"}"#,
            "client_id",
        ),
        (
            Method::PUT,
            "/_admin/clients/c",
            r#"{"grant_types": ["implicit"]}"#,
            "grant_types",
        ),
        (
            Method::PUT,
            "/_admin/clients/c",
            r#"{"redirect_uris": ["cb"]}"#,
            "redirect_uris[0]",
        ),
        (
            Method::PUT,
            "/_admin/clients/c",
            r#"{"client_secret": ""}"#,
            "client_secret",
        ),
        (
            Method::PUT,
            "/_admin/clients/c",
            r#"{"token_endpoint_auth_method": "none", "client_secret": "s"}"#,
            "token_endpoint_auth_method",
        ),
        (
            Method::PUT,
            "/_admin/clock",
            r#"{"offset_sec": 1, "now": 1}"#,
            "not both",
        ),
        (Method::PUT, "/_admin/clock", "{}", "offset_sec"),
        (
            Method::PUT,
            "/_admin/clock",
            r#"{"offset_sec": "1h"}"#,
            "offset_sec",
        ),
        (Method::PUT, "/_admin/clock", r#"{"now": -5}"#, "now"),
        (
            Method::PUT,
            "/_admin/faults",
            r#"{"endpoint": "revoke", "status": 500}"#,
            "endpoint",
        ),
        (
            Method::PUT,
            "/_admin/faults",
            r#"{"endpoint": "jwks", "status": 700}"#,
            "status",
        ),
        (
            Method::PUT,
            "/_admin/faults",
            r#"{"endpoint": "jwks", "delay_ms": 999999}"#,
            "delay_ms",
        ),
        (
            Method::PUT,
            "/_admin/faults",
            r#"{"endpoint": "jwks", "body": "html"}"#,
            "body",
        ),
        (
            Method::PUT,
            "/_admin/faults",
            r#"{"endpoint": "jwks", "status": 500, "count": 0}"#,
            "count",
        ),
        (
            Method::PUT,
            "/_admin/faults",
            r#"{"endpoint": "jwks"}"#,
            "status, body or delay_ms",
        ),
        (Method::DELETE, "/_admin/faults/revoke", "", "endpoint"),
        (Method::GET, "/_admin/requests?limit=0", "", "limit"),
        (Method::GET, "/_admin/requests?limit=many", "", "limit"),
        (Method::GET, "/_admin/requests?paht=/token", "", "paht"),
    ];
    for mount in MOUNTS {
        for (method, path, body, want) in cases {
            let body = (!body.is_empty()).then_some(*body);
            let r = send(&app, method.clone(), &format!("{mount}{path}"), body, None).await;
            assert_eq!(
                (r.status, r.body["error"].as_str()),
                (400, Some("invalid_request")),
                "{method} {mount}{path} with {body:?}: {}",
                r.text
            );
            assert!(
                r.description().contains(want),
                "{method} {mount}{path} with {body:?}: {:?} should name {want:?}",
                r.description()
            );
        }
        // Nothing was stored by any of them.
        assert_eq!(
            get(&app, &format!("{mount}/_admin/users")).await.body,
            json!({})
        );
        assert_eq!(
            get(&app, &format!("{mount}/_admin/clients")).await.body,
            json!([])
        );
        assert_eq!(
            get(&app, &format!("{mount}/_admin/faults")).await.body,
            json!([])
        );
        assert_eq!(
            get(&app, &format!("{mount}/_admin/clock")).await.body["offset_sec"],
            0
        );
    }
}
