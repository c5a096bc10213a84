//! The lifecycle API through the issuer core: claims, lifetimes,
//! validation, cascades, `/authorize`'s rules, and the worker driven by a
//! paused tokio clock and a frozen issuer clock (no sleeping). The store's
//! own rules are tested in [`super::store`].
//!
//! Test code only (declared `#[cfg(test)] mod tests;` in the parent, and
//! compiled for tests alone here too): its `unwrap`s never reach a build.
#![cfg(test)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::*;
use crate::claims::{Audience, Users};
use crate::clients::Clients;
use crate::issuer::clock::ClockSetting;
use crate::issuer::registry::{Registry, Template};
use crate::issuer::{Settings, testing};

const BASE: &str = "http://h:1";
const T0: i64 = 1_800_000_000;

fn settings(name: &str, renewal: RenewalSettings) -> Settings {
    let mut s = testing::settings(name, None);
    s.profile = Profile::JwtAuthService;
    s.audience = Some(Audience::One("api".into()));
    s.renewal = renewal;
    s
}

/// A ready `jwt-auth-service` issuer named `jas`, its clock frozen at T0.
fn jas() -> Arc<Issuer> {
    let issuer = Issuer::new(
        settings("jas", RenewalSettings::default()),
        Users::new(),
        Clients::new(),
    );
    issuer.prepare_key_blocking().unwrap();
    issuer.clock().set(ClockSetting::Frozen(T0));
    Arc::new(issuer)
}

fn rc() -> RequestCtx<'static> {
    RequestCtx::new(BASE)
}

fn req(user: &str) -> TokenRequest {
    TokenRequest {
        user_id: user.into(),
        ..TokenRequest::default()
    }
}

/// The claims of a token of `issuer`, verified with its own keys at T0.
fn claims(issuer: &Issuer, token: &str) -> Map<String, Value> {
    jwt::verify_at(token, &issuer.keys().merged(), Some("http://h:1/jas"), T0).unwrap()
}

fn names(c: &Map<String, Value>) -> BTreeSet<&str> {
    c.keys().map(String::as_str).collect()
}

fn set(list: &[&'static str]) -> BTreeSet<&'static str> {
    list.iter().copied().collect()
}

const SINGLE: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "jti",
    "network",
    "rate_limit",
    "user_id",
];

#[test]
fn single_tokens() {
    let issuer = jas();
    let t = issuer.lifecycle_token(&rc(), &req("alice")).unwrap();
    let c = claims(&issuer, &t.token);
    assert_eq!(names(&c), set(SINGLE));
    assert_eq!(c["iss"], "http://h:1/jas");
    assert_eq!(
        c["aud"],
        serde_json::json!(["api"]),
        "aud is always an array"
    );
    assert_eq!(
        (c["sub"].as_str(), c["user_id"].as_str()),
        (Some("user_alice"), Some("alice"))
    );
    assert_eq!(
        (c["network"].as_str(), c["rate_limit"].as_i64()),
        (Some("default"), Some(100))
    );
    assert_eq!(c["exp"].as_i64(), Some(T0 + 3600));
    assert_eq!(c["jti"].as_str(), Some(t.token_id.as_str()));
    assert_eq!(t.expires_at, crate::utc::rfc3339(T0 + 3600));

    let lifetime = |r: TokenRequest| {
        let t = issuer.lifecycle_token(&rc(), &r).unwrap();
        // Verified ten days before T0, so an expired token verifies too.
        let c = jwt::verify_at(&t.token, &issuer.keys().merged(), None, T0 - 10 * 86_400).unwrap();
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap()
    };
    let with = |f: fn(&mut TokenRequest)| {
        let mut r = req("bob");
        f(&mut r);
        r
    };
    assert_eq!(lifetime(with(|r| r.expiry_days = 2)), 2 * 86_400);
    assert_eq!(
        lifetime(with(|r| r.expiry_days = -1)),
        -86_400,
        "an expired token"
    );
    assert_eq!(
        lifetime(with(|r| {
            r.expiry_days = 2;
            r.expires_in = 120;
        })),
        120,
        "seconds win"
    );
    let t = issuer
        .lifecycle_token(
            &rc(),
            &with(|r| {
                r.rate_limit = 7;
                r.network = "mainnet".into();
            }),
        )
        .unwrap();
    let c = claims(&issuer, &t.token);
    assert_eq!(
        (c["network"].as_str(), c["rate_limit"].as_i64()),
        (Some("mainnet"), Some(7))
    );
}

#[test]
fn bad_requests_say_what_the_original_says() {
    let issuer = jas();
    let err = |r: Result<_, LifecycleError>| {
        let e = r.map(|_: ()| ()).unwrap_err();
        (e.status, e.error.into_owned(), e.message)
    };
    type Expected = (Status, String, Option<String>);
    let bad = |text: &str| (Status::BadRequest, text.to_string(), None);
    let cases: Vec<(&str, TokenRequest, bool, Expected)> = vec![
        ("no user", req(""), false, bad("user_id is required")),
        ("no user, pair", req(""), true, bad("user_id is required")),
        (
            "721 hours",
            TokenRequest {
                parent_expiry_hours: 721,
                ..req("u")
            },
            true,
            bad("parent_expiry_hours must be between 0 and 720"),
        ),
        (
            "-1 hours",
            TokenRequest {
                parent_expiry_hours: -1,
                ..req("u")
            },
            true,
            bad("parent_expiry_hours must be between 0 and 720"),
        ),
        (
            "parent seconds",
            TokenRequest {
                parent_expires_in: 2_592_001,
                ..req("u")
            },
            true,
            bad("parent_expires_in must be between 0 and 2592000"),
        ),
        (
            "child seconds",
            TokenRequest {
                child_expires_in: -5,
                ..req("u")
            },
            true,
            bad("child_expires_in must be between 0 and 2592000"),
        ),
        (
            "expires_in",
            TokenRequest {
                expires_in: 4_000_000_000,
                ..req("u")
            },
            false,
            bad("expires_in must be between -3155760000 and 3155760000"),
        ),
        (
            "expiry_days",
            TokenRequest {
                expiry_days: 40_000,
                ..req("u")
            },
            false,
            bad("expiry_days must be between -36525 and 36525"),
        ),
    ];
    for (what, r, pair, expected) in cases {
        let got = if pair {
            err(issuer.lifecycle_pair(&rc(), &r).map(|_| ()))
        } else {
            err(issuer.lifecycle_token(&rc(), &r).map(|_| ()))
        };
        assert_eq!(got, expected, "{what}");
    }
    assert_eq!(
        err(issuer.lifecycle_latest(Some("")).map(|_| ())).1,
        "parent_jti query parameter is required"
    );
    assert_eq!(
        err(issuer.lifecycle_subscribe(None).map(|_| ())).1,
        "parent_jti query parameter is required"
    );
    // Another profile has no lifecycle API.
    let plain = Issuer::new(testing::settings("p", None), Users::new(), Clients::new());
    assert_eq!(
        err(plain.lifecycle_token(&rc(), &req("u")).map(|_| ())).0,
        Status::NotFound
    );
    assert!(plain.lifecycle_gauges().is_none());
}

#[test]
fn pairs_children_and_renew() {
    let issuer = jas();
    let lc = issuer.lifecycle().unwrap();
    let pair = issuer
        .lifecycle_pair(
            &rc(),
            &TokenRequest {
                include_child: true,
                parent_expires_in: 600,
                child_expires_in: 900,
                network: "testnet".into(),
                ..req("alice")
            },
        )
        .unwrap();
    assert_eq!(
        (pair.parent_expiry, pair.child_expiry),
        (600, Some(600)),
        "child clamped"
    );
    let parent = claims(&issuer, &pair.parent_token);
    let child = claims(&issuer, pair.child_token.as_deref().unwrap());
    assert_eq!(parent["token_type"], "parent");
    assert_eq!(child["token_type"], "child");
    assert_eq!(child["parent_jti"].as_str(), Some(pair.parent_jti.as_str()));
    for k in ["iss", "aud", "sub", "user_id", "network", "rate_limit"] {
        assert_eq!(child[k], parent[k], "{k}");
    }
    let latest = issuer.lifecycle_latest(Some(&pair.parent_jti)).unwrap();
    assert_eq!(
        Some(latest.child_jti),
        pair.child_jti,
        "the included child is the latest"
    );

    // /renew: a child copied from the parent, the pair's child lifetime, not the latest.
    let no_child = issuer
        .lifecycle_pair(
            &rc(),
            &TokenRequest {
                child_expires_in: 60,
                ..req("bob")
            },
        )
        .unwrap();
    assert!(issuer.lifecycle_latest(Some(&no_child.parent_jti)).is_err());
    let renew = |token: &str| {
        issuer.lifecycle_renew(&RenewRequest {
            parent_token: token.into(),
        })
    };
    let renewed = renew(&no_child.parent_token).unwrap();
    let c = claims(&issuer, &renewed.token);
    assert_eq!(c["exp"].as_i64(), Some(T0 + 60));
    assert_eq!(c["parent_jti"].as_str(), Some(no_child.parent_jti.as_str()));
    assert!(
        issuer.lifecycle_latest(Some(&no_child.parent_jti)).is_err(),
        "not the latest"
    );

    let single = issuer.lifecycle_token(&rc(), &req("carol")).unwrap();
    let cases = [
        (
            single.token.as_str(),
            Status::BadRequest,
            "Token is not a parent token",
            Some("Expected token_type='parent', got ''"),
        ),
        (
            pair.child_token.as_deref().unwrap(),
            Status::BadRequest,
            "Token is not a parent token",
            Some("Expected token_type='parent', got 'child'"),
        ),
        ("", Status::BadRequest, "parent_token is required", None),
    ];
    for (token, status, error, message) in cases {
        let e = renew(token).unwrap_err();
        assert_eq!(
            (e.status, &*e.error, e.message.as_deref()),
            (status, error, message),
            "{token:.20}"
        );
    }
    let e = renew("garbage").unwrap_err();
    assert_eq!(
        (e.status, &*e.error),
        (Status::Unauthorized, "Invalid parent token")
    );
    assert!(e.message.unwrap().starts_with("failed to parse token: "));
    let other = jas();
    let foreign = other.lifecycle_pair(&rc(), &req("x")).unwrap();
    assert_eq!(
        renew(&foreign.parent_token).unwrap_err().status,
        Status::Unauthorized
    );

    issuer.lifecycle_revoke(&no_child.parent_jti).unwrap();
    assert_eq!(
        renew(&no_child.parent_token).unwrap_err(),
        LifecycleError::parent_revoked()
    );
    assert_eq!(lc.store().renewals(), 1, "only the live pair renews");
}

#[test]
fn authorize_rules() {
    let issuer = jas();
    let pair = issuer
        .lifecycle_pair(
            &rc(),
            &TokenRequest {
                include_child: true,
                ..req("alice")
            },
        )
        .unwrap();
    let child = pair.child_token.clone().unwrap();
    let bearer = format!("Bearer {child}");
    let lower = format!("bearer {child}");
    let upper = format!("BEARER   {child}  ");
    let ok: [(Option<&str>, Option<&str>); 5] = [
        (Some(&child), None),
        (None, Some(&bearer)),
        (None, Some(&lower)),
        (None, Some(&upper)),
        (Some(&child), Some("Basic Zm9vOmJhcg==")),
    ];
    for (autonity, authorization) in ok {
        assert_eq!(
            issuer.lifecycle_authorize(autonity, authorization),
            Ok(()),
            "{authorization:?}"
        );
    }
    let missing = "Missing token";
    let format = "Invalid Authorization header format";
    let denied: [(Option<&str>, Option<&str>, Status, &str); 9] = [
        (None, None, Status::Unauthorized, missing),
        (None, Some(""), Status::Unauthorized, missing),
        (None, Some("Bearer    "), Status::Unauthorized, missing),
        (None, Some("Bearer"), Status::Unauthorized, format),
        (
            None,
            Some("Basic Zm9vOmJhcg=="),
            Status::Unauthorized,
            format,
        ),
        (None, Some("Token abc"), Status::Unauthorized, format),
        (
            Some(" "),
            Some(&bearer),
            Status::Unauthorized,
            "Empty Autonity-Token header",
        ),
        (
            Some("x.y.z"),
            Some(&bearer),
            Status::Unauthorized,
            "Invalid JWT token",
        ),
        (
            None,
            Some("Bearer é"),
            Status::Unauthorized,
            "Invalid JWT token",
        ),
    ];
    for (autonity, authorization, status, error) in denied {
        let e = issuer
            .lifecycle_authorize(autonity, authorization)
            .unwrap_err();
        assert_eq!(
            (e.status, &*e.error),
            (status, error),
            "{autonity:?} {authorization:?}"
        );
    }
    // Revocations: the child itself, then its parent (cascade).
    issuer
        .lifecycle_revoke(pair.child_jti.as_deref().unwrap())
        .unwrap();
    assert_eq!(
        issuer.lifecycle_authorize(Some(&child), None),
        Err(LifecycleError::token_revoked())
    );
    let renewed = issuer
        .lifecycle_renew(&RenewRequest {
            parent_token: pair.parent_token.clone(),
        })
        .unwrap();
    assert_eq!(
        issuer.lifecycle_authorize(Some(&renewed.token), None),
        Ok(())
    );
    // The parent check alone (as for a child minted by another replica).
    issuer
        .spent()
        .spend(&pair.parent_jti, T0 + 100, T0)
        .unwrap();
    assert_eq!(
        issuer.lifecycle_authorize(Some(&renewed.token), None),
        Err(LifecycleError::parent_revoked())
    );
    assert!(
        issuer.verify_presented(&renewed.token).is_err(),
        "introspection agrees"
    );
}

#[test]
fn revoking_a_parent_or_a_user_reaches_every_token_at_once() {
    let issuer = jas();
    let pair = issuer
        .lifecycle_pair(
            &rc(),
            &TokenRequest {
                include_child: true,
                child_expires_in: 60,
                ..req("alice")
            },
        )
        .unwrap();
    let renewed = issuer
        .lifecycle_renew(&RenewRequest {
            parent_token: pair.parent_token.clone(),
        })
        .unwrap();
    let second = issuer.lifecycle_pair(&rc(), &req("alice")).unwrap();
    assert_eq!(
        issuer.lifecycle_tick(),
        1,
        "the second pair gets its first child"
    );
    let worker_child = issuer.lifecycle_latest(Some(&second.parent_jti)).unwrap();
    let single = issuer.lifecycle_token(&rc(), &req("alice")).unwrap();
    let bystander = issuer.lifecycle_token(&rc(), &req("bob")).unwrap();
    let live = |t: &str| issuer.verify_presented(t).is_ok();

    issuer.lifecycle_revoke(&pair.parent_jti).unwrap();
    for t in [
        &pair.parent_token,
        pair.child_token.as_ref().unwrap(),
        &renewed.token,
    ] {
        assert!(!live(t));
    }
    assert!(live(&second.parent_token) && live(&worker_child.child_token) && live(&single.token));
    let gauges = issuer.lifecycle_gauges().unwrap();
    assert_eq!((gauges.parents.len(), gauges.revoked), (1, 3));

    issuer.lifecycle_revoke_user("alice").unwrap();
    for t in [
        &second.parent_token,
        &worker_child.child_token,
        &single.token,
    ] {
        assert!(!live(t));
    }
    assert!(live(&bystander.token), "another user's token stays");
    assert_eq!(issuer.lifecycle_tick(), 0, "no renewal for revoked parents");
    let gauges = issuer.lifecycle_gauges().unwrap();
    assert_eq!((gauges.parents.len(), gauges.revoked), (0, 6));
    let later = issuer.lifecycle_token(&rc(), &req("alice")).unwrap();
    assert!(live(&later.token), "issued after the revocation");
}

#[test]
fn a_full_index_refuses_new_tokens_instead_of_forgetting() {
    let mut s = settings("jas", RenewalSettings::default());
    s.replay_capacity = 2;
    let issuer = Issuer::new(s, Users::new(), Clients::new());
    issuer.prepare_key_blocking().unwrap();
    issuer.clock().set(ClockSetting::Frozen(T0));
    issuer.lifecycle_token(&rc(), &req("a")).unwrap();
    issuer.lifecycle_token(&rc(), &req("a")).unwrap();
    let e = issuer.lifecycle_token(&rc(), &req("a")).unwrap_err();
    assert_eq!(
        (e.status, &*e.error),
        (Status::Unavailable, "Token store is full")
    );
    issuer.clock().set(ClockSetting::Frozen(T0 + 3600));
    issuer.lifecycle_token(&rc(), &req("a")).unwrap();
}

/// The worker of a server with a paused tokio clock: the issuer's clock is
/// frozen and moved by hand in step with it, so renewal timing is exact.
#[tokio::test(start_paused = true)]
async fn the_worker_renews_on_schedule_and_stops_with_the_parent() {
    let renewal = RenewalSettings {
        threshold_sec: 3,
        interval_sec: 1,
    };
    let issuer = Issuer::new(settings("jas", renewal), Users::new(), Clients::new());
    issuer.prepare_key_blocking().unwrap();
    issuer.clock().set(ClockSetting::Frozen(T0));
    let template = Template {
        settings: testing::settings("", Some("https://root")),
        users: Users::new(),
        clients: Clients::new(),
        keys_dir: None,
    };
    let root = Issuer::new(template.settings.clone(), Users::new(), Clients::new());
    let registry = Arc::new(Registry::new(root, vec![issuer], template, false));
    let jas = registry.find("jas").unwrap();
    let pair = jas
        .lifecycle_pair(
            &rc(),
            &TokenRequest {
                parent_expires_in: 12,
                child_expires_in: 5,
                ..req("alice")
            },
        )
        .unwrap();
    let mut sub = jas.lifecycle_subscribe(Some(&pair.parent_jti)).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(worker::run(Arc::clone(&registry), stop_rx));

    // Second by second: (iat, exp) of the current child as the worker leaves it.
    let mut seen = Vec::new();
    for t in 0..=13 {
        jas.clock().set(ClockSetting::Frozen(T0 + t));
        // The worker runs at 0, 1, 2, ... s of tokio's (paused) time.
        tokio::time::sleep(Duration::from_millis(if t == 0 { 10 } else { 1000 })).await;
        let view = sub.receiver().borrow().clone();
        seen.push((t, view.latest.map(|l| (l.iat - T0, l.exp - T0)), view.end));
    }
    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(1), task)
        .await
        .unwrap()
        .unwrap();

    let children: BTreeSet<(i64, i64)> = seen.iter().filter_map(|(_, l, _)| *l).collect();
    // A child at once (0..5), renewed when 3 s are left (at 2: 2..7, at 4:
    // 4..9, ...), clamped to the parent's exp (12), none after it.
    assert_eq!(
        children.into_iter().collect::<Vec<_>>(),
        [(0, 5), (2, 7), (4, 9), (6, 11), (8, 12)],
        "{seen:?}"
    );
    for (t, latest, end) in &seen {
        if let Some((_, exp)) = latest {
            assert!(t < exp, "at {t} s the latest child had expired: {seen:?}");
        }
        assert_eq!(end.is_some(), *t >= 12, "at {t} s: {seen:?}");
    }
    assert_eq!(seen.last().unwrap().2, Some(store::End::Expired));
    let gauges = jas.lifecycle_gauges().unwrap();
    assert_eq!((gauges.parents.len(), gauges.streams), (0, 1));
    drop(sub);
    assert_eq!(jas.lifecycle_gauges().unwrap().streams, 0);
    assert_eq!(
        jas.lifecycle().unwrap().store().channels(),
        0,
        "freed with the subscriber"
    );
}
