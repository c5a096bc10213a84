//! Discovery contents, `/userinfo`, `/introspect` (RFC 7662) and `/revoke`
//! (RFC 7009), with their error paths.

use mock_idp::config::Config;
use serde_json::{Value, json};

use crate::support::oauth::*;
use crate::support::{Idp, TestApp, spawn_app, test_config};

#[tokio::test]
async fn discovery_lists_exactly_what_is_implemented() {
    let app = spawn_app(Config {
        issuer: "http://idp.test".into(),
        ..test_config()
    })
    .await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let doc: Value = app.get_json(path).await;
        assert_eq!(doc["issuer"], "http://idp.test", "{path}");
        let endpoints = [
            ("authorization_endpoint", "/authorize"),
            ("token_endpoint", "/token"),
            ("userinfo_endpoint", "/userinfo"),
            ("introspection_endpoint", "/introspect"),
            ("revocation_endpoint", "/revoke"),
            ("end_session_endpoint", "/logout"),
            ("jwks_uri", "/.well-known/jwks.json"),
        ];
        for (field, p) in endpoints {
            assert_eq!(doc[field], format!("{}{p}", app.base), "{path} {field}");
            // Every advertised endpoint exists (anything but 404).
            let res = app.client.get(app.url(p)).send().await.unwrap();
            assert_ne!(
                res.status(),
                404,
                "{path} {field} {p} is advertised but missing"
            );
        }
        assert_eq!(
            doc["grant_types_supported"],
            json!([
                "authorization_code",
                "refresh_token",
                "client_credentials",
                "password"
            ]),
            "{path}"
        );
        assert_eq!(doc["response_types_supported"], json!(["code"]), "{path}");
        assert_eq!(doc["response_modes_supported"], json!(["query"]), "{path}");
        assert_eq!(
            doc["code_challenge_methods_supported"],
            json!(["S256", "plain"]),
            "{path}"
        );
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "none"]),
            "{path}"
        );
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            json!([
                "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"
            ]),
            "{path}"
        );
        assert_eq!(
            doc["authorization_response_iss_parameter_supported"], true,
            "{path}"
        );
        for scope in ["openid", "offline_access"] {
            assert!(
                doc["scopes_supported"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(scope)),
                "{path} {scope}"
            );
        }
        for claim in ["sub", "nonce", "auth_time", "at_hash", "email"] {
            assert!(
                doc["claims_supported"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(claim)),
                "{path} {claim}"
            );
        }
    }
}

async fn password_tokens(app: &TestApp) -> (String, String) {
    let r = token(
        app,
        Some(&basic("cli", "cli-secret")),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    (r.str("access_token"), r.str("refresh_token"))
}

#[tokio::test]
async fn userinfo_returns_the_users_claims_and_rejects_bad_tokens() {
    let app = spawn_app(strict_config()).await;
    let (access, refresh) = password_tokens(&app).await;
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let res = app
            .client
            .request(method.clone(), app.url("/userinfo"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{method}");
        let info: Value = res.json().await.unwrap();
        assert_eq!(info["sub"], "user_alice", "{method}");
        assert_eq!(info["email"], "alice@example.com", "{method}");
        assert_eq!(info["name"], "Alice", "{method}");
        for mechanics in ["exp", "iat", "jti", "iss", "aud", "scope"] {
            assert!(
                info.get(mechanics).is_none(),
                "{method}: {mechanics} is token mechanics: {info}"
            );
        }
    }

    let expired = app.token(json!({"sub": "u", "expires_in": -60})).await;
    let other_iss = app
        .token(json!({"sub": "u", "iss": "https://elsewhere"}))
        .await;
    let mut tampered = access.clone();
    tampered.truncate(access.len() - 6);
    tampered.push_str("AAAAAA");
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no Authorization", None),
        ("Basic instead of Bearer", Some(basic("cli", "cli-secret"))),
        ("empty Bearer", Some("Bearer ".into())),
        ("garbage", Some("Bearer not-a-jwt".into())),
        ("expired", Some(format!("Bearer {expired}"))),
        ("tampered signature", Some(format!("Bearer {tampered}"))),
        ("other issuer", Some(format!("Bearer {other_iss}"))),
        ("refresh token", Some(format!("Bearer {refresh}"))),
    ];
    for (case, auth) in cases {
        let mut req = app.client.get(app.url("/userinfo"));
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "case {case:?}");
        let www = res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            www.starts_with("Bearer") && www.contains("error=\"invalid_token\""),
            "case {case:?}: {www}"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token", "case {case:?}");
    }
}

#[tokio::test]
async fn introspection_and_revocation() {
    let app = spawn_app(strict_config()).await;
    let (access, refresh) = password_tokens(&app).await;
    let cli = basic("cli", "cli-secret");

    let r = post_form(&app, "/introspect", Some(&cli), &[("token", &access)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["sub"], "user_alice");
    assert_eq!(r.body["client_id"], "cli");
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scope"], "openid");
    assert!(r.body["exp"].is_i64());
    let r = post_form(
        &app,
        "/introspect",
        Some(&cli),
        &[("token", &refresh), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(
        (r.body["active"].clone(), r.body["token_type"].clone()),
        (json!(true), json!("refresh_token"))
    );
    assert_eq!(r.body["username"], "alice");

    let expired = app.token(json!({"sub": "u", "expires_in": -60})).await;
    for (case, t) in [
        ("garbage", "garbage"),
        ("expired", expired.as_str()),
        ("empty-ish", "a.b.c"),
    ] {
        let r = post_form(&app, "/introspect", Some(&cli), &[("token", t)]).await;
        assert_eq!(
            (r.status, r.body.clone()),
            (200, json!({"active": false})),
            "case {case:?}"
        );
    }

    // Revocation: unknown tokens are still 200; revoked tokens go inactive.
    for (case, t) in [
        ("garbage", "garbage"),
        ("access", access.as_str()),
        ("refresh", refresh.as_str()),
        ("again", access.as_str()),
    ] {
        let r = post_form(&app, "/revoke", Some(&cli), &[("token", t)]).await;
        assert_eq!(r.status, 200, "case {case:?}: {}", r.body);
    }
    let r = post_form(&app, "/introspect", Some(&cli), &[("token", &access)]).await;
    assert_eq!(r.body, json!({"active": false}), "revoked access token");
    let (status, body) = app.userinfo("/userinfo", &access).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token")),
        "revoked access token at userinfo: {body}"
    );
    let r = token(
        &app,
        Some(&cli),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        r.error(),
        "invalid_grant",
        "revoked refresh token: {}",
        r.body
    );

    // Errors: with clients configured the caller must authenticate.
    // (case, path, Authorization, form, status, error)
    type Case<'a> = (
        &'a str,
        &'a str,
        Option<String>,
        Vec<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "introspect: no client",
            "/introspect",
            None,
            vec![("token", "x")],
            401,
            "invalid_client",
        ),
        (
            "introspect: wrong secret",
            "/introspect",
            Some(basic("cli", "nope")),
            vec![("token", "x")],
            401,
            "invalid_client",
        ),
        (
            "introspect: no token",
            "/introspect",
            Some(cli.clone()),
            vec![],
            400,
            "invalid_request",
        ),
        (
            "revoke: no client",
            "/revoke",
            None,
            vec![("token", "x")],
            401,
            "invalid_client",
        ),
        (
            "revoke: no token",
            "/revoke",
            Some(cli.clone()),
            vec![],
            400,
            "invalid_request",
        ),
    ];
    for (case, path, auth, form, status, error) in &cases {
        let r = post_form(&app, path, auth.as_deref(), form).await;
        assert_eq!(
            (r.status, r.error()),
            (*status, *error),
            "case {case:?}: {}",
            r.body
        );
    }
    let res = app
        .client
        .post(app.url("/introspect"))
        .json(&json!({"token": "x"}))
        .header("authorization", &cli)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415, "JSON body");

    // Open mode: no client authentication needed.
    let open = spawn_app(test_config()).await;
    let t = open.token(json!({"sub": "u1"})).await;
    let r = post_form(&open, "/introspect", None, &[("token", &t)]).await;
    assert_eq!(
        (r.status, r.body["active"].clone(), r.body["sub"].clone()),
        (200, json!(true), json!("u1"))
    );
    let r = post_form(&open, "/revoke", None, &[("token", &t)]).await;
    assert_eq!(r.status, 200);
    let r = post_form(&open, "/introspect", None, &[("token", &t)]).await;
    assert_eq!(r.body, json!({"active": false}));
}
