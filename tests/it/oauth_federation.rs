//! OAuth across real federated replicas: two `mock-idp` processes with
//! `PEERS` and the e2e config file (clients + personas). A code issued by A
//! is redeemed at B, B's refresh token rotates at A, and each replica's
//! userinfo and introspection accept the other's access tokens. A code used
//! at one replica is refused at the other within a federation refresh
//! (spent `jti`s travel on `/cluster/keys`, see docs/oidc.md).

use std::time::Duration;

use crate::support::Idp;
use crate::support::jwt::verify_with;
use crate::support::oauth::{Reply, basic, location, pkce_pair, post_form};
use crate::support::poll::eventually;
use crate::support::process::{Federation, Server};

const APP_CALLBACK: &str = "http://127.0.0.1/e2e/callback";

/// POST /token at `server` as the confidential client `e2e-app`.
async fn token(server: &Server, form: &[(&str, &str)]) -> Reply {
    post_form(
        server,
        "/token",
        Some(&basic("e2e-app", "app-secret")),
        form,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_and_refresh_tokens_cross_real_replicas() {
    let config = format!("{}/tests/e2e/oidc-config.yaml", env!("CARGO_MANIFEST_DIR"));
    let federation = Federation::new(&["a", "b"]);
    let start = |i: usize| {
        federation
            .replica(i)
            // Both replicas share the issuer, as federated replicas must.
            .env("ISSUER", "http://idp.test")
            .env("CONFIG_FILE", &config)
            .start()
    };
    let (a, b) = (start(0), start(1));
    for r in [&a, &b] {
        eventually(
            &format!("{} serves both keys", r.name),
            Duration::from_secs(15),
            || async { (r.served_kids().await.len() == 2).then_some(()) },
        )
        .await;
    }

    // Authorize at A (login_hint: no login page), redeem at B.
    let (verifier, challenge) = pkce_pair();
    let res = a
        .client()
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
    let r = token(&b, &redeem).await;
    assert_eq!(r.status, 200, "A's code redeemed at B: {}", r.body);
    let body = r.body;
    let replay = token(&b, &redeem).await;
    assert_eq!(
        (replay.status, replay.error()),
        (400, "invalid_grant"),
        "replay at B"
    );
    // Two federation rounds of A later (PEER_REFRESH_SEC=1), A has fetched
    // B's spent codes at least once since: the code is refused there too.
    let rounds = a.federation_rounds().await;
    eventually("two rounds of A", Duration::from_secs(10), || async {
        (a.federation_rounds().await >= rounds + 2).then_some(())
    })
    .await;
    let at_a = token(&a, &redeem).await;
    assert_eq!(
        (at_a.status, at_a.error()),
        (400, "invalid_grant"),
        "A must refuse the code B redeemed: {}",
        at_a.body
    );
    assert!(at_a.description().contains("already used"), "{}", at_a.body);

    // B's tokens verify with A's JWKS (independent verifier), and A serves B's user.
    let access_b = body["access_token"].as_str().unwrap().to_string();
    let jwks_a = a.jwks().await;
    let (_, claims) = verify_with(&jwks_a, &access_b, Some("e2e-api")).unwrap();
    assert_eq!(claims["sub"], "user_alice");
    verify_with(&jwks_a, body["id_token"].as_str().unwrap(), Some("e2e-app")).unwrap();
    let (status, info) = a.userinfo("/userinfo", &access_b).await;
    assert_eq!(status, 200, "{info}");
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
    let rotated = token(&a, &refresh).await;
    assert_eq!(
        rotated.status, 200,
        "B's refresh token at A: {}",
        rotated.body
    );
    let reuse = token(&a, &refresh).await;
    assert_eq!(
        (reuse.status, reuse.error()),
        (400, "invalid_grant"),
        "reuse at A"
    );

    // Introspection at B of A's access token.
    let res = post_form(
        &b,
        "/introspect",
        Some(&basic("e2e-app", "app-secret")),
        &[("token", &rotated.str("access_token"))],
    )
    .await;
    assert_eq!(res.body["active"], true, "{}", res.body);
    assert_eq!(res.body["sub"], "user_alice");
}
