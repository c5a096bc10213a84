//! Key federation (issue 3), end to end.
//!
//! - `three_replicas_share_keys_survive_a_crash_and_a_restart`: three real
//!   `mock-idp` processes; cross-verification with an independent verifier,
//!   dedup, retention after a crash, key ageing, restart; prints the time a
//!   new replica's key takes to appear on its peers.
//! - `bad_peers_never_stall_or_poison_the_jwks`: hanging, 500, garbage,
//!   EC/1024-bit keys, redirect loop, oversized answer.
//! - `dns_discovery_with_localhost`: PEERS_DNS through the real resolver.
//! - `peer_tokens_verify_with_our_own_verifier`: mock-idp's own verifier
//!   (`jwt::verify`) uses the merged set.
//! - `shutdown_stops_the_refresher_mid_fetch`: `server::run` ends promptly and
//!   awaits the refresher even while a peer fetch hangs.
//!
//! The network-namespace DNS test with several addresses is in
//! `federation_dns` (run by `scripts/ci/federation.sh`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::support::jwt::{self, verify_with};
use crate::support::poll::eventually;
use crate::support::process::{Federation, Server};
use crate::support::{Idp, peer, spawn_app, test_config, unix_now};

fn count(kids: &[String]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for kid in kids {
        *counts.entry(kid.as_str()).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_keys_survive_a_crash_and_a_restart() {
    const TTL: i64 = 4;
    const REFRESH: Duration = Duration::from_secs(1);
    let federation = Federation::new(&["a", "b", "c"]);
    let urls = &federation.urls;
    let start = |i: usize| {
        // Every replica lists all three, itself included (self-skip is exercised).
        federation
            .replica(i)
            .env("TOKEN_TTL", TTL.to_string())
            .env("PEER_REFRESH_SEC", REFRESH.as_secs().to_string())
            .env("PEER_TIMEOUT_MS", "500")
            .start()
    };
    let mut replicas: Vec<Server> = (0..3).map(start).collect();
    for (r, url) in replicas.iter().zip(urls) {
        assert_eq!(&r.base, url, "startup line of {}", r.name);
    }

    // Convergence: every merged set holds all three kids exactly once.
    let mut own = Vec::new();
    for r in &replicas {
        let doc = r.get_json("/cluster").await;
        let kid = doc["own_kids"][0].as_str().unwrap().to_string();
        assert!(
            kid.starts_with(&format!("{}-", r.name)),
            "INSTANCE_ID prefixes {kid}"
        );
        own.push(kid);
    }
    for (i, r) in replicas.iter().enumerate() {
        let kids = eventually(
            &format!("{} serves all three kids", r.name),
            Duration::from_secs(10),
            || async {
                let kids = r.served_kids().await;
                (kids.len() >= 3).then_some(kids)
            },
        )
        .await;
        let counts = count(&kids);
        assert_eq!(kids.len(), 3, "{}: {kids:?}", r.name);
        for kid in &own {
            assert_eq!(
                counts.get(kid.as_str()),
                Some(&1),
                "{}: {kid} once in {kids:?}",
                r.name
            );
        }
        assert_eq!(kids[0], own[i], "own key first");
    }

    // A token minted by any replica verifies with every replica's JWKS
    // (jsonwebtoken, not our code).
    for minter in &replicas {
        let sub = format!("user_{}", minter.name);
        let token = minter.token(json!({"sub": sub})).await;
        for verifier in &replicas {
            let (header, claims) = verify_with(&verifier.jwks().await, &token, None)
                .unwrap_or_else(|e| {
                    panic!(
                        "token of {} rejected by {}'s JWKS: {e}",
                        minter.name, verifier.name
                    )
                });
            assert_eq!(header.kid, Some(jwt::kid(&token)));
            assert_eq!(claims["sub"], sub);
        }
    }

    // /health: status ok, self recognised, the two others up.
    let health = replicas[0].get_json("/health").await;
    assert_eq!(health["status"], "ok");
    assert_eq!(
        peer(&health, &urls[0]).unwrap()["state"],
        "self",
        "{health}"
    );
    for url in &urls[1..] {
        let p = peer(&health, url).unwrap();
        assert_eq!(p["state"], "up", "{health}");
        assert_eq!(p["key_count"], 1, "{health}");
        assert!(p["last_success"].as_i64().is_some(), "{health}");
    }

    // Crash B right after it minted a token.
    let token_b = replicas[1].token(json!({"sub": "user_b"})).await;
    let kid_b = jwt::kid(&token_b);
    let exp_b = jwt::peek(&token_b)["exp"].as_i64().unwrap();
    replicas[1].kill();
    let crashed = Instant::now();
    let survivors = [0usize, 2];
    for &i in &survivors {
        let r = &replicas[i];
        eventually(
            &format!("{} sees b down", r.name),
            Duration::from_secs(5),
            || async {
                let h = r.get_json("/health").await;
                let p = peer(&h, &urls[1])?;
                (p["state"] == "down" && p["last_error"].as_str().is_some()).then_some(())
            },
        )
        .await;
    }
    // B's token keeps verifying on A and C for its whole lifetime.
    let mut checks = 0;
    while unix_now() < exp_b as f64 - 0.3 {
        for &i in &survivors {
            let set = replicas[i].jwks().await;
            verify_with(&set, &token_b, None).unwrap_or_else(|e| {
                panic!(
                    "b's token (exp {exp_b}) rejected by {} at {:.2}: {e}",
                    replicas[i].name,
                    unix_now()
                )
            });
        }
        checks += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        checks > 3,
        "b's token was checked {checks} times before it expired"
    );
    // Then B's key ages out (retention: TTL + refresh + timeout = 6 s after the last fetch).
    for &i in &survivors {
        let r = &replicas[i];
        eventually(
            &format!("b's key gone from {}", r.name),
            Duration::from_secs(12),
            || async { (!r.served_kids().await.contains(&kid_b)).then_some(()) },
        )
        .await;
        assert_eq!(r.served_kids().await.len(), 2, "{}", r.name);
    }
    let dropped_after = crashed.elapsed();

    // Restart B on the same address: a new key, on A and C within about one refresh.
    replicas[1] = start(1);
    let restarted = replicas[1].started;
    let kid_b2 = replicas[1].get_json("/cluster").await["own_kids"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(kid_b2, kid_b, "a restarted in-memory replica has a new key");
    let mut appear = Vec::new();
    for &i in &survivors {
        let r = &replicas[i];
        eventually(
            &format!("b's new key on {}", r.name),
            Duration::from_secs(5),
            || async { r.served_kids().await.contains(&kid_b2).then_some(()) },
        )
        .await;
        appear.push((r.name.clone(), restarted.elapsed()));
    }
    let slowest = appear.iter().map(|(_, d)| *d).max().unwrap();
    println!(
        "federation: new replica key appeared on its peers after {:?} (slowest {:?}; refresh \
         interval {REFRESH:?}); crashed replica's key dropped {dropped_after:?} after the crash",
        appear, slowest
    );
    assert!(
        slowest <= REFRESH + Duration::from_millis(1500),
        "new key took {slowest:?}, more than one refresh interval ({REFRESH:?}) plus a fetch"
    );
    let token_b2 = replicas[1].token(json!({"sub": "user_b2"})).await;
    for &i in &survivors {
        let r = &replicas[i];
        verify_with(&r.jwks().await, &token_b2, None).unwrap();
        eventually("b up again", Duration::from_secs(3), || async {
            let h = r.get_json("/health").await;
            (peer(&h, &urls[1])?["state"] == "up").then_some(())
        })
        .await;
    }
    // And the restarted B serves everyone's keys, each once.
    let b = &replicas[1];
    let kids = eventually(
        "b serves all three kids",
        Duration::from_secs(5),
        || async {
            let kids = b.served_kids().await;
            (kids.len() >= 3).then_some(kids)
        },
    )
    .await;
    assert_eq!(count(&kids).len(), 3, "{kids:?}");
    assert!(kids.contains(&own[0]) && kids.contains(&own[2]) && kids.contains(&kid_b2));
}

/// A peer that accepts connections and never answers; the counter says how
/// many connections it has accepted.
async fn hanging_peer() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (base, accepted)
}

/// Waits until `peer` has accepted a connection: a fetch from it is in flight.
async fn fetch_in_flight(peer: &AtomicUsize) {
    eventually(
        "the hanging peer is being fetched",
        Duration::from_secs(5),
        || async { (peer.load(Ordering::SeqCst) > 0).then_some(()) },
    )
    .await;
}

/// A peer serving `router`.
async fn fake_peer(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

/// A peer answering `/cluster/keys` with `jwks` as its root issuer's keys.
fn json_peer(jwks: Value) -> Router {
    let body = json!({"issuers": {"": jwks}}).to_string();
    Router::new().route(
        "/cluster/keys",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_peers_never_stall_or_poison_the_jwks() {
    let good = spawn_app(test_config()).await;
    let good_kid = good.own_kid().await;
    let (hang, hang_accepted) = hanging_peer().await;
    let five_hundred = fake_peer(Router::new().route(
        "/cluster/keys",
        get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
    ))
    .await;
    let not_json = fake_peer(Router::new().route(
        "/cluster/keys",
        get(|| async { "{\"keys\": [ this is not json" }),
    ))
    .await;
    let bad_keys = fake_peer(json_peer(json!({"keys": [
        // An EC key with a point of the wrong size (EC keys are fine, this one is not).
        {"kty": "EC", "kid": "ec-key", "crv": "P-256", "alg": "ES256",
         "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
         "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0AAAA"},
        {"kty": "RSA", "kid": "rsa-1024", "alg": "RS256", "use": "sig",
         "n": URL_SAFE_NO_PAD.encode([0xc3; 128]), "e": "AQAB"},
    ]})))
    .await;
    let mixed = fake_peer(json_peer(json!({"keys": [
        {"kty": "RSA", "kid": "mixed-good", "alg": "RS256", "use": "sig",
         "n": URL_SAFE_NO_PAD.encode([0xa5; 256]), "e": "AQAB"},
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
    ]})))
    .await;
    let redirect_loop = fake_peer(Router::new().route(
        "/cluster/keys",
        get(|| async {
            (StatusCode::FOUND, [(header::LOCATION, "/cluster/keys")]).into_response()
        }),
    ))
    .await;
    let huge = fake_peer(Router::new().route(
        "/cluster/keys",
        get(|| async { format!("{{\"keys\": [], \"pad\": \"{}\"}}", "x".repeat(5 << 20)) }),
    ))
    .await;

    let timeout = Duration::from_millis(2000);
    let mut config = test_config();
    config.peers = vec![
        good.base.clone(),
        hang.clone(),
        five_hundred.clone(),
        not_json.clone(),
        bad_keys.clone(),
        mixed.clone(),
        redirect_loop.clone(),
        huge.clone(),
    ];
    config.peer_timeout = timeout;
    let app = spawn_app(config).await;
    let own_kid = app.own_kid().await;

    // While the hanging fetch is in flight (from its connection until just
    // before its timeout), the JWKS answers promptly, every time.
    fetch_in_flight(&hang_accepted).await;
    assert_eq!(
        app.federation_rounds().await,
        0,
        "the first round is in flight"
    );
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut requests = 0;
    while started.elapsed() < timeout - Duration::from_millis(300) {
        let t = Instant::now();
        let res = app
            .client
            .get(app.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        slowest = slowest.max(t.elapsed());
        requests += 1;
        let kids: Vec<&str> = body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert!(kids.contains(&own_kid.as_str()), "own key served: {kids:?}");
        for bad in ["ec-key", "rsa-1024", "hmac"] {
            assert!(!kids.contains(&bad), "garbage key {bad} served: {kids:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "federation: JWKS during hanging peer fetch: {requests} requests, slowest {slowest:?}"
    );
    assert!(
        requests > 5,
        "only {requests} JWKS requests during the hang"
    );
    // Waiting for the hanging fetch would take the whole timeout; a loaded
    // CI machine may add some hundreds of ms to a request, never that.
    assert!(
        slowest < timeout / 2,
        "JWKS took {slowest:?} while a peer fetch hangs for {timeout:?}"
    );

    // After the round: the hanging peer is down with a timeout, each bad peer
    // down with its reason, the good ones up.
    let health = eventually(
        "hanging peer reported down",
        Duration::from_secs(6),
        || async {
            let h = app.get_json("/health").await;
            (peer(&h, &hang)?["state"] == "down").then_some(h)
        },
    )
    .await;
    assert_eq!(health["status"], "ok");
    let expect_down = [
        (&hang, "no answer within 2000 ms"),
        (&five_hundred, "HTTP 500"),
        (&not_json, "not JSON"),
        (&bad_keys, "key ec-key: y is not 32 bytes"),
        (&bad_keys, "1024 bits"),
        (&redirect_loop, "redirects are not followed"),
        (&huge, "larger than 4194304 bytes"),
    ];
    for (url, reason) in expect_down {
        let p = peer(&health, url).unwrap_or_else(|| panic!("{url} missing: {health}"));
        assert_eq!(p["state"], "down", "{url}: {p}");
        let error = p["last_error"].as_str().unwrap_or_default();
        assert!(
            error.contains(reason),
            "{url}: {error:?} should mention {reason:?}"
        );
        assert_eq!(p["key_count"], 0, "{url}: {p}");
    }
    let p = peer(&health, &good.base).unwrap();
    assert_eq!(
        (p["state"].as_str(), p["key_count"].as_i64()),
        (Some("up"), Some(1)),
        "{p}"
    );
    let p = peer(&health, &mixed).unwrap();
    assert_eq!(p["state"], "up", "{p}");
    assert!(
        p["rejected_keys"][0]
            .as_str()
            .unwrap()
            .contains("kty is \"oct\""),
        "{p}"
    );

    // Served: own + the good peer + the mixed peer's good key, nothing else.
    let mut kids = app.served_kids().await;
    kids.sort();
    let mut want = vec![own_kid.clone(), good_kid.clone(), "mixed-good".to_string()];
    want.sort();
    assert_eq!(kids, want);
    // The same on every JWKS path; the local view stays own-only.
    for path in ["/certs", "/api/pkeys"] {
        let doc = app.get_json(path).await;
        assert_eq!(doc["keys"].as_array().unwrap().len(), 3, "{path}");
    }
    let local = app.get_json("/api/pkeys?local=true").await;
    assert_eq!(local["keys"].as_array().unwrap().len(), 1);
    assert_eq!(local["keys"][0]["kid"], own_kid.as_str());

    let cluster = app.get_json("/cluster").await;
    assert_eq!(cluster["enabled"], true);
    assert_eq!(cluster["peers_up"], 2, "{cluster}");
    assert_eq!(cluster["peers_down"], 6, "{cluster}");
    assert_eq!(cluster["timeout_ms"], 2000);

    // The good peer's token verifies against this replica's JWKS.
    let token = good.token(json!({"sub": "from_good"})).await;
    let (_, claims) = app.verify(&token).await.unwrap();
    assert_eq!(claims["sub"], "from_good");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_discovery_with_localhost() {
    let peer_app = spawn_app(test_config()).await;
    let peer_kid = peer_app.own_kid().await;
    let mut config = test_config();
    config.peers_dns = Some(mock_idp::config::PeerDns {
        host: "localhost".into(),
        port: peer_app.addr.port(),
    });
    config.peer_timeout = Duration::from_millis(500);
    let app = spawn_app(config).await;
    eventually(
        "peer key found through PEERS_DNS=localhost",
        Duration::from_secs(5),
        || async { app.served_kids().await.contains(&peer_kid).then_some(()) },
    )
    .await;
    let cluster = app.get_json("/cluster").await;
    let url = format!("http://127.0.0.1:{}", peer_app.addr.port());
    assert_eq!(peer(&cluster, &url).unwrap()["state"], "up", "{cluster}");
    assert_eq!(
        cluster["dns_name"],
        format!("localhost:{}", peer_app.addr.port()),
        "{cluster}"
    );
}

#[tokio::test]
async fn peer_tokens_verify_with_our_own_verifier() {
    let b = spawn_app(test_config()).await;
    let mut config = test_config();
    config.peers = vec![b.base.clone()];
    config.peer_timeout = Duration::from_millis(500);
    let a = spawn_app(config).await;
    let kid_b = b.own_kid().await;
    eventually("b's key on a", Duration::from_secs(5), || async {
        a.served_kids().await.contains(&kid_b).then_some(())
    })
    .await;
    let token = b.token(json!({"sub": "from_b"})).await;
    let claims = a.crate_verify(&token, true).unwrap();
    assert_eq!(claims["sub"], "from_b");
    // Without federation it would be unknown: the local set alone does not verify it.
    assert!(a.crate_verify(&token, false).is_err());
}

#[tokio::test]
async fn without_peers_health_and_cluster_stay_minimal() {
    let app = spawn_app(test_config()).await;
    assert_eq!(app.get_json("/health").await, json!({"status": "ok"}));
    let cluster = app.get_json("/cluster").await;
    assert_eq!(cluster["enabled"], false);
    assert_eq!(cluster["own_kids"], cluster["served_kids"]);
}

#[tokio::test]
async fn shutdown_stops_the_refresher_mid_fetch() {
    let (hang, accepted) = hanging_peer().await;
    let mut config = test_config();
    config.peers = vec![hang];
    config.peer_timeout = Duration::from_secs(30);
    let app = spawn_app(config).await;
    // The first round is under way (and would hang for 30 s).
    fetch_in_flight(&accepted).await;
    assert_eq!(
        app.federation_rounds().await,
        0,
        "the round is still in flight"
    );
    let t = Instant::now();
    // run() returns only after the refresher task has ended.
    app.shutdown(Duration::from_secs(2)).await;
    assert!(t.elapsed() < Duration::from_secs(2));
}
