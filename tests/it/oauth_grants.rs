//! `POST /token` grants without a browser: client_credentials, password,
//! refresh_token (rotation, reuse, made-up tokens), client authentication
//! methods, and a table of every error path. Tokens are verified against the
//! served JWKS with jsonwebtoken.

use mock_idp::config::Config;
use serde_json::json;

use crate::support::jwt::{self, verify_with};
use crate::support::oauth::*;
use crate::support::{Idp, spawn_app, test_config};

#[tokio::test]
async fn client_credentials_applies_client_defaults_and_claims_param() {
    let app = spawn_app(strict_config()).await;
    let jwks = app.jwks().await;

    // client_secret_basic, the client's default scope, audience and claims.
    let r = token(
        &app,
        Some(&basic("svc", "svc-secret")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "read");
    assert!(
        r.body.get("refresh_token").is_none() && r.body.get("id_token").is_none(),
        "{}",
        r.body
    );
    assert_eq!(r.headers["cache-control"], "no-store");
    let (_, c) = verify_with(&jwks, &r.str("access_token"), Some("api")).unwrap();
    assert_eq!(c["sub"], "svc");
    assert_eq!(c["client_id"], "svc");
    assert_eq!(c["roles"], json!(["reader"]));
    assert_eq!(c["tier"], "gold");

    // client_secret_post; scope echoed; claims=<json> adds and overrides.
    let r = token(
        &app,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "svc"),
            ("client_secret", "svc-secret"),
            ("scope", "read write"),
            (
                "claims",
                r#"{"tier": "platinum", "tenant": "t1", "roles": null}"#,
            ),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "read write");
    let (_, c) = verify_with(&jwks, &r.str("access_token"), Some("api")).unwrap();
    assert_eq!(c["scope"], "read write");
    assert_eq!(c["tier"], "platinum");
    assert_eq!(c["tenant"], "t1");
    assert!(
        !c.contains_key("roles"),
        "null removes a default claim: {c:?}"
    );
}

#[tokio::test]
async fn client_credentials_in_open_mode_takes_any_client_and_audience() {
    let app = spawn_app(test_config()).await;
    let r = token(
        &app,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "anything"),
            ("audience", "orders"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, c) = app.verify(&r.str("access_token")).await.unwrap();
    assert_eq!(c["sub"], "anything");
    assert_eq!(c["aud"], "orders");
}

#[tokio::test]
async fn password_grant_gives_persona_tokens_id_token_and_refresh() {
    let app = spawn_app(strict_config()).await;
    let jwks = app.jwks().await;
    let r = token(
        &app,
        Some(&basic("cli", "cli-secret")),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "anything"),
            ("scope", "openid profile"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scope"], "openid profile");
    let access = r.str("access_token");
    let (_, c) = verify_with(&jwks, &access, None).unwrap();
    assert_eq!(c["sub"], "user_alice");
    assert_eq!(c["email"], "alice@example.com");
    assert_eq!(
        c["o"],
        json!({"id": "org_1", "rol": "admin", "slg": "acme"})
    );
    assert_eq!(c["azp"], "cli");
    assert_eq!(c["client_id"], "cli");

    let (_, id) = verify_with(&jwks, &r.str("id_token"), Some("cli")).unwrap();
    assert_eq!(id["iss"], "https://issuer.local");
    assert_eq!(id["sub"], "user_alice");
    assert_eq!(id["aud"], "cli");
    assert_eq!(id["name"], "Alice");
    assert_eq!(id["org_role"], "admin");
    assert!(id["auth_time"].as_i64().unwrap() <= id["iat"].as_i64().unwrap());
    assert!(id["exp"].as_i64().unwrap() > id["iat"].as_i64().unwrap());
    assert!(
        !id.contains_key("nonce"),
        "no nonce without an authorization request"
    );
    assert_eq!(id["at_hash"], jwt::at_hash(&access));
    assert!(r.body["refresh_token"].is_string());

    // A persona with a password needs it; custom claims via claims=.
    let r = token(
        &app,
        Some(&basic("cli", "cli-secret")),
        &[
            ("grant_type", "password"),
            ("username", "bob"),
            ("password", "hunter2"),
            ("claims", r#"{"roles":["x"]}"#),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.get("id_token").is_none(),
        "no openid scope, no ID token: {}",
        r.body
    );
    let (_, c) = verify_with(&jwks, &r.str("access_token"), None).unwrap();
    assert_eq!(c["sub"], "user_bob");
    assert_eq!(c["roles"], json!(["x"]));

    // A client registered without refresh_token gets none.
    let r = token(
        &app,
        Some(&basic("noref", "noref-secret")),
        &[("grant_type", "password"), ("username", "alice")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("refresh_token").is_none(), "{}", r.body);
}

#[tokio::test]
async fn password_grant_without_personas_accepts_any_name() {
    let app = spawn_app(test_config()).await;
    let r = token(
        &app,
        None,
        &[
            ("grant_type", "password"),
            ("client_id", "x"),
            ("username", "dave"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, c) = app.verify(&r.str("access_token")).await.unwrap();
    assert_eq!(c["sub"], "dave");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_is_rejected() {
    let app = spawn_app(strict_config()).await;
    let jwks = app.jwks().await;
    let cli = basic("cli", "cli-secret");
    let first = token(
        &app,
        Some(&cli),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("scope", "openid offline_access"),
            ("claims", r#"{"k":1}"#),
        ],
    )
    .await;
    let rt1 = first.str("refresh_token");
    // Not an access token: typ differs and aud is the issuer.
    assert_eq!(
        jwt::header(&rt1).typ.as_deref(),
        Some("mock-idp-refresh+jwt")
    );

    let second = token(
        &app,
        Some(&cli),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.body);
    let rt2 = second.str("refresh_token");
    assert_ne!(rt1, rt2, "rotated");
    assert_eq!(second.body["scope"], "openid offline_access");
    let (_, c) = verify_with(&jwks, &second.str("access_token"), None).unwrap();
    assert_eq!(c["sub"], "user_alice");
    assert_eq!(c["k"], 1, "login claims survive the refresh");
    let (_, id) = verify_with(&jwks, &second.str("id_token"), Some("cli")).unwrap();
    let (_, id1) = verify_with(&jwks, &first.str("id_token"), Some("cli")).unwrap();
    assert_eq!(
        id["auth_time"], id1["auth_time"],
        "auth_time is the original login"
    );

    let reuse = token(
        &app,
        Some(&cli),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
    )
    .await;
    assert_eq!(
        (reuse.status, reuse.error()),
        (400, "invalid_grant"),
        "{}",
        reuse.body
    );
    assert!(
        reuse.description().contains("already used"),
        "{}",
        reuse.body
    );

    // Narrowing the scope is allowed, widening is not.
    let narrow = token(
        &app,
        Some(&cli),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt2),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(narrow.status, 200, "{}", narrow.body);
    assert_eq!(narrow.body["scope"], "openid");
    let wide = token(
        &app,
        Some(&cli),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &narrow.str("refresh_token")),
            ("scope", "openid admin"),
        ],
    )
    .await;
    assert_eq!(
        (wide.status, wide.error()),
        (400, "invalid_scope"),
        "{}",
        wide.body
    );
}

#[tokio::test]
async fn token_endpoint_errors() {
    let app = spawn_app(strict_config()).await;
    // A refresh token of `cli`, and an access token minted by the JSON endpoint.
    let rt = token(
        &app,
        Some(&basic("cli", "cli-secret")),
        &[("grant_type", "password"), ("username", "alice")],
    )
    .await
    .str("refresh_token");
    let minted = app
        .token(json!({"sub": "user_alice", "claims": {"client_id": "cli"}}))
        .await;
    let other_issuer = spawn_app(Config {
        clients: mock_idp::clients::to_map(clients(), "clients").unwrap(),
        users: strict_config().users,
        ..test_config()
    })
    .await;
    let foreign_rt = token(
        &other_issuer,
        Some(&basic("cli", "cli-secret")),
        &[("grant_type", "password"), ("username", "alice")],
    )
    .await
    .str("refresh_token");
    let web = basic("web", "s3cret");
    let cli = basic("cli", "cli-secret");

    // (case, Authorization, form, status, error, text in the description)
    type Case<'a> = (
        &'a str,
        Option<String>,
        Vec<(&'a str, &'a str)>,
        u16,
        &'a str,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "wrong secret (basic)",
            Some(basic("svc", "nope")),
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
            "client_secret",
        ),
        (
            "wrong secret (post)",
            None,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "svc"),
                ("client_secret", "nope"),
            ],
            401,
            "invalid_client",
            "client_secret",
        ),
        (
            "missing secret",
            None,
            vec![("grant_type", "client_credentials"), ("client_id", "svc")],
            401,
            "invalid_client",
            "required",
        ),
        (
            "unknown client",
            Some(basic("ghost", "x")),
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
            "ghost",
        ),
        (
            "no client at all",
            None,
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
            "client_id",
        ),
        (
            "grant not allowed",
            Some(web.clone()),
            vec![("grant_type", "client_credentials")],
            400,
            "unauthorized_client",
            "client_credentials",
        ),
        (
            "password not allowed",
            Some(basic("svc", "svc-secret")),
            vec![("grant_type", "password"), ("username", "alice")],
            400,
            "unauthorized_client",
            "password",
        ),
        (
            "public client, client_credentials",
            None,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "native"),
            ],
            400,
            "unauthorized_client",
            "public",
        ),
        (
            "unsupported grant",
            Some(cli.clone()),
            vec![("grant_type", "implicit")],
            400,
            "unsupported_grant_type",
            "implicit",
        ),
        (
            "repeated field",
            Some(cli.clone()),
            vec![
                ("grant_type", "password"),
                ("username", "alice"),
                ("username", "bob"),
            ],
            400,
            "invalid_request",
            "username",
        ),
        (
            "bad claims json",
            Some(basic("svc", "svc-secret")),
            vec![("grant_type", "client_credentials"), ("claims", "{nope")],
            400,
            "invalid_request",
            "claims",
        ),
        (
            "claims not an object",
            Some(basic("svc", "svc-secret")),
            vec![("grant_type", "client_credentials"), ("claims", "[1]")],
            400,
            "invalid_request",
            "claims",
        ),
        (
            "password: no username",
            Some(cli.clone()),
            vec![("grant_type", "password")],
            400,
            "invalid_request",
            "username",
        ),
        (
            "password: unknown user",
            Some(cli.clone()),
            vec![("grant_type", "password"), ("username", "mallory")],
            400,
            "invalid_grant",
            "mallory",
        ),
        (
            "password: wrong password",
            Some(cli.clone()),
            vec![
                ("grant_type", "password"),
                ("username", "bob"),
                ("password", "nope"),
            ],
            400,
            "invalid_grant",
            "password",
        ),
        (
            "password: missing password",
            Some(cli.clone()),
            vec![("grant_type", "password"), ("username", "bob")],
            400,
            "invalid_grant",
            "password",
        ),
        (
            "refresh: missing",
            Some(cli.clone()),
            vec![("grant_type", "refresh_token")],
            400,
            "invalid_request",
            "refresh_token",
        ),
        (
            "refresh: made up",
            Some(cli.clone()),
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "made-up-token"),
            ],
            400,
            "invalid_grant",
            "refresh_token",
        ),
        (
            "refresh: an access token",
            Some(cli.clone()),
            vec![("grant_type", "refresh_token"), ("refresh_token", &minted)],
            400,
            "invalid_grant",
            "not a refresh token",
        ),
        (
            "refresh: other client",
            Some(web.clone()),
            vec![("grant_type", "refresh_token"), ("refresh_token", &rt)],
            400,
            "invalid_grant",
            "another client",
        ),
        (
            "refresh: unknown signing key",
            Some(cli.clone()),
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", &foreign_rt),
            ],
            400,
            "invalid_grant",
            "unknown key",
        ),
        (
            "code: missing",
            Some(web.clone()),
            vec![("grant_type", "authorization_code")],
            400,
            "invalid_request",
            "code",
        ),
        (
            "code: made up",
            Some(web.clone()),
            vec![("grant_type", "authorization_code"), ("code", "abc")],
            400,
            "invalid_grant",
            "code",
        ),
        (
            "code: a refresh token",
            Some(cli.clone()),
            vec![("grant_type", "authorization_code"), ("code", &rt)],
            400,
            "invalid_grant",
            "not a code",
        ),
    ];
    for (case, auth, form, status, error, text) in &cases {
        let r = token(&app, auth.as_deref(), form).await;
        assert_eq!(r.status, *status, "case {case:?}: {}", r.body);
        assert_eq!(r.error(), *error, "case {case:?}: {}", r.body);
        assert!(
            r.description().contains(text),
            "case {case:?}: description should mention {text:?}: {}",
            r.body
        );
        if *status == 401 {
            assert!(
                r.headers
                    .get("www-authenticate")
                    .is_some_and(|v| v.to_str().unwrap().starts_with("Basic")),
                "case {case:?}: 401 needs WWW-Authenticate: Basic"
            );
        }
    }
    // The failed attempt with the right refresh token but wrong client did not spend it.
    let ok = token(
        &app,
        Some(&cli),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}
