//! What an issuer's profile adds besides token shapes: Keycloak's realm
//! document, Google's `kid -> X.509 certificate` map, and the profile
//! claims `userinfo` adds for a known persona. The shapes themselves live
//! in [`crate::profiles`].

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use super::{Issuer, OAuthError};
use crate::claims;
use crate::keys::Jwk;
use crate::profiles::{keycloak, x509};

/// Validity of a generated certificate before its creation (clock skew).
const CERT_BACKDATE: i64 = 86_400;
/// Validity of a generated certificate after its creation (ten years).
const CERT_LIFETIME: i64 = 10 * 365 * 86_400;

impl Issuer {
    /// `GET /realms/{name}` (Keycloak's realm document): what adapters read
    /// `realm-public-key` from (`public_key`: base64 of the SPKI DER).
    pub fn realm_info(&self, base: &str) -> Result<Value, OAuthError> {
        let key = self.signing_key()?;
        let spki = key
            .spki_der()
            .map_err(|e| OAuthError::server("cannot encode the realm's public key", e))?;
        let iss = self.iss(base);
        Ok(json!({
            "realm": self.name(),
            "public_key": STANDARD.encode(spki),
            "token-service": format!("{iss}{}", keycloak::OIDC),
            "account-service": format!("{iss}/account"),
            "tokens-not-before": 0,
        }))
    }

    /// Google's `GET /oauth2/v1/certs`: a PEM certificate for every key of
    /// the JWKS, by `kid`. The issuer's own key's is self-signed; a peer
    /// replica's key is certified by this one's (the libraries only read
    /// the public key). Made once per key and cached.
    pub fn x509_certs(&self) -> Result<Map<String, Value>, OAuthError> {
        let key = self.signing_key()?;
        let served = self.keys().merged();
        let mut cache = self.certs.lock().unwrap_or_else(|e| e.into_inner());
        // Keys that left the set (a peer gone) leave the cache too.
        cache.retain(|kid, _| served.keys.iter().any(|k| &k.kid == kid));
        let now = self.clock().now();
        let mut out = Map::new();
        for jwk in &served.keys {
            if !cache.contains_key(&jwk.kid) {
                let Some((n, e)) = rsa_components(jwk) else {
                    tracing::debug!(kid = %jwk.kid, "no X.509 certificate for a non-RSA key");
                    continue;
                };
                let info = x509::CertInfo {
                    subject_cn: &jwk.kid,
                    issuer_cn: key.kid(),
                    n: &n,
                    e: &e,
                    not_before: now - CERT_BACKDATE,
                    not_after: now + CERT_LIFETIME,
                };
                let tbs = x509::tbs(&info);
                let signature = key
                    .sign(&tbs)
                    .map_err(|e| OAuthError::server("cannot sign a certificate", e))?;
                cache.insert(
                    jwk.kid.clone(),
                    x509::pem(&x509::certificate(&tbs, &signature)),
                );
            }
            if let Some(pem) = cache.get(&jwk.kid) {
                out.insert(jwk.kid.clone(), json!(pem));
            }
        }
        Ok(out)
    }

    /// The profile claims of the persona whose subject is `sub`, for
    /// `userinfo` (empty when no persona has that subject).
    pub fn persona_profile_claims(&self, sub: &str) -> Map<String, Value> {
        let users = self.users();
        users
            .iter()
            .find(|(name, p)| p.subject(name) == sub)
            .map(|(name, p)| {
                let subject = claims::persona_subject(name, p, sub);
                self.profile().shape().userinfo(&subject)
            })
            .unwrap_or_default()
    }
}

/// `n` and `e` of an RSA JWK, decoded.
fn rsa_components(jwk: &Jwk) -> Option<(Vec<u8>, Vec<u8>)> {
    if jwk.kty != "RSA" {
        return None;
    }
    let n = URL_SAFE_NO_PAD.decode(&jwk.n).ok()?;
    let e = URL_SAFE_NO_PAD.decode(&jwk.e).ok()?;
    Some((n, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::Clients;
    use crate::issuer::testing;
    use crate::profiles::Profile;

    fn issuer(profile: Profile) -> Issuer {
        let mut settings = testing::settings("realm-a", None);
        settings.profile = profile;
        let users = claims::users::parse_users(
            "alice: {sub: user_alice, email: a@x.example, username: al, name: Alice}",
        )
        .unwrap();
        let issuer = Issuer::new(settings, users, Clients::new());
        issuer.prepare_key_blocking().unwrap();
        issuer
    }

    #[test]
    fn realm_document_has_the_spki_key() {
        let kc = issuer(Profile::Keycloak);
        assert_eq!(kc.mount(), "/realms/realm-a");
        let doc = kc.realm_info("http://h").unwrap();
        assert_eq!(doc["realm"], "realm-a");
        assert_eq!(
            doc["token-service"],
            "http://h/realms/realm-a/protocol/openid-connect"
        );
        let der = STANDARD
            .decode(doc["public_key"].as_str().unwrap())
            .unwrap();
        assert_eq!(der, kc.signing_key().unwrap().spki_der().unwrap());
    }

    #[test]
    fn certificates_are_cached_per_key() {
        let g = issuer(Profile::Google);
        let a = g.x509_certs().unwrap();
        let kid = g.signing_key().unwrap().kid().to_string();
        assert_eq!(a.keys().collect::<Vec<_>>(), [&kid]);
        assert!(
            a[&kid]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----\n")
        );
        assert_eq!(g.x509_certs().unwrap(), a, "made once");
    }

    #[test]
    fn userinfo_claims_come_from_the_persona() {
        let c = issuer(Profile::Cognito).persona_profile_claims("user_alice");
        assert_eq!(c["username"], "al");
        assert_eq!(c["email_verified"], true);
        let c = issuer(Profile::Auth0).persona_profile_claims("user_alice");
        assert_eq!(c["nickname"], "al");
        assert!(
            issuer(Profile::Plain)
                .persona_profile_claims("nobody")
                .is_empty()
        );
    }
}
