//! The token lifecycle service over HTTP (issue 13): its API only on
//! `jwt-auth-service` issuers (and their `/authorize` check instead of the
//! OAuth one), ext-authz on issuers of every profile and mount, the event
//! stream read as raw bytes (renewals pushed in time, `revoked` and the
//! end, disconnected clients freed, shutdown not held), configuration
//! errors, and revocations reaching another real replica. Tokens are
//! verified with jsonwebtoken against the JWKS each issuer serves.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use mock_idp::claims::Audience;
use mock_idp::config::{Config, NamedIssuer};
use mock_idp::profiles::Profile;
use serde_json::{Value, json};

use crate::support::jwt::{Claims, peek, verify_with};
use crate::support::oauth::post_form;
use crate::support::poll::eventually;
use crate::support::process::{Federation, mock_idp};
use crate::support::{Idp, TestApp, spawn_app, test_config};

/// Root (clerk), `jas` (jwt-auth-service: renew 3 s before expiry, every
/// second), `plain`, and `kc` (keycloak, at `/realms/kc`).
fn config() -> Config {
    let mut issuers = BTreeMap::new();
    issuers.insert(
        "jas".to_string(),
        NamedIssuer {
            profile: Some(Profile::JwtAuthService),
            audience: Some(Audience::One("api".into())),
            auto_renew_threshold: Some(3),
            auto_renew_interval: Some(1),
            ..Default::default()
        },
    );
    for (name, profile) in [("plain", Profile::Plain), ("kc", Profile::Keycloak)] {
        issuers.insert(
            name.to_string(),
            NamedIssuer {
                profile: Some(profile),
                ..Default::default()
            },
        );
    }
    Config {
        issuers,
        dynamic_issuers: false,
        ..test_config()
    }
}

/// A response as the tests look at it.
struct Res {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Res {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn call(
    idp: &impl Idp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Res {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = idp.client().request(method, idp.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req.body(body.to_string());
    }
    let res = req.send().await.unwrap();
    Res {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        text: res.text().await.unwrap(),
    }
}

async fn post(idp: &impl Idp, path: &str, body: Value) -> Res {
    call(idp, "POST", path, &[], Some(&body.to_string())).await
}

/// `POST <mount>/token-pairs` with `body`, asserting 201.
async fn pair(idp: &impl Idp, mount: &str, body: Value) -> Value {
    let res = post(idp, &format!("{mount}/token-pairs"), body.clone()).await;
    assert_eq!(res.status, 201, "{mount}/token-pairs {body}: {}", res.text);
    res.json()
}

/// Verifies a token of `mount` against the JWKS it serves.
async fn verified(idp: &impl Idp, mount: &str, token: &str) -> Claims {
    let jwks: JwkSet = idp.get_as(&format!("{mount}/jwks")).await;
    verify_with(&jwks, token, None)
        .unwrap_or_else(|e| panic!("{mount}: {e}"))
        .1
}

#[tokio::test]
async fn the_api_lives_on_jwt_auth_service_issuers_only() {
    let app = spawn_app(config()).await;
    let res = post(&app, "/jas/tokens", json!({"user_id": "alice"})).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let body = res.json();
    let claims = verified(&app, "/jas", body["token"].as_str().unwrap()).await;
    assert_eq!(claims["aud"], json!(["api"]));
    assert_eq!(claims["iss"], format!("{}/jas", app.base));
    assert_eq!(claims["user_id"], "alice");
    assert_eq!(claims["jti"], body["token_id"]);

    // Elsewhere a JSON 404 that says why.
    for path in ["/plain/tokens", "/tokens", "/realms/kc/tokens"] {
        let res = post(&app, path, json!({"user_id": "alice"})).await;
        assert_eq!(res.status, 404, "{path}: {}", res.text);
        assert!(
            res.text.contains("jwt-auth-service") || res.text.contains("no endpoint"),
            "{path}: {}",
            res.text
        );
    }
    // The service's health under its mount; the server's at the root.
    let health = call(&app, "GET", "/jas/healthz", &[], None).await;
    assert_eq!(
        health.json(),
        json!({"status": "healthy", "redis": "connected"})
    );
    assert_eq!(app.get_json("/health").await, json!({"status": "ok"}));
    assert_eq!(
        call(&app, "GET", "/plain/healthz", &[], None).await.status,
        404
    );

    // /authorize is the service's check here, the OAuth endpoint elsewhere.
    let res = call(&app, "GET", "/jas/authorize", &[], None).await;
    assert_eq!(res.status, 401);
    assert_eq!(
        res.json(),
        json!({"error": "Missing token",
               "message": "Provide 'Autonity-Token' header or 'Authorization: Bearer <token>'"})
    );
    let token = body["token"].as_str().unwrap();
    for method in ["GET", "POST", "HEAD"] {
        let res = call(
            &app,
            method,
            "/jas/authorize",
            &[("autonity-token", token)],
            None,
        )
        .await;
        assert_eq!((res.status, res.text.as_str()), (200, ""), "{method}");
    }
    let head = call(&app, "HEAD", "/jas/authorize", &[], None).await;
    assert_eq!((head.status, head.text.as_str()), (401, ""));
    let oauth = call(&app, "GET", "/plain/authorize", &[], None).await;
    assert_eq!(
        oauth.status, 400,
        "the OAuth endpoint's error page: {}",
        oauth.text
    );
    assert!(
        oauth
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );

    // Revocation answers and bad bodies.
    for path in ["/jas/tokens/no-such-jti", "/jas/users/nobody/tokens"] {
        let res = call(&app, "DELETE", path, &[], None).await;
        assert_eq!((res.status, res.text.as_str()), (204, ""), "{path}");
    }
    assert_eq!(
        call(&app, "PUT", "/jas/tokens", &[], None).await.status,
        405
    );
    let res = call(&app, "POST", "/jas/token-pairs", &[], Some("[]")).await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.json(),
        json!({"error": "Invalid request body",
               "message": "json: cannot unmarshal array into Go value of type api.TokenRequest"})
    );
    let res = call(&app, "GET", "/jas/tokens/latest", &[], None).await;
    assert_eq!(
        (res.status, res.json()),
        (
            400,
            json!({"error": "parent_jti query parameter is required"})
        )
    );
    app.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_root_issuer_can_be_the_service() {
    let app = spawn_app(Config {
        profile: Profile::JwtAuthService,
        ..test_config()
    })
    .await;
    let body = pair(&app, "", json!({"user_id": "u", "include_child": true})).await;
    let child = body["child_token"].as_str().unwrap();
    let jwks: JwkSet = app.get_as("/.well-known/jwks.json").await;
    let (_, claims) = verify_with(&jwks, child, None).unwrap();
    assert_eq!(claims["token_type"], "child");
    let res = call(
        &app,
        "POST",
        "/authorize",
        &[("authorization", &format!("Bearer {child}"))],
        None,
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        app.get_json("/health").await,
        json!({"status": "ok"}),
        "the server's health stays"
    );
}

/// `(mount, JWKS path)` of each issuer of [`config`].
const MOUNTS: [(&str, &str); 4] = [
    ("", "/.well-known/jwks.json"),
    ("/plain", "/plain/jwks"),
    ("/realms/kc", "/realms/kc/jwks"),
    ("/jas", "/jas/jwks"),
];

#[tokio::test]
async fn ext_authz_answers_on_every_issuer() {
    let app = spawn_app(config()).await;
    let mut tokens = Vec::new();
    for (mount, jwks) in MOUNTS {
        let res = post(
            &app,
            &format!("{mount}/token"),
            json!({"sub": "svc", "claims": {"scope": "read write", "roles": ["ops"]}}),
        )
        .await;
        assert_eq!(res.status, 200, "{mount}: {}", res.text);
        let token = res.json()["access_token"].as_str().unwrap().to_string();
        let set: JwkSet = app.get_as(jwks).await;
        let (_, claims) = verify_with(&set, &token, None).unwrap();
        tokens.push((mount, token, claims));
    }
    for (mount, token, claims) in &tokens {
        let bearer = format!("Bearer {token}");
        for (method, path) in [
            ("GET", "/ext-authz"),
            ("GET", "/ext-authz/"),
            ("GET", "/ext-authz/api/v1/items?page=2"),
            ("POST", "/ext-authz/orders/7"),
            ("DELETE", "/ext-authz/a/b/c.json"),
            ("HEAD", "/ext-authz/x"),
        ] {
            let res = call(
                &app,
                method,
                &format!("{mount}{path}"),
                &[("authorization", &bearer)],
                None,
            )
            .await;
            let what = format!("{method} {mount}{path}");
            assert_eq!(res.status, 200, "{what}: {}", res.text);
            assert_eq!(res.header("x-auth-sub"), Some("svc"), "{what}");
            let forwarded: Value = serde_json::from_slice(
                &URL_SAFE_NO_PAD
                    .decode(res.header("x-auth-claims").unwrap())
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(
                forwarded,
                Value::Object(claims.clone()),
                "{what}: x-auth-claims"
            );
        }
        let at = |path: &str| format!("{mount}/ext-authz{path}");
        // Requirements: query parameters or headers.
        let ok = [
            (at("/x?require_scope=read"), None),
            (
                at("/x?require_scope=read%20write&require_claim=roles:ops"),
                None,
            ),
            (at("/x"), Some(("x-auth-require-claim", "sub:svc"))),
        ];
        for (path, extra) in ok {
            let mut headers = vec![("authorization", bearer.as_str())];
            headers.extend(extra);
            let res = call(&app, "GET", &path, &headers, None).await;
            assert_eq!(res.status, 200, "{path} {extra:?}: {}", res.text);
        }
        let forbidden = [
            (at("/x?require_scope=admin"), None),
            (at("/x?require_claim=roles:root"), None),
            (at("/x"), Some(("x-auth-require-scope", "admin"))),
        ];
        for (path, extra) in forbidden {
            let mut headers = vec![("authorization", bearer.as_str())];
            headers.extend(extra);
            let res = call(&app, "GET", &path, &headers, None).await;
            assert_eq!(res.status, 403, "{path} {extra:?}: {}", res.text);
            assert_eq!(res.json()["error"], "insufficient_scope");
            assert!(
                res.header("www-authenticate")
                    .unwrap()
                    .contains(r#"error="insufficient_scope""#)
            );
            assert!(res.header("x-auth-sub").is_none());
        }
        // Denials: no token, garbage, another issuer's token.
        let res = call(&app, "GET", &at("/x"), &[], None).await;
        assert_eq!(res.status, 401);
        assert_eq!(
            res.header("www-authenticate"),
            Some(r#"Bearer realm="mock-idp""#)
        );
        let res = call(
            &app,
            "GET",
            &at("/x"),
            &[("authorization", "Bearer garbage")],
            None,
        )
        .await;
        assert_eq!(res.status, 401);
        assert!(
            res.header("www-authenticate")
                .unwrap()
                .contains(r#"error="invalid_token""#)
        );
        for (other, other_token, _) in &tokens {
            if other == mount {
                continue;
            }
            let res = call(
                &app,
                "GET",
                &at("/x"),
                &[("authorization", &format!("Bearer {other_token}"))],
                None,
            )
            .await;
            assert_eq!(res.status, 401, "a {other:?} token at {mount:?}");
            assert!(res.header("x-auth-sub").is_none() && res.header("x-auth-claims").is_none());
        }
    }
    // An RFC 7009 revocation is seen at once.
    let (mount, token, _) = &tokens[1];
    let revoked = post_form(&app, &format!("{mount}/revoke"), None, &[("token", token)]).await;
    assert_eq!(revoked.status, 200);
    let res = call(
        &app,
        "GET",
        &format!("{mount}/ext-authz/x"),
        &[("authorization", &format!("Bearer {token}"))],
        None,
    )
    .await;
    assert_eq!(res.status, 401, "revoked: {}", res.text);
}

#[tokio::test]
async fn revoking_a_parent_is_seen_everywhere_at_once() {
    let app = spawn_app(config()).await;
    let body = pair(
        &app,
        "/jas",
        json!({"user_id": "alice", "include_child": true, "child_expires_in": 60}),
    )
    .await;
    let parent_token = body["parent_token"].as_str().unwrap();
    let renewed = post(&app, "/jas/renew", json!({"parent_token": parent_token})).await;
    assert_eq!(renewed.status, 200, "{}", renewed.text);
    let children = [
        body["child_token"].as_str().unwrap().to_string(),
        renewed.json()["token"].as_str().unwrap().to_string(),
    ];
    let active = |t: String| {
        let app = &app;
        async move {
            post_form(app, "/jas/introspect", None, &[("token", &t)])
                .await
                .body["active"]
                == json!(true)
        }
    };
    for t in &children {
        assert!(active(t.clone()).await);
    }
    let jti = body["parent_jti"].as_str().unwrap();
    assert_eq!(
        call(&app, "DELETE", &format!("/jas/tokens/{jti}"), &[], None)
            .await
            .status,
        204
    );
    for t in children.iter().chain([&parent_token.to_string()]) {
        assert!(
            !active(t.clone()).await,
            "introspection: {}",
            peek(t)["jti"]
        );
        let bearer = format!("Bearer {t}");
        for (method, path, status) in [
            ("POST", "/jas/authorize", 403),
            ("GET", "/jas/ext-authz/x", 401),
            ("GET", "/jas/userinfo", 401),
        ] {
            let res = call(&app, method, path, &[("authorization", &bearer)], None).await;
            assert_eq!(res.status, status, "{path}: {}", res.text);
        }
    }
    let res = call(
        &app,
        "GET",
        &format!("/jas/tokens/latest?parent_jti={jti}"),
        &[],
        None,
    )
    .await;
    assert_eq!(
        (res.status, res.json()),
        (403, json!({"error": "Parent token has been revoked"}))
    );
}

/// An event stream read as raw bytes: `(event, data)` in arrival order.
struct Events {
    res: reqwest::Response,
    buf: String,
}

impl Events {
    async fn open(app: &TestApp, path: &str) -> Events {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        assert_eq!(res.headers()["cache-control"], "no-cache");
        assert_eq!(res.headers()["access-control-allow-origin"], "*");
        Events {
            res,
            buf: String::new(),
        }
    }

    /// The next event, or `None` at the end of the stream; panics after `within`.
    async fn next(&mut self, within: Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    } else {
                        assert!(line.is_empty(), "unexpected SSE line {line:?}");
                    }
                }
                return Some((event, serde_json::from_str(&data).unwrap()));
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk())
                .await
                .unwrap_or_else(|_| panic!("no event within {within:?}; have {:?}", self.buf))
                .unwrap();
            match chunk {
                Some(bytes) => self.buf.push_str(std::str::from_utf8(&bytes).unwrap()),
                None => return None,
            }
        }
    }
}

/// `mock_idp_lifecycle_sse_streams{issuer="jas"}`.
async fn open_streams(app: &TestApp) -> u64 {
    let text = app.get_text("/metrics").await;
    let line = text
        .lines()
        .find(|l| l.starts_with(r#"mock_idp_lifecycle_sse_streams{issuer="jas"}"#))
        .unwrap_or_else(|| panic!("no stream gauge for jas in /metrics"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_pushes_renewals_then_says_revoked_and_ends() {
    // A stream is an answer in progress, never an idle connection: it
    // outlives IDLE_TIMEOUT_SEC.
    let mut app = spawn_app(Config {
        idle_timeout: Duration::from_secs(1),
        ..config()
    })
    .await;
    // A fresh connection per request: the server closes idle ones after 1 s.
    app.client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .unwrap();
    let body = pair(
        &app,
        "/jas",
        json!({"user_id": "alice", "child_expires_in": 4}),
    )
    .await;
    let jti = body["parent_jti"].as_str().unwrap().to_string();
    let mut events = Events::open(&app, &format!("/jas/tokens/stream?parent_jti={jti}")).await;
    let (event, data) = events.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        (event.as_str(), data),
        (
            "connected",
            json!({"message": "Token update stream connected"})
        )
    );
    assert_eq!(open_streams(&app).await, 1);

    // Three children, each pushed before the one before it expired.
    let mut children: Vec<(Claims, f64)> = Vec::new();
    while children.len() < 3 {
        let (event, data) = events.next(Duration::from_secs(6)).await.unwrap();
        assert_eq!(event, "token", "{data}");
        let claims = verified(&app, "/jas", data["child_token"].as_str().unwrap()).await;
        assert_eq!(
            (claims["token_type"].as_str(), claims["parent_jti"].as_str()),
            (Some("child"), Some(jti.as_str()))
        );
        assert_eq!(data["child_jti"], claims["jti"]);
        assert_eq!(
            data["expires_at"],
            mock_idp::utc::rfc3339(claims["exp"].as_i64().unwrap())
        );
        children.push((claims, crate::support::unix_now()));
    }
    for w in children.windows(2) {
        let previous_exp = w[0].0["exp"].as_f64().unwrap();
        assert!(
            w[1].1 < previous_exp,
            "a child arrived {:.2} s after the previous one expired",
            w[1].1 - previous_exp
        );
        assert_ne!(w[0].0["jti"], w[1].0["jti"]);
    }

    assert_eq!(
        call(&app, "DELETE", &format!("/jas/tokens/{jti}"), &[], None)
            .await
            .status,
        204
    );
    loop {
        let (event, data) = events
            .next(Duration::from_secs(3))
            .await
            .expect("`revoked` before the end");
        if event == "revoked" {
            assert_eq!(data, json!({"parent_jti": jti}));
            break;
        }
        assert_eq!(
            event, "token",
            "only a renewal minted before the revocation may come first"
        );
    }
    assert!(
        events.next(Duration::from_secs(3)).await.is_none(),
        "the stream ends after `revoked`"
    );
    let app_ref = &app;
    eventually(
        "the ended stream to be uncounted",
        Duration::from_secs(5),
        || async move { (open_streams(app_ref).await == 0).then_some(()) },
    )
    .await;
    // A stream opened afterwards says it at once.
    let mut again = Events::open(&app, &format!("/jas/tokens/stream?parent_jti={jti}")).await;
    assert_eq!(
        again.next(Duration::from_secs(3)).await.unwrap().0,
        "connected"
    );
    assert_eq!(
        again.next(Duration::from_secs(3)).await.unwrap(),
        ("revoked".to_string(), json!({"parent_jti": jti}))
    );
    assert!(again.next(Duration::from_secs(3)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_go_away_are_forgotten_and_shutdown_ends_streams() {
    let app = spawn_app(config()).await;
    // A quiet stream (15-minute children) and a busy one (renewed every ~2 s).
    let quiet = pair(&app, "/jas", json!({"user_id": "q", "include_child": true})).await;
    let busy = pair(&app, "/jas", json!({"user_id": "b", "child_expires_in": 4})).await;
    let mut streams = Vec::new();
    for body in [&quiet, &busy, &quiet] {
        let mut s = Events::open(
            &app,
            &format!(
                "/jas/tokens/stream?parent_jti={}",
                body["parent_jti"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(s.next(Duration::from_secs(3)).await.unwrap().0, "connected");
        streams.push(s);
    }
    assert_eq!(open_streams(&app).await, 3);
    drop(streams);
    // Gone as soon as the server notices, at the latest at the next write
    // (a renewal, or the heartbeat 10 s on).
    let started = Instant::now();
    let app_ref = &app;
    eventually(
        "the dropped streams to be freed",
        Duration::from_secs(14),
        || async move { (open_streams(app_ref).await == 0).then_some(()) },
    )
    .await;
    eprintln!("dropped streams freed after {:?}", started.elapsed());

    // An open stream does not hold the server's shutdown (SHUTDOWN_GRACE_SEC is 10 s).
    let mut open = Events::open(
        &app,
        &format!(
            "/jas/tokens/stream?parent_jti={}",
            quiet["parent_jti"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(
        open.next(Duration::from_secs(3)).await.unwrap().0,
        "connected"
    );
    app.shutdown(Duration::from_secs(4)).await;
    loop {
        match open.next(Duration::from_secs(3)).await {
            None => break,
            Some((event, _)) => assert!(event == "token" || event == "heartbeat", "{event}"),
        }
    }
}

#[test]
fn renewal_settings_must_be_at_least_one_second() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mock-idp.yaml");
    std::fs::write(
        &file,
        "issuers:\n  jas: {profile: jwt-auth-service, auto_renew_threshold_seconds: 0}\n",
    )
    .unwrap();
    let exit = mock_idp("bad issuer setting")
        .env("CONFIG_FILE", &file)
        .run_to_exit();
    assert_eq!(exit.code, 2, "{}", exit.stderr);
    assert!(
        exit.stderr
            .contains("issuers.jas.auto_renew_threshold_seconds: must be at least 1 second"),
        "{}",
        exit.stderr
    );
    let exit = mock_idp("bad env")
        .env("AUTO_RENEW_WORKER_INTERVAL", "0")
        .run_to_exit();
    assert_eq!(exit.code, 2, "{}", exit.stderr);
    assert!(
        exit.stderr.contains(
            "--auto-renew-worker-interval / AUTO_RENEW_WORKER_INTERVAL: must be at least 1 second"
        ),
        "{}",
        exit.stderr
    );
}

/// `/jas/authorize` of `idp` for `token`: the status.
async fn authorize(idp: &impl Idp, token: &str) -> u16 {
    call(
        idp,
        "POST",
        "/jas/authorize",
        &[("autonity-token", token)],
        None,
    )
    .await
    .status
}

/// Two real replicas with `PEER_REFRESH_SEC=1`: a revocation made on one is
/// refused by the other within about one refresh, both ways, and
/// `/cluster/keys` publishes it as the SHA-256 prefix of the jti.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_reach_the_other_replica_within_a_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mock-idp.yaml");
    std::fs::write(
        &file,
        "issuers:\n  jas: {profile: jwt-auth-service, audience: api}\n",
    )
    .unwrap();
    let replicas = Federation::new(&["r0", "r1"]).start_all(&file);
    let (a, b) = (&replicas[0], &replicas[1]);
    let body = pair(
        a,
        "/jas",
        json!({"user_id": "alice", "include_child": true}),
    )
    .await;
    let child = body["child_token"].as_str().unwrap().to_string();
    let single = post(b, "/jas/tokens", json!({"user_id": "bob"}))
        .await
        .json();
    let single_token = single["token"].as_str().unwrap().to_string();
    let (child_ref, single_ref) = (&child, &single_token);
    // Each replica trusts the other's jas key first (federation of keys).
    eventually(
        "both replicas to accept both tokens",
        Duration::from_secs(10),
        || async move {
            let mut ok = true;
            for r in [a, b] {
                for t in [child_ref, single_ref] {
                    ok &= authorize(r, t).await == 200;
                }
            }
            ok.then_some(())
        },
    )
    .await;

    // A revokes a parent it issued (cascade), then a token B issued.
    let jti = body["parent_jti"].as_str().unwrap();
    let revoked_at = Instant::now();
    assert_eq!(
        call(a, "DELETE", &format!("/jas/tokens/{jti}"), &[], None)
            .await
            .status,
        204
    );
    assert_eq!(
        authorize(a, &child).await,
        403,
        "at once on the replica that revoked"
    );
    eventually(
        "B to refuse A's revoked child",
        Duration::from_secs(5),
        || async move { (authorize(b, child_ref).await == 403).then_some(()) },
    )
    .await;
    let delay = revoked_at.elapsed();
    eprintln!("revocation reached the other replica after {delay:?}");
    let res = call(
        b,
        "GET",
        "/jas/ext-authz/x",
        &[("authorization", &format!("Bearer {child}"))],
        None,
    )
    .await;
    assert_eq!(res.status, 401);
    let introspected = post_form(b, "/jas/introspect", None, &[("token", &child)]).await;
    assert_eq!(introspected.body, json!({"active": false}));

    let single_jti = single["token_id"].as_str().unwrap();
    assert_eq!(
        call(a, "DELETE", &format!("/jas/tokens/{single_jti}"), &[], None)
            .await
            .status,
        204
    );
    eventually(
        "B to refuse its own token revoked on A",
        Duration::from_secs(5),
        || async move { (authorize(b, single_ref).await == 403).then_some(()) },
    )
    .await;

    // What A publishes: the hash of each jti it revoked, with the token's exp.
    let keys = a.get_json("/cluster/keys").await;
    let revoked = keys["issuers"]["jas"]["revoked"].as_object().unwrap();
    let hash = |jti: &str| {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, jti.as_bytes());
        let mut first = [0u8; 16];
        first.copy_from_slice(&d.as_ref()[..16]);
        format!("{:032x}", u128::from_le_bytes(first))
    };
    let exp = peek(&child)["exp"].clone();
    assert_eq!(
        revoked.get(&hash(peek(&child)["jti"].as_str().unwrap())),
        Some(&exp)
    );
    assert!(revoked.contains_key(&hash(jti)) && revoked.contains_key(&hash(single_jti)));
    assert_eq!(
        revoked.len(),
        3,
        "parent, its child, the single token: {revoked:?}"
    );
    let b_keys = b.get_json("/cluster/keys").await;
    assert!(
        b_keys["issuers"]["jas"].get("revoked").is_none(),
        "learnt revocations are not published again: {b_keys}"
    );
}
