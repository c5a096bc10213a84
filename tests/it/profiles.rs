//! Provider profiles over HTTP (real server on port 0): each profile's own
//! paths and mount (Keycloak realm layout, Entra tenant paths, Auth0
//! `/oauth/token` with a form and a JSON body, Google's JWKS and X.509
//! certificates, Cognito pool paths), the 404 for a profile path on an
//! issuer of another profile, `GET /issuers`. Every token is verified with
//! jsonwebtoken against the JWKS the issuer serves at its profile's path,
//! `iss` and `aud` included. The providers' own SDKs check the rest
//! (`scripts/ci/profiles.sh`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::{Decode, Encode, Reader};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mock_idp::cli::Opts;
use mock_idp::config::{Config, FileConfig};
use serde_json::{Map, Value, json};

use crate::support::jwt::verify_with;
use crate::support::{Idp, TestApp, spawn_app};

const CONFIG: &str = r#"
authorized_party: http://localhost:3000
users:
  alice:
    sub: user_alice
    email: alice@acme.example
    name: Alice Liddell
    username: alice
    roles: [admin, editor]
    groups: [staff]
    permissions: ["read:reports"]
    org_id: org_acme
    org_slug: acme
    client_roles: {web-app: [owner]}
issuers:
  auth0:
    profile: auth0
    audience: https://api.acme.example
    claims_namespace: https://acme.example/
    clients:
      - {client_id: m2m, client_secret: m2m-secret, grant_types: [client_credentials], scope: "read:reports"}
      - {client_id: web, client_secret: web-secret, grant_types: [password, refresh_token]}
  kc:
    profile: keycloak
    clients:
      - {client_id: web-app, client_secret: web-secret, grant_types: [password, refresh_token]}
      - {client_id: svc, client_secret: svc-secret, grant_types: [client_credentials], roles: [service]}
  entra:
    profile: entra
    tenant_id: 8eaef023-2b34-4da1-9baa-8bc8c9d6a490
    audience: 6e74172b-be56-4843-9ff4-e66a39bb12e3
    clients:
      - {client_id: app, client_secret: app-secret, roles: [Reports.Read.All]}
  google:
    profile: google
  us-east-1_Abc123:
    profile: cognito
    clients:
      - {client_id: pool-web, client_secret: pool-secret, grant_types: [password]}
"#;

async fn app() -> TestApp {
    let file: FileConfig = serde_norway::from_str(CONFIG).unwrap();
    let config = Config::from_layers(&Opts::default(), file).unwrap();
    spawn_app(Config { port: 0, ..config }).await
}

/// A form POST; returns (status, JSON body).
async fn form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(path))
        .form(fields)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// GET a JSON document with its status.
async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Verifies `token` with the JWKS at `jwks_path`, checking `iss` and `aud`.
async fn verify(
    app: &TestApp,
    jwks_path: &str,
    token: &str,
    iss: &str,
    aud: Option<&str>,
) -> Map<String, Value> {
    let jwks: JwkSet = app.get_as(jwks_path).await;
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid served");
    let mut v = Validation::new(Algorithm::RS256);
    v.leeway = 0;
    v.set_issuer(&[iss]);
    match aud {
        Some(aud) => v.set_audience(&[aud]),
        None => v.validate_aud = false,
    }
    jsonwebtoken::decode::<Map<String, Value>>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .unwrap_or_else(|e| panic!("{token} did not verify with {jwks_path}: {e}"))
        .claims
}

#[tokio::test]
async fn keycloak_realm_layout() {
    let app = app().await;
    let realm = format!("{}/realms/kc", app.base);
    let oidc = format!("{realm}/protocol/openid-connect");
    let (status, d) = get(&app, "/realms/kc/.well-known/openid-configuration").await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["issuer"], realm);
    assert_eq!(d["jwks_uri"], format!("{oidc}/certs"));
    assert_eq!(d["token_endpoint"], format!("{oidc}/token"));
    assert_eq!(d["end_session_endpoint"], format!("{oidc}/logout"));
    assert_eq!(
        d["introspection_endpoint"],
        format!("{oidc}/token/introspect")
    );

    // Password grant at the realm's token endpoint; access and ID tokens.
    let (status, t) = form(
        &app,
        "/realms/kc/protocol/openid-connect/token",
        &[
            ("grant_type", "password"),
            ("client_id", "web-app"),
            ("client_secret", "web-secret"),
            ("username", "alice"),
            ("password", "x"),
            ("scope", "openid profile"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let certs = "/realms/kc/protocol/openid-connect/certs";
    let at = verify(
        &app,
        certs,
        t["access_token"].as_str().unwrap(),
        &realm,
        None,
    )
    .await;
    assert_eq!(at["typ"], "Bearer");
    assert_eq!(at["azp"], "web-app");
    assert_eq!(at["realm_access"], json!({"roles": ["admin", "editor"]}));
    assert_eq!(
        at["resource_access"]["web-app"],
        json!({"roles": ["owner"]})
    );
    assert_eq!(at["preferred_username"], "alice");
    let id = verify(
        &app,
        certs,
        t["id_token"].as_str().unwrap(),
        &realm,
        Some("web-app"),
    )
    .await;
    assert_eq!(
        (id["typ"].as_str(), id["azp"].as_str()),
        (Some("ID"), Some("web-app"))
    );
    assert_eq!(id["sid"], at["sid"], "one session");

    // Introspection names the user; logout with the refresh token is a 204
    // and ends it.
    let (status, info) = form(
        &app,
        "/realms/kc/protocol/openid-connect/token/introspect",
        &[
            ("token", t["access_token"].as_str().unwrap()),
            ("client_id", "web-app"),
            ("client_secret", "web-secret"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (info["active"].as_bool(), info["username"].as_str()),
        (Some(true), Some("alice"))
    );
    let refresh = t["refresh_token"].as_str().unwrap();
    let logout = |rt: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/realms/kc/protocol/openid-connect/logout"))
                .form(&[
                    ("client_id", "web-app"),
                    ("client_secret", "web-secret"),
                    ("refresh_token", &rt),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(logout(refresh.to_string()).await.status(), 204);
    let again = logout(refresh.to_string()).await;
    assert_eq!(again.status(), 400, "a logged-out refresh token is spent");
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");

    // Service account; the JSON mint at the generic path under the realm.
    let (status, t) = form(
        &app,
        "/realms/kc/protocol/openid-connect/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "svc"),
            ("client_secret", "svc-secret"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let sa = verify(
        &app,
        certs,
        t["access_token"].as_str().unwrap(),
        &realm,
        Some("account"),
    )
    .await;
    assert_eq!(sa["preferred_username"], "service-account-svc");
    assert_eq!(sa["realm_access"]["roles"], json!(["service"]));
    let (status, t) = app
        .post_json("/realms/kc/token", json!({"user": "alice"}))
        .await;
    assert_eq!(status, 200, "{t}");
    let minted = verify(
        &app,
        certs,
        t["access_token"].as_str().unwrap(),
        &realm,
        None,
    )
    .await;
    assert_eq!(minted["typ"], "Bearer");

    // GET /realms/kc: the realm's key as base64 SPKI, the same key as the JWKS.
    let (status, info) = get(&app, "/realms/kc").await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["realm"], "kc");
    assert_eq!(info["token-service"], oidc);
    let spki = STANDARD
        .decode(info["public_key"].as_str().unwrap())
        .unwrap();
    let key = DecodingKey::from_rsa_der(&rsa_public_key_of_spki(&spki));
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_aud = false;
    jsonwebtoken::decode::<Map<String, Value>>(t["access_token"].as_str().unwrap(), &key, &v)
        .expect("the realm's public_key verifies its tokens");

    // Keycloak issuers live under /realms only, and others never there.
    for (path, what) in [
        ("/kc/jwks", "profile keycloak"),
        ("/kc/.well-known/openid-configuration", "profile keycloak"),
        ("/realms/auth0/.well-known/jwks.json", "profile auth0"),
        (
            "/realms/auth0/protocol/openid-connect/certs",
            "profile auth0",
        ),
    ] {
        let (status, body) = get(&app, path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(
            body["error_description"].as_str().unwrap().contains(what),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn a_dynamic_realm_is_a_keycloak_issuer() {
    let app = app().await;
    let (status, t) = app
        .post_json("/realms/new-realm/token", json!({"sub": "u1"}))
        .await;
    assert_eq!(status, 200, "{t}");
    let c = verify(
        &app,
        "/realms/new-realm/protocol/openid-connect/certs",
        t["access_token"].as_str().unwrap(),
        &format!("{}/realms/new-realm", app.base),
        None,
    )
    .await;
    assert_eq!(c["typ"], "Bearer");
    let (status, _) = get(&app, "/new-realm/jwks").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn entra_tenant_paths() {
    let app = app().await;
    let iss = "https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0";
    let api = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    let (status, d) = get(&app, "/entra/v2.0/.well-known/openid-configuration").await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["issuer"], iss);
    assert_eq!(d["jwks_uri"], app.url("/entra/discovery/v2.0/keys"));
    assert_eq!(d["token_endpoint"], app.url("/entra/oauth2/v2.0/token"));
    assert_eq!(
        d["authorization_endpoint"],
        app.url("/entra/oauth2/v2.0/authorize")
    );

    let (status, t) = form(
        &app,
        "/entra/oauth2/v2.0/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", "app-secret"),
            ("scope", &format!("api://{api}/.default")),
        ],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let c = verify(
        &app,
        "/entra/discovery/v2.0/keys",
        t["access_token"].as_str().unwrap(),
        iss,
        Some(api),
    )
    .await;
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["tid"], "8eaef023-2b34-4da1-9baa-8bc8c9d6a490");
    assert_eq!(c["roles"], json!(["Reports.Read.All"]));
    assert_eq!(c["sub"], c["oid"]);

    let (status, t) = form(
        &app,
        "/entra/oauth2/v2.0/token",
        &[
            ("grant_type", "password"),
            ("client_id", "app"),
            ("client_secret", "app-secret"),
            ("username", "alice"),
            (
                "scope",
                &format!("api://{api}/access_as_user openid profile"),
            ),
        ],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let at = verify(
        &app,
        "/entra/discovery/v2.0/keys",
        t["access_token"].as_str().unwrap(),
        iss,
        Some(api),
    )
    .await;
    assert_eq!(at["scp"], "access_as_user read:reports");
    let id = verify(
        &app,
        "/entra/discovery/v2.0/keys",
        t["id_token"].as_str().unwrap(),
        iss,
        Some("app"),
    )
    .await;
    assert_eq!(id["oid"], at["oid"]);
    assert_eq!(id["ver"], "2.0");
}

#[tokio::test]
async fn auth0_oauth_token_with_form_and_json() {
    let app = app().await;
    let iss = format!("{}/auth0/", app.base);
    let api = "https://api.acme.example";
    let (_, d) = get(&app, "/auth0/.well-known/openid-configuration").await;
    assert_eq!(d["issuer"], iss);
    assert_eq!(d["token_endpoint"], format!("{iss}oauth/token"));

    let (status, by_form) = form(
        &app,
        "/auth0/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "m2m"),
            ("client_secret", "m2m-secret"),
            ("audience", api),
        ],
    )
    .await;
    assert_eq!(status, 200, "{by_form}");
    let (status, by_json) = app.post_json("/auth0/oauth/token",
        json!({"grant_type": "client_credentials", "client_id": "m2m", "client_secret": "m2m-secret", "audience": api}),
    )
    .await;
    assert_eq!(status, 200, "{by_json}");
    for t in [&by_form, &by_json] {
        let c = verify(
            &app,
            "/auth0/.well-known/jwks.json",
            t["access_token"].as_str().unwrap(),
            &iss,
            Some(api),
        )
        .await;
        assert_eq!(c["sub"], "m2m@clients");
        assert_eq!(c["gty"], "client-credentials");
        assert_eq!(c["permissions"], json!(["read:reports"]));
    }
    let (status, bad) = app.post_json("/auth0/oauth/token",
        json!({"grant_type": "client_credentials", "client_id": "m2m", "client_secret": "nope"}),
    )
    .await;
    assert_eq!(
        (status, bad["error"].as_str()),
        (401, Some("invalid_client")),
        "{bad}"
    );

    // Password grant with openid: the userinfo audience, and /userinfo
    // answers the profile claims the access token does not carry.
    let (status, t) = app
        .post_json(
            "/auth0/oauth/token",
            json!({"grant_type": "password", "client_id": "web", "client_secret": "web-secret",
               "username": "alice", "password": "x", "scope": "openid email", "audience": api}),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    let at = t["access_token"].as_str().unwrap();
    let c = verify(&app, "/auth0/.well-known/jwks.json", at, &iss, Some(api)).await;
    assert_eq!(c["aud"], json!([api, format!("{iss}userinfo")]));
    assert_eq!(c["https://acme.example/roles"], json!(["admin", "editor"]));
    assert!(c.get("email").is_none());
    let (status, info) = app.userinfo("/auth0/userinfo", at).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(
        (info["sub"].as_str(), info["email"].as_str()),
        (Some("user_alice"), Some("alice@acme.example"))
    );
    assert_eq!(info["nickname"], "alice");

    // A profile path on an issuer of another profile is a JSON 404.
    let (status, body) = form(
        &app,
        "/google/oauth/token",
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("auth0 profile"),
        "{body}"
    );
}

#[tokio::test]
async fn google_v1_certs_are_x509_of_the_jwks_keys() {
    let app = app().await;
    let (_, d) = get(&app, "/google/.well-known/openid-configuration").await;
    assert_eq!(d["issuer"], "https://accounts.google.com");
    assert_eq!(d["jwks_uri"], app.url("/google/oauth2/v3/certs"));
    let (status, t) = app
        .post_json(
            "/google/token",
            json!({"user": "alice", "aud": "web-client"}),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    let token = t["access_token"].as_str().unwrap();
    let c = verify(
        &app,
        "/google/oauth2/v3/certs",
        token,
        "https://accounts.google.com",
        Some("web-client"),
    )
    .await;
    assert_eq!(
        (c["azp"].as_str(), c["hd"].as_str()),
        (Some("web-client"), Some("acme.example"))
    );

    let res = app
        .client
        .get(app.url("/google/oauth2/v1/certs"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public")
    );
    let certs: Map<String, Value> = res.json().await.unwrap();
    let jwks: JwkSet = app.get_as("/google/oauth2/v3/certs").await;
    let mut kids: Vec<&str> = certs.keys().map(String::as_str).collect();
    kids.sort_unstable();
    let mut jwk_kids: Vec<&str> = jwks
        .keys
        .iter()
        .filter_map(|k| k.common.key_id.as_deref())
        .collect();
    jwk_kids.sort_unstable();
    assert_eq!(kids, jwk_kids, "one certificate per JWKS key");
    for (kid, pem) in &certs {
        let pem = pem.as_str().unwrap();
        assert!(
            pem.starts_with("-----BEGIN CERTIFICATE-----\n")
                && pem.ends_with("-----END CERTIFICATE-----\n"),
            "{pem}"
        );
        let der = pem::parse(pem).unwrap();
        let cert = x509_cert::Certificate::from_der(der.contents()).expect("parses as X.509");
        let tbs = &cert.tbs_certificate;
        assert_eq!(tbs.subject, tbs.issuer, "self-signed");
        assert_eq!(
            cert.signature_algorithm.oid.to_string(),
            "1.2.840.113549.1.1.11",
            "sha256WithRSAEncryption"
        );
        let spki = tbs.subject_public_key_info.subject_public_key.raw_bytes();
        // The certificate's key is the JWK: same modulus, and it verifies the
        // certificate itself and the issuer's tokens.
        let (n, _) = rsa_numbers(spki);
        let jwk = jwks.find(kid).unwrap();
        let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
            panic!("not RSA")
        };
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(n),
            rsa.n
        );
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            spki,
        )
        .verify(&tbs.to_der().unwrap(), cert.signature.raw_bytes())
        .expect("the self-signature verifies");
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&["web-client"]);
        jsonwebtoken::decode::<Map<String, Value>>(token, &DecodingKey::from_rsa_der(spki), &v)
            .expect("the certificate's key verifies the token");
    }
    // Not served for another profile.
    let (status, _) = get(&app, "/auth0/oauth2/v1/certs").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn cognito_pool_paths() {
    let app = app().await;
    let iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123";
    let (_, d) = get(&app, "/us-east-1_Abc123/.well-known/openid-configuration").await;
    assert_eq!(d["issuer"], iss);
    assert_eq!(
        d["token_endpoint"],
        app.url("/us-east-1_Abc123/oauth2/token")
    );
    assert_eq!(
        d["userinfo_endpoint"],
        app.url("/us-east-1_Abc123/oauth2/userInfo")
    );
    let (status, t) = form(
        &app,
        "/us-east-1_Abc123/oauth2/token",
        &[
            ("grant_type", "password"),
            ("client_id", "pool-web"),
            ("client_secret", "pool-secret"),
            ("username", "alice"),
            ("scope", "openid email"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let jwks = "/us-east-1_Abc123/.well-known/jwks.json";
    let at_token = t["access_token"].as_str().unwrap();
    let at = verify(&app, jwks, at_token, iss, None).await;
    assert_eq!(
        (at["token_use"].as_str(), at["client_id"].as_str()),
        (Some("access"), Some("pool-web"))
    );
    assert!(at.get("aud").is_none());
    assert_eq!(at["cognito:groups"], json!(["staff", "admin", "editor"]));
    let id = verify(
        &app,
        jwks,
        t["id_token"].as_str().unwrap(),
        iss,
        Some("pool-web"),
    )
    .await;
    assert_eq!(
        (id["token_use"].as_str(), id["cognito:username"].as_str()),
        (Some("id"), Some("alice"))
    );
    assert_eq!(id["origin_jti"], at["origin_jti"]);
    let (status, info) = app
        .userinfo("/us-east-1_Abc123/oauth2/userInfo", at_token)
        .await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(
        (info["username"].as_str(), info["email"].as_str()),
        (Some("alice"), Some("alice@acme.example"))
    );
}

#[tokio::test]
async fn clerk_azp_and_m2m_on_the_root() {
    let app = app().await;
    let jwks: JwkSet = app.get_as("/.well-known/jwks.json").await;
    let azp = |t: &Value| {
        let (_, c) = verify_with(&jwks, t["access_token"].as_str().unwrap(), None).unwrap();
        c["azp"].as_str().map(str::to_string)
    };
    let (_, t) = app.mint_json(json!({"user": "alice"})).await;
    assert_eq!(
        azp(&t).as_deref(),
        Some("http://localhost:3000"),
        "authorized_party"
    );
    let res = app
        .client
        .post(app.url("/token"))
        .header("origin", "http://localhost:5173")
        .json(&json!({"user": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        azp(&res.json().await.unwrap()).as_deref(),
        Some("http://localhost:5173"),
        "Origin"
    );
    let (_, t) = app
        .mint_json(json!({"user": "alice", "azp": "https://asked"}))
        .await;
    assert_eq!(azp(&t).as_deref(), Some("https://asked"));
    let (_, t) = app
        .mint_json(json!({"user": "alice", "org_permissions": ["org:teams:read"]}))
        .await;
    let (_, c) = verify_with(&jwks, t["access_token"].as_str().unwrap(), None).unwrap();
    assert_eq!(
        c["o"],
        json!({"id": "org_acme", "slg": "acme", "per": "read", "fpm": "1"})
    );
    assert_eq!(c["fea"], "o:teams");

    let (status, t) = form(
        &app,
        "/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "mch_worker"),
            ("scope", "jobs:run"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let token = t["access_token"].as_str().unwrap();
    let (_, c) = verify_with(&jwks, token, None).unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["cat"], "cl_B7d4PD333AAA", "{header}");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(
        (c["sub"].as_str(), c["scopes"].as_str()),
        (Some("mch_worker"), Some("jobs:run"))
    );
    // Clerk's Backend API path for the JWKS serves the same set.
    let v1: JwkSet = app.get_as("/v1/jwks").await;
    assert_eq!(v1.keys.len(), jwks.keys.len());
}

#[tokio::test]
async fn issuers_report_profile_and_mount() {
    let app = app().await;
    // Touch one so it exists with a key (configured issuers exist anyway).
    let (_, list) = get(&app, "/issuers").await;
    let by_name = |name: &str| {
        list["issuers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in {list}"))
    };
    let root = by_name("");
    assert_eq!(
        (root["profile"].as_str(), root["mount"].as_str()),
        (Some("clerk"), Some("/"))
    );
    let kc = by_name("kc");
    assert_eq!(
        (kc["profile"].as_str(), kc["mount"].as_str()),
        (Some("keycloak"), Some("/realms/kc"))
    );
    assert_eq!(
        kc["jwks_uri"],
        app.url("/realms/kc/protocol/openid-connect/certs")
    );
    let entra = by_name("entra");
    assert_eq!(
        entra["discovery"],
        app.url("/entra/v2.0/.well-known/openid-configuration")
    );
    assert_eq!(by_name("us-east-1_Abc123")["profile"], "cognito");
}

/// `(n, e)` of a PKCS#1 RSAPublicKey DER.
fn rsa_numbers(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut reader = der::SliceReader::new(der).unwrap();
    reader
        .sequence(|r| {
            let n = der::asn1::UintRef::decode(r)?;
            let e = der::asn1::UintRef::decode(r)?;
            Ok((n.as_bytes().to_vec(), e.as_bytes().to_vec()))
        })
        .unwrap()
}

/// The PKCS#1 key inside an SPKI DER.
fn rsa_public_key_of_spki(spki: &[u8]) -> Vec<u8> {
    let info = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(spki).unwrap();
    info.subject_public_key.raw_bytes().to_vec()
}
