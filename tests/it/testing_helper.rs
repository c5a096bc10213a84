//! `mock_idp::testing::MockIdp` (cargo feature `testing`), used as its docs
//! say: start with settings, mint for a persona and a named issuer, verify
//! against the served JWKS with jsonwebtoken, stop on drop.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use mock_idp::testing::MockIdp;
use serde_json::json;

use crate::support::jwt::verify_with;
use crate::support::{Idp, client};

/// The public helper spoken to like every other server in these tests.
struct Over<'a> {
    idp: &'a MockIdp,
    client: reqwest::Client,
}

impl Idp for Over<'_> {
    fn base(&self) -> &str {
        self.idp.url()
    }

    fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

#[tokio::test]
async fn mock_idp_starts_mints_and_stops_on_drop() {
    let idp = MockIdp::builder()
        .personas("alice: {sub: user_alice, org_id: org_1, org_role: admin}")
        .audience("my-api")
        .start()
        .await
        .unwrap();
    assert!(idp.url().starts_with("http://127.0.0.1:"), "{}", idp.url());
    let http = Over {
        idp: &idp,
        client: client(),
    };
    let jwks: JwkSet = http.get_as(&idp.jwks_url()).await;
    let token = idp.token(json!({"user": "alice"})).await.unwrap();
    let (_, claims) = verify_with(&jwks, &token, Some("my-api")).unwrap();
    assert_eq!(claims["sub"], "user_alice");
    assert_eq!(claims["o"]["rol"], "admin");
    let discovery = http.get_json(&idp.discovery_url()).await;
    assert_eq!(discovery["jwks_uri"], idp.jwks_url());

    // A named issuer: its own key and iss.
    let named = idp
        .token_at(Some("partner"), json!({"sub": "svc"}))
        .await
        .unwrap();
    let partner: JwkSet = http.get_as("/partner/jwks").await;
    let (_, claims) = verify_with(&partner, &named, None).unwrap();
    assert_eq!(claims["iss"], format!("{}/partner", idp.url()));
    let e = idp
        .token(json!({"user": "mallory"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown user \"mallory\""), "{e}");
    let e = idp.token(json!({"nope": 1})).await.unwrap_err().to_string();
    assert!(e.contains("unknown field `nope`"), "{e}");

    // Stopped when dropped: the port stops answering.
    let url = idp.url().to_string();
    let http = http.client.clone();
    drop(idp);
    crate::support::poll::eventually(
        "the dropped MockIdp to stop",
        Duration::from_secs(5),
        || {
            let http = http.clone();
            let url = url.clone();
            async move {
                http.get(format!("{url}/health"))
                    .send()
                    .await
                    .is_err()
                    .then_some(())
            }
        },
    )
    .await;
    let idp = MockIdp::start().await.unwrap();
    idp.shutdown().await.unwrap();
}
