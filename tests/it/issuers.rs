//! Many issuers on one server: configured and dynamic issuers, their own
//! keys, discovery and personas, isolation (tokens, codes and refresh tokens
//! of one issuer never work at another), names, metrics, persistence per
//! issuer, and federation of a configured and a dynamic issuer across three
//! real processes. Tokens are verified with jsonwebtoken against the JWKS
//! each issuer serves.

use std::collections::BTreeMap;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use mock_idp::config::{Config, NamedIssuer};
use serde_json::{Value, json};

use crate::support::jwt::{kid, verify_with};
use crate::support::oauth::personas;
use crate::support::poll::eventually;
use crate::support::process::{Federation, mock_idp};
use crate::support::{Idp, spawn_app, test_config};

/// Root with persona alice; issuer `team-a` with its own audience, TTL and
/// persona carol; issuer `fixed` with a fixed `iss`.
fn config(dynamic: bool) -> Config {
    let mut issuers = BTreeMap::new();
    issuers.insert(
        "team-a".to_string(),
        NamedIssuer {
            audience: Some(mock_idp::claims::Audience::One("api-a".into())),
            token_ttl: Some(60),
            users: Some(personas(
                "carol: {sub: user_carol, claims: {email: c@a.test}}",
            )),
            ..Default::default()
        },
    );
    issuers.insert(
        "fixed".to_string(),
        NamedIssuer {
            issuer: Some("https://fixed.example".into()),
            ..Default::default()
        },
    );
    Config {
        users: personas("alice: {sub: user_alice}"),
        issuers,
        dynamic_issuers: dynamic,
        ..test_config()
    }
}

#[tokio::test]
async fn configured_issuers_have_their_own_settings_keys_and_discovery() {
    let app = spawn_app(config(false)).await;
    let t = app
        .token_at("/team-a/token", json!({"user": "carol"}))
        .await;
    let jwks: JwkSet = app.get_as("/team-a/jwks").await;
    let (header, claims) = verify_with(&jwks, &t, Some("api-a")).unwrap();
    assert_eq!(
        claims["iss"],
        app.url("/team-a"),
        "default iss is <base>/{{name}}"
    );
    assert_eq!(claims["sub"], "user_carol");
    assert_eq!(claims["email"], "c@a.test");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        60
    );
    // The same JWKS at the standard path; the root's and the other issuer's
    // JWKS do not know this key.
    let well_known: JwkSet = app.get_as("/team-a/.well-known/jwks.json").await;
    assert_eq!(well_known.keys.len(), 1);
    let kid = header.kid.unwrap();
    assert!(well_known.find(&kid).is_some());
    for other in ["/.well-known/jwks.json", "/fixed/jwks"] {
        let set: JwkSet = app.get_as(other).await;
        assert!(
            set.find(&kid).is_none(),
            "{other} must not hold team-a's key"
        );
    }
    // Personas are per issuer: alice is the root's only.
    let (status, err) = app
        .post_json("/team-a/token", json!({"user": "alice"}))
        .await;
    assert_eq!(status, 400);
    assert!(
        err["error_description"].as_str().unwrap().contains("carol"),
        "{err}"
    );
    // A fixed iss is used as is.
    let t = app.token_at("/fixed/token", json!({})).await;
    let jwks: JwkSet = app.get_as("/fixed/jwks").await;
    let (_, claims) = verify_with(&jwks, &t, None).unwrap();
    assert_eq!(claims["iss"], "https://fixed.example");

    // Discovery names only the issuer's own endpoints, and they work.
    let doc = app
        .get_json("/team-a/.well-known/openid-configuration")
        .await;
    assert_eq!(doc["issuer"], app.url("/team-a"));
    for (k, v) in doc.as_object().unwrap() {
        if let Some(url) = v.as_str().filter(|u| u.starts_with("http")) {
            assert!(
                url == app.url("/team-a") || url.starts_with(&app.url("/team-a/")),
                "{k}: {url}"
            );
        }
    }
    // The clerk profile's JWKS path (CONTRACT "Profiles"); /jwks is served too.
    assert_eq!(doc["jwks_uri"], app.url("/team-a/.well-known/jwks.json"));
    assert_eq!(doc["end_session_endpoint"], app.url("/team-a/endsession"));
    let via_discovery: JwkSet = app.get_as(doc["jwks_uri"].as_str().unwrap()).await;
    assert!(via_discovery.find(&kid).is_some());
    let meta = app
        .get_json("/team-a/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(meta["token_endpoint"], app.url("/team-a/token"));
    // The root is exactly as before.
    let root = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(root["issuer"], "https://issuer.local");
    assert_eq!(root["jwks_uri"], app.url("/.well-known/jwks.json"));
    assert_eq!(root["end_session_endpoint"], app.url("/logout"));
    let res = app.client.get(app.url("/jwks")).send().await.unwrap();
    assert_eq!(res.status(), 200, "the root also answers /jwks");
}

#[tokio::test]
async fn dynamic_issuers_are_created_on_first_use_and_names_are_checked() {
    let app = spawn_app(config(true)).await;
    let t = app.token_at("/brand-new/token", json!({"sub": "u1"})).await;
    let jwks: JwkSet = app.get_as("/brand-new/jwks").await;
    let (_, claims) = verify_with(&jwks, &t, None).unwrap();
    assert_eq!(claims["iss"], app.url("/brand-new"));
    assert_eq!(claims["sub"], "u1");
    // A dynamic issuer starts from the root's settings: alice exists there.
    app.token_at("/brand-new/token", json!({"user": "alice"}))
        .await;

    let list = app.get_json("/issuers").await;
    let names: Vec<&str> = list["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["", "brand-new", "fixed", "team-a"], "{list}");
    let entry = &list["issuers"][1];
    assert_eq!(entry["iss"], app.url("/brand-new"));
    assert_eq!(entry["mount"], "/brand-new");
    assert_eq!(
        entry["jwks_uri"],
        app.url("/brand-new/.well-known/jwks.json")
    );
    assert_eq!(
        entry["discovery"],
        app.url("/brand-new/.well-known/openid-configuration")
    );
    assert_eq!(entry["kids"].as_array().unwrap().len(), 1);
    assert_eq!(list["issuers"][0]["mount"], "/");

    let cases = [
        ("/token/jwks", "reserved"),
        ("/health/jwks", "reserved"),
        ("/keys.pem/jwks", "reserved"),
        ("/-bad/jwks", "A-Z a-z 0-9"),
        (&format!("/{}/jwks", "a".repeat(65)), "A-Z a-z 0-9"),
    ];
    for (path, want) in cases {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "not_found", "{path}: {body}");
        assert!(
            body["error_description"].as_str().unwrap().contains(want),
            "{path}: {body}"
        );
    }

    let off = spawn_app(config(false)).await;
    let res = off
        .client
        .post(off.url("/nope/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    let text = body["error_description"].as_str().unwrap();
    assert!(
        text.contains("DYNAMIC_ISSUERS=false") && text.contains("fixed, team-a"),
        "{text}"
    );
}

#[tokio::test]
async fn codes_refresh_tokens_and_access_tokens_never_cross_issuers() {
    let app = spawn_app(config(true)).await;
    let grant = |mount: &str, f: Vec<(String, String)>| {
        let url = app.url(&format!("{mount}/token"));
        let client = app.client.clone();
        async move {
            let res = client.post(url).form(&f).send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, tokens) = grant(
        "/x",
        form(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("scope", "openid"),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_at = |mount: &'static str| {
        grant(
            mount,
            form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]),
        )
    };
    for other in ["/y", ""] {
        let (status, err) = refresh_at(other).await;
        assert_eq!(
            (status, err["error"].as_str()),
            (400, Some("invalid_grant")),
            "at {other:?}: {err}"
        );
    }
    // It still works where it was issued.
    let (status, rotated) = refresh_at("/x").await;
    assert_eq!(status, 200, "{rotated}");
    assert!(rotated["access_token"].is_string(), "{rotated}");

    // Userinfo and introspection of another issuer do not accept it.
    let (status, body) = app.userinfo("/y/userinfo", access).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token")),
        "{body}"
    );
    let (status, body) = app.userinfo("/x/userinfo", access).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["sub"].is_string(), "{body}");
    let introspect = |mount: &str| {
        let url = app.url(&format!("{mount}/introspect"));
        let client = app.client.clone();
        let token = access.to_string();
        async move {
            client
                .post(url)
                .form(&[("token", token)])
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(introspect("/x").await["active"], true);
    assert_eq!(introspect("/y").await, json!({"active": false}));

    // A code of one issuer is refused by another.
    let auth = app
        .client
        .get(app.url("/x/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "cli"),
            ("redirect_uri", "http://app.test/cb"),
            ("login_hint", "alice"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(auth.status(), 302);
    let location = auth.headers()["location"].to_str().unwrap().to_string();
    let code = url_param(&location, "code");
    assert_eq!(url_param(&location, "iss"), app.url("/x"));
    let (status, err) = grant(
        "/y",
        form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://app.test/cb"),
        ]),
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant")),
        "{err}"
    );
    let (status, ok) = grant(
        "/x",
        form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://app.test/cb"),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{ok}");
}

/// `client_id=cli` plus `extra`, as owned form pairs.
fn form(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    std::iter::once(("client_id", "cli"))
        .chain(extra.iter().copied())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn url_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').unwrap().1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("{name} missing in {url}"))
        .1
}

#[tokio::test]
async fn the_login_page_posts_to_its_own_issuer() {
    let app = spawn_app(config(true)).await;
    let page = app
        .get_text(&app.url(
            "/team-a/authorize?response_type=code&client_id=web&redirect_uri=http://app.test/cb",
        ))
        .await;
    assert!(
        page.contains("action=\"/team-a/authorize/login\""),
        "{page}"
    );
    assert!(
        page.contains("Sign in as carol"),
        "team-a's personas: {page}"
    );
    assert!(!page.contains("Sign in as alice"), "not the root's: {page}");
    let res = app
        .client
        .post(app.url("/team-a/authorize/login"))
        .form(&[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", "http://app.test/cb"),
            ("user", "carol"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap();
    assert_eq!(url_param(location, "iss"), app.url("/team-a"));
}

#[tokio::test]
async fn metrics_carry_the_issuer_label() {
    let app = spawn_app(config(true)).await;
    app.token_at("/team-a/token", json!({})).await;
    let _: JwkSet = app.get_as("/team-a/jwks").await;
    let text = app.get_text("/metrics").await;
    for line in [
        "mock_idp_tokens_issued_total{issuer=\"team-a\",grant=\"mint\",preset=\"clerk\"} 1",
        "mock_idp_tokens_issued_total{issuer=\"\",grant=\"mint\",preset=\"clerk\"} 0",
        "mock_idp_jwks_requests_total{issuer=\"team-a\"} 1",
        "mock_idp_http_request_duration_seconds_count{issuer=\"team-a\",route=\"/{issuer}/token\",method=\"POST\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    // A rejected name does not grow the metrics.
    let res = app.client.get(app.url("/token/jwks")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(!app.get_text("/metrics").await.contains("issuer=\"token\""));
}

#[tokio::test]
async fn named_issuer_keys_persist_in_their_own_directory() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let start = || mock_idp("persist").env("PERSIST_KEYS_DIR", &keys).start();
    let first = start();
    let minted = kid(&first.token(json!({"sub": "u"})).await);
    let named = kid(&mint_at(&first, "/tenant").await);
    drop(first);
    let private = keys.join("tenant").join("private.pem");
    assert!(private.exists(), "{private:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(&private).unwrap();
    let root_key = std::fs::read(keys.join("private.pem")).unwrap();
    assert_ne!(
        before, root_key,
        "the root and the named issuer have their own keys"
    );
    assert_ne!(minted, named);
    let second = start();
    assert_eq!(
        kid(&mint_at(&second, "/tenant").await),
        named,
        "same key after a restart"
    );
    assert_eq!(kid(&second.token(json!({"sub": "u"})).await), minted);
    assert_eq!(
        std::fs::read(&private).unwrap(),
        before,
        "the file is untouched"
    );
}

/// Mints `{"sub": "u"}` at `mount` of any running mock-idp.
async fn mint_at(idp: &impl Idp, mount: &str) -> String {
    let res: Value = idp
        .client()
        .post(idp.url(&format!("{mount}/token")))
        .json(&json!({"sub": "u"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    res["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{res}"))
        .to_string()
}

/// Three replicas: a token minted by any replica for a configured issuer
/// and for a dynamic issuer verifies with that issuer's JWKS on every
/// replica, and never with another issuer's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_covers_configured_and_dynamic_issuers() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("mock-idp.yaml");
    std::fs::write(&config_file, "issuers:\n  shared: {audience: api}\n").unwrap();
    let replicas = Federation::new(&["r0", "r1", "r2"]).start_all(&config_file);
    for (issuer, minter) in [("shared", 0usize), ("dyn-1", 1), ("", 2)] {
        let mount = if issuer.is_empty() {
            String::new()
        } else {
            format!("/{issuer}")
        };
        let token = mint_at(&replicas[minter], &mount).await;
        let kid = kid(&token);
        let jwks_path = if issuer.is_empty() {
            "/.well-known/jwks.json".to_string()
        } else {
            format!("{mount}/jwks")
        };
        for (i, r) in replicas.iter().enumerate() {
            let set: JwkSet = eventually(
                &format!("replica r{i} serving {issuer:?}'s key {kid}"),
                Duration::from_secs(10),
                || {
                    let kid = kid.clone();
                    let path = jwks_path.clone();
                    async move {
                        let set: JwkSet = r.get_as(&path).await;
                        set.find(&kid).is_some().then_some(set)
                    }
                },
            )
            .await;
            verify_with(&set, &token, None).unwrap_or_else(|e| panic!("r{i} {issuer:?}: {e}"));
            assert!(
                kid.starts_with(&format!("r{minter}-")),
                "INSTANCE_ID prefixes {kid}"
            );
        }
        // Never under another issuer.
        for other in ["/other/jwks", "/.well-known/jwks.json", "/shared/jwks"] {
            if other == jwks_path {
                continue;
            }
            let set: JwkSet = replicas[0].get_as(other).await;
            assert!(set.find(&kid).is_none(), "{kid} leaked into {other}");
        }
    }
}
