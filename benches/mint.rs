//! Criterion micro-benchmarks of the hot paths without TCP: building claims,
//! signing (key parsed once), the whole mint, and serving the JWKS through
//! the router. Run: `cargo bench --bench mint`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use mock_idp::claims::{self, MintRequest, users::parse_users};
use mock_idp::config::Config;
use mock_idp::keys::{KeyStore, KidPolicy, SigningKey};
use mock_idp::{app, jwt};
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

fn bench_jwks(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let key = SigningKey::generate(&KidPolicy::default()).unwrap();
    let state = app::AppState::new(Config::default(), KeyStore::new(key));
    let router = app::router(state);
    c.bench_function("jwks_get_via_router", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let res = router
                    .clone()
                    .oneshot(
                        Request::get("/.well-known/jwks.json")
                            .body(Body::empty())
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                black_box(res)
            })
        })
    });
}

criterion_group!(benches, bench_mint, bench_jwks);
criterion_main!(benches);
