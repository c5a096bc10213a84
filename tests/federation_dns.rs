//! DNS discovery for real: replicas on distinct loopback addresses and one
//! name resolving (getaddrinfo, `/etc/hosts`) to all of them.
//!
//! Ignored by default: it needs a name that resolves to several 127.0.0.x
//! addresses, which `scripts/ci/federation.sh` provides with a network
//! namespace (`ip netns exec` bind-mounts `/etc/netns/<ns>/hosts` over
//! `/etc/hosts` inside it; the real `/etc/hosts` is never touched). It reads:
//! - `MOCK_IDP_DNS_NAME`: the name (e.g. `mockidp-peers.test`);
//! - `MOCK_IDP_DNS_ADDRS`: the addresses it resolves to, comma-separated,
//!   at least four (three replicas at start, the last one joins later);
//! - `MOCK_IDP_DNS_PORT`: the port every replica listens on (default 8081).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/replica.rs"]
mod replica;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use common::verify_with;
use replica::{Replica, client, eventually, get_json, jwks, mint, peer, served_kids};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a name resolving to several loopback addresses: run scripts/ci/federation.sh"]
async fn dns_discovery_across_loopback_addresses() {
    const REFRESH: Duration = Duration::from_secs(1);
    let name = std::env::var("MOCK_IDP_DNS_NAME")
        .expect("MOCK_IDP_DNS_NAME unset: run this test through scripts/ci/federation.sh");
    let addrs: Vec<IpAddr> = std::env::var("MOCK_IDP_DNS_ADDRS")
        .expect("MOCK_IDP_DNS_ADDRS unset")
        .split(',')
        .map(|a| a.trim().parse().unwrap())
        .collect();
    assert!(addrs.len() >= 4, "MOCK_IDP_DNS_ADDRS needs four addresses");
    let port: u16 = std::env::var("MOCK_IDP_DNS_PORT")
        .map(|p| p.parse().unwrap())
        .unwrap_or(8081);
    for a in &addrs {
        assert!(a.is_loopback(), "only loopback targets: {a}");
    }

    // Precondition: the resolver really returns every address for the name.
    let resolved: BTreeSet<IpAddr> = tokio::net::lookup_host((name.as_str(), port))
        .await
        .unwrap_or_else(|e| panic!("{name} does not resolve here: {e}"))
        .map(|a| a.ip())
        .collect();
    assert_eq!(
        resolved,
        addrs.iter().copied().collect(),
        "{name} must resolve to exactly MOCK_IDP_DNS_ADDRS"
    );

    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let names = ["dns-a", "dns-b", "dns-c", "dns-d"];
    let urls: Vec<String> = addrs.iter().map(|a| format!("http://{a}:{port}")).collect();
    let start = |i: usize| {
        Replica::start(
            names[i],
            &addrs[i].to_string(),
            port,
            &[
                ("PEERS_DNS", format!("{name}:{port}")),
                ("INSTANCE_ID", names[i].to_string()),
                ("PEER_REFRESH_SEC", REFRESH.as_secs().to_string()),
                ("PEER_TIMEOUT_MS", "500".to_string()),
            ],
            dir.path(),
        )
    };
    let mut replicas: Vec<Replica> = (0..3).map(start).collect();

    let own_kid = |doc: &serde_json::Value| doc["own_kids"][0].as_str().unwrap().to_string();
    let mut own = Vec::new();
    for r in &replicas {
        own.push(own_kid(&get_json(&http, &r.url("/cluster")).await));
    }
    for (i, r) in replicas.iter().enumerate() {
        let (http, r, own) = (&http, r, &own);
        let kids = eventually(
            &format!("{} serves the three kids", r.name),
            Duration::from_secs(10),
            move || async move {
                let kids = served_kids(http, &r.base).await;
                own.iter().all(|k| kids.contains(k)).then_some(kids)
            },
        )
        .await;
        assert_eq!(kids.len(), 3, "{}: each kid exactly once: {kids:?}", r.name);
        assert_eq!(kids[0], own[i]);

        let cluster = get_json(http, &r.url("/cluster")).await;
        assert_eq!(cluster["dns_name"], format!("{name}:{port}"));
        for (j, url) in urls.iter().enumerate() {
            let p = peer(&cluster, url).unwrap_or_else(|| panic!("{url} not listed: {cluster}"));
            let want = match j {
                _ if j == i => "self",
                3 => "down",
                _ => "up",
            };
            assert_eq!(p["state"], want, "{} about {url}: {p}", r.name);
        }
    }

    // A token from one replica verifies with the others' JWKS.
    let (token, _, _) = mint(&http, &replicas[0].base, "user_dns").await;
    for r in &replicas[1..] {
        let set = jwks(&http, &r.base).await;
        verify_with(&set, &token, None)
            .unwrap_or_else(|e| panic!("dns-a's token rejected by {}: {e}", r.name));
    }

    // A fourth replica behind the same name joins: its key shows up everywhere.
    replicas.push(start(3));
    let joined = replicas[3].started;
    let kid_d = own_kid(&get_json(&http, &replicas[3].url("/cluster")).await);
    let mut appear = Vec::new();
    for r in &replicas[..3] {
        let (http, r, kid_d) = (&http, r, &kid_d);
        eventually(
            &format!("dns-d's key on {}", r.name),
            Duration::from_secs(5),
            move || async move {
                served_kids(http, &r.base)
                    .await
                    .contains(kid_d)
                    .then_some(())
            },
        )
        .await;
        appear.push((r.name.clone(), joined.elapsed()));
    }
    let slowest = appear.iter().map(|(_, d)| *d).max().unwrap();
    println!(
        "federation (DNS): new replica key appeared on its peers after {appear:?} (slowest \
         {slowest:?}; refresh interval {REFRESH:?})"
    );
    assert!(
        slowest <= REFRESH + Duration::from_millis(1500),
        "{slowest:?}"
    );
    let (http, d) = (&http, &replicas[3]);
    let kids = eventually(
        "dns-d serves all four kids",
        Duration::from_secs(5),
        move || async move {
            let kids = served_kids(http, &d.base).await;
            (kids.len() >= 4).then_some(kids)
        },
    )
    .await;
    assert_eq!(kids.iter().collect::<BTreeSet<_>>().len(), 4, "{kids:?}");
}
