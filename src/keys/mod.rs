//! Signing keys and the key store.
//!
//! - [`SigningKey`]: a key pair for one [`Alg`] (RSA-2048, EC P-256/P-384,
//!   Ed25519, or an HS256 secret) parsed once (aws-lc-rs) and reused for
//!   every signature, with its JWK and pre-encoded JOSE header.
//! - [`KeyStore`]: an issuer's keys (one active key per algorithm, keys
//!   being rotated in or out) plus keys learnt from peers; it serves the JWKS
//!   from pre-serialized bytes and resolves a `kid` for verification.
//! - [`persist`]: `PERSIST_KEYS_DIR` handling (PKCS#8 / SPKI PEM files).
//! - [`alg`]: the algorithms; [`jwk`]: JWKs and thumbprints.

pub mod alg;
pub mod jwk;
pub mod persist;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
    KeyPair, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256, RSA_PSS_SHA384,
    RSA_PSS_SHA512, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use jsonwebtoken::DecodingKey;

pub use alg::{Alg, Family};
pub use jwk::{Jwk, JwkSet};

/// Errors creating, loading or using a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Key generation failed inside aws-lc.
    #[error("key generation failed")]
    Generate,
    /// The private key bytes are not a usable key for the algorithm.
    #[error("not a usable {0} private key ({1})")]
    Rejected(&'static str, String),
    /// The key is RSA but not 2048 bits or larger.
    #[error("RSA key is {0} bits; at least 2048 are required")]
    TooSmall(usize),
    /// Signing failed inside aws-lc.
    #[error("signing failed")]
    Sign,
    /// The key could not be DER-encoded (for `private.pem` / `public.pem`).
    #[error("the key could not be encoded as DER")]
    Encode,
    /// HS256 needs a secret (`hs256_secret` / `HS256_SECRET`).
    #[error("HS256 needs a secret: set hs256_secret on the issuer (HS256_SECRET for the root)")]
    NoSecret,
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

/// The private half of a [`SigningKey`]. Keys are few and long-lived, so
/// the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Hmac(aws_lc_rs::hmac::Key),
}

/// A signing key for one algorithm: parsed once, then used for every token.
pub struct SigningKey {
    alg: Alg,
    pair: Pair,
    jwk: Jwk,
    /// base64url of `{"alg":...,"typ":"JWT","kid":...}`, computed once.
    header_b64: String,
    /// The latest `exp` of a token this key signed (a retired key stays
    /// published until then).
    max_exp: AtomicI64,
}

impl fmt::Debug for SigningKey {
    // Never print key material (STYLE: secrets stay secret).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.jwk.kid)
            .field("private_key", &"<hidden>")
            .finish()
    }
}

fn rsa_generate() -> Result<RsaKeyPair, KeyError> {
    RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)
}

impl SigningKey {
    /// Generates a fresh RS256 key (RSA-2048).
    pub fn generate(policy: &KidPolicy) -> Result<Self, KeyError> {
        Self::generate_for(Alg::RS256, policy)
    }

    /// Generates a fresh key for `alg` (not HS256, which needs a secret).
    pub fn generate_for(alg: Alg, policy: &KidPolicy) -> Result<Self, KeyError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pair = match alg.family() {
            Family::Rsa => Pair::Rsa(rsa_generate()?),
            Family::Ec => {
                Pair::Ec(EcdsaKeyPair::generate(ec_signing(alg)).map_err(|_| KeyError::Generate)?)
            }
            Family::Okp => Pair::Ed(Ed25519KeyPair::generate().map_err(|_| KeyError::Generate)?),
            Family::Hmac => return Err(KeyError::NoSecret),
        };
        let _ = rng;
        Self::from_pair(alg, pair, policy)
    }

    /// Generates a fresh key for `alg` as fast as the machine allows. For
    /// RSA one generation per core (at most 4) races and the first key wins:
    /// RSA key generation searches for primes, so its time is random (here
    /// 37 to 146 ms for one key); the fastest of several is a much shorter
    /// wait. Losing threads finish in the background and their keys are
    /// dropped. Other algorithms take microseconds.
    pub fn generate_fast_for(alg: Alg, policy: &KidPolicy) -> Result<Self, KeyError> {
        if alg.family() != Family::Rsa {
            return Self::generate_for(alg, policy);
        }
        let racers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..racers {
            let tx = tx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("keygen-{i}"))
                .spawn(move || {
                    // The receiver may be gone once another thread won: fine.
                    let _ = tx.send(rsa_generate());
                });
            if spawned.is_err() && i == 0 {
                return Self::generate_for(alg, policy);
            }
        }
        drop(tx);
        match rx.into_iter().flatten().next() {
            Some(pair) => Self::from_pair(alg, Pair::Rsa(pair), policy),
            None => Err(KeyError::Generate),
        }
    }

    /// [`SigningKey::generate_fast_for`] RS256.
    pub fn generate_fast(policy: &KidPolicy) -> Result<Self, KeyError> {
        Self::generate_fast_for(Alg::RS256, policy)
    }

    /// The HS256 key of `secret` (never published; its `kid` is derived
    /// from the secret's SHA-256, so it reveals nothing).
    pub fn hmac(secret: &[u8], policy: &KidPolicy) -> Result<Self, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::NoSecret);
        }
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
        Self::from_pair(Alg::HS256, Pair::Hmac(key), policy)
    }

    /// Parses a PKCS#8 (or PKCS#1) DER private RSA key, for RS256.
    pub fn from_der(der: &[u8], policy: &KidPolicy) -> Result<Self, KeyError> {
        Self::from_der_for(Alg::RS256, der, policy)
    }

    /// Parses a PKCS#8 DER private key for `alg` (PKCS#1 too for RSA).
    pub fn from_der_for(alg: Alg, der: &[u8], policy: &KidPolicy) -> Result<Self, KeyError> {
        let pair = match alg.family() {
            Family::Rsa => {
                match RsaKeyPair::from_pkcs8(der).or_else(|_| RsaKeyPair::from_der(der)) {
                    Ok(pair) => Pair::Rsa(pair),
                    // aws-lc takes only 2048..=8192 bits, and a refused size surfaces
                    // as "UnexpectedError" (the PKCS#1 retry's error): say the size.
                    Err(e) => {
                        return Err(match persist::rsa_modulus_bits(der) {
                            Some(bits) if bits < 2048 => KeyError::TooSmall(bits),
                            Some(bits) if bits > 8192 => KeyError::Rejected(
                                "RSA",
                                format!("RSA key is {bits} bits; at most 8192 are supported"),
                            ),
                            _ => KeyError::Rejected("RSA", e.to_string()),
                        });
                    }
                }
            }
            Family::Ec => Pair::Ec(
                EcdsaKeyPair::from_pkcs8(ec_signing(alg), der)
                    .map_err(|e| KeyError::Rejected(alg.as_str(), e.to_string()))?,
            ),
            Family::Okp => Pair::Ed(
                Ed25519KeyPair::from_pkcs8(der)
                    .map_err(|e| KeyError::Rejected("Ed25519", e.to_string()))?,
            ),
            Family::Hmac => return Err(KeyError::NoSecret),
        };
        Self::from_pair(alg, pair, policy)
    }

    fn from_pair(alg: Alg, pair: Pair, policy: &KidPolicy) -> Result<Self, KeyError> {
        let mut jwk = match &pair {
            Pair::Rsa(rsa) => {
                let bits = rsa.public_modulus_len() * 8;
                if bits < 2048 {
                    return Err(KeyError::TooSmall(bits));
                }
                let public = rsa.public_key();
                Jwk::rsa(
                    alg,
                    "",
                    public.modulus().big_endian_without_leading_zero(),
                    public.exponent().big_endian_without_leading_zero(),
                )
            }
            Pair::Ec(ec) => Jwk::ec(alg, "", ec.public_key().as_ref()),
            Pair::Ed(ed) => Jwk::ed25519("", ed.public_key().as_ref()),
            Pair::Hmac(_) => {
                let mut jwk = Jwk::ed25519("", &[]);
                jwk.kty = "oct".into();
                jwk.alg = Some(alg.as_str().into());
                jwk
            }
        };
        jwk.kid = match &pair {
            Pair::Hmac(key) => {
                let tag = aws_lc_rs::hmac::sign(key, b"mock-idp hs256 kid");
                format!("hs256-{}", &URL_SAFE_NO_PAD.encode(tag.as_ref())[..16])
            }
            _ => policy.kid_for(&jwk.thumbprint()),
        };
        let header = serde_json::json!({"alg": alg.as_str(), "typ": "JWT", "kid": jwk.kid});
        let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
        Ok(SigningKey {
            alg,
            pair,
            jwk,
            header_b64,
            max_exp: AtomicI64::new(i64::MIN),
        })
    }

    /// The algorithm.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    /// The public key as a JWK (HS256: a placeholder that is never published).
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The base64url-encoded JOSE header used for every token of this key.
    pub fn header_b64(&self) -> &str {
        &self.header_b64
    }

    /// Notes that a token expiring at `exp` was signed (see [`KeySet`]).
    pub fn note_exp(&self, exp: i64) {
        self.max_exp.fetch_max(exp, Ordering::Relaxed);
    }

    /// The latest `exp` signed so far (`i64::MIN`: none).
    pub fn max_exp(&self) -> i64 {
        self.max_exp.load(Ordering::Relaxed)
    }

    /// Signs `message` with this key's algorithm (RFC 7518 §3).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match &self.pair {
            Pair::Rsa(pair) => {
                let padding: &'static dyn aws_lc_rs::signature::RsaEncoding = match self.alg {
                    Alg::RS384 => &RSA_PKCS1_SHA384,
                    Alg::RS512 => &RSA_PKCS1_SHA512,
                    Alg::PS256 => &RSA_PSS_SHA256,
                    Alg::PS384 => &RSA_PSS_SHA384,
                    Alg::PS512 => &RSA_PSS_SHA512,
                    _ => &RSA_PKCS1_SHA256,
                };
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(padding, &rng, message, &mut signature)
                    .map_err(|_| KeyError::Sign)?;
                Ok(signature)
            }
            Pair::Ec(pair) => Ok(pair
                .sign(&rng, message)
                .map_err(|_| KeyError::Sign)?
                .as_ref()
                .to_vec()),
            Pair::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            Pair::Hmac(key) => Ok(aws_lc_rs::hmac::sign(key, message).as_ref().to_vec()),
        }
    }

    /// The private key as PKCS#8 DER (only for writing `private.pem`).
    pub(crate) fn pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        match &self.pair {
            Pair::Rsa(pair) => {
                let der: Pkcs8V1Der = pair.as_der().map_err(|_| KeyError::Encode)?;
                Ok(der.as_ref().to_vec())
            }
            Pair::Ec(pair) => Ok(pair
                .to_pkcs8v1()
                .map_err(|_| KeyError::Encode)?
                .as_ref()
                .to_vec()),
            Pair::Ed(pair) => Ok(pair
                .to_pkcs8v1()
                .map_err(|_| KeyError::Encode)?
                .as_ref()
                .to_vec()),
            Pair::Hmac(_) => Err(KeyError::Encode),
        }
    }

    /// The public key as SubjectPublicKeyInfo DER (`public.pem`).
    pub fn spki_der(&self) -> Result<Vec<u8>, KeyError> {
        let der: PublicKeyX509Der = match &self.pair {
            Pair::Rsa(pair) => pair.public_key().as_der(),
            Pair::Ec(pair) => pair.public_key().as_der(),
            Pair::Ed(pair) => pair.public_key().as_der(),
            Pair::Hmac(_) => return Err(KeyError::Encode),
        }
        .map_err(|_| KeyError::Encode)?;
        Ok(der.as_ref().to_vec())
    }

    /// The public key as an SPKI PEM document (`-----BEGIN PUBLIC KEY-----`,
    /// 64-character lines ending in `\n`, as `openssl` writes it).
    pub fn spki_pem(&self) -> Result<String, KeyError> {
        let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
        Ok(pem::encode_config(
            &pem::Pem::new("PUBLIC KEY", self.spki_der()?),
            config,
        ))
    }
}

fn ec_signing(alg: Alg) -> &'static aws_lc_rs::signature::EcdsaSigningAlgorithm {
    if alg == Alg::ES384 {
        &ECDSA_P384_SHA384_FIXED_SIGNING
    } else {
        &ECDSA_P256_SHA256_FIXED_SIGNING
    }
}

/// The JWKS as served: bytes serialized once, plus verification keys by `kid`.
#[derive(Clone)]
pub struct JwksSnapshot {
    /// `{"keys":[...]}` exactly as served.
    pub json: Bytes,
    /// The keys of the set, in served order.
    pub keys: Vec<Jwk>,
    decoding: HashMap<String, (Alg, Arc<DecodingKey>)>,
}

impl fmt::Debug for JwksSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksSnapshot")
            .field("kids", &self.kids())
            .finish()
    }
}

/// The verification key of a JWK, with the algorithm it is for.
fn decoding_key(jwk: &Jwk) -> Option<(Alg, DecodingKey)> {
    let alg = jwk.algorithm()?;
    let key = match alg.family() {
        Family::Rsa => DecodingKey::from_rsa_components(&jwk.n, &jwk.e).ok()?,
        Family::Ec => DecodingKey::from_ec_components(&jwk.x, &jwk.y).ok()?,
        Family::Okp => DecodingKey::from_ed_components(&jwk.x).ok()?,
        Family::Hmac => return None,
    };
    Some((alg, key))
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
            if let Some((alg, dk)) = decoding_key(&key) {
                seen.insert(key.kid.clone(), (alg, Arc::new(dk)));
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

    /// The verification key with this `kid` and the algorithm it is for.
    pub fn decoding_key(&self, kid: &str) -> Option<(Alg, Arc<DecodingKey>)> {
        self.decoding.get(kid).cloned()
    }

    /// The `kid`s in served order.
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.kid.as_str()).collect()
    }
}

/// Where one of an issuer's own keys is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Signs new tokens of its algorithm.
    Active,
    /// Published, signs from `switch_at` (a rotation with a grace period).
    Next {
        /// When it starts signing (the issuer's clock, UNIX seconds).
        switch_at: i64,
    },
    /// No longer signs; published until the last `exp` it signed has passed.
    Retired,
}

/// One of an issuer's own (published) keys.
#[derive(Debug, Clone)]
pub struct OwnKey {
    /// The key.
    pub key: Arc<SigningKey>,
    /// Its state.
    pub state: KeyState,
}

/// One consistent view of an issuer's keys, swapped as a whole.
#[derive(Debug)]
pub struct KeySet {
    /// The own published keys (every algorithm, every state).
    pub own: Vec<OwnKey>,
    /// The HS256 key, when configured (never published).
    pub hmac: Option<Arc<SigningKey>>,
    /// This replica's own public keys (what `/api/pkeys?local=true` serves).
    pub local: Arc<JwksSnapshot>,
    /// Own keys plus peers' keys: what every JWKS endpoint serves.
    pub merged: Arc<JwksSnapshot>,
    /// The peers' keys last set (validated), kept to rebuild `merged`.
    peers: Vec<Jwk>,
}

impl KeySet {
    /// The key that signs `alg` now.
    pub fn active(&self, alg: Alg) -> Option<&Arc<SigningKey>> {
        if alg == Alg::HS256 {
            return self.hmac.as_ref();
        }
        self.own
            .iter()
            .find(|k| k.state == KeyState::Active && k.key.alg() == alg)
            .map(|k| &k.key)
    }

    /// Whether a pending rotation of `alg` is due at `now`.
    fn switch_due(&self, alg: Alg, now: i64) -> bool {
        self.own.iter().any(|k| {
            k.key.alg() == alg
                && matches!(k.state, KeyState::Next { switch_at } if switch_at <= now)
        })
    }

    /// Whether a retired key has outlived every token it signed at `now`.
    fn prune_due(&self, now: i64) -> bool {
        self.own
            .iter()
            .any(|k| k.state == KeyState::Retired && k.key.max_exp() < now)
    }
}

/// What [`KeyStore::rotate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The key signing now.
    pub active_kid: String,
    /// The new key (published now, signing from `switch_at`).
    pub next_kid: String,
    /// When the new key starts signing.
    pub switch_at: i64,
}

/// Why a key cannot be unpublished.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnpublishError {
    /// No own published key has that kid.
    #[error("no key {0:?} is published by this issuer")]
    Unknown(String),
    /// It signs tokens now.
    #[error("key {0:?} is the one signing now; rotate first")]
    Active(String),
}

/// An issuer's keys and the merged set served to clients (own keys plus
/// peers' keys, deduplicated by `kid`, own first).
///
/// Keys may arrive after the store is created (an issuer creates its key on
/// first use, other algorithms' keys when first asked for) and peers' keys
/// may arrive before them; every change publishes a new [`KeySet`].
pub struct KeyStore {
    set: RwLock<Arc<KeySet>>,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.snapshot();
        f.debug_struct("KeyStore")
            .field("own", &set.own)
            .field("served_kids", &set.merged.kids())
            .finish()
    }
}

impl Default for KeyStore {
    fn default() -> Self {
        KeyStore::empty()
    }
}

fn build(own: Vec<OwnKey>, hmac: Option<Arc<SigningKey>>, peers: Vec<Jwk>) -> KeySet {
    let local = Arc::new(JwksSnapshot::new(own.iter().map(|k| k.key.jwk().clone())));
    let merged = Arc::new(JwksSnapshot::new(
        local.keys.iter().cloned().chain(peers.iter().cloned()),
    ));
    KeySet {
        own,
        hmac,
        local,
        merged,
        peers,
    }
}

impl KeyStore {
    /// A store with no key yet.
    pub fn empty() -> Self {
        KeyStore {
            set: RwLock::new(Arc::new(build(Vec::new(), None, Vec::new()))),
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

    fn update<T>(&self, change: impl FnOnce(&KeySet) -> (Option<KeySet>, T)) -> T {
        let mut guard = match self.set.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (next, out) = change(&guard);
        if let Some(next) = next {
            *guard = Arc::new(next);
        }
        out
    }

    /// Makes `key` the active key of its algorithm (HS256: the secret key)
    /// and publishes it; a key already active for that algorithm is kept
    /// (first wins: concurrent creators agree).
    pub fn install(&self, key: SigningKey) {
        let key = Arc::new(key);
        self.update(|old| {
            if old.active(key.alg()).is_some() {
                return (None, ());
            }
            if key.alg() == Alg::HS256 {
                return (
                    Some(build(old.own.clone(), Some(key), old.peers.clone())),
                    (),
                );
            }
            let mut own = old.own.clone();
            own.push(OwnKey {
                key,
                state: KeyState::Active,
            });
            (Some(build(own, old.hmac.clone(), old.peers.clone())), ())
        });
    }

    /// The key that signs `alg` at `now`, finishing a due rotation first.
    pub fn signing_key_for(&self, alg: Alg, now: i64) -> Option<Arc<SigningKey>> {
        let set = self.snapshot();
        if !set.switch_due(alg, now) {
            return set.active(alg).cloned();
        }
        self.update(|old| {
            if !old.switch_due(alg, now) {
                return (None, old.active(alg).cloned());
            }
            let own: Vec<OwnKey> = old
                .own
                .iter()
                .map(|k| {
                    let state = match k.state {
                        _ if k.key.alg() != alg => k.state,
                        KeyState::Active => KeyState::Retired,
                        KeyState::Next { switch_at } if switch_at <= now => KeyState::Active,
                        other => other,
                    };
                    OwnKey {
                        key: Arc::clone(&k.key),
                        state,
                    }
                })
                .collect();
            let next = build(own, old.hmac.clone(), old.peers.clone());
            let active = next.active(alg).cloned();
            (Some(next), active)
        })
    }

    /// The first active key (the issuer's default algorithm is installed first).
    pub fn signing_key(&self) -> Option<Arc<SigningKey>> {
        let set = self.snapshot();
        set.own
            .iter()
            .find(|k| k.state == KeyState::Active)
            .map(|k| Arc::clone(&k.key))
    }

    /// Publishes `next` at once; it signs `next.alg()` from `switch_at` (at
    /// once when `switch_at <= now`), and the key it replaces is retired.
    /// A pending next key of the same algorithm is replaced.
    pub fn rotate(&self, next: SigningKey, switch_at: i64, now: i64) -> Option<Rotation> {
        let alg = next.alg();
        let next = Arc::new(next);
        let rotation = self.update(|old| {
            let Some(active) = old.active(alg) else {
                return (None, None);
            };
            let active_kid = active.kid().to_string();
            let mut own: Vec<OwnKey> = old
                .own
                .iter()
                .filter(|k| !(k.key.alg() == alg && matches!(k.state, KeyState::Next { .. })))
                .cloned()
                .collect();
            own.push(OwnKey {
                key: Arc::clone(&next),
                state: KeyState::Next { switch_at },
            });
            (
                Some(build(own, old.hmac.clone(), old.peers.clone())),
                Some(Rotation {
                    active_kid,
                    next_kid: next.kid().to_string(),
                    switch_at,
                }),
            )
        })?;
        self.signing_key_for(alg, now);
        Some(rotation)
    }

    /// Drops retired keys whose tokens have all expired at `now`.
    pub fn prune(&self, now: i64) {
        if !self.snapshot().prune_due(now) {
            return;
        }
        self.update(|old| {
            let own = old
                .own
                .iter()
                .filter(|k| !(k.state == KeyState::Retired && k.key.max_exp() < now))
                .cloned()
                .collect();
            (Some(build(own, old.hmac.clone(), old.peers.clone())), ())
        });
    }

    /// Stops publishing the own key `kid` now (not the one signing).
    pub fn unpublish(&self, kid: &str) -> Result<(), UnpublishError> {
        self.update(|old| match old.own.iter().find(|k| k.key.kid() == kid) {
            None => (None, Err(UnpublishError::Unknown(kid.to_string()))),
            Some(k) if k.state == KeyState::Active => {
                (None, Err(UnpublishError::Active(kid.to_string())))
            }
            Some(_) => {
                let own = old
                    .own
                    .iter()
                    .filter(|k| k.key.kid() != kid)
                    .cloned()
                    .collect();
                (
                    Some(build(own, old.hmac.clone(), old.peers.clone())),
                    Ok(()),
                )
            }
        })
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
        self.update(|old| (Some(build(old.own.clone(), old.hmac.clone(), peers)), ()));
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
        assert!(matches!(err, KeyError::Rejected(..)), "{err:?}");
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
