//! `POST /token` (mint): shapes, personas, overrides, inputs, and every
//! bad-input case. Every minted token is verified against the served JWKS
//! with jsonwebtoken.

use jsonwebtoken::jwk::JwkSet;
use mock_idp::claims::Audience;
use mock_idp::config::Config;
use serde_json::{Value, json};

use crate::support::jwt::verify_with;
use crate::support::oauth::personas;
use crate::support::{Idp, spawn_app, test_config, unix_now};

fn personas_config() -> Config {
    Config {
        users: personas(
            "alice: {sub: user_alice, org_id: org_1, org_role: 'org:admin', org_slug: acme, \
             claims: {email: alice@example.com, name: Alice}}\n\
             bob: {org_id: org_1, org_role: member, claims: {email: bob@example.com}}\n",
        ),
        ..test_config()
    }
}

#[tokio::test]
async fn default_token_is_clerk_v2_and_verifies() {
    let app = spawn_app(test_config()).await;
    let before = unix_now() as i64;
    let (status, body) = app.mint_json(json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let (header, c) = app
        .verify(body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(
        header.kid,
        Some(app.own_kid().await),
        "signed with its own key"
    );
    assert_eq!(c["sub"], "user_default");
    assert_eq!(c["iss"], "https://issuer.local");
    assert_eq!(c["v"], 2);
    assert_eq!(c["fva"], json!([0, -1]));
    assert!(c["sid"].as_str().unwrap().starts_with("sess_"));
    let iat = c["iat"].as_i64().unwrap();
    assert!(iat >= before && iat <= unix_now() as i64);
    assert_eq!(c["exp"].as_i64().unwrap(), iat + 900);
    assert_eq!(c["nbf"].as_i64().unwrap(), iat - 10);
    assert!(!c.contains_key("aud") && !c.contains_key("o"));
}

#[tokio::test]
async fn org_fields_become_nested_o_claim() {
    let app = spawn_app(test_config()).await;
    let token = app
        .token(json!({"sub": "user_2", "org_id": "org_9", "org_role": "org:admin", "org_slug": "acme", "azp": "http://localhost:3000"}))
        .await;
    let (_, c) = app.verify(&token).await.unwrap();
    assert_eq!(c["sub"], "user_2");
    assert_eq!(
        c["o"],
        json!({"id": "org_9", "rol": "admin", "slg": "acme"})
    );
    assert_eq!(c["azp"], "http://localhost:3000");
}

#[tokio::test]
async fn personas_are_the_base_and_request_fields_override() {
    let app = spawn_app(personas_config()).await;
    let (_, alice) = app
        .verify(&app.token(json!({"user": "alice"})).await)
        .await
        .unwrap();
    assert_eq!(alice["sub"], "user_alice");
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(
        alice["o"],
        json!({"id": "org_1", "rol": "admin", "slg": "acme"})
    );

    let (_, bob) = app
        .verify(&app.token(json!({"user": "bob"})).await)
        .await
        .unwrap();
    assert_eq!(bob["sub"], "user_bob", "sub defaults to user_<name>");
    assert_eq!(bob["o"]["rol"], "member");

    let token = app
        .token(json!({"user": "alice", "org_role": "viewer", "claims": {"email": "new@example.com", "name": null}}))
        .await;
    let (_, c) = app.verify(&token).await.unwrap();
    assert_eq!(c["o"]["rol"], "viewer");
    assert_eq!(c["email"], "new@example.com");
    assert!(!c.contains_key("name"), "null removes a claim");
}

#[tokio::test]
async fn plain_preset_and_custom_claims() {
    let app = spawn_app(test_config()).await;
    let token = app
        .token(
            json!({"preset": "plain", "sub": "svc", "aud": ["api", "web"], "scope": "read",
                      "claims": {"roles": ["admin"], "tenant": {"id": 7}}}),
        )
        .await;
    let jwks: JwkSet = app.get_as("/certs").await;
    let (_, c) = verify_with(&jwks, &token, Some("web")).unwrap();
    let mut keys: Vec<_> = c.keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "aud", "exp", "iat", "iss", "jti", "nbf", "roles", "scope", "sub", "tenant"
        ]
    );
    assert_eq!(c["roles"], json!(["admin"]));
    assert_eq!(c["tenant"]["id"], 7);
}

#[tokio::test]
async fn audience_issuer_and_expiry_are_honoured() {
    let app = spawn_app(Config {
        audience: Some(Audience::One("default-api".into())),
        issuer: "http://idp.test".into(),
        token_ttl: 60,
        ..test_config()
    })
    .await;
    let jwks = app.jwks().await;
    let (_, c) = verify_with(&jwks, &app.token(json!({})).await, Some("default-api")).unwrap();
    assert_eq!(c["iss"], "http://idp.test");
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 60);

    let wrong_aud = app.token(json!({"aud": "other"})).await;
    let err = verify_with(&jwks, &wrong_aud, Some("default-api")).unwrap_err();
    assert_eq!(
        *err.kind(),
        jsonwebtoken::errors::ErrorKind::InvalidAudience
    );

    let (status, body) = app.mint_json(json!({"expires_in": -60})).await;
    assert_eq!(status, 200);
    assert_eq!(body["expires_in"], -60);
    let err = verify_with(&jwks, body["access_token"].as_str().unwrap(), None).unwrap_err();
    assert_eq!(
        *err.kind(),
        jsonwebtoken::errors::ErrorKind::ExpiredSignature
    );

    let (_, c) = verify_with(
        &jwks,
        &app.token(json!({"iss": "https://other"})).await,
        None,
    )
    .unwrap();
    assert_eq!(c["iss"], "https://other");
}

#[tokio::test]
async fn query_string_empty_body_and_curl_style_bodies_mint() {
    let app = spawn_app(personas_config()).await;
    let cases: Vec<(&str, reqwest::RequestBuilder, Value)> = vec![
        (
            "empty body",
            app.client.post(app.url("/token")),
            json!({"sub": "user_default"}),
        ),
        (
            "query string",
            app.client
                .post(app.url("/token?sub=user_q&org_id=org_q&expires_in=120&aud=a&aud=b")),
            json!({"sub": "user_q", "o": {"id": "org_q"}, "aud": ["a", "b"]}),
        ),
        (
            "query string with claims JSON",
            app.client
                .post(app.url("/token?user=alice&claims=%7B%22x%22%3A1%7D")),
            json!({"sub": "user_alice", "x": 1}),
        ),
        (
            "JSON labelled as a form (curl -d)",
            app.client
                .post(app.url("/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(r#"{"user":"bob"}"#),
            json!({"sub": "user_bob"}),
        ),
        (
            "form without grant_type",
            app.client
                .post(app.url("/token"))
                .form(&[("sub", "user_f"), ("preset", "plain")]),
            json!({"sub": "user_f"}),
        ),
        (
            "JSON body overrides query",
            app.client
                .post(app.url("/token?sub=from_query&org_id=o1"))
                .json(&json!({"sub": "from_body"})),
            json!({"sub": "from_body", "o": {"id": "o1"}}),
        ),
        (
            "no content type",
            app.client.post(app.url("/token")).body(r#"{"sub":"raw"}"#),
            json!({"sub": "raw"}),
        ),
    ];
    for (name, request, expected) in cases {
        let res = request.send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "case {name}: {body}");
        let (_, claims) = app
            .verify(body["access_token"].as_str().unwrap())
            .await
            .unwrap();
        for (k, v) in expected.as_object().unwrap() {
            assert_eq!(&claims[k], v, "case {name}: claim {k} in {claims:?}");
        }
    }
}

#[tokio::test]
async fn every_token_is_unique() {
    let app = spawn_app(test_config()).await;
    let mut jtis = std::collections::HashSet::new();
    let mut sids = std::collections::HashSet::new();
    for _ in 0..20 {
        let (_, c) = app.verify(&app.token(json!({})).await).await.unwrap();
        assert!(jtis.insert(c["jti"].as_str().unwrap().to_string()));
        assert!(sids.insert(c["sid"].as_str().unwrap().to_string()));
    }
}

#[tokio::test]
async fn bad_input_gets_rfc6749_errors() {
    let app = spawn_app(personas_config()).await;
    let json_ct = "application/json";
    // (case, content type, body, expected status, expected text in error_description)
    type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: &[Case] = &[
        (
            "malformed JSON",
            Some(json_ct),
            br#"{"sub":"#.to_vec(),
            400,
            "not valid JSON",
        ),
        (
            "JSON array",
            Some(json_ct),
            b"[1,2]".to_vec(),
            400,
            "must be a JSON object, got an array",
        ),
        (
            "JSON string",
            Some(json_ct),
            br#""x""#.to_vec(),
            400,
            "must be a JSON object, got a string",
        ),
        (
            "unknown field",
            Some(json_ct),
            br#"{"subject":"x"}"#.to_vec(),
            400,
            "subject: unknown field `subject`",
        ),
        (
            "unknown preset",
            Some(json_ct),
            br#"{"preset":"okta"}"#.to_vec(),
            400,
            "preset: unknown profile \"okta\"; the profiles are: clerk, plain, auth0",
        ),
        (
            "expires_in string",
            Some(json_ct),
            br#"{"expires_in":"soon"}"#.to_vec(),
            400,
            "expires_in: invalid type: string \"soon\", expected an integer",
        ),
        (
            "expires_in float",
            Some(json_ct),
            br#"{"expires_in":1.5}"#.to_vec(),
            400,
            "expires_in: 1.5 is not a whole number of seconds",
        ),
        (
            "expires_in overflow",
            Some(json_ct),
            br#"{"expires_in":9223372036854775807}"#.to_vec(),
            400,
            "expires_in: 9223372036854775807 is out of range",
        ),
        (
            "claims not an object",
            Some(json_ct),
            br#"{"claims":[1]}"#.to_vec(),
            400,
            "claims: invalid type: sequence, expected a JSON object",
        ),
        (
            "aud number",
            Some(json_ct),
            br#"{"aud":5}"#.to_vec(),
            400,
            "aud: invalid type: integer `5`, expected a string or an array of strings",
        ),
        (
            "aud array of numbers",
            Some(json_ct),
            br#"{"aud":[1]}"#.to_vec(),
            400,
            "aud[0]: invalid type: integer `1`, expected a string",
        ),
        (
            "sub number",
            Some(json_ct),
            br#"{"sub":5}"#.to_vec(),
            400,
            "sub: invalid type: integer `5`, expected a string",
        ),
        (
            "unknown user",
            Some(json_ct),
            br#"{"user":"mallory"}"#.to_vec(),
            400,
            r#"user: unknown user "mallory"; known users: alice, bob"#,
        ),
        (
            "query claims not JSON",
            Some("application/x-www-form-urlencoded"),
            b"claims=%7Bx".to_vec(),
            400,
            "claims: must be a JSON object",
        ),
        (
            "text/plain",
            Some("text/plain"),
            b"sub=x".to_vec(),
            415,
            "content type \"text/plain\" is not supported",
        ),
        (
            "xml",
            Some("application/xml"),
            b"<x/>".to_vec(),
            415,
            "application/json",
        ),
        (
            "oversized",
            Some(json_ct),
            vec![b' '; 70 * 1024],
            413,
            "larger than the limit of 65536 bytes",
        ),
    ];
    for (name, content_type, body, status, expected) in cases {
        let mut req = app.client.post(app.url("/token")).body(body.clone());
        if let Some(ct) = content_type {
            req = req.header("content-type", *ct);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), *status, "case {name}");
        assert_eq!(
            res.headers()["content-type"],
            "application/json",
            "case {name}"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "case {name}: {body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description.contains(expected),
            "case {name}: {description:?} should contain {expected:?}"
        );
    }
}

#[tokio::test]
async fn client_credentials_grant_mints_for_the_client() {
    let app = spawn_app(test_config()).await;
    let res = app
        .client
        .post(app.url("/token"))
        .basic_auth("svc-a", Some("whatever"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "read write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "read write");
    let (_, c) = app
        .verify(body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(c["sub"], "svc-a");
    assert_eq!(c["client_id"], "svc-a");
    assert_eq!(c["scope"], "read write");

    let res = app
        .client
        .post(app.url("/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    let res = app
        .client
        .post(app.url("/token"))
        .form(&[("grant_type", "magic")])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type", "{body}");
}
