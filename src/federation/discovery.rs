//! Which peers to fetch this round: the static `PEERS` list plus, with
//! `PEERS_DNS=name:port`, one `http://ip:port` per address the name resolves
//! to right now (getaddrinfo via [`tokio::net::lookup_host`], so `/etc/hosts`
//! counts, and a Kubernetes headless Service gives one address per pod).
//! Also: recognising this replica's own address, so it is not fetched.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::config::PeerDns;

/// The peer base URL of a resolved address.
pub fn peer_url(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("http://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("http://[{}]:{}", a.ip(), a.port()),
    }
}

/// Resolves `dns` once, bounded by `timeout`; the sorted, deduplicated peer URLs.
pub async fn resolve(dns: &PeerDns, timeout: Duration) -> Result<Vec<String>, String> {
    let lookup = tokio::net::lookup_host((dns.host.as_str(), dns.port));
    let addrs = match tokio::time::timeout(timeout, lookup).await {
        Err(_) => {
            return Err(format!(
                "resolving {dns} (--peers-dns / PEERS_DNS) took longer than {} ms",
                timeout.as_millis()
            ));
        }
        Ok(Err(e)) => {
            return Err(format!(
                "cannot resolve {dns} (--peers-dns / PEERS_DNS): {e}"
            ));
        }
        Ok(Ok(addrs)) => addrs,
    };
    let urls: BTreeSet<String> = addrs.map(peer_url).collect();
    Ok(urls.into_iter().collect())
}

/// True when `url` names the address this replica listens on (`local`), so
/// fetching it would only return our own key. Only IP literals are judged
/// here; a host name is fetched, and recognised by the key it returns.
pub fn is_own_address(url: &str, local: SocketAddr) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let Some((host, port)) = authority.rsplit_once(':') else {
        // No port: 80, which we never are in a way worth guessing about.
        return false;
    };
    let Ok(port) = port.parse::<u16>() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let Ok(ip) = host.parse::<IpAddr>() else {
        return false;
    };
    if port != local.port() {
        return false;
    }
    let bound = local.ip();
    // Bound to a wildcard: every local address of that family reaches us,
    // loopback surely ("::" is dual-stack on Linux by default).
    ip == bound || (bound.is_unspecified() && ip.is_loopback() && (bound.is_ipv6() || ip.is_ipv4()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_urls_bracket_ipv6() {
        assert_eq!(
            peer_url("127.0.0.2:8081".parse().unwrap()),
            "http://127.0.0.2:8081"
        );
        assert_eq!(peer_url("[::1]:8081".parse().unwrap()), "http://[::1]:8081");
    }

    #[test]
    fn own_address_is_recognised() {
        let local: SocketAddr = "127.0.0.2:8081".parse().unwrap();
        let cases = [
            ("http://127.0.0.2:8081", true),
            ("http://127.0.0.2:8081/", true),
            ("http://127.0.0.3:8081", false),
            ("http://127.0.0.2:8082", false),
            ("http://localhost:8081", false),
            ("http://127.0.0.2", false),
            ("https://127.0.0.2:8081", false),
        ];
        for (url, want) in cases {
            assert_eq!(is_own_address(url, local), want, "{url}");
        }
        let wildcard: SocketAddr = "0.0.0.0:8081".parse().unwrap();
        assert!(is_own_address("http://127.0.0.1:8081", wildcard));
        assert!(
            !is_own_address("http://[::1]:8081", wildcard),
            "0.0.0.0 is IPv4 only"
        );
        let wildcard6: SocketAddr = "[::]:8081".parse().unwrap();
        assert!(is_own_address("http://[::1]:8081", wildcard6));
        assert!(is_own_address("http://127.0.0.1:8081", wildcard6));
        assert!(!is_own_address("http://10.1.2.3:8081", wildcard));
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        assert!(is_own_address("http://[::1]:9", v6));
    }

    #[tokio::test]
    async fn resolves_localhost_to_loopback_peers() {
        let dns = PeerDns {
            host: "localhost".into(),
            port: 8081,
        };
        let urls = resolve(&dns, Duration::from_secs(5)).await.unwrap();
        assert!(
            urls.iter()
                .any(|u| u == "http://127.0.0.1:8081" || u == "http://[::1]:8081"),
            "{urls:?}"
        );
        let dns = PeerDns {
            host: "no-such-host.invalid".into(),
            port: 1,
        };
        // Without a reachable DNS server this ends in our timeout: also an error.
        let err = resolve(&dns, Duration::from_secs(2)).await.unwrap_err();
        assert!(err.contains("PEERS_DNS"), "{err}");
    }
}
