//! The test-author toolkit's token side: every algorithm verified by an
//! independent verifier (jsonwebtoken) against the served JWKS, keys
//! published only once used, HS256 never published, token variants that fail
//! for exactly their reason while the control passes, `typ: at+jwt`, and the
//! key rotation drill with a caching resource server.

use std::collections::BTreeMap;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mock_idp::config::{Config, NamedIssuer};
use mock_idp::issuer::Secret;
use mock_idp::keys::Alg;
use serde_json::{Value, json};

use crate::support::jwt::{Claims, header, peek};
use crate::support::oauth::{open_config, token};
use crate::support::poll::eventually;
use crate::support::{Idp, spawn_app, test_config};

const SECRET: &str = "hs256-test-secret-not-for-production";

fn config() -> Config {
    let mut issuers = BTreeMap::new();
    issuers.insert(
        "ec".to_string(),
        NamedIssuer {
            alg: Some(Alg::ES256),
            ..Default::default()
        },
    );
    Config {
        hs256_secret: Some(Secret(SECRET.into())),
        audience: Some(mock_idp::claims::Audience::One("api".into())),
        issuers,
        ..test_config()
    }
}

/// Verifies with the JWK the header's kid names, for the header's alg.
fn verify(
    jwks: &JwkSet,
    token: &str,
    v: impl FnOnce(&mut Validation),
) -> Result<Claims, ErrorKind> {
    let h = jsonwebtoken::decode_header(token).map_err(|e| e.into_kind())?;
    let kid = h.kid.ok_or(ErrorKind::InvalidToken)?;
    let jwk = jwks.find(&kid).ok_or(ErrorKind::InvalidKeyFormat)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.into_kind())?;
    let mut validation = Validation::new(h.alg);
    validation.leeway = 0;
    validation.set_audience(&["api"]);
    validation.set_issuer(&["https://issuer.local"]);
    validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
    v(&mut validation);
    jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| e.into_kind())
}

#[tokio::test]
async fn every_algorithm_verifies_and_keys_appear_only_once_used() {
    let app = spawn_app(config()).await;
    let initial: JwkSet = app.get_as("/.well-known/jwks.json").await;
    assert_eq!(
        initial.keys.len(),
        1,
        "only the RS256 key before other algorithms are used"
    );
    let expect: [(&str, &str, Option<&str>); 9] = [
        ("RS256", "RSA", None),
        ("RS384", "RSA", None),
        ("RS512", "RSA", None),
        ("PS256", "RSA", None),
        ("PS384", "RSA", None),
        ("PS512", "RSA", None),
        ("ES256", "EC", Some("P-256")),
        ("ES384", "EC", Some("P-384")),
        ("EdDSA", "OKP", Some("Ed25519")),
    ];
    for (alg, kty, crv) in expect {
        let token = app
            .token_at("/token", json!({"sub": "u", "alg": alg}))
            .await;
        let h = header(&token);
        assert_eq!(format!("{:?}", h.alg), alg);
        let jwks: JwkSet = app.get_as("/.well-known/jwks.json").await;
        let raw: Value = app.get_json("/.well-known/jwks.json").await;
        let jwk = raw["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == h.kid.clone().unwrap())
            .unwrap_or_else(|| panic!("{alg}: kid not served"));
        assert_eq!(
            (
                jwk["kty"].as_str(),
                jwk["alg"].as_str(),
                jwk["use"].as_str()
            ),
            (Some(kty), Some(alg), Some("sig")),
            "{jwk}"
        );
        assert_eq!(jwk["crv"].as_str(), crv, "{jwk}");
        assert!(
            jwk.get("d").is_none() && jwk.get("p").is_none(),
            "no private members: {jwk}"
        );
        let claims = verify(&jwks, &token, |_| {}).unwrap_or_else(|e| panic!("{alg}: {e:?}"));
        assert_eq!(claims["sub"], "u");
    }
    let jwks: JwkSet = app.get_as("/.well-known/jwks.json").await;
    assert_eq!(jwks.keys.len(), 9, "one key per algorithm used");

    // HS256: verifiable with the secret, never published.
    let token = app
        .token_at("/token", json!({"sub": "u", "alg": "HS256"}))
        .await;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["api"]);
    let data = jsonwebtoken::decode::<Claims>(
        &token,
        &DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .unwrap();
    assert_eq!(data.claims["sub"], "u");
    let raw = app.get_text("/.well-known/jwks.json").await;
    assert!(
        !raw.contains("oct") && !raw.contains(&header(&token).kid.unwrap()),
        "{raw}"
    );
    assert!(!raw.contains(SECRET));
    let doc = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(doc["id_token_signing_alg_values_supported"][0], "RS256");
    assert!(
        doc["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("HS256"))
    );

    // A named issuer configured for ES256 signs with it by default and
    // publishes only that key; HS256 without its own secret is refused.
    let token = app.token_at("/ec/token", json!({"sub": "u"})).await;
    assert_eq!(header(&token).alg, Algorithm::ES256);
    let ec: JwkSet = app.get_as("/ec/jwks").await;
    assert_eq!(ec.keys.len(), 1);
    verify(&ec, &token, |v| v.set_issuer(&[app.url("/ec")])).unwrap();
    let doc = app.get_json("/ec/.well-known/openid-configuration").await;
    assert_eq!(doc["id_token_signing_alg_values_supported"][0], "ES256");
    let (status, err) = app.post_json("/ec/token", json!({"alg": "HS256"})).await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .contains("HS256_SECRET"),
        "{err}"
    );
    let (status, err) = app.post_json("/token", json!({"alg": "HS512"})).await;
    assert_eq!(status, 400);
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .starts_with("alg: "),
        "{err}"
    );
}

/// The claims and header of `token` without the fields that differ on
/// every mint (ids, and times to the second).
fn stable(token: &str) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let mut claims: BTreeMap<String, Value> = peek(token).into_iter().collect();
    for volatile in ["jti", "sid"] {
        claims.remove(volatile);
    }
    let payload = token.split('.').next().unwrap();
    use base64::Engine;
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    (
        claims,
        header.as_object().unwrap().clone().into_iter().collect(),
    )
}

/// Keys whose values differ between `a` and `b` (times within 2 s are equal).
fn differing(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| match (a.get(*k), b.get(*k)) {
            (Some(Value::Number(x)), Some(Value::Number(y)))
                if ["iat", "nbf", "exp"].contains(&k.as_str()) =>
            {
                (x.as_i64().unwrap() - y.as_i64().unwrap()).abs() > 2
            }
            (x, y) => x != y,
        })
        .map(|k| k.to_string())
        .collect()
}

#[tokio::test]
async fn each_variant_fails_for_exactly_its_reason_and_the_control_passes() {
    let app = spawn_app(config()).await;
    let request = json!({"user": null, "sub": "user_1", "org_id": "org_1", "scope": "read"});
    let mut request = request.as_object().unwrap().clone();
    request.remove("user");
    let control = app.token_at("/token", Value::Object(request.clone())).await;
    let jwks: JwkSet = app.get_as("/.well-known/jwks.json").await;
    verify(&jwks, &control, |_| {}).expect("the control token passes");
    let (control_claims, control_header) = stable(&control);
    let catalogue = app.get_json("/token/variants").await;
    let names: Vec<&str> = catalogue["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 12, "{catalogue}");
    for v in catalogue["variants"].as_array().unwrap() {
        assert!(v["tests"].as_str().unwrap().len() > 20, "{v}");
    }
    // (variant, what differs in the claims, in the header, how the verifier fails)
    type Check = fn(&str, &JwkSet) -> bool;
    let cases: [(&str, &[&str], &[&str], Check); 12] = [
        ("expired", &["exp"], &[], |t, j| {
            verify(j, t, |_| {}) == Err(ErrorKind::ExpiredSignature)
        }),
        ("not_yet_valid", &["nbf"], &[], |t, j| {
            verify(j, t, |v| v.validate_nbf = true) == Err(ErrorKind::ImmatureSignature)
        }),
        ("wrong_issuer", &["iss"], &[], |t, j| {
            verify(j, t, |_| {}) == Err(ErrorKind::InvalidIssuer)
        }),
        ("wrong_audience", &["aud"], &[], |t, j| {
            verify(j, t, |_| {}) == Err(ErrorKind::InvalidAudience)
        }),
        ("bad_signature", &[], &[], |t, j| {
            verify(j, t, |_| {}) == Err(ErrorKind::InvalidSignature)
        }),
        ("unknown_kid", &[], &["kid"], |t, j| {
            verify(j, t, |_| {}) == Err(ErrorKind::InvalidKeyFormat)
        }),
        ("no_kid", &[], &["kid"], |t, j| {
            verify(j, t, |_| {}) == Err(ErrorKind::InvalidToken)
        }),
        ("alg_none", &[], &["alg"], |t, j| {
            verify(j, t, |_| {}).is_err() && t.ends_with('.')
        }),
        ("hs256_key_confusion", &[], &["alg"], |t, j| {
            // Refused by a verifier that takes the key from the JWKS...
            let refused = verify(j, t, |_| {}).is_err();
            // ...and a real confusion token: the PEM of the published key is its HMAC secret.
            let kid = jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
            let jwk = j.find(&kid).unwrap();
            let pem = rsa_spki_pem(jwk);
            let mut v = Validation::new(Algorithm::HS256);
            v.set_audience(&["api"]);
            refused
                && jsonwebtoken::decode::<Claims>(t, &DecodingKey::from_secret(pem.as_bytes()), &v)
                    .is_ok()
        }),
        ("missing_exp", &["exp"], &[], |t, j| {
            verify(j, t, |_| {}) == Err(ErrorKind::MissingRequiredClaim("exp".into()))
        }),
        ("missing_sub", &["sub"], &[], |t, j| {
            verify(j, t, |_| {}) == Err(ErrorKind::MissingRequiredClaim("sub".into()))
        }),
        ("wrong_typ", &[], &["typ"], |t, j| {
            let h = jsonwebtoken::decode_header(t).unwrap();
            verify(j, t, |_| {}).is_ok() && !matches!(h.typ.as_deref(), Some("JWT" | "at+jwt"))
        }),
    ];
    for (variant, claim_diff, header_diff, fails) in cases {
        assert!(names.contains(&variant), "{variant} not listed");
        let mut req = request.clone();
        req.insert("variant".into(), json!(variant));
        let token = app.token_at("/token", Value::Object(req)).await;
        let (claims, header) = stable(&token);
        assert_eq!(
            differing(&control_claims, &claims),
            claim_diff,
            "{variant}: claims {claims:?}"
        );
        assert_eq!(
            differing(&control_header, &header),
            header_diff,
            "{variant}: header {header:?}"
        );
        if !header_diff.contains(&"kid") && variant != "alg_none" {
            assert_eq!(
                header.get("kid"),
                control_header.get("kid"),
                "{variant} keeps the kid"
            );
        }
        assert!(
            fails(&token, &jwks),
            "{variant}: not rejected for its reason: {token}"
        );
    }
    // Variants work on named issuers and with other algorithms too.
    let token = app
        .token_at("/ec/token", json!({"variant": "expired"}))
        .await;
    let ec: JwkSet = app.get_as("/ec/jwks").await;
    assert_eq!(
        verify(&ec, &token, |v| v.set_issuer(&[app.url("/ec")])),
        Err(ErrorKind::ExpiredSignature)
    );
    let (status, err) = app.post_json("/token", json!({"variant": "expird"})).await;
    assert_eq!(status, 400);
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .contains("variant: unknown variant \"expird\""),
        "{err}"
    );
}

/// The SPKI PEM of an RSA JWK, built independently of mock-idp's code.
fn rsa_spki_pem(jwk: &jsonwebtoken::jwk::Jwk) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
        panic!("not an RSA key");
    };
    let int = |b: Vec<u8>| {
        let mut v = b;
        if v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        der(0x02, &v)
    };
    let n = int(URL_SAFE_NO_PAD.decode(&rsa.n).unwrap());
    let e = int(URL_SAFE_NO_PAD.decode(&rsa.e).unwrap());
    let pkcs1 = der(0x30, &[n, e].concat());
    let mut bitstring = vec![0u8];
    bitstring.extend(pkcs1);
    let alg_id = der(
        0x30,
        &[
            der(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
            ),
            vec![0x05, 0x00],
        ]
        .concat(),
    );
    let spki = der(0x30, &[alg_id, der(0x03, &bitstring)].concat());
    let b64 = STANDARD.encode(spki);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[tokio::test]
async fn typ_at_jwt_adds_the_rfc9068_claims() {
    let app = spawn_app(Config {
        audience: None,
        ..test_config()
    })
    .await;
    let token = app
        .token_at(
            "/token",
            json!({"sub": "u1", "typ": "at+jwt", "client_id": "svc"}),
        )
        .await;
    assert_eq!(header(&token).typ.as_deref(), Some("at+jwt"));
    let claims = peek(&token);
    for required in ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] {
        assert!(
            claims.contains_key(required),
            "RFC 9068 needs {required}: {claims:?}"
        );
    }
    assert_eq!(claims["client_id"], "svc");
    let token = app
        .token_at(
            "/token",
            json!({"sub": "u1", "typ": "at+jwt", "azp": "web", "aud": "api"}),
        )
        .await;
    assert_eq!(
        (
            peek(&token)["client_id"].as_str(),
            peek(&token)["aud"].as_str()
        ),
        (Some("web"), Some("api"))
    );
    let (status, err) = app
        .post_json("/token", json!({"typ": "mock-idp-refresh+jwt"}))
        .await;
    assert_eq!(
        status, 400,
        "a mint can never pass for a refresh token: {err}"
    );
}

#[tokio::test]
async fn key_rotation_drill_with_a_caching_resource_server() {
    let app = spawn_app(test_config()).await;
    let old = crate::support::jwt::kid(&app.token_at("/token", json!({"expires_in": 2})).await);
    // The resource server caches the JWKS now and refreshes it every 500 ms.
    let cached: JwkSet = app.get_as("/.well-known/jwks.json").await;
    let (status, rotation) = app
        .post_json("/_admin/keys/rotate", json!({"grace_sec": 2}))
        .await;
    assert_eq!(status, 200, "{rotation}");
    assert_eq!(rotation["active_kid"], old);
    let next = rotation["next_kid"].as_str().unwrap().to_string();
    // Published at once, not signing yet.
    let jwks: JwkSet = app.get_as("/.well-known/jwks.json").await;
    assert!(jwks.find(&next).is_some() && jwks.find(&old).is_some());
    let still_old = app.token_at("/token", json!({})).await;
    assert_eq!(crate::support::jwt::kid(&still_old), old);
    assert!(verify_with_cache(&cached, &still_old));
    let refreshed: JwkSet = app.get_as("/.well-known/jwks.json").await;
    // After the grace, the next key signs; the cache refreshed before the
    // switch verifies the new tokens without fetching again.
    let new_token = eventually("the next key signing", Duration::from_secs(6), || async {
        let t = app.token_at("/token", json!({"expires_in": 60})).await;
        (crate::support::jwt::kid(&t) == next).then_some(t)
    })
    .await;
    assert!(verify_with_cache(&refreshed, &new_token));
    assert!(
        !verify_with_cache(&cached, &new_token),
        "the stale cache never saw it"
    );
    // The old key signed tokens that live long (900 s): it stays published.
    let keys = app.get_json("/_admin/keys").await;
    let state = |kid: &str| {
        keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .map(|k| k["state"].clone())
    };
    assert_eq!(state(&old), Some(json!("retired")), "{keys}");
    assert_eq!(state(&next), Some(json!("active")), "{keys}");
    // Unpublish: 409 for the signing key, 404 for an unknown one, 204 for the retired one.
    let delete = |kid: String| {
        let url = app.url(&format!("/_admin/keys/{kid}"));
        let client = app.client.clone();
        async move { client.delete(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(delete(next.clone()).await, 409);
    assert_eq!(delete("nope".into()).await, 404);
    assert_eq!(delete(old.clone()).await, 204);
    let jwks: JwkSet = app.get_as("/.well-known/jwks.json").await;
    assert!(jwks.find(&old).is_none() && jwks.find(&next).is_some());

    // A retired key whose tokens have all expired leaves the JWKS by itself.
    let app = spawn_app(test_config()).await;
    let short = crate::support::jwt::kid(&app.token_at("/token", json!({"expires_in": 1})).await);
    let (status, rotation) = app.post_json("/_admin/keys/rotate", json!({})).await;
    assert_eq!(status, 200, "{rotation}");
    assert!(
        rotation["next_kid"].is_string() && rotation["next_kid"] != rotation["active_kid"],
        "a next key is published: {rotation}"
    );
    eventually(
        "the retired key to expire",
        Duration::from_secs(5),
        || async {
            let jwks: JwkSet = app.get_as("/.well-known/jwks.json").await;
            jwks.find(&short).is_none().then_some(())
        },
    )
    .await;
    let (status, err) = app
        .post_json("/_admin/keys/rotate", json!({"grace": 1}))
        .await;
    assert_eq!(status, 400, "{err}");
}

/// A rotation keeps the retired key published while codes and refresh
/// tokens it signed live, not only its access tokens: a refresh token from
/// before the rotation still works once the old access tokens expired.
#[tokio::test]
async fn a_rotation_keeps_refresh_tokens_alive() {
    let app = spawn_app(Config {
        token_ttl: 1,
        ..open_config()
    })
    .await;
    let fields = [
        ("grant_type", "password"),
        ("client_id", "any"),
        ("username", "alice"),
        ("scope", "openid"),
    ];
    let first = token(&app, None, &fields).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let old = crate::support::jwt::kid(&first.str("access_token"));
    let (status, rotation) = app.post_json("/_admin/keys/rotate", json!({})).await;
    assert_eq!(status, 200, "{rotation}");
    assert!(
        rotation["next_kid"].is_string() && rotation["next_kid"] != rotation["active_kid"],
        "a next key is published: {rotation}"
    );
    // A minute on, past the access and ID tokens' expiry (1 s): the refresh
    // token (one day) keeps the old key in the JWKS and redeemable.
    let res = app
        .client
        .put(app.url("/_admin/clock"))
        .json(&json!({"offset_sec": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let jwks: JwkSet = app.get_as("/.well-known/jwks.json").await;
    assert!(jwks.find(&old).is_some(), "the retired key left too early");
    let refreshed = token(
        &app,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "any"),
            ("refresh_token", &first.str("refresh_token")),
        ],
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_ne!(
        crate::support::jwt::kid(&refreshed.str("access_token")),
        old
    );
}

/// `hs256_key_confusion` needs a published key: with `alg: HS256` it is a
/// 400 naming the variant, not a server error.
#[tokio::test]
async fn key_confusion_with_hs256_is_a_clear_400() {
    let app = spawn_app(config()).await;
    let (status, err) = app
        .post_json(
            "/token",
            json!({"alg": "HS256", "variant": "hs256_key_confusion"}),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"], "invalid_request");
    let why = err["error_description"].as_str().unwrap();
    assert!(why.starts_with("variant: hs256_key_confusion"), "{why}");
    let (status, err) = app.post_json("/token", json!({"alg": "HS256"})).await;
    assert_eq!(status, 200, "{err}");
}

fn verify_with_cache(cache: &JwkSet, token: &str) -> bool {
    let Some(kid) = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid) else {
        return false;
    };
    let Some(jwk) = cache.find(&kid) else {
        return false;
    };
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_aud = false;
    jsonwebtoken::decode::<Claims>(token, &key, &v).is_ok()
}
