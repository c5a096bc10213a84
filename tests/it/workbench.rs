//! The workbench route: content negotiation (HTML for browsers, the JSON
//! index otherwise), the strict Content-Security-Policy and a page with no
//! inline script and no external reference, the embedded assets, escaping,
//! the feature flags checked against the router, the read-only persona
//! listing, and the built-in `workbench` client over HTTP.

use jsonwebtoken::jwk::JwkSet;
use mock_idp::config::Config;
use mock_idp::http::routes::workbench::{self, features};
use serde_json::{Value, json};

use crate::support::jwt::verify_with;
use crate::support::oauth::*;
use crate::support::{Idp, TestApp, spawn_app, test_config};

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                              image/webp,*/*;q=0.8";

async fn get(app: &TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url(path));
    if let Some(accept) = accept {
        req = req.header("accept", accept);
    }
    req.send().await.unwrap()
}

async fn page(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, String) {
    let res = get(app, path, Some(BROWSER_ACCEPT)).await;
    assert_eq!(res.status(), 200, "{path}");
    let headers = res.headers().clone();
    (headers, res.text().await.unwrap())
}

/// Every value of `attr="..."` in `html`.
fn attributes<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// The JSON of the page's `<script type="application/json">` block.
fn page_data(html: &str) -> Value {
    let start = html
        .find("<script type=\"application/json\" id=\"wb-data\">")
        .unwrap();
    let rest = &html[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn browsers_get_the_page_everyone_else_the_json_index() {
    let app = spawn_app(open_config()).await;
    let cases: &[(&str, Option<&str>, bool)] = &[
        ("/", Some(BROWSER_ACCEPT), true),
        ("/", Some("text/html"), true),
        ("/", None, false),
        ("/", Some("*/*"), false),
        ("/", Some("application/json"), false),
        ("/", Some("application/json, text/html;q=0.9"), false),
        ("/tenant-a/", Some(BROWSER_ACCEPT), true),
        ("/tenant-a/", Some("application/json"), false),
    ];
    for (path, accept, html) in cases {
        let res = get(&app, path, *accept).await;
        assert_eq!(res.status(), 200, "{path} {accept:?}");
        let h = res.headers().clone();
        let vary: Vec<_> = h
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(
            vary.iter().any(|v| v.eq_ignore_ascii_case("accept")),
            "{path}: {vary:?}"
        );
        assert_eq!(h["cache-control"], "no-cache", "{path}");
        let body = res.text().await.unwrap();
        if *html {
            assert_eq!(
                h["content-type"], "text/html; charset=utf-8",
                "{path} {accept:?}"
            );
            assert!(body.starts_with("<!doctype html>"), "{path} {accept:?}");
        } else {
            assert_eq!(h["content-type"], "application/json", "{path} {accept:?}");
            assert!(h.get("content-security-policy").is_none(), "{path}");
            serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
        }
    }
    // An issuer that cannot exist is the usual JSON 404, whatever the Accept.
    let res = get(&app, "/token/", Some(BROWSER_ACCEPT)).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("reserved"),
        "{body}"
    );
}

#[tokio::test]
async fn the_json_index_lists_every_issuer_with_its_endpoint_urls() {
    let app = spawn_app(open_config()).await;
    // Create a dynamic issuer first, so the root index lists two.
    assert_eq!(get(&app, "/tenant-a/", None).await.status(), 200);
    let index: Value = get(&app, "/", None).await.json().await.unwrap();
    let issuers: Value = app.get_json("/issuers").await;
    let list = index["issuers"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{index}");
    assert_eq!(index["dynamic_issuers"], true);
    assert_eq!(index["workbench"], app.url("/"));
    for (entry, listed) in list.iter().zip(issuers["issuers"].as_array().unwrap()) {
        // Everything of GET /issuers, plus the endpoint URLs of discovery.
        for (key, value) in listed.as_object().unwrap() {
            assert_eq!(&entry[key], value, "{key} of {entry}");
        }
        let mount = if entry["name"] == "" {
            String::new()
        } else {
            format!("/{}", entry["name"].as_str().unwrap())
        };
        let discovery: Value = app.get_json(entry["discovery"].as_str().unwrap()).await;
        for key in [
            "token_endpoint",
            "jwks_uri",
            "authorization_endpoint",
            "userinfo_endpoint",
            "end_session_endpoint",
        ] {
            assert_eq!(entry[key], discovery[key], "{key} of {entry}");
        }
        assert_eq!(entry["workbench"], app.url(&format!("{mount}/")));
        assert_eq!(entry["token_endpoint"], app.url(&format!("{mount}/token")));
    }
    assert_eq!(list[0]["name"], "");
    assert_eq!(list[1]["name"], "tenant-a");
    // <mount>/ of a named issuer: its entry alone.
    let one: Value = get(&app, "/tenant-a/", Some("application/json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one, list[1]);
    // The listed JWKS serves the key that signs this issuer's tokens.
    let token = app.token_at("/tenant-a/token", json!({"sub": "s"})).await;
    let jwks: JwkSet = app.get_as(one["jwks_uri"].as_str().unwrap()).await;
    let (_, claims) = verify_with(&jwks, &token, None).unwrap();
    assert_eq!(claims["iss"], app.url("/tenant-a"));
}

#[tokio::test]
async fn the_page_has_a_strict_csp_no_inline_script_and_no_external_reference() {
    let app = spawn_app(open_config()).await;
    for path in ["/", "/tenant-a/"] {
        let (h, html) = page(&app, path).await;
        let csp = h["content-security-policy"].to_str().unwrap();
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        for want in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(
                directives.contains(&want),
                "{path}: {want} missing from {csp}"
            );
        }
        for banned in ["unsafe-inline", "unsafe-eval", "http:", "https:", "*"] {
            assert!(!csp.contains(banned), "{path}: {banned} in {csp}");
        }
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-content-type-options"], "nosniff");

        // Scripts: the one asset file, and the inert JSON data block.
        let scripts: Vec<&str> = html
            .match_indices("<script")
            .map(|(i, _)| &html[i..i + html[i..].find('>').unwrap()])
            .collect();
        assert_eq!(scripts.len(), 2, "{scripts:?}");
        assert!(
            scripts[0].contains(&format!(
                "src=\"/_workbench/app.js?v={:016x}\"",
                workbench::ASSET_VERSION
            )),
            "{scripts:?}"
        );
        assert!(
            scripts[1].contains("type=\"application/json\""),
            "{scripts:?}"
        );
        assert!(
            !html.contains(" style=\"") && !html.contains("<style"),
            "{path}: inline style"
        );
        assert!(
            !html.contains(" onclick=") && !html.contains(" onload="),
            "{path}: inline handler"
        );
        // Every reference stays on this origin (the favicon is a data: URL).
        for attr in ["src", "href", "action"] {
            for value in attributes(&html, attr) {
                assert!(
                    value.starts_with('/')
                        || value.starts_with('#')
                        || value.starts_with("data:image/svg+xml,"),
                    "{path}: {attr}={value:?} leaves the origin"
                );
            }
        }
        assert!(!html.contains("{{"), "{path}: an unfilled placeholder");
    }
}

#[tokio::test]
async fn the_page_renders_issuers_endpoints_and_personas_without_javascript() {
    let app = spawn_app(open_config()).await;
    get(&app, "/tenant-a/", None).await;
    let (_, html) = page(&app, "/").await;
    assert!(html.contains("<h1>Root issuer</h1>"));
    assert!(
        html.contains("<a href=\"/\" aria-current=\"page\">Root issuer</a>"),
        "current issuer"
    );
    assert!(html.contains("<a href=\"/tenant-a/\">tenant-a</a>"));
    for url in [
        "/token",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/authorize",
        "/userinfo",
    ] {
        assert!(
            html.contains(&format!(">{}</code>", app.url(url))),
            "{url} not listed"
        );
    }
    assert!(html.contains("<form method=\"post\" action=\"/token\" id=\"persona-form\">"));
    assert!(html.contains("<button type=\"submit\" class=\"persona\" name=\"user\" value=\"alice\">Mint for alice</button>"));
    assert!(html.contains("user_alice · Alice · alice@example.com · admin acme"));
    assert!(
        !html.contains("hunter2"),
        "a persona's password is never on the page"
    );

    let data = page_data(&html);
    assert_eq!(data["mount"], "");
    assert_eq!(data["iss"], "https://issuer.local");
    assert_eq!(data["page"], app.url("/"));
    assert_eq!(data["paths"]["token"], "/token");
    assert_eq!(data["urls"]["token"], app.url("/token"));
    assert_eq!(data["personas"], json!(["alice", "bob"]));

    let (_, html) = page(&app, "/tenant-a/").await;
    assert!(html.contains("<h1>Issuer tenant-a</h1>"));
    assert!(html.contains("<a href=\"/tenant-a/\" aria-current=\"page\">tenant-a</a>"));
    assert!(html.contains(&format!(">{}</code>", app.url("/tenant-a/token"))));
    let data = page_data(&html);
    assert_eq!(data["iss"], app.url("/tenant-a"));
    assert_eq!(data["paths"]["jwks"], "/tenant-a/.well-known/jwks.json");
    assert_eq!(data["paths"]["authorize"], "/tenant-a/authorize");
}

#[tokio::test]
async fn hostile_persona_names_and_claims_are_escaped() {
    let evil = "\"><script>alert(1)</script>";
    let users = personas(&format!(
        "'{evil}': {{claims: {{name: \"</script><img src=x onerror=alert(2)>\", email: \"a&b@x\"}}}}\n"
    ));
    let app = spawn_app(Config {
        users,
        ..test_config()
    })
    .await;
    let (_, html) = page(&app, "/").await;
    assert!(!html.contains("<script>alert(1)"), "persona name unescaped");
    assert!(!html.contains("<img src=x"), "claim unescaped");
    assert!(html.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "only the two script elements close"
    );
    assert_eq!(page_data(&html)["personas"], json!([evil]));
}

#[tokio::test]
async fn assets_are_embedded_versioned_and_typed() {
    let app = spawn_app(test_config()).await;
    for (path, content_type, marker) in [
        (
            "/_workbench/app.js",
            "text/javascript; charset=utf-8",
            "'use strict';",
        ),
        (
            "/_workbench/app.css",
            "text/css; charset=utf-8",
            "prefers-color-scheme: dark",
        ),
    ] {
        let res = get(&app, path, None).await;
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers().clone();
        assert_eq!(h["content-type"], content_type);
        assert_eq!(h["cache-control"], workbench::ASSET_CACHE_CONTROL);
        assert_eq!(h["etag"], format!("\"{:016x}\"", workbench::ASSET_VERSION));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(res.text().await.unwrap().contains(marker), "{path}");
    }
    let res = get(&app, "/_workbench/secret.js", None).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("no workbench asset"),
        "{body}"
    );
}

/// The page only calls endpoints its feature flags declare (a 404 would be a
/// console error): each flag must match what the router answers.
#[tokio::test]
async fn feature_flags_match_the_router() {
    let app = spawn_app(open_config()).await;
    for (path, declared) in [
        ("/_admin/users", features::USERS),
        ("/tenant-a/_admin/users", features::USERS),
        ("/_admin/requests", features::LEDGER),
        ("/token/variants", features::VARIANTS),
        ("/tenant-a/token/variants", features::VARIANTS),
    ] {
        let status = get(&app, path, None).await.status().as_u16();
        assert_eq!(
            status != 404,
            declared,
            "GET {path} answered {status}; flip the flag in src/http/routes/workbench.rs"
        );
    }
    for (field, value, declared) in [
        ("alg", "RS256", features::ALG),
        ("typ", "JWT", features::TYP),
    ] {
        let res = app
            .client
            .post(app.url("/token"))
            .json(&json!({ field: value }))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        let unknown = status == 400 && body.contains("unknown field");
        assert_eq!(
            !unknown, declared,
            "POST /token {{{field:?}: {value:?}}}: {status} {body}"
        );
    }
    let (_, html) = page(&app, "/").await;
    let data = page_data(&html);
    assert_eq!(
        data["features"],
        json!({"users": features::USERS, "ledger": features::LEDGER, "variants": features::VARIANTS,
               "alg": features::ALG, "typ": features::TYP})
    );
}

#[tokio::test]
async fn admin_users_lists_personas_without_passwords() {
    let app = spawn_app(open_config()).await;
    let res = get(&app, "/_admin/users", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let text = res.text().await.unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    // The test controls' shape (the page reads it): the users file's, a
    // password shown only as set.
    assert_eq!(
        body,
        json!({
            "alice": {"sub": "user_alice", "org_id": "org_1", "org_role": "admin", "org_slug": "acme",
                      "claims": {"email": "alice@example.com", "name": "Alice"}},
            "bob": {"sub": "user_bob", "password": "<set>", "claims": {"email": "bob@example.com", "name": "Bob"}},
        })
    );
    // A named issuer lists its own personas (inherited here).
    let named: Value = app.get_json("/tenant-a/_admin/users").await;
    assert_eq!(named, body);
}

/// The built-in client over HTTP: the page URL comes from the request's base
/// (or PUBLIC_URL), registered clients stay strict for everyone else, and
/// the tokens verify against the served JWKS.
#[tokio::test]
async fn the_builtin_workbench_client_returns_only_to_the_page() {
    let app = spawn_app(strict_config()).await;
    let (verifier, challenge) = pkce_pair();
    let page_url = app.url("/");
    let params = |redirect: &str, client: &str| -> Vec<(String, String)> {
        [
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", redirect),
            ("scope", "openid"),
            ("state", "s"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    // Without login_hint: the login page, naming the workbench.
    let res = app
        .client
        .get(app.url("/authorize"))
        .query(&params(&page_url, "workbench"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Sign in to the mock-idp workbench")
    );
    // Another redirect URI, or another unknown client: the error page.
    for (redirect, client, want) in [
        (
            "http://evil.test/",
            "workbench",
            "is not registered for client \"workbench\"",
        ),
        (page_url.as_str(), "mallory", "unknown client \"mallory\""),
    ] {
        let res = app
            .client
            .get(app.url("/authorize"))
            .query(&params(redirect, client))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{client} -> {redirect}");
        let text = res.text().await.unwrap();
        assert!(
            text.contains(&want.replace('"', "&quot;")),
            "{client} -> {redirect}: {text}"
        );
    }
    // With login_hint: straight back to the page with a code, exchanged with the verifier.
    let mut hinted = params(&page_url, "workbench");
    hinted.push(("login_hint".into(), "alice".into()));
    let res = app
        .client
        .get(app.url("/authorize"))
        .query(&hinted)
        .send()
        .await
        .unwrap();
    let (back, q) = location(&res);
    assert_eq!(back, page_url);
    let r = token(
        &app,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", &page_url),
            ("client_id", "workbench"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let jwks = app.jwks().await;
    let (_, claims) = verify_with(&jwks, &r.str("access_token"), None).unwrap();
    assert_eq!(
        (claims["sub"].as_str(), claims["azp"].as_str()),
        (Some("user_alice"), Some("workbench"))
    );
    let (_, id) = verify_with(&jwks, &r.str("id_token"), Some("workbench")).unwrap();
    assert_eq!(id["sub"], "user_alice");

    // Behind PUBLIC_URL the page, and so the redirect URI, is the public one.
    let app = spawn_app(Config {
        public_url: Some("https://idp.example".into()),
        ..strict_config()
    })
    .await;
    let res = app
        .client
        .get(app.url("/tenant-a/authorize"))
        .query(&{
            let mut p = params("https://idp.example/tenant-a/", "workbench");
            p.push(("login_hint".into(), "alice".into()));
            p
        })
        .send()
        .await
        .unwrap();
    let (back, _) = location(&res);
    assert_eq!(back, "https://idp.example/tenant-a/");
    let (_, html) = page(&app, "/tenant-a/").await;
    assert_eq!(page_data(&html)["page"], "https://idp.example/tenant-a/");
}
