//! Production safety: every response of every endpoint (successes, errors,
//! redirects, the login page, 404/405/413) carries `X-Mock-Idp: dev-only`,
//! and every discovery document has `"mock_idp": true`, for the root and a
//! named issuer.

use reqwest::Method;

use crate::support::{Idp, spawn_app, test_config};

/// A request: method, path, and an optional (content type, body).
type Case = (Method, String, Option<(&'static str, String)>);

#[tokio::test]
async fn every_response_says_it_is_a_mock() {
    let app = spawn_app(test_config()).await;
    let big = "x".repeat(200 * 1024);
    let cases: Vec<Case> = ["", "/named"]
        .iter()
        .flat_map(|mount| {
            let m = |p: &str| format!("{mount}{p}");
            vec![
                (Method::POST, m("/token"), Some(("application/json", "{}".to_string()))),
                (Method::POST, m("/token"), Some(("application/json", "{".to_string()))),
                (Method::POST, m("/token"), Some(("application/json", big.clone()))),
                (Method::POST, m("/token"), Some(("application/x-www-form-urlencoded", "grant_type=password".to_string()))),
                (Method::GET, m("/.well-known/jwks.json"), None),
                (Method::GET, m("/jwks"), None),
                (Method::GET, m("/.well-known/openid-configuration"), None),
                (Method::GET, m("/.well-known/oauth-authorization-server"), None),
                (Method::GET, m("/authorize?response_type=code&client_id=c&redirect_uri=http://a/cb"), None),
                (Method::GET, m("/authorize?response_type=code&client_id=c&redirect_uri=http://a/cb&login_hint=u"), None),
                (Method::GET, m("/authorize"), None),
                (Method::GET, m("/userinfo"), None),
                (Method::POST, m("/introspect"), Some(("application/x-www-form-urlencoded", "token=x".to_string()))),
                (Method::POST, m("/revoke"), Some(("text/plain", "token=x".to_string()))),
                (Method::GET, m("/logout"), None),
                (Method::GET, m("/endsession"), None),
                (Method::DELETE, m("/token"), None),
            ]
        })
        .chain([
            (Method::GET, "/health".to_string(), None),
            (Method::GET, "/metrics".to_string(), None),
            (Method::GET, "/issuers".to_string(), None),
            (Method::GET, "/cluster".to_string(), None),
            (Method::GET, "/cluster/keys".to_string(), None),
            (Method::GET, "/certs".to_string(), None),
            (Method::GET, "/api/pkeys?local=true".to_string(), None),
            (Method::GET, "/no/such/endpoint".to_string(), None),
            (Method::GET, "/token/jwks".to_string(), None),
            (Method::OPTIONS, "/token".to_string(), None),
        ])
        .collect();
    let mut statuses = std::collections::BTreeSet::new();
    for (method, path, body) in cases {
        let mut req = app.client.request(method.clone(), app.url(&path));
        if let Some((ct, b)) = body {
            req = req.header("content-type", ct).body(b);
        }
        let res = req.send().await.unwrap();
        statuses.insert(res.status().as_u16());
        assert_eq!(
            res.headers().get("x-mock-idp").map(|v| v.to_str().unwrap()),
            Some("dev-only"),
            "{method} {path} ({})",
            res.status()
        );
    }
    for status in [200, 302, 400, 401, 404, 405, 413, 415] {
        assert!(
            statuses.contains(&status),
            "no case answered {status}: {statuses:?}"
        );
    }
    for mount in ["", "/named"] {
        for doc in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let json = app.get_json(&format!("{mount}{doc}")).await;
            assert_eq!(json["mock_idp"], true, "{mount}{doc}");
        }
    }
}
