//! Minting under every profile against `clerk`, interleaved so the load of a
//! shared machine hits every profile alike: one issuer per profile (the same
//! full persona, RS256), then rounds in which each profile mints a batch in
//! turn. Prints, per profile, the median time of one mint, the median of the
//! per-round ratio to `clerk` (the figure to read: paired, so drift between
//! rounds cancels out), and the same for building the claims alone (the only
//! profile-dependent work).
//!
//! Run: `cargo bench --bench profiles` (`ROUNDS=40 BATCH=100` to change the
//! sample). Reported, not gated: see docs/performance.md.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use mock_idp::claims::{self, Audience, MintContext, MintRequest, users::parse_users};
use mock_idp::config::{Config, NamedIssuer};
use mock_idp::issuer::RequestCtx;
use mock_idp::issuer::registry::At;
use mock_idp::profiles::Profile;
use mock_idp::server;
use serde_json::json;

/// A persona with every mapping field, so each profile has all of its work to do.
const FULL_PERSONA: &str = "alice: {sub: user_alice, email: alice@acme.example, name: Alice Liddell, \
    given_name: Alice, family_name: Liddell, username: alice, roles: [admin, editor], \
    groups: [staff, engineering], permissions: ['read:reports', 'write:reports'], \
    org_id: org_acme, org_role: admin, org_slug: acme, \
    org_permissions: ['org:dashboard:read', 'org:dashboard:manage', 'org:teams:read'], \
    client_roles: {web-app: [owner], billing-api: [invoice-reader]}}";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Runs `rounds` rounds of `batch` calls of `f(profile)` for every profile in
/// turn; returns per profile the ns per call of each round.
fn interleaved(rounds: usize, batch: usize, mut f: impl FnMut(usize)) -> Vec<Vec<f64>> {
    let n = Profile::ALL.len();
    let mut samples = vec![Vec::with_capacity(rounds); n];
    for round in 0..rounds {
        // Rotate the order so no profile always runs first (or after a given one).
        for k in 0..n {
            let i = (round + k) % n;
            let start = Instant::now();
            for _ in 0..batch {
                f(i);
            }
            samples[i].push(start.elapsed().as_nanos() as f64 / batch as f64);
        }
    }
    samples
}

fn report(what: &str, samples: &[Vec<f64>]) {
    println!("\n{what}");
    println!(
        "{:<18} {:>12} {:>18}",
        "profile", "median", "ratio to clerk"
    );
    let clerk = &samples[Profile::Clerk.index()];
    for p in Profile::ALL {
        let s = &samples[p.index()];
        let ratios: Vec<f64> = s.iter().zip(clerk).map(|(a, b)| a / b).collect();
        let ns = median(s.clone());
        let shown = if ns >= 10_000.0 {
            format!("{:.1} us", ns / 1000.0)
        } else {
            format!("{:.2} us", ns / 1000.0)
        };
        println!("{:<18} {:>12} {:>17.3}x", p.as_str(), shown, median(ratios));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        // A test runner asking for tests (cargo nextest): there are none here.
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` runs this once, briefly.
    let quick = !args.iter().any(|a| a == "--bench");
    let rounds = if quick { 2 } else { env("ROUNDS", 30) };
    let batch = if quick { 2 } else { env("BATCH", 50) };

    let audience = Audience::One("https://api.example".into());
    let issuers = Profile::ALL
        .iter()
        .map(|p| {
            let named = NamedIssuer {
                profile: Some(*p),
                audience: Some(audience.clone()),
                ..NamedIssuer::default()
            };
            (format!("p-{}", p.as_str()), named)
        })
        .collect();
    let users = parse_users(FULL_PERSONA).unwrap();
    let state = server::load_state(Config {
        users: users.clone(),
        issuers,
        ..Config::default()
    })
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let issuers: Vec<_> = Profile::ALL
        .iter()
        .map(|p| {
            let at = if *p == Profile::Keycloak {
                At::Realm
            } else {
                At::Named
            };
            let issuer = state
                .issuers
                .get_at(Some(&format!("p-{}", p.as_str())), at)
                .unwrap();
            runtime.block_on(issuer.ready()).unwrap();
            issuer
        })
        .collect();
    let req: MintRequest =
        serde_json::from_value(json!({"user": "alice", "scope": "openid read:reports"})).unwrap();
    let rc = RequestCtx::new("http://h");
    let contexts: Vec<MintContext<'_>> = Profile::ALL
        .iter()
        .map(|p| MintContext {
            profile: *p,
            audience: Some(&audience),
            ..MintContext::new("https://issuer.local", &users)
        })
        .collect();
    let now = mock_idp::unix_now();

    // Warm-up: caches, allocator, CPU frequency.
    interleaved(2, batch.max(20), |i| {
        black_box(issuers[i].mint(&rc, black_box(&req)).unwrap());
    });
    println!(
        "{rounds} rounds x {batch} per profile, interleaved; {} profiles",
        Profile::ALL.len()
    );
    let claims = interleaved(rounds, batch * 20, |i| {
        black_box(claims::build(black_box(&req), &contexts[i], now).unwrap());
    });
    report("claims::build alone (the profile-dependent work)", &claims);
    let mints = interleaved(rounds, batch, |i| {
        black_box(issuers[i].mint(&rc, black_box(&req)).unwrap());
    });
    report(
        "Issuer::mint (claims + RS256 signature), one issuer per profile",
        &mints,
    );
}
