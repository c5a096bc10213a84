//! Criterion micro-benchmarks of the hot paths without TCP: building claims,
//! signing (key parsed once), the whole mint, minting through the issuer core
//! for the root and a named issuer and with ES256 / EdDSA keys, serving the
//! JWKS through the router, and startup (config file + state) with 1 and 100
//! configured issuers. Run: `cargo bench --bench mint`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use mock_idp::claims::{self, MintRequest, users::parse_users};
use mock_idp::cli::Opts;
use mock_idp::config::Config;
use mock_idp::keys::{Alg, KidPolicy, SigningKey};
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
    let ctx = claims::MintContext {
        issuer: "https://issuer.local",
        audience: None,
        token_ttl: 900,
        users: &users,
    };
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

fn bench_issuers(c: &mut Criterion) {
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
    let root = state.issuers.root().clone();
    let named = state.issuers.get(Some("tenant-a")).unwrap();
    runtime.block_on(named.ready()).unwrap();
    let req = request();
    c.bench_function("issuer_mint_root", |b| {
        b.iter(|| root.mint("http://h", black_box(&req)).unwrap())
    });
    c.bench_function("issuer_mint_named", |b| {
        b.iter(|| named.mint("http://h", black_box(&req)).unwrap())
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
        let token = root.mint("http://h", &req).unwrap().access_token;
        assert!(
            token_alg_is(&token, alg),
            "{name}: token not signed with {alg}"
        );
        c.bench_function(name, |b| {
            b.iter(|| root.mint("http://h", black_box(&req)).unwrap())
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

criterion_group!(benches, bench_mint, bench_issuers, bench_startup);
criterion_main!(benches);
