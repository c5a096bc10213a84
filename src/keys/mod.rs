//! Signing keys and the key store.
//!
//! - [`SigningKey`]: an RSA-2048 key pair parsed once (aws-lc-rs) and reused
//!   for every signature, with its JWK and pre-encoded JOSE header.
//! - [`KeyStore`]: this replica's keys plus keys learnt from peers; it serves
//!   the JWKS from pre-serialized bytes and resolves a `kid` for verification.
//! - [`persist`]: `PERSIST_KEYS_DIR` handling (PKCS#8 / SPKI PEM files).

pub mod jwk;
pub mod persist;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use jsonwebtoken::DecodingKey;

pub use jwk::{Jwk, JwkSet};

/// Errors creating, loading or using a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// RSA key generation failed inside aws-lc.
    #[error("RSA key generation failed")]
    Generate,
    /// The private key bytes are not an RSA private key.
    #[error("not a usable RSA private key ({0})")]
    Rejected(String),
    /// The key is RSA but not 2048 bits or larger.
    #[error("RSA key is {0} bits; at least 2048 are required")]
    TooSmall(usize),
    /// Signing failed inside aws-lc.
    #[error("signing failed")]
    Sign,
    /// The key could not be DER-encoded (for `private.pem` / `public.pem`).
    #[error("the key could not be encoded as DER")]
    Encode,
}

/// How the `kid` of this replica's key is chosen (`KID`, `INSTANCE_ID`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KidPolicy {
    /// Fixed key id (`--kid`); `None` = RFC 7638 thumbprint.
    pub fixed: Option<String>,
    /// Prefix (`--instance-id`), joined with `-`.
    pub instance_id: Option<String>,
}

impl KidPolicy {
    /// The `kid` for a key whose RFC 7638 thumbprint is `thumbprint`.
    pub fn kid_for(&self, thumbprint: &str) -> String {
        let base = self.fixed.as_deref().unwrap_or(thumbprint);
        match &self.instance_id {
            Some(prefix) => format!("{prefix}-{base}"),
            None => base.to_string(),
        }
    }
}

/// An RS256 signing key: parsed once, then used for every token.
pub struct SigningKey {
    pair: RsaKeyPair,
    jwk: Jwk,
    /// base64url of `{"alg":"RS256","typ":"JWT","kid":...}`, computed once.
    header_b64: String,
}

impl fmt::Debug for SigningKey {
    // Never print key material (STYLE: secrets stay secret).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.jwk.kid)
            .field("private_key", &"<hidden>")
            .finish()
    }
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key.
    pub fn generate(policy: &KidPolicy) -> Result<Self, KeyError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
        Self::from_pair(pair, policy)
    }

    /// Generates a fresh RSA-2048 key as fast as the machine allows: one
    /// generation per core (at most 4) races and the first key wins.
    ///
    /// RSA key generation searches for primes, so its time is random (here
    /// 37 to 146 ms for one key); the fastest of several is a much shorter
    /// wait, and key generation is nearly all of mock-idp's startup. Losing
    /// threads finish in the background and their keys are dropped.
    pub fn generate_fast(policy: &KidPolicy) -> Result<Self, KeyError> {
        let racers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..racers {
            let tx = tx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("keygen-{i}"))
                .spawn(move || {
                    // The receiver may be gone once another thread won: fine.
                    let _ = tx.send(RsaKeyPair::generate(KeySize::Rsa2048));
                });
            if spawned.is_err() && i == 0 {
                return Self::generate(policy);
            }
        }
        drop(tx);
        match rx.into_iter().flatten().next() {
            Some(pair) => Self::from_pair(pair, policy),
            None => Err(KeyError::Generate),
        }
    }

    /// Parses a PKCS#8 (or PKCS#1) DER private key.
    pub fn from_der(der: &[u8], policy: &KidPolicy) -> Result<Self, KeyError> {
        let pair = match RsaKeyPair::from_pkcs8(der).or_else(|_| RsaKeyPair::from_der(der)) {
            Ok(pair) => pair,
            // aws-lc takes only 2048..=8192 bits, and a refused size surfaces
            // as "UnexpectedError" (the PKCS#1 retry's error): say the size.
            Err(e) => {
                return Err(match persist::rsa_modulus_bits(der) {
                    Some(bits) if bits < 2048 => KeyError::TooSmall(bits),
                    Some(bits) if bits > 8192 => KeyError::Rejected(format!(
                        "RSA key is {bits} bits; at most 8192 are supported"
                    )),
                    _ => KeyError::Rejected(e.to_string()),
                });
            }
        };
        Self::from_pair(pair, policy)
    }

    fn from_pair(pair: RsaKeyPair, policy: &KidPolicy) -> Result<Self, KeyError> {
        let bits = pair.public_modulus_len() * 8;
        if bits < 2048 {
            return Err(KeyError::TooSmall(bits));
        }
        let public = pair.public_key();
        let mut jwk = Jwk::rsa_sig(
            "",
            public.modulus().big_endian_without_leading_zero(),
            public.exponent().big_endian_without_leading_zero(),
        );
        jwk.kid = policy.kid_for(&jwk.thumbprint());
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": jwk.kid});
        let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
        Ok(SigningKey {
            pair,
            jwk,
            header_b64,
        })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The base64url-encoded JOSE header used for every token of this key.
    pub fn header_b64(&self) -> &str {
        &self.header_b64
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 SHA-256 (RS256, RFC 7518 §3.3).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair
            .sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
            .map_err(|_| KeyError::Sign)?;
        Ok(signature)
    }

    /// The private key as PKCS#8 DER (only for writing `private.pem`).
    pub(crate) fn pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        let der: Pkcs8V1Der = self.pair.as_der().map_err(|_| KeyError::Encode)?;
        Ok(der.as_ref().to_vec())
    }

    /// The public key as SubjectPublicKeyInfo DER (`public.pem`).
    pub fn spki_der(&self) -> Result<Vec<u8>, KeyError> {
        let der: PublicKeyX509Der = self
            .pair
            .public_key()
            .as_der()
            .map_err(|_| KeyError::Encode)?;
        Ok(der.as_ref().to_vec())
    }
}

/// The JWKS as served: bytes serialized once, plus verification keys by `kid`.
#[derive(Clone)]
pub struct JwksSnapshot {
    /// `{"keys":[...]}` exactly as served.
    pub json: Bytes,
    /// The keys of the set, in served order.
    pub keys: Vec<Jwk>,
    decoding: HashMap<String, Arc<DecodingKey>>,
}

impl fmt::Debug for JwksSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksSnapshot")
            .field("kids", &self.kids())
            .finish()
    }
}

impl JwksSnapshot {
    /// Builds a snapshot of `keys` (deduplicated by `kid`, first wins).
    pub fn new(keys: impl IntoIterator<Item = Jwk>) -> Self {
        let mut seen = HashMap::new();
        let mut ordered = Vec::new();
        for key in keys {
            if seen.contains_key(&key.kid) {
                continue;
            }
            if let Ok(dk) = DecodingKey::from_rsa_components(&key.n, &key.e) {
                seen.insert(key.kid.clone(), Arc::new(dk));
                ordered.push(key);
            }
        }
        let set = JwkSet { keys: ordered };
        // Serializing a Vec of plain strings cannot fail; fall back to an empty set anyway.
        let json = serde_json::to_vec(&set).unwrap_or_else(|_| br#"{"keys":[]}"#.to_vec());
        JwksSnapshot {
            json: Bytes::from(json),
            keys: set.keys,
            decoding: seen,
        }
    }

    /// The verification key with this `kid`, if the set has it.
    pub fn decoding_key(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.decoding.get(kid).cloned()
    }

    /// The `kid`s in served order.
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.kid.as_str()).collect()
    }
}

/// One consistent view of an issuer's keys, swapped as a whole.
#[derive(Debug)]
pub struct KeySet {
    /// The key new tokens are signed with; `None` until it is created.
    pub active: Option<Arc<SigningKey>>,
    /// This replica's own public keys (what `/api/pkeys?local=true` serves).
    pub local: Arc<JwksSnapshot>,
    /// Own keys plus peers' keys: what every JWKS endpoint serves.
    pub merged: Arc<JwksSnapshot>,
    /// The peers' keys last set (validated), kept to rebuild `merged`.
    peers: Vec<Jwk>,
}

/// An issuer's signing key, its own public keys, and the merged set served
/// to clients (own keys plus peers' keys, deduplicated by `kid`, own first).
///
/// The own key may arrive after the store is created (named issuers create
/// their key on first use) and peers' keys may arrive before it (federation
/// learns a name from a peer first); every change publishes a new [`KeySet`].
pub struct KeyStore {
    set: RwLock<Arc<KeySet>>,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.snapshot();
        f.debug_struct("KeyStore")
            .field("active", &set.active)
            .field("served_kids", &set.merged.kids())
            .finish()
    }
}

impl Default for KeyStore {
    fn default() -> Self {
        KeyStore::empty()
    }
}

impl KeyStore {
    /// A store with no key yet.
    pub fn empty() -> Self {
        let none = Arc::new(JwksSnapshot::new([]));
        KeyStore {
            set: RwLock::new(Arc::new(KeySet {
                active: None,
                local: Arc::clone(&none),
                merged: none,
                peers: Vec::new(),
            })),
        }
    }

    /// A store whose only key is `active`.
    pub fn new(active: SigningKey) -> Self {
        let store = KeyStore::empty();
        store.install(active);
        store
    }

    /// The current view (a cheap `Arc` clone).
    pub fn snapshot(&self) -> Arc<KeySet> {
        match self.set.read() {
            Ok(guard) => Arc::clone(&guard),
            // A writer panicked mid-swap; the Arc inside is still whole.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn update(&self, change: impl FnOnce(&KeySet) -> KeySet) {
        let mut guard = match self.set.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let next = change(&guard);
        *guard = Arc::new(next);
    }

    /// Makes `key` the signing key and publishes it.
    pub fn install(&self, key: SigningKey) {
        let local = Arc::new(JwksSnapshot::new([key.jwk().clone()]));
        self.update(|old| KeySet {
            active: Some(Arc::new(key)),
            merged: Arc::new(JwksSnapshot::new(
                local.keys.iter().cloned().chain(old.peers.iter().cloned()),
            )),
            local,
            peers: old.peers.clone(),
        });
    }

    /// The key new tokens are signed with, once there is one.
    pub fn signing_key(&self) -> Option<Arc<SigningKey>> {
        self.snapshot().active.clone()
    }

    /// This replica's own keys (what `/api/pkeys?local=true` serves).
    pub fn local(&self) -> Arc<JwksSnapshot> {
        Arc::clone(&self.snapshot().local)
    }

    /// The merged set every JWKS endpoint serves and verification uses.
    pub fn merged(&self) -> Arc<JwksSnapshot> {
        Arc::clone(&self.snapshot().merged)
    }

    /// Replaces the peers' part of the merged set. Own keys always come first
    /// and win on a `kid` clash; `peer_keys` must already be validated.
    pub fn set_peer_keys(&self, peer_keys: impl IntoIterator<Item = Jwk>) {
        let peers: Vec<Jwk> = peer_keys.into_iter().collect();
        self.update(|old| KeySet {
            active: old.active.clone(),
            local: Arc::clone(&old.local),
            merged: Arc::new(JwksSnapshot::new(
                old.local.keys.iter().cloned().chain(peers.iter().cloned()),
            )),
            peers,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_has_thumbprint_kid_and_hides_secrets() {
        let key = SigningKey::generate(&KidPolicy::default()).unwrap();
        assert_eq!(key.kid(), key.jwk().thumbprint());
        assert_eq!(key.jwk().e, "AQAB");
        assert_eq!(URL_SAFE_NO_PAD.decode(&key.jwk().n).unwrap().len(), 256);
        let debug = format!("{key:?}");
        assert!(
            debug.contains("<hidden>") && debug.contains(key.kid()),
            "{debug}"
        );
        assert!(!debug.contains(&key.jwk().n[..20]), "{debug}");
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(key.header_b64()).unwrap()).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg":"RS256","typ":"JWT","kid":key.kid()})
        );
    }

    #[test]
    fn racing_generation_gives_a_valid_key() {
        let policy = KidPolicy {
            fixed: None,
            instance_id: Some("r0".into()),
        };
        let key = SigningKey::generate_fast(&policy).unwrap();
        assert_eq!(key.kid(), format!("r0-{}", key.jwk().thumbprint()));
        assert_eq!(URL_SAFE_NO_PAD.decode(&key.jwk().n).unwrap().len(), 256);
        let other = SigningKey::generate_fast(&policy).unwrap();
        assert_ne!(key.jwk().n, other.jwk().n, "every start gets a new key");
    }

    #[test]
    fn kid_policy_prefixes_and_fixes() {
        let p = KidPolicy {
            fixed: None,
            instance_id: Some("stoke-0".into()),
        };
        assert_eq!(p.kid_for("abc"), "stoke-0-abc");
        let p = KidPolicy {
            fixed: Some("dev-key".into()),
            instance_id: None,
        };
        assert_eq!(p.kid_for("abc"), "dev-key");
        let p = KidPolicy {
            fixed: Some("dev-key".into()),
            instance_id: Some("r1".into()),
        };
        assert_eq!(p.kid_for("abc"), "r1-dev-key");
    }

    #[test]
    fn der_round_trip_keeps_modulus_and_kid() {
        let key = SigningKey::generate(&KidPolicy::default()).unwrap();
        let again = SigningKey::from_der(&key.pkcs8_der().unwrap(), &KidPolicy::default()).unwrap();
        assert_eq!(again.jwk(), key.jwk());
        assert!(!key.spki_der().unwrap().is_empty());
        let err = SigningKey::from_der(b"garbage", &KidPolicy::default()).unwrap_err();
        assert!(matches!(err, KeyError::Rejected(_)), "{err:?}");
    }

    #[test]
    fn store_merges_dedups_and_keeps_own_keys_first() {
        let own = SigningKey::generate(&KidPolicy::default()).unwrap();
        let own_jwk = own.jwk().clone();
        let store = KeyStore::empty();
        assert!(store.signing_key().is_none());
        // Peers' keys may arrive before our own key exists.
        let early = SigningKey::generate(&KidPolicy::default())
            .unwrap()
            .jwk()
            .clone();
        store.set_peer_keys([early.clone()]);
        assert_eq!(store.merged().kids(), vec![early.kid.as_str()]);
        store.install(own);
        assert_eq!(
            store.merged().kids(),
            vec![own_jwk.kid.as_str(), early.kid.as_str()],
            "own key first, peers kept"
        );
        store.set_peer_keys([]);
        assert_eq!(store.merged().kids(), vec![own_jwk.kid.as_str()]);

        let peer = SigningKey::generate(&KidPolicy::default())
            .unwrap()
            .jwk()
            .clone();
        let mut impostor = peer.clone();
        impostor.kid = own_jwk.kid.clone();
        store.set_peer_keys([peer.clone(), peer.clone(), impostor]);
        let merged = store.merged();
        assert_eq!(merged.kids(), vec![own_jwk.kid.as_str(), peer.kid.as_str()]);
        assert_eq!(merged.keys[0], own_jwk, "own key must win a kid clash");
        assert!(merged.decoding_key(&peer.kid).is_some());
        assert!(merged.decoding_key("nope").is_none());
        let served: JwkSet = serde_json::from_slice(&merged.json).unwrap();
        assert_eq!(served.keys.len(), 2);
        assert_eq!(store.local().kids(), vec![own_jwk.kid.as_str()]);

        store.set_peer_keys([]);
        assert_eq!(store.merged().kids(), vec![own_jwk.kid.as_str()]);
        assert!(format!("{store:?}").contains("<hidden>"));
    }
}
