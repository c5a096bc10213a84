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

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use serde_json::json;

use crate::support::jwt::verify_with;
use crate::support::poll::eventually;
use crate::support::process::{Server, mock_idp};
use crate::support::{Idp, peer};

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

    let names = ["dns-a", "dns-b", "dns-c", "dns-d"];
    let urls: Vec<String> = addrs.iter().map(|a| format!("http://{a}:{port}")).collect();
    let start = |i: usize| {
        mock_idp(names[i])
            .env("HOST", addrs[i].to_string())
            .env("PORT", port.to_string())
            .env("PEERS_DNS", format!("{name}:{port}"))
            .env("INSTANCE_ID", names[i])
            .env("PEER_REFRESH_SEC", REFRESH.as_secs().to_string())
            .env("PEER_TIMEOUT_MS", "500")
            .start()
    };
    let mut replicas: Vec<Server> = (0..3).map(start).collect();

    let mut own = Vec::new();
    for r in &replicas {
        own.push(r.own_kid().await);
    }
    for (i, r) in replicas.iter().enumerate() {
        let kids = eventually(
            &format!("{} serves the three kids", r.name),
            Duration::from_secs(10),
            || async {
                let kids = r.served_kids().await;
                own.iter().all(|k| kids.contains(k)).then_some(kids)
            },
        )
        .await;
        assert_eq!(kids.len(), 3, "{}: each kid exactly once: {kids:?}", r.name);
        assert_eq!(kids[0], own[i]);

        let cluster = r.get_json("/cluster").await;
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
    let token = replicas[0].token(json!({"sub": "user_dns"})).await;
    for r in &replicas[1..] {
        verify_with(&r.jwks().await, &token, None)
            .unwrap_or_else(|e| panic!("dns-a's token rejected by {}: {e}", r.name));
    }

    // A fourth replica behind the same name joins: its key shows up everywhere.
    replicas.push(start(3));
    let joined = replicas[3].started;
    let kid_d = replicas[3].own_kid().await;
    let mut appear = Vec::new();
    for r in &replicas[..3] {
        eventually(
            &format!("dns-d's key on {}", r.name),
            Duration::from_secs(5),
            || async { r.served_kids().await.contains(&kid_d).then_some(()) },
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
    let d = &replicas[3];
    let kids = eventually(
        "dns-d serves all four kids",
        Duration::from_secs(5),
        || async {
            let kids = d.served_kids().await;
            (kids.len() >= 4).then_some(kids)
        },
    )
    .await;
    assert_eq!(kids.iter().collect::<BTreeSet<_>>().len(), 4, "{kids:?}");
}
