//! The authorization code flow: `/authorize` (instant with `login_hint`, or
//! through the login page), PKCE S256 and plain, code replay, redirect URI
//! and client binding, RFC 6749 §4.1.2.1 error handling (page vs redirect),
//! escaping, federation between replicas, and logout.

use mock_idp::config::Config;
use serde_json::json;

use crate::support::jwt::{self, peek, verify_with};
use crate::support::oauth::*;
use crate::support::{Idp, TestApp, spawn_app, test_config};

#[tokio::test]
async fn code_flow_with_s256_pkce_nonce_and_state() {
    let app = spawn_app(strict_config()).await;
    let jwks = app.jwks().await;
    let (verifier, challenge) = pkce_pair();
    let res = authorize(
        &app,
        &[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", WEB_CB),
            ("scope", "openid email offline_access"),
            ("state", "st&te=1"),
            ("nonce", "n-0S6"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("login_hint", "alice"),
        ],
    )
    .await;
    assert_eq!(res.status(), 302);
    let (base, q) = location(&res);
    assert_eq!(base, WEB_CB);
    assert_eq!(q["state"], "st&te=1");
    assert_eq!(q["iss"], "https://issuer.local", "RFC 9207 iss");
    let code = q["code"].clone();
    assert_eq!(jwt::header(&code).typ.as_deref(), Some("mock-idp-code+jwt"));
    let peeked = peek(&code);
    assert_eq!(
        peeked["exp"].as_i64().unwrap() - peeked["iat"].as_i64().unwrap(),
        60,
        "codes live 60 s"
    );

    let redeem = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", WEB_CB),
        ("code_verifier", verifier.as_str()),
    ];
    let r = token(&app, Some(&basic("web", "s3cret")), &redeem).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "openid email offline_access");
    let access = r.str("access_token");
    let (_, c) = verify_with(&jwks, &access, Some("api")).unwrap();
    assert_eq!(c["sub"], "user_alice");
    assert_eq!(c["tenant"], "acme", "client default claims");
    assert_eq!(c["email"], "alice@example.com");
    assert_eq!(c["azp"], "web");

    let (_, id) = verify_with(&jwks, &r.str("id_token"), Some("web")).unwrap();
    assert_eq!(id["iss"], "https://issuer.local");
    assert_eq!(id["sub"], "user_alice");
    assert_eq!(id["aud"], "web");
    assert_eq!(id["nonce"], "n-0S6");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["at_hash"], jwt::at_hash(&access));
    let auth_time = id["auth_time"].as_i64().unwrap();
    assert!(auth_time <= id["iat"].as_i64().unwrap());
    assert!(r.body["refresh_token"].is_string());

    let metrics = app.get_text("/metrics").await;
    assert!(
        metrics.contains(
            "mock_idp_tokens_issued_total{issuer=\"\",grant=\"authorization_code\",preset=\"clerk\"} 1"
        ),
        "the code grant is counted: {metrics}"
    );

    // Replay of the same code.
    let replay = token(&app, Some(&basic("web", "s3cret")), &redeem).await;
    assert_eq!(
        (replay.status, replay.error()),
        (400, "invalid_grant"),
        "{}",
        replay.body
    );
    assert!(
        replay.description().contains("already used"),
        "{}",
        replay.body
    );

    // userinfo with the access token.
    let (status, info) = app.userinfo("/userinfo", &access).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["sub"], "user_alice");
    assert_eq!(info["email"], "alice@example.com");
}

#[tokio::test]
async fn public_client_with_plain_pkce_and_default_redirect_uri() {
    let app = spawn_app(strict_config()).await;
    let verifier = "plain-verifier-plain-verifier-plain-verifier-0123";
    // redirect_uri omitted: the single registered one is used, and the
    // token request need not repeat it (RFC 6749 §4.1.3).
    let code = code_for(
        &app,
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("code_challenge", verifier),
            ("code_challenge_method", "plain"),
            ("login_hint", "alice"),
        ],
    )
    .await;
    let r = token(
        &app,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("code", &code),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.get("id_token").is_none(),
        "no openid scope: {}",
        r.body
    );
    // The public client refreshes with client_id only.
    let rt = r.str("refresh_token");
    let r = token(
        &app,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "spa"),
            ("refresh_token", &rt),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn token_exchange_errors_for_codes() {
    // The key is persisted so that the test can forge an expired code with it.
    let keys = tempfile::tempdir().unwrap();
    let app = spawn_app(Config {
        persist_keys_dir: Some(keys.path().to_path_buf()),
        ..strict_config()
    })
    .await;
    let (verifier, challenge) = pkce_pair();
    let web = basic("web", "s3cret");
    let with_pkce = [
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", WEB_CB),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("login_hint", "alice"),
    ];
    let without_pkce = [
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", WEB_CB),
        ("login_hint", "alice"),
    ];
    // A real code, two minutes older: signed again with the server's key.
    let expired = {
        let code = code_for(&app, &without_pkce).await;
        let private = std::fs::read_to_string(keys.path().join("private.pem")).unwrap();
        jwt::resign(&code, &private, |claims| {
            for time in ["iat", "nbf", "exp", "auth_time"] {
                if let Some(t) = claims.get(time).and_then(|t| t.as_i64()) {
                    claims.insert(time.into(), json!(t - 120));
                }
            }
        })
    };
    assert!(
        peek(&expired)["exp"].as_i64().unwrap() < crate::support::unix_now() as i64,
        "the forged code is expired"
    );
    let (other_verifier, _) = pkce_pair();

    // (case, authorize params, Authorization, extra token fields, text in the description)
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        Option<String>,
        Vec<(&'a str, &'a str)>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "wrong verifier",
            &with_pkce,
            Some(web.clone()),
            vec![("redirect_uri", WEB_CB), ("code_verifier", &other_verifier)],
            "does not match",
        ),
        (
            "missing verifier",
            &with_pkce,
            Some(web.clone()),
            vec![("redirect_uri", WEB_CB)],
            "code_verifier: is required",
        ),
        (
            "verifier without challenge",
            &without_pkce,
            Some(web.clone()),
            vec![("redirect_uri", WEB_CB), ("code_verifier", &verifier)],
            "no code_challenge",
        ),
        (
            "redirect_uri mismatch",
            &with_pkce,
            Some(web.clone()),
            vec![
                ("redirect_uri", "http://app.test/other"),
                ("code_verifier", &verifier),
            ],
            "redirect_uri",
        ),
        (
            "redirect_uri missing",
            &with_pkce,
            Some(web.clone()),
            vec![("code_verifier", &verifier)],
            "redirect_uri",
        ),
        (
            "another client",
            &with_pkce,
            Some(basic("cli", "cli-secret")),
            vec![("redirect_uri", WEB_CB), ("code_verifier", &verifier)],
            "another client",
        ),
    ];
    for (case, params, auth, extra, text) in &cases {
        let code = code_for(&app, params).await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ];
        form.extend(extra.iter().copied());
        let r = token(&app, auth.as_deref(), &form).await;
        assert_eq!(
            (r.status, r.error()),
            (400, "invalid_grant"),
            "case {case:?}: {}",
            r.body
        );
        assert!(
            r.description().contains(text),
            "case {case:?}: expected {text:?}: {}",
            r.body
        );
    }
    let r = token(
        &app,
        Some(&web),
        &[
            ("grant_type", "authorization_code"),
            ("code", &expired),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.error()),
        (400, "invalid_grant"),
        "expired code: {}",
        r.body
    );
    assert!(
        r.description().contains("expired"),
        "expired code: {}",
        r.body
    );
}

#[tokio::test]
async fn authorize_errors_page_or_redirect() {
    let app = spawn_app(strict_config()).await;
    let (_, challenge) = pkce_pair();
    // (case, params, expected: Err(text on the page) | Ok((error, text in error_description)))
    type Expect<'a> = Result<(&'a str, &'a str), &'a str>;
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Expect<'a>);
    let cases: Vec<Case> = vec![
        (
            "no client_id",
            vec![("response_type", "code"), ("redirect_uri", WEB_CB)],
            Err("client_id: is required"),
        ),
        (
            "unknown client",
            vec![
                ("response_type", "code"),
                ("client_id", "ghost"),
                ("redirect_uri", WEB_CB),
            ],
            Err("unknown client"),
        ),
        (
            "unregistered redirect_uri",
            vec![
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", "http://evil.test/cb"),
                ("state", "s"),
            ],
            Err("is not registered"),
        ),
        (
            "redirect_uri omitted, two registered",
            vec![("response_type", "code"), ("client_id", "web")],
            Err("redirect_uri: is required"),
        ),
        (
            "bad response_type",
            vec![
                ("response_type", "token"),
                ("client_id", "web"),
                ("redirect_uri", WEB_CB),
                ("state", "s"),
            ],
            Ok(("unsupported_response_type", "token")),
        ),
        (
            "no response_type",
            vec![
                ("client_id", "web"),
                ("redirect_uri", WEB_CB),
                ("state", "s"),
            ],
            Ok(("invalid_request", "response_type")),
        ),
        (
            "public client without PKCE",
            vec![
                ("response_type", "code"),
                ("client_id", "spa"),
                ("redirect_uri", SPA_CB),
                ("state", "s"),
            ],
            Ok(("invalid_request", "code_challenge")),
        ),
        (
            "unknown PKCE method",
            vec![
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", WEB_CB),
                ("state", "s"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S512"),
            ],
            Ok(("invalid_request", "S512")),
        ),
        (
            "malformed challenge",
            vec![
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", WEB_CB),
                ("state", "s"),
                ("code_challenge", "short"),
            ],
            Ok(("invalid_request", "code_challenge")),
        ),
        (
            "grant not allowed",
            vec![
                ("response_type", "code"),
                ("client_id", "noref"),
                ("redirect_uri", "http://noref.test/cb"),
                ("state", "s"),
            ],
            Ok(("unauthorized_client", "authorization_code")),
        ),
        (
            "fragment response_mode",
            vec![
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", WEB_CB),
                ("state", "s"),
                ("response_mode", "fragment"),
            ],
            Ok(("invalid_request", "response_mode")),
        ),
        (
            "prompt=none without hint",
            vec![
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", WEB_CB),
                ("state", "s"),
                ("prompt", "none"),
            ],
            Ok(("login_required", "prompt=none")),
        ),
        (
            "prompt=none, password persona",
            vec![
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", WEB_CB),
                ("state", "s"),
                ("prompt", "none"),
                ("login_hint", "bob"),
            ],
            Ok(("login_required", "prompt=none")),
        ),
    ];
    for (case, params, expect) in &cases {
        let res = authorize(&app, params).await;
        match expect {
            Err(text) => {
                assert_eq!(res.status(), 400, "case {case:?}");
                assert!(
                    res.headers().get("location").is_none(),
                    "case {case:?}: must not redirect"
                );
                let html = res.text().await.unwrap();
                assert!(
                    html.contains(text),
                    "case {case:?}: page should say {text:?}: {html}"
                );
            }
            Ok((error, text)) => {
                assert_eq!(res.status(), 302, "case {case:?}");
                let (_, q) = location(&res);
                assert_eq!(q["error"], *error, "case {case:?}: {q:?}");
                assert!(
                    q["error_description"].contains(text),
                    "case {case:?}: {q:?}"
                );
                assert_eq!(q["state"], "s", "case {case:?}");
                assert_eq!(q["iss"], "https://issuer.local", "case {case:?}");
                assert!(!q.contains_key("code"), "case {case:?}");
            }
        }
    }

    // Open mode: any client, but the redirect URI must still be sane.
    let open = spawn_app(open_config()).await;
    for (case, uri) in [
        ("javascript: URI", "javascript:alert(1)"),
        ("relative URI", "/cb"),
        ("fragment", "http://a.test/cb#x"),
    ] {
        let res = authorize(
            &open,
            &[
                ("response_type", "code"),
                ("client_id", "any"),
                ("redirect_uri", uri),
            ],
        )
        .await;
        assert_eq!(res.status(), 400, "case {case:?}");
        assert!(res.headers().get("location").is_none(), "case {case:?}");
    }
}

#[tokio::test]
async fn login_page_lists_personas_and_escapes_input() {
    let app = spawn_app(strict_config()).await;
    let res = authorize(
        &app,
        &[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", WEB_CB),
            ("state", "\"><script>alert(1)</script>"),
            ("login_hint", "<img src=x onerror=alert(1)>"),
            ("nonce", "n'1"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let html = res.text().await.unwrap();
    for needle in [
        "<html lang=\"en\">",
        "Sign in to Web &lt;App&gt;",
        "Sign in as alice",
        "Sign in as bob",
        "password required",
        "alice@example.com",
        "<label for=\"username\">",
        "<label for=\"password\">",
        "<label for=\"claims\">",
        "action=\"/authorize/login\"",
        "value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"",
        "value=\"&lt;img src=x onerror=alert(1)&gt;\"",
        "value=\"n&#39;1\"",
    ] {
        assert!(
            html.contains(needle),
            "login page should contain {needle:?}:\n{html}"
        );
    }
    for raw in ["<script>alert", "<img src=x", "n'1"] {
        assert!(
            !html.contains(raw),
            "login page must not contain raw {raw:?}"
        );
    }
    assert!(
        !html.contains("<link") && !html.contains("<script"),
        "no external assets, no scripts"
    );
}

#[tokio::test]
async fn login_page_submit_persona_free_form_claims_and_errors() {
    let app = spawn_app(strict_config()).await;
    let jwks = app.jwks().await;
    let hidden = [
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", WEB_CB),
        ("scope", "openid"),
        ("state", "xyz"),
        ("nonce", "abc"),
    ];
    let submit = |extra: Vec<(&'static str, &'static str)>| {
        let mut form: Vec<(&str, &str)> = hidden.to_vec();
        form.extend(extra);
        let app = &app;
        async move {
            app.client
                .post(app.url("/authorize/login"))
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let exchange = |code: String| {
        let app = &app;
        async move {
            token(
                app,
                Some(&basic("web", "s3cret")),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", WEB_CB),
                ],
            )
            .await
        }
    };

    // A persona button, with extra claims typed in the box.
    let res = submit(vec![
        ("user", "alice"),
        ("claims", r#"{"roles": ["editor"]}"#),
        ("username", ""),
    ])
    .await;
    assert_eq!(res.status(), 303);
    let (base, q) = location(&res);
    assert_eq!(
        (base.as_str(), q["state"].as_str(), q["iss"].as_str()),
        (WEB_CB, "xyz", "https://issuer.local")
    );
    let r = exchange(q["code"].clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, c) = verify_with(&jwks, &r.str("access_token"), Some("api")).unwrap();
    assert_eq!(
        (c["sub"].as_str(), c["roles"].clone()),
        (Some("user_alice"), json!(["editor"]))
    );
    let (_, id) = verify_with(&jwks, &r.str("id_token"), Some("web")).unwrap();
    assert_eq!(id["nonce"], "abc");
    assert_eq!(id["roles"], json!(["editor"]));

    // Free-form user; a typed persona name picks the persona.
    let res = submit(vec![("username", "dave"), ("action", "login")]).await;
    let (_, q) = location(&res);
    let (_, c) = verify_with(
        &jwks,
        &exchange(q["code"].clone()).await.str("access_token"),
        Some("api"),
    )
    .unwrap();
    assert_eq!(c["sub"], "dave");
    let res = submit(vec![
        ("username", "bob"),
        ("password", "hunter2"),
        ("action", "login"),
    ])
    .await;
    let (_, q) = location(&res);
    let (_, c) = verify_with(
        &jwks,
        &exchange(q["code"].clone()).await.str("access_token"),
        Some("api"),
    )
    .unwrap();
    assert_eq!(c["sub"], "user_bob");

    // Cancel.
    let res = submit(vec![("action", "cancel")]).await;
    let (_, q) = location(&res);
    assert_eq!(
        (q["error"].as_str(), q["state"].as_str()),
        ("access_denied", "xyz")
    );

    // Errors re-render the page (400) with the message and the typed values, escaped.
    type PageCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<PageCase> = vec![
        (
            "bad claims JSON",
            vec![("user", "alice"), ("claims", "{<b>")],
            "claims: is not valid JSON",
        ),
        (
            "claims not an object",
            vec![("username", "dave"), ("claims", "[1]")],
            "claims: must be a JSON object",
        ),
        (
            "no user",
            vec![("username", " "), ("action", "login")],
            "username: enter a username",
        ),
        (
            "wrong password",
            vec![("user", "bob"), ("password", "nope")],
            "password: wrong password",
        ),
        (
            "unknown persona button",
            vec![("user", "mallory")],
            "is not a persona",
        ),
    ];
    for (case, extra, text) in cases {
        let res = submit(extra).await;
        assert_eq!(res.status(), 400, "case {case:?}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(text),
            "case {case:?}: page should say {text:?}"
        );
        assert!(html.contains("role=\"alert\""), "case {case:?}");
        assert!(
            !html.contains("{<b>"),
            "case {case:?}: typed claims must be escaped"
        );
    }

    // Tampered hidden fields are validated again: no redirect to an unregistered URI.
    let res = app
        .client
        .post(app.url("/authorize/login"))
        .form(&[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", "http://evil.test/"),
            ("user", "alice"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}

#[tokio::test]
async fn post_authorize_and_open_mode_any_client() {
    let app = spawn_app(test_config()).await;
    // No personas: login_hint is any name and skips the page; POST works like GET.
    let res = app
        .client
        .post(app.url("/authorize"))
        .form(&[
            ("response_type", "code"),
            ("client_id", "whatever"),
            ("redirect_uri", "http://localhost:3000/cb?x=1"),
            ("login_hint", "zoe"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (base, q) = location(&res);
    assert_eq!(base, "http://localhost:3000/cb");
    assert_eq!(q["x"], "1", "existing query kept");
    let r = token(
        &app,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "whatever"),
            ("code", &q["code"]),
            ("redirect_uri", "http://localhost:3000/cb?x=1"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, c) = app.verify(&r.str("access_token")).await.unwrap();
    assert_eq!(c["sub"], "zoe");
}

#[tokio::test]
async fn codes_and_refresh_tokens_work_across_federated_replicas() {
    let a = spawn_app(strict_config()).await;
    let b = spawn_app(strict_config()).await;
    // What federation does: each replica learns the other's public key.
    a.share_keys_with(&b);
    let web = basic("web", "s3cret");
    let (verifier, challenge) = pkce_pair();
    let params = [
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", WEB_CB),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("login_hint", "alice"),
    ];
    let code = code_for(&a, &params).await;
    let r = redeem(&b, &web, &code, &verifier).await;
    assert_eq!(r.status, 200, "code from A redeemed at B: {}", r.body);
    let again = redeem(&b, &web, &code, &verifier).await;
    assert_eq!(again.error(), "invalid_grant", "replay at B");
    // Documented caveat: one-time use is per replica, so A has not seen it.
    assert_eq!(
        redeem(&a, &web, &code, &verifier).await.status,
        200,
        "per-replica single use (documented)"
    );

    // The refresh token from B rotates at A; A's tokens verify with B's JWKS.
    let rt = r.str("refresh_token");
    let r = token(
        &a,
        Some(&web),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    verify_with(&b.jwks().await, &r.str("access_token"), Some("api")).unwrap();
    let (status, info) = b.userinfo("/userinfo", &r.str("access_token")).await;
    assert_eq!(status, 200, "userinfo at B for A's token: {info}");
    assert_eq!(info["sub"], "user_alice", "userinfo at B for A's token");
}

#[tokio::test]
async fn logout_redirects_only_to_registered_uris() {
    let app = spawn_app(strict_config()).await;
    let res = app.client.get(app.url("/logout")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Signed out"));

    let res = app
        .client
        .get(app.url("/logout"))
        .query(&[
            ("post_logout_redirect_uri", SPA_BYE),
            ("state", "s1"),
            ("client_id", "spa"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], format!("{SPA_BYE}?state=s1"));

    // A redirect URI of the client is fine too; the client comes from id_token_hint.
    let id_token = token(
        &app,
        Some(&basic("cli", "cli-secret")),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("scope", "openid"),
        ],
    )
    .await
    .str("id_token");
    let res = app
        .client
        .get(app.url("/logout"))
        .query(&[
            ("post_logout_redirect_uri", "http://127.0.0.1:9999/cb"),
            ("id_token_hint", &id_token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);

    for (case, uri, client) in [
        ("unregistered", "http://evil.test/", None),
        ("another client's", SPA_BYE, Some("web")),
        ("javascript:", "javascript:alert(1)", None),
    ] {
        let mut q = vec![("post_logout_redirect_uri", uri)];
        if let Some(c) = client {
            q.push(("client_id", c));
        }
        let res = app
            .client
            .get(app.url("/logout"))
            .query(&q)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "case {case:?}");
        assert!(res.headers().get("location").is_none(), "case {case:?}");
    }

    // Open mode: any http(s) URI.
    let open = spawn_app(test_config()).await;
    let res = open
        .client
        .get(open.url("/logout"))
        .query(&[("post_logout_redirect_uri", "http://localhost:3000/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "http://localhost:3000/");
}

async fn redeem(app: &TestApp, auth: &str, code: &str, verifier: &str) -> Reply {
    token(
        app,
        Some(auth),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", WEB_CB),
            ("code_verifier", verifier),
        ],
    )
    .await
}
