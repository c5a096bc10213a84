//! OAuth across real federated replicas: two `mock-idp` processes with
//! `PEERS` and the e2e config file (clients + personas). A code issued by A
//! is redeemed at B, B's refresh token rotates at A, and each replica's
//! userinfo and introspection accept the other's access tokens. Single use is
//! per replica (see docs/oidc.md), so replays are checked on one replica.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod oauth_support;
#[path = "common/replica.rs"]
mod replica;

use std::time::Duration;

use common::verify_with;
use oauth_support::{location, pkce_pair};
use replica::{Replica, client, eventually, jwks, served_kids};
use serde_json::Value;

const APP_CALLBACK: &str = "http://127.0.0.1/e2e/callback";

async fn token(http: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let res = http
        .post(format!("{base}/token"))
        .basic_auth("e2e-app", Some("app-secret"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_and_refresh_tokens_cross_real_replicas() {
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let ports = replica::free_ports(2);
    let urls: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let config = format!("{}/tests/e2e/oidc-config.yaml", env!("CARGO_MANIFEST_DIR"));
    let env = |name: &str| {
        vec![
            ("PEERS", urls.join(",")),
            ("INSTANCE_ID", name.to_string()),
            ("PEER_REFRESH_SEC", "1".to_string()),
            // Both replicas share the issuer, as federated replicas must.
            ("ISSUER", "http://idp.test".to_string()),
            ("CONFIG_FILE", config.clone()),
        ]
    };
    let a = Replica::start("a", "127.0.0.1", ports[0], &env("a"), dir.path());
    let b = Replica::start("b", "127.0.0.1", ports[1], &env("b"), dir.path());
    for r in [&a, &b] {
        eventually(
            &format!("{} serves both keys", r.name),
            Duration::from_secs(15),
            || async { (served_kids(&http, &r.base).await.len() == 2).then_some(()) },
        )
        .await;
    }

    // Authorize at A (login_hint: no login page), redeem at B.
    let (verifier, challenge) = pkce_pair();
    let res = http
        .get(a.url("/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "e2e-app"),
            ("redirect_uri", APP_CALLBACK),
            ("scope", "openid"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("login_hint", "alice"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let (_, q) = location(&res);
    let code = q["code"].clone();
    let redeem = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", APP_CALLBACK),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, body) = token(&http, &b.base, &redeem).await;
    assert_eq!(status, 200, "A's code redeemed at B: {body}");
    let (status, replay) = token(&http, &b.base, &redeem).await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (400, Some("invalid_grant")),
        "replay at B"
    );

    // B's tokens verify with A's JWKS (independent verifier), and A serves B's user.
    let access_b = body["access_token"].as_str().unwrap().to_string();
    let jwks_a = jwks(&http, &a.base).await;
    let (_, claims) = verify_with(&jwks_a, &access_b, Some("e2e-api")).unwrap();
    assert_eq!(claims["sub"], "user_alice");
    verify_with(&jwks_a, body["id_token"].as_str().unwrap(), Some("e2e-app")).unwrap();
    let info: Value = http
        .get(a.url("/userinfo"))
        .bearer_auth(&access_b)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["email"], "alice@example.com",
        "userinfo at A for B's token"
    );

    // B's refresh token rotates at A; reuse at A is refused.
    let rt_b = body["refresh_token"].as_str().unwrap().to_string();
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt_b.as_str()),
    ];
    let (status, rotated) = token(&http, &a.base, &refresh).await;
    assert_eq!(status, 200, "B's refresh token at A: {rotated}");
    let (status, reuse) = token(&http, &a.base, &refresh).await;
    assert_eq!(
        (status, reuse["error"].as_str()),
        (400, Some("invalid_grant")),
        "reuse at A"
    );

    // Introspection at B of A's access token.
    let res: Value = http
        .post(b.url("/introspect"))
        .basic_auth("e2e-app", Some("app-secret"))
        .form(&[("token", rotated["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["active"], true, "{res}");
    assert_eq!(res["sub"], "user_alice");
}
