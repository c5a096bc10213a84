//! Criterion micro-benchmarks of the hot paths without TCP: building claims,
//! signing (key parsed once), the whole mint, minting through the issuer core
//! for the root and a named issuer and with ES256 / EdDSA keys, minting under
//! every profile (one issuer each, the same full persona), serving the JWKS
//! through the router, what the test controls (faults check, request ledger)
//! add to `POST /token`, the external authorization check with its
//! revocation lookups, and startup (config file + state) with 1 and 100
//! configured issuers.
//! Run: `cargo bench --bench mint` (`-- _profile` for the profiles: claims
//! alone, then the whole mint; `-- ext_authz\|revocation` for the checks).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use mock_idp::claims::{self, MintRequest, users::parse_users};
use mock_idp::cli::Opts;
use mock_idp::config::{Config, NamedIssuer};
use mock_idp::issuer::RequestCtx;
use mock_idp::issuer::registry::At;
use mock_idp::keys::{Alg, KidPolicy, SigningKey};
use mock_idp::profiles::Profile;
use mock_idp::{http, jwt, server};
use serde_json::json;
use tower::ServiceExt;

fn request() -> MintRequest {
    serde_json::from_value(json!({
        "user": "alice",
        "claims": {"email": "alice@example.com", "roles": ["admin", "qa"]}
    }))
    .unwrap()
}

fn bench_mint(c: &mut Criterion) {
    let users =
        parse_users("alice: {sub: user_alice, org_id: org_1, org_role: admin, org_slug: acme}")
            .unwrap();
    let ctx = claims::MintContext::new("https://issuer.local", &users);
    let key = SigningKey::generate(&KidPolicy::default()).unwrap();
    let req = request();
    let now = mock_idp::unix_now();

    c.bench_function("claims_build", |b| {
        b.iter(|| claims::build(black_box(&req), &ctx, now).unwrap())
    });
    let minted = claims::build(&req, &ctx, now).unwrap();
    c.bench_function("jwt_encode_cached_key", |b| {
        b.iter(|| jwt::encode(&key, black_box(&minted.claims)).unwrap())
    });
    c.bench_function("mint_total", |b| {
        b.iter(|| {
            let minted = claims::build(black_box(&req), &ctx, now).unwrap();
            jwt::encode(&key, &minted.claims).unwrap()
        })
    });
    c.bench_function("key_generation_rsa2048", |b| {
        b.iter(|| SigningKey::generate(&KidPolicy::default()).unwrap())
    });
}

/// A current-thread runtime and the server state with persona `alice`.
fn runtime_and_state() -> (tokio::runtime::Runtime, http::SharedState) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let users =
        parse_users("alice: {sub: user_alice, org_id: org_1, org_role: admin, org_slug: acme}")
            .unwrap();
    let state = server::load_state(Config {
        users,
        ..Config::default()
    })
    .unwrap();
    (runtime, state)
}

fn bench_issuers(c: &mut Criterion) {
    let (runtime, state) = runtime_and_state();
    let root = state.issuers.root().clone();
    let named = state.issuers.get(Some("tenant-a")).unwrap();
    runtime.block_on(named.ready()).unwrap();
    let req = request();
    c.bench_function("issuer_mint_root", |b| {
        b.iter(|| {
            root.mint(&RequestCtx::new("http://h"), black_box(&req))
                .unwrap()
        })
    });
    c.bench_function("issuer_mint_named", |b| {
        b.iter(|| {
            named
                .mint(&RequestCtx::new("http://h"), black_box(&req))
                .unwrap()
        })
    });
    // Keys of other algorithms are created on their first use: create them
    // before measuring, as the HTTP bench warms them up.
    for (name, alg) in [
        ("issuer_mint_es256", Alg::ES256),
        ("issuer_mint_eddsa", Alg::EdDSA),
    ] {
        runtime.block_on(root.ensure_alg(alg)).unwrap();
        let req = MintRequest {
            alg: Some(alg),
            ..request()
        };
        let token = root
            .mint(&RequestCtx::new("http://h"), &req)
            .unwrap()
            .access_token;
        assert!(
            token_alg_is(&token, alg),
            "{name}: token not signed with {alg}"
        );
        c.bench_function(name, |b| {
            b.iter(|| {
                root.mint(&RequestCtx::new("http://h"), black_box(&req))
                    .unwrap()
            })
        });
    }
    let router = http::router(state);
    for (name, path) in [
        ("jwks_get_via_router", "/.well-known/jwks.json"),
        ("jwks_get_named_via_router", "/tenant-a/jwks"),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let res = router
                        .clone()
                        .oneshot(Request::get(path).body(Body::empty()).unwrap())
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 200);
                    black_box(res)
                })
            })
        });
    }
}

/// The JOSE header of `token` names `alg`.
fn token_alg_is(token: &str, alg: Alg) -> bool {
    use base64::Engine as _;
    let head = token.split('.').next().unwrap();
    let head = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head)
        .unwrap();
    let head: serde_json::Value = serde_json::from_slice(&head).unwrap();
    head["alg"] == alg.to_string()
}

/// What a start does before it binds: read the config file, resolve the
/// configuration, build the issuers and load the root key. The key is
/// persisted (loaded, not generated), so key generation's spread does not
/// hide the cost of 100 configured issuers.
fn bench_startup(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let one = dir.path().join("one.yaml");
    std::fs::write(&one, "token_ttl: 900\n").unwrap();
    let hundred = dir.path().join("hundred.yaml");
    let mut yaml = String::from("token_ttl: 900\nissuers:\n");
    for i in 0..100 {
        yaml.push_str(&format!("  tenant-{i:03}: {{audience: api-{i:03}}}\n"));
    }
    std::fs::write(&hundred, yaml).unwrap();
    for (name, file, issuers) in [
        ("startup_state_1_issuer", &one, 0),
        ("startup_state_100_issuers", &hundred, 100),
    ] {
        let opts = Opts {
            config: Some(file.clone()),
            persist_keys_dir: Some(keys.clone()),
            ..Opts::default()
        };
        // The first load writes the key; later ones read it.
        let state = server::load_state(Config::resolve(&opts).unwrap()).unwrap();
        assert_eq!(state.issuers.configured().len(), issuers);
        c.bench_function(name, |b| {
            b.iter(|| server::load_state(Config::resolve(black_box(&opts)).unwrap()).unwrap())
        });
    }
}

/// `POST /token` through the whole router (faults check and ledger on)
/// against the token route alone, and the controls' own work per request,
/// in the same run (docs/performance.md, "Test controls").
fn bench_controls(c: &mut Criterion) {
    use mock_idp::issuer::controls::TokenFacts;
    use mock_idp::issuer::controls::ledger::Observed;
    use mock_idp::issuer::paths::Endpoint;

    let (runtime, state) = runtime_and_state();
    let body = serde_json::to_vec(&json!({
        "user": "alice",
        "claims": {"email": "alice@example.com", "roles": ["admin", "qa"]}
    }))
    .unwrap();
    let post = |router: &axum::Router| {
        let request = Request::post("/token")
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))
            .unwrap();
        runtime.block_on(async {
            let res = router.clone().oneshot(request).await.unwrap();
            assert_eq!(res.status(), 200);
            black_box(res)
        })
    };
    let full = http::router(state.clone());
    let bare = http::routes::token::router().with_state(state.clone());
    c.bench_function("token_post_via_router", |b| b.iter(|| post(&full)));
    c.bench_function("token_post_route_only", |b| b.iter(|| post(&bare)));
    // Criterion may have been told to run only some benches: one request of
    // our own proves the measured router records into the ledger.
    post(&full);
    assert!(
        !state.issuers.root().ledger().is_empty(),
        "the ledger recorded"
    );

    let root = state.issuers.root().clone();
    let token = root
        .mint(&RequestCtx::new("http://h"), &request())
        .unwrap()
        .access_token;
    c.bench_function("controls_per_token_request", |b| {
        b.iter(|| {
            assert!(root.faults().strike(Endpoint::Token).is_none());
            let facts = TokenFacts::from_access_token(black_box(&token));
            root.ledger().record(&Observed {
                unix_ms: 1_700_000_000_000,
                method: "POST",
                path: "/token",
                query: None,
                status: 200,
                facts: Some(&facts),
                duration: std::time::Duration::from_micros(300),
            });
        })
    });
}

/// A persona with every mapping field, so each profile has all of its work to do.
const FULL_PERSONA: &str = "alice: {sub: user_alice, email: alice@acme.example, name: Alice Liddell, \
    given_name: Alice, family_name: Liddell, username: alice, roles: [admin, editor], \
    groups: [staff, engineering], permissions: ['read:reports', 'write:reports'], \
    org_id: org_acme, org_role: admin, org_slug: acme, \
    org_permissions: ['org:dashboard:read', 'org:dashboard:manage', 'org:teams:read'], \
    client_roles: {web-app: [owner], billing-api: [invoice-reader]}}";

fn bench_profiles(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let issuers = Profile::ALL
        .iter()
        .map(|p| {
            let named = NamedIssuer {
                profile: Some(*p),
                audience: Some(claims::Audience::One("https://api.example".into())),
                ..NamedIssuer::default()
            };
            (format!("p-{}", p.as_str()), named)
        })
        .collect();
    let state = server::load_state(Config {
        users: parse_users(FULL_PERSONA).unwrap(),
        issuers,
        ..Config::default()
    })
    .unwrap();
    let req: MintRequest =
        serde_json::from_value(json!({"user": "alice", "scope": "openid read:reports"})).unwrap();
    // The only work that depends on the profile: building the claims.
    let users = parse_users(FULL_PERSONA).unwrap();
    let aud = claims::Audience::One("https://api.example".into());
    let mut group = c.benchmark_group("claims_build_profile");
    for profile in Profile::ALL {
        let ctx = claims::MintContext {
            profile,
            audience: Some(&aud),
            ..claims::MintContext::new("https://issuer.local", &users)
        };
        let now = mock_idp::unix_now();
        group.bench_function(profile.as_str(), |b| {
            b.iter(|| claims::build(black_box(&req), &ctx, now).unwrap())
        });
    }
    group.finish();
    let rc = RequestCtx::new("http://h");
    let mut group = c.benchmark_group("issuer_mint_profile");
    for profile in Profile::ALL {
        let at = if profile == Profile::Keycloak {
            At::Realm
        } else {
            At::Named
        };
        let name = format!("p-{}", profile.as_str());
        let issuer = state.issuers.get_at(Some(&name), at).unwrap();
        runtime.block_on(issuer.ready()).unwrap();
        group.bench_function(profile.as_str(), |b| {
            b.iter(|| issuer.mint(&rc, black_box(&req)).unwrap())
        });
    }
    group.finish();
}

/// The hot path of a gateway check: `Issuer::ext_authz` (signature, times,
/// `iss`, the `jti` and `parent_jti` revocation lookups, requirements) with
/// a revocation set of 100 000 live entries, the lookup alone, and the whole
/// check through the router (headers in, `x-auth-*` out, no TCP).
fn bench_ext_authz(c: &mut Criterion) {
    use mock_idp::issuer::ext_authz::Requirements;
    let (runtime, state) = runtime_and_state();
    let root = state.issuers.root().clone();
    let token = root
        .mint(&RequestCtx::new("http://h"), &request())
        .unwrap()
        .access_token;
    let far = mock_idp::unix_now() + 86_400;
    for i in 0..100_000 {
        root.spent().spend(&format!("revoked-{i}"), far, 0).unwrap();
    }
    let none = Requirements::default();
    let mut some = Requirements::default();
    some.add_claim("sub:user_alice");
    some.add_claim("roles:qa");
    c.bench_function("ext_authz_check", |b| {
        b.iter(|| root.ext_authz(Some(black_box(&token)), &none).unwrap())
    });
    c.bench_function("ext_authz_check_with_requirements", |b| {
        b.iter(|| root.ext_authz(Some(black_box(&token)), &some).unwrap())
    });
    c.bench_function("revocation_lookup", |b| {
        b.iter(|| root.spent().is_spent(black_box("revoked-4242"), 1))
    });
    let router = http::router(state);
    let bearer = format!("Bearer {token}");
    c.bench_function("ext_authz_via_router", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let res = router
                    .clone()
                    .oneshot(
                        Request::get("/ext-authz/api/orders?page=2")
                            .header("authorization", &bearer)
                            .body(Body::empty())
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                black_box(res)
            })
        })
    });
}

criterion_group!(
    benches,
    bench_mint,
    bench_issuers,
    bench_profiles,
    bench_ext_authz,
    bench_controls,
    bench_startup
);
criterion_main!(benches);
