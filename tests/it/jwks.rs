//! JWKS endpoints, discovery, health, CORS and the JSON fallbacks.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use mock_idp::config::Config;
use serde_json::{Value, json};

use crate::support::poll::eventually;
use crate::support::{Idp, jwt, spawn_app, test_config};

#[tokio::test]
async fn all_jwks_paths_serve_the_same_rsa_key() {
    let app = spawn_app(test_config()).await;
    let mut bodies = Vec::new();
    for path in [
        "/.well-known/jwks.json",
        "/certs",
        "/api/pkeys",
        "/api/pkeys?local=true",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "application/json", "{path}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=60",
            "{path}"
        );
        bodies.push(res.json::<Value>().await.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    let keys = bodies[0]["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["use"], "sig");
    assert_eq!(k["alg"], "RS256");
    assert_eq!(k["e"], "AQAB");
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(k["n"].as_str().unwrap())
            .unwrap()
            .len(),
        256,
        "RSA-2048"
    );
    assert!(
        k.get("d").is_none() && k.get("p").is_none(),
        "no private members"
    );
    // kid = RFC 7638 thumbprint, computed here independently.
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        k["e"].as_str().unwrap(),
        k["n"].as_str().unwrap()
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    assert_eq!(k["kid"], URL_SAFE_NO_PAD.encode(digest));
}

#[tokio::test]
async fn kid_and_instance_id_options() {
    let app = spawn_app(Config {
        kid: Some("dev-key".into()),
        ..test_config()
    })
    .await;
    let jwks: JwkSet = app.get_as("/certs").await;
    assert_eq!(jwks.keys[0].common.key_id.as_deref(), Some("dev-key"));
    let token = app.token(json!({})).await;
    assert_eq!(jwt::kid(&token), "dev-key");
    app.verify(&token).await.unwrap();

    let app = spawn_app(Config {
        instance_id: Some("replica-0".into()),
        ..test_config()
    })
    .await;
    let jwks: JwkSet = app.get_as("/certs").await;
    let kid = jwks.keys[0].common.key_id.clone().unwrap();
    assert!(
        kid.starts_with("replica-0-") && kid.len() > "replica-0-".len() + 40,
        "{kid}"
    );
}

#[tokio::test]
async fn discovery_uses_request_host_or_public_url() {
    let app = spawn_app(Config {
        issuer: "http://issuer.test".into(),
        ..test_config()
    })
    .await;
    let doc: Value = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(doc["issuer"], "http://issuer.test");
    assert_eq!(
        doc["jwks_uri"],
        format!("{}/.well-known/jwks.json", app.base)
    );
    assert_eq!(doc["token_endpoint"], format!("{}/token", app.base));
    assert!(
        doc["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("RS256"))
    );
    assert!(
        doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("client_credentials"))
    );
    // The advertised URLs really serve what they claim.
    let jwks: Value = app.get_json(doc["jwks_uri"].as_str().unwrap()).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);

    let forwarded: Value = app
        .client
        .get(app.url("/.well-known/openid-configuration"))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "idp.example.com")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        forwarded["jwks_uri"],
        "https://idp.example.com/.well-known/jwks.json"
    );

    let app = spawn_app(Config {
        public_url: Some("http://token-issuer:8081".into()),
        ..test_config()
    })
    .await;
    let doc: Value = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(doc["token_endpoint"], "http://token-issuer:8081/token");
}

#[tokio::test]
async fn health_and_json_fallbacks() {
    let app = spawn_app(test_config()).await;
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let health: Value = res.json().await.unwrap();
    assert_eq!(health["status"], "ok");

    let res = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("/nope")
    );

    let res = app.client.delete(app.url("/token")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error_description"],
        "DELETE is not supported on /token"
    );
}

#[tokio::test]
async fn cors_is_permissive_by_default_and_configurable() {
    let app = spawn_app(test_config()).await;
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/token"))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert_eq!(res.headers()["access-control-allow-origin"], "*");

    let app = spawn_app(Config {
        cors_origins: Some(vec!["http://app.test".into()]),
        ..test_config()
    })
    .await;
    let allowed = app
        .client
        .get(app.url("/certs"))
        .header("origin", "http://app.test")
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://app.test"
    );
    let denied = app
        .client
        .get(app.url("/certs"))
        .header("origin", "http://evil.test")
        .send()
        .await
        .unwrap();
    assert!(!denied.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn metrics_count_tokens_jwks_and_latency() {
    let app = spawn_app(test_config()).await;
    app.token(json!({})).await;
    app.token(json!({"preset": "plain"})).await;
    app.token(json!({"preset": "plain"})).await;
    let cc = app
        .client
        .post(app.url("/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "svc")])
        .send()
        .await
        .unwrap();
    assert_eq!(cc.status(), 200);
    app.get_text("/certs").await;
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    for line in [
        "mock_idp_tokens_issued_total{issuer=\"\",grant=\"mint\",preset=\"clerk\"} 1",
        "mock_idp_tokens_issued_total{issuer=\"\",grant=\"mint\",preset=\"plain\"} 2",
        // client_credentials on the (clerk) root: a Clerk M2M token.
        "mock_idp_tokens_issued_total{issuer=\"\",grant=\"client_credentials\",preset=\"clerk\"} 1",
        "mock_idp_jwks_requests_total{issuer=\"\"} 1",
        "mock_idp_http_request_duration_seconds_count{issuer=\"\",route=\"/token\",method=\"POST\"} 4",
        "mock_idp_http_request_duration_seconds_count{issuer=\"\",route=\"/certs\",method=\"GET\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[tokio::test]
async fn metrics_show_federation_peers() {
    let peer = spawn_app(test_config()).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let app = spawn_app(Config {
        peers: vec![peer.base.clone(), dead_url],
        peer_refresh: Duration::from_secs(1),
        ..test_config()
    })
    .await;
    eventually("peer gauges settle", Duration::from_secs(10), || async {
        let text = app.get_text("/metrics").await;
        let has = |l: &str| text.lines().any(|x| x == l);
        (has("mock_idp_peers{state=\"up\"} 1")
            && has("mock_idp_peers{state=\"down\"} 1")
            && has("mock_idp_served_keys{issuer=\"\"} 2"))
        .then_some(())
    })
    .await;
    let plain = spawn_app(test_config()).await;
    let text = plain.get_text("/metrics").await;
    assert!(
        text.contains("mock_idp_tokens_issued_total"),
        "metrics are rendered:\n{text}"
    );
    assert!(
        !text.contains("mock_idp_peers"),
        "no peer gauges without federation"
    );
}
