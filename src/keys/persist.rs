//! `PERSIST_KEYS_DIR`: keep the signing key across restarts.
//!
//! First start writes `private.pem` (PKCS#8, mode 0600) and `public.pem`
//! (SPKI). Each file is written under a temporary name of its own
//! (`.private.pem.<pid>-<random>.tmp`, created with `O_EXCL`), synced, then
//! hard-linked into place, which fails instead of replacing an existing file.
//! Hence (docs/reliability.md#key-creation-races):
//!
//! - a reader never sees half a key file: the name appears only once the
//!   content is complete and on disk;
//! - of N processes racing on one directory, exactly one links `private.pem`
//!   and the others load that key. The names do not rely on the process id,
//!   which is 1 in every container;
//! - `public.pem` is linked after `private.pem`; if it is missing (its writer
//!   died in between, or a racer looks in between) it is written from
//!   `private.pem`, and whoever links it second checks that it matches;
//! - a temporary file left by a writer killed mid-write never blocks a start,
//!   and is removed once it is older than [`STALE_TEMP_AGE`];
//! - a present key file is never modified, truncated, deleted or chmod-ed,
//!   whatever it contains: a bad one is an error naming it, a `private.pem`
//!   other users can read is a warning.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{Alg, KidPolicy, SigningKey};

/// File name of the private key (PKCS#8 PEM).
pub const PRIVATE_FILE: &str = "private.pem";
/// File name of the public key (SPKI PEM).
pub const PUBLIC_FILE: &str = "public.pem";

/// A temporary key file this old was left by a writer that died: removed at
/// startup. A live writer holds its temporary file for milliseconds.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

/// What [`load_or_create`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No key was there: a new one was generated and written.
    Created,
    /// The existing key pair was loaded.
    Loaded,
    /// `private.pem` was loaded and the missing `public.pem` written from it.
    PublicRegenerated,
}

/// A key file problem; the message always starts with the path.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Reading, creating or writing failed. The OS error is the `source`
    /// only (not repeated in this message), so a `{:#}` chain prints it once.
    #[error("{}: cannot {action}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The file is there but its content is unusable. It is left untouched.
    #[error("{}: {reason}; the file was left untouched: fix or remove it", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// How many times [`load_or_create`] looks again after losing a creation
/// race. Each loss means `private.pem` appeared, so the next look loads it;
/// more passes only happen if something else deletes it meanwhile.
const ATTEMPTS: usize = 3;

/// The file names of `alg`'s key pair: `private.pem`/`public.pem` for
/// RS256, `private-<alg>.pem`/`public-<alg>.pem` (lower case) for the others.
pub fn file_names(alg: Alg) -> (String, String) {
    if alg == Alg::RS256 {
        (PRIVATE_FILE.into(), PUBLIC_FILE.into())
    } else {
        let a = alg.as_str().to_ascii_lowercase();
        (format!("private-{a}.pem"), format!("public-{a}.pem"))
    }
}

/// The RS256 key pair from `dir`, created there on first start.
pub fn load_or_create(
    dir: &Path,
    policy: &KidPolicy,
) -> Result<(SigningKey, Outcome), PersistError> {
    load_or_create_for(dir, Alg::RS256, policy)
}

/// Loads `alg`'s key pair from `dir` (see [`file_names`]), or creates it
/// there on first start.
pub fn load_or_create_for(
    dir: &Path,
    alg: Alg,
    policy: &KidPolicy,
) -> Result<(SigningKey, Outcome), PersistError> {
    create_dir(dir)?;
    remove_stale_temp_files(dir, SystemTime::now());
    for _ in 0..ATTEMPTS {
        if let Some(done) = try_load_or_create(dir, alg, policy)? {
            return Ok(done);
        }
    }
    Err(PersistError::Invalid {
        path: dir.join(file_names(alg).0),
        reason: "appeared and vanished repeatedly while starting (is something else \
                 deleting it?)"
            .into(),
    })
}

/// The RS256 key pair persisted in `dir`, never writing: see [`load_existing_for`].
pub fn load_existing(dir: &Path, policy: &KidPolicy) -> Result<Option<SigningKey>, PersistError> {
    load_existing_for(dir, Alg::RS256, policy)
}

/// Loads `alg`'s key pair persisted in `dir` (see [`file_names`]) without
/// ever writing: no directory, key or temporary file is created, and
/// nothing is removed (for `mock-idp mint` and `jwks`, which must not
/// invent a key the server does not have). `Ok(None)` when `dir` or the
/// private key file does not exist, and for HS256 (a secret, not a file).
/// The checks are those of [`load_or_create_for`]: an unusable private key,
/// or a public key file that does not match it, is an error naming the
/// file; a missing public key file is fine (the server writes it on its
/// next start).
pub fn load_existing_for(
    dir: &Path,
    alg: Alg,
    policy: &KidPolicy,
) -> Result<Option<SigningKey>, PersistError> {
    if !alg.is_public() {
        return Ok(None);
    }
    let (private_file, public_file) = file_names(alg);
    let private_path = dir.join(&private_file);
    let public_path = dir.join(&public_file);
    let Some((bytes, mode)) = read_private(&private_path)? else {
        if exists(&public_path)? {
            return Err(PersistError::Invalid {
                path: public_path,
                reason: format!(
                    "exists but {private_file} is missing, so there is no key to sign with \
                     (restore {private_file})"
                ),
            });
        }
        return Ok(None);
    };
    let key = parse_private(&private_path, &bytes, alg, policy)?;
    if let Some(warning) = loose_mode_warning(&private_path, mode) {
        tracing::warn!("{warning}");
    }
    let spki = key.spki_der().map_err(|e| PersistError::Invalid {
        path: public_path.clone(),
        reason: e.to_string(),
    })?;
    check_public(&public_path, &spki)?;
    Ok(Some(key))
}

/// One look at the directory: `None` when another process created
/// `private.pem` meanwhile (look again to load it).
fn try_load_or_create(
    dir: &Path,
    alg: Alg,
    policy: &KidPolicy,
) -> Result<Option<(SigningKey, Outcome)>, PersistError> {
    let (private_file, public_file) = file_names(alg);
    let private_path = dir.join(&private_file);
    let public_path = dir.join(&public_file);
    // Look at public.pem BEFORE reading private.pem: a creator links
    // private.pem first, so if public.pem is there now and private.pem is
    // absent afterwards, private.pem was deleted, not about to appear. (In
    // the other order, a racer could link both between our two looks and
    // we would call its fresh public.pem an orphan.)
    let public_present = exists(&public_path)?;
    if let Some((bytes, mode)) = read_private(&private_path)? {
        let key = parse_private(&private_path, &bytes, alg, policy)?;
        if let Some(warning) = loose_mode_warning(&private_path, mode) {
            tracing::warn!("{warning}");
        }
        let outcome = ensure_public(&public_path, &key)?;
        return Ok(Some((key, outcome)));
    }
    if public_present {
        return Err(PersistError::Invalid {
            path: public_path,
            reason: format!(
                "exists but {private_file} is missing, so the key pair cannot be restored \
                 (restore {private_file}, or remove {public_file} to start with a new key)"
            ),
        });
    }
    let key = SigningKey::generate_fast_for(alg, policy).map_err(|e| PersistError::Invalid {
        path: private_path.clone(),
        reason: e.to_string(),
    })?;
    let der = key.pkcs8_der().map_err(|e| PersistError::Invalid {
        path: private_path.clone(),
        reason: e.to_string(),
    })?;
    let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der));
    if !write_new(&private_path, pem.as_bytes(), 0o600)? {
        // Another process linked its key first: ours is dropped, theirs used.
        return Ok(None);
    }
    ensure_public(&public_path, &key)?;
    Ok(Some((key, Outcome::Created)))
}

/// The bytes and permission bits of `private.pem`, or `None` if it is absent.
fn read_private(path: &Path) -> Result<Option<(Vec<u8>, u32)>, PersistError> {
    let io_err = |source| PersistError::Io {
        path: path.to_path_buf(),
        action: "read the private key",
        source,
    };
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(e)),
    };
    let meta = file.metadata().map_err(io_err)?;
    #[cfg(unix)]
    let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
    #[cfg(not(unix))]
    let mode = {
        let _ = meta;
        0o600
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io_err)?;
    Ok(Some((bytes, mode)))
}

/// The warning for a `private.pem` whose mode lets other users at it.
/// The file is not chmod-ed: existing key files are never modified.
fn loose_mode_warning(path: &Path, mode: u32) -> Option<String> {
    (mode & 0o077 != 0).then(|| {
        format!(
            "{path}: the private key is open to other users (mode {mode:04o}); run \
             `chmod 600 {path}`",
            path = path.display()
        )
    })
}

/// Whether `path` exists (a dangling symlink counts: it is not ours to replace).
fn exists(path: &Path) -> Result<bool, PersistError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(PersistError::Io {
            path: path.to_path_buf(),
            action: "look for the key file",
            source,
        }),
    }
}

fn parse_private(
    path: &Path,
    bytes: &[u8],
    alg: Alg,
    policy: &KidPolicy,
) -> Result<SigningKey, PersistError> {
    let invalid = |reason: String| PersistError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let block = pem::parse(bytes).map_err(|e| invalid(format!("not a PEM file ({e})")))?;
    match block.tag() {
        "PRIVATE KEY" => {}
        "RSA PRIVATE KEY" if alg.family() == super::Family::Rsa => {}
        other => {
            return Err(invalid(format!(
                "holds a {other:?} PEM block; expected a {alg} \"PRIVATE KEY\" (PKCS#8)"
            )));
        }
    }
    SigningKey::from_der_for(alg, block.contents(), policy).map_err(|e| invalid(e.to_string()))
}

/// Checks `public.pem` against the private key, or writes it when missing.
fn ensure_public(path: &Path, key: &SigningKey) -> Result<Outcome, PersistError> {
    let spki = key.spki_der().map_err(|e| PersistError::Invalid {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if check_public(path, &spki)? {
        return Ok(Outcome::Loaded);
    }
    let pem = pem::encode(&pem::Pem::new("PUBLIC KEY", spki.clone()));
    if write_new(path, pem.as_bytes(), 0o644)? {
        return Ok(Outcome::PublicRegenerated);
    }
    // Another process linked it between our read and our link (it read the
    // same private.pem): check what it wrote like any present file.
    if check_public(path, &spki)? {
        return Ok(Outcome::Loaded);
    }
    Err(PersistError::Invalid {
        path: path.to_path_buf(),
        reason: "appeared and vanished while starting (is something else deleting it?)".into(),
    })
}

/// `Ok(true)` if `public.pem` holds `spki`, `Ok(false)` if it is absent.
fn check_public(path: &Path, spki: &[u8]) -> Result<bool, PersistError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(PersistError::Io {
                path: path.to_path_buf(),
                action: "read the public key",
                source,
            });
        }
    };
    let block = pem::parse(&bytes).map_err(|e| PersistError::Invalid {
        path: path.to_path_buf(),
        reason: format!("not a PEM file ({e})"),
    })?;
    if block.tag() != "PUBLIC KEY" || block.contents() != spki {
        return Err(PersistError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "does not hold the public key of {PRIVATE_FILE} (remove it to have it regenerated)"
            ),
        });
    }
    Ok(true)
}

fn create_dir(dir: &Path) -> Result<(), PersistError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| PersistError::Io {
        path: dir.to_path_buf(),
        action: "create the keys directory (PERSIST_KEYS_DIR)",
        source,
    })?;
    if !dir.is_dir() {
        return Err(PersistError::Invalid {
            path: dir.to_path_buf(),
            reason: "PERSIST_KEYS_DIR is not a directory".into(),
        });
    }
    Ok(())
}

/// Whether `name` is one of our temporary key files: `.private.pem.*.tmp`
/// or `.public.pem.*.tmp` (any middle, so the old `<pid>` names count too).
fn is_temp_name(name: &str) -> bool {
    let files = Alg::ALL.into_iter().flat_map(|alg| {
        let (private, public) = file_names(alg);
        [private, public]
    });
    files.into_iter().any(|file| {
        name.strip_prefix('.')
            .and_then(|rest| rest.strip_prefix(file.as_str()))
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .is_some_and(|middle| !middle.is_empty())
    })
}

/// Removes our temporary files in `dir` last modified [`STALE_TEMP_AGE`] or
/// more before `now`: left by writers killed mid-write. Best effort (a
/// read-only volume is fine); only regular files with a temporary name are
/// considered, so `private.pem` and `public.pem` are never touched. Returns
/// the names removed.
fn remove_stale_temp_files(dir: &Path, now: SystemTime) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| is_temp_name(n)) else {
            continue;
        };
        // DirEntry::metadata does not follow symlinks.
        let Ok(meta) = entry.metadata() else { continue };
        let stale = meta
            .modified()
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age >= STALE_TEMP_AGE);
        if meta.is_file() && stale && fs::remove_file(entry.path()).is_ok() {
            tracing::info!(
                dir = %dir.display(),
                "removed {name}, a temporary key file left by a writer that stopped mid-write"
            );
            removed.push(name.to_string());
        }
    }
    removed
}

/// Creates a temporary file next to `path` under a fresh random name, with
/// `O_EXCL` (never opens an existing file, whoever left it there).
fn create_temp(path: &Path, mode: u32) -> Result<(PathBuf, File), PersistError> {
    let io_err = |source| PersistError::Io {
        path: path.to_path_buf(),
        action: "create a temporary key file",
        source,
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    // 64 random bits: a clash is all but impossible; retry a few anyway.
    for _ in 0..4 {
        let mut random = [0u8; 8];
        aws_lc_rs::rand::fill(&mut random)
            .map_err(|_| io_err(io::Error::other("the system random generator failed")))?;
        let tmp = dir.join(format!(
            ".{name}.{}-{:016x}.tmp",
            std::process::id(),
            u64::from_be_bytes(random)
        ));
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(io_err(e)),
        }
    }
    Err(io_err(last))
}

/// Writes `contents` to `path` only if `path` does not exist yet.
/// Returns `Ok(false)` when another writer got there first.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<bool, PersistError> {
    let io_err = |action, source| PersistError::Io {
        path: path.to_path_buf(),
        action,
        source,
    };
    let (tmp, mut file) = create_temp(path, mode)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err("write the key file", e));
    }
    // hard_link never replaces an existing file, unlike rename; the name
    // appears with the whole synced content behind it.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(io_err("move the key file into place", e)),
    }
    if let Some(dir) = path.parent().and_then(|d| File::open(d).ok()) {
        let _ = dir.sync_all();
    }
    Ok(true)
}

// DER tags (X.690) for the few structures read below.
const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
/// rsaEncryption, 1.2.840.113549.1.1.1 (RFC 8017 A.1), as DER content.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The modulus size in bits of an RSA private key in PKCS#8 or PKCS#1 DER,
/// read from the structure alone (nothing else in the key is checked), so a
/// refused key can be reported by its size: aws-lc only says
/// "UnexpectedError" for a 1024-bit one. `None` if `der` is not shaped so.
pub(crate) fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    let modulus = match pkcs1_modulus(der) {
        Some(modulus) => modulus,
        None => {
            // PKCS#8 PrivateKeyInfo (RFC 5208 §5): version, algorithm, and
            // the PKCS#1 key in an OCTET STRING.
            let (SEQUENCE, body, _) = der_tlv(der)? else {
                return None;
            };
            let (INTEGER, _version, rest) = der_tlv(body)? else {
                return None;
            };
            let (SEQUENCE, algorithm, rest) = der_tlv(rest)? else {
                return None;
            };
            let (OID, oid, _) = der_tlv(algorithm)? else {
                return None;
            };
            let (OCTET_STRING, pkcs1, _) = der_tlv(rest)? else {
                return None;
            };
            if oid != RSA_ENCRYPTION {
                return None;
            }
            pkcs1_modulus(pkcs1)?
        }
    };
    let first = modulus.iter().position(|&b| b != 0)?;
    Some((modulus.len() - first) * 8 - modulus[first].leading_zeros() as usize)
}

/// The modulus of a PKCS#1 RSAPrivateKey (RFC 8017 A.1.2: version, modulus, ...).
fn pkcs1_modulus(der: &[u8]) -> Option<&[u8]> {
    let (SEQUENCE, body, _) = der_tlv(der)? else {
        return None;
    };
    let (INTEGER, _version, rest) = der_tlv(body)? else {
        return None;
    };
    let (INTEGER, modulus, _) = der_tlv(rest)? else {
        return None;
    };
    Some(modulus)
}

/// Splits one DER tag-length-value off `input`: (tag, value, rest).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        let len = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (value, rest) = rest.split_at(len);
    Some((tag, value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;

    fn policy() -> KidPolicy {
        KidPolicy::default()
    }

    #[test]
    fn first_start_creates_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("nested/keys");
        let (first, outcome) = load_or_create(&keys, &policy()).unwrap();
        assert_eq!(outcome, Outcome::Created);
        #[cfg(unix)]
        {
            let mode = fs::metadata(keys.join(PRIVATE_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let public = fs::read_to_string(keys.join(PUBLIC_FILE)).unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"), "{public}");
        let (second, outcome) = load_or_create(&keys, &policy()).unwrap();
        assert_eq!(outcome, Outcome::Loaded);
        assert_eq!(second.jwk(), first.jwk());
        let leftovers: Vec<_> = fs::read_dir(&keys)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "no temporary files left: {leftovers:?}");
    }

    #[test]
    fn missing_public_is_regenerated_from_private() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = load_or_create(dir.path(), &policy()).unwrap();
        let public_before = fs::read(dir.path().join(PUBLIC_FILE)).unwrap();
        fs::remove_file(dir.path().join(PUBLIC_FILE)).unwrap();
        let (again, outcome) = load_or_create(dir.path(), &policy()).unwrap();
        assert_eq!(outcome, Outcome::PublicRegenerated);
        assert_eq!(again.jwk(), first.jwk());
        assert_eq!(
            fs::read(dir.path().join(PUBLIC_FILE)).unwrap(),
            public_before
        );
    }

    fn assert_refused(dir: &Path, file: &str, expected: &str) {
        let before = fs::read(dir.join(file)).unwrap();
        let err = load_or_create(dir, &policy()).unwrap_err().to_string();
        assert!(err.contains(file), "error must name {file}: {err}");
        assert!(
            err.contains(expected),
            "error {err:?} should say {expected:?}"
        );
        assert_eq!(
            fs::read(dir.join(file)).unwrap(),
            before,
            "{file} must be untouched"
        );
    }

    #[test]
    fn bad_files_are_refused_and_untouched() {
        let cases: [(&str, &str, Vec<u8>, &str); 5] = [
            ("garbage private", PRIVATE_FILE, b"not a key at all".to_vec(), "not a PEM file"),
            (
                "truncated private",
                PRIVATE_FILE,
                b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n".to_vec(),
                "not a usable RSA private key",
            ),
            (
                "certificate instead of key",
                PRIVATE_FILE,
                pem::encode(&pem::Pem::new("CERTIFICATE", vec![1, 2, 3])).into_bytes(),
                "\"CERTIFICATE\"",
            ),
            ("empty private", PRIVATE_FILE, Vec::new(), "not a PEM file"),
            ("public without private", PUBLIC_FILE, b"x".to_vec(), "is missing"),
        ];
        for (name, file, content, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join(file), &content).unwrap();
            assert_refused(dir.path(), file, expected);
            eprintln!("case ok: {name}");
        }
    }

    #[test]
    fn ec_key_is_refused_as_non_rsa() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let ec = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(PRIVATE_FILE),
            pem::encode(&pem::Pem::new("PRIVATE KEY", ec.as_ref().to_vec())),
        )
        .unwrap();
        assert_refused(dir.path(), PRIVATE_FILE, "not a usable RSA private key");
    }

    #[test]
    fn mismatched_public_is_refused_and_untouched() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        load_or_create(a.path(), &policy()).unwrap();
        load_or_create(b.path(), &policy()).unwrap();
        fs::copy(b.path().join(PUBLIC_FILE), a.path().join(PUBLIC_FILE)).unwrap();
        assert_refused(a.path(), PUBLIC_FILE, "does not hold the public key");
    }

    #[test]
    fn keys_dir_that_is_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys");
        fs::write(&file, "x").unwrap();
        let err = load_or_create(&file, &policy()).unwrap_err().to_string();
        assert!(err.contains("keys"), "{err}");
        assert_eq!(fs::read(&file).unwrap(), b"x");
    }

    #[test]
    fn io_errors_name_the_path_and_what_failed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        fs::write(&file, "x").unwrap();
        let err = load_or_create(&file.join("keys"), &policy())
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot create the keys directory"), "{err}");
        assert!(err.contains("plain-file/keys"), "{err}");

        // A directory where a key file should be: unreadable for anyone, root included.
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(PRIVATE_FILE)).unwrap();
        let err = load_or_create(dir.path(), &policy())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(PRIVATE_FILE) && err.contains("cannot read the private key"),
            "{err}"
        );

        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path(), &policy()).unwrap();
        fs::remove_file(dir.path().join(PUBLIC_FILE)).unwrap();
        fs::create_dir(dir.path().join(PUBLIC_FILE)).unwrap();
        let err = load_or_create(dir.path(), &policy())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(PUBLIC_FILE) && err.contains("cannot read the public key"),
            "{err}"
        );

        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path(), &policy()).unwrap();
        fs::write(dir.path().join(PUBLIC_FILE), "not pem").unwrap();
        let err = load_or_create(dir.path(), &policy())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(PUBLIC_FILE) && err.contains("not a PEM file"),
            "{err}"
        );
    }

    /// A throwaway 1024-bit RSA key (openssl genpkey), PKCS#8: only ever refused.
    const RSA_1024_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIICdQIBADANBgkqhkiG9w0BAQEFAASCAl8wggJbAgEAAoGBALFCVc55HSazUd6y
ZGx0VGaOvEkWCFoxQq28T4ND69IAim/ZJyiy5t4D5yNCSsLe4AFrMsYTT2Z9XfKF
uLy+ja1kk8o5DWINPHKjIZbcsY/YXDxfEbJivigfnmJf2Eg8tbIyLcDT3h7VUmBx
DANZY83gQ+3RAR5SW6++S+uS/xa3AgMBAAECgYBe1pcCOVqXcinDdL62KCdgF841
bExbtS9vtOj12kk5uoBXB2AkLlPHRV9NRhKp4IUJPUmVII/CziCNuW31zh4OW07A
VEHA6r5vNIR5Qmizw99wAg8JbRtRMWRwFcH+nQh+rqwxcavjo6BoENNiCvUpB0en
DOh9dSM9TB8n7wvwAQJBANs9PjTwuF+i8l2GBPk8vhYWrNPHsymHvhbIG8WrxFxZ
eRnN7T6nLQp7k/Pq5AM5nI+wfhEXAeE+IbL8Q7mPMbcCQQDO+xzYO5S8Q76hKezW
TOHJm5ENQK9Ksz5Ps9ztVLnaHf3vPAWYY1qUMtJv9mfVFxB1E1xxIEvE7NNC/9dn
+0MBAkBWPb0eriKY3ExipbmHIXHU1o6dsEy15YPNCmKCW5MekMOmdu8AWlrJaNtG
c/vFmQARNeghaN+AbyRqd/lcIQv5AkBegpEwNzx6HqDb7E3lqKNssGkyWPfxrxjj
weg+QnK+ovVBmPGhHLTOeMpYL3ZH+ckc/GM4kJuoZs8sh6/vHe8BAkBxydYCa1ar
SrTy6XBgPzhg5L9pxf6eGT1ai8t5sOqh96DyFuX5oNiZncvNI9h66VUld/FMMGzm
Q1xBwjX6ycIA
-----END PRIVATE KEY-----
";

    #[test]
    fn small_keys_are_refused_by_size_and_untouched() {
        let pkcs8 = pem::parse(RSA_1024_PKCS8).unwrap().into_contents();
        // The PKCS#1 key inside: PKCS#8 header (4) + version (3) + algorithm
        // (15) + OCTET STRING header (4) bytes, for this key.
        let pkcs1 = pkcs8[26..].to_vec();
        assert_eq!(pkcs1[0], 0x30, "the PKCS#1 SEQUENCE");
        let cases = [
            ("PKCS#8", pem::Pem::new("PRIVATE KEY", pkcs8)),
            ("PKCS#1", pem::Pem::new("RSA PRIVATE KEY", pkcs1)),
        ];
        for (name, block) in cases {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join(PRIVATE_FILE), pem::encode(&block)).unwrap();
            assert_refused(
                dir.path(),
                PRIVATE_FILE,
                "RSA key is 1024 bits; at least 2048 are required",
            );
            assert!(
                !dir.path().join(PUBLIC_FILE).exists(),
                "{name}: nothing written"
            );
            eprintln!("case ok: {name}");
        }
    }

    #[test]
    fn modulus_size_is_read_from_pkcs8_and_pkcs1() {
        let key = SigningKey::generate(&policy()).unwrap();
        let pkcs8 = key.pkcs8_der().unwrap();
        assert_eq!(rsa_modulus_bits(&pkcs8), Some(2048));
        let rsa_1024 = pem::parse(RSA_1024_PKCS8).unwrap().into_contents();
        assert_eq!(rsa_modulus_bits(&rsa_1024), Some(1024));
        assert_eq!(rsa_modulus_bits(&rsa_1024[26..]), Some(1024), "PKCS#1");
        // Version 0, a 9-bit modulus (0x01 0x00 after a sign byte), e = 3.
        assert_eq!(
            rsa_modulus_bits(&[
                0x30, 0x0a, 0x02, 0x01, 0x00, 0x02, 0x02, 0x01, 0x00, 0x02, 0x01, 0x03
            ]),
            Some(9)
        );
        let ec = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap();
        let cases: [(&str, &[u8]); 5] = [
            ("empty", b""),
            ("garbage", b"garbage"),
            ("EC key", ec.as_ref()),
            ("truncated", &pkcs8[..40]),
            (
                "length past the end",
                &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02],
            ),
        ];
        for (name, der) in cases {
            assert_eq!(rsa_modulus_bits(der), None, "{name}");
        }
    }

    /// Temporary files as a writer SIGKILLed mid-write leaves them, named
    /// the old way (by process id, as in a container where every process is
    /// PID 1): they used to make every later start fail.
    #[test]
    fn partial_temp_files_never_block_a_start() {
        let dir = tempfile::tempdir().unwrap();
        let pid = std::process::id();
        let fresh = [
            (
                format!(".{PRIVATE_FILE}.{pid}.tmp"),
                "-----BEGIN PRIVATE KEY-----\nMIIE",
            ),
            (format!(".{PUBLIC_FILE}.{pid}.tmp"), "-----BEGIN PUB"),
        ];
        for (name, content) in &fresh {
            fs::write(dir.path().join(name), content).unwrap();
        }
        let old = dir.path().join(format!(".{PRIVATE_FILE}.7.tmp"));
        fs::write(&old, "-----BEGIN").unwrap();
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();

        let (key, outcome) = load_or_create(dir.path(), &policy()).unwrap();
        assert_eq!(outcome, Outcome::Created);
        let (again, _) = load_or_create(dir.path(), &policy()).unwrap();
        assert_eq!(again.jwk(), key.jwk());
        for (name, content) in &fresh {
            assert_eq!(
                fs::read_to_string(dir.path().join(name)).unwrap(),
                *content,
                "{name}: a fresh temporary file may be a live writer's: left alone"
            );
        }
        assert!(!old.exists(), "a temporary file an hour old is removed");
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let mut want = vec![PRIVATE_FILE.to_string(), PUBLIC_FILE.to_string()];
        want.extend(fresh.iter().map(|(n, _)| n.clone()));
        want.sort();
        assert_eq!(names, want);
    }

    #[test]
    fn only_stale_temp_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            ".private.pem.1.tmp",
            ".public.pem.1-00ff00ff00ff00ff.tmp",
            PRIVATE_FILE,
            PUBLIC_FILE,
            "private.pem.1.tmp",
            ".private.pem..tmp",
            ".private.pem.1.tmp.bak",
            ".other.pem.1.tmp",
        ];
        for name in names {
            fs::write(dir.path().join(name), "x").unwrap();
        }
        fs::create_dir(dir.path().join(".private.pem.dir.tmp")).unwrap();
        let written = fs::metadata(dir.path().join(PRIVATE_FILE))
            .unwrap()
            .modified()
            .unwrap();
        let young = written + STALE_TEMP_AGE - Duration::from_secs(1);
        assert!(remove_stale_temp_files(dir.path(), young).is_empty());
        let mut removed = remove_stale_temp_files(dir.path(), written + STALE_TEMP_AGE);
        removed.sort();
        assert_eq!(
            removed,
            [".private.pem.1.tmp", ".public.pem.1-00ff00ff00ff00ff.tmp"]
        );
        for name in &names[2..] {
            assert!(dir.path().join(name).exists(), "{name} must be kept");
        }
        assert!(dir.path().join(".private.pem.dir.tmp").is_dir());
    }

    /// Threads of one process share its process id, like PID-1 containers
    /// on one volume: the old `.private.pem.<pid>.tmp` name made some fail
    /// with "File exists". Exactly one creates the key; all get it.
    #[test]
    fn racing_starts_share_one_key() {
        const RACERS: usize = 8;
        for round in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let keys = dir.path().join("keys");
            let barrier = std::sync::Barrier::new(RACERS);
            let results: Vec<_> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..RACERS)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            load_or_create(&keys, &policy())
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let mut created = 0;
            let mut first_jwk = None;
            for result in results {
                let (key, outcome) =
                    result.unwrap_or_else(|e| panic!("round {round}: a start failed: {e}"));
                created += usize::from(outcome == Outcome::Created);
                let jwk = first_jwk.get_or_insert_with(|| key.jwk().clone());
                assert_eq!(key.jwk(), jwk, "round {round}: one key for all");
            }
            assert_eq!(created, 1, "round {round}: exactly one creator");
            let (on_disk, outcome) = load_or_create(&keys, &policy()).unwrap();
            assert_eq!(outcome, Outcome::Loaded);
            assert_eq!(Some(on_disk.jwk()), first_jwk.as_ref());
            assert_eq!(
                fs::read_dir(&keys).unwrap().count(),
                2,
                "no temporary files"
            );
        }
    }

    /// The creator died between linking private.pem and public.pem (or
    /// racers look in between): every racer gets the key, public.pem is
    /// written once and matches.
    #[test]
    fn racing_starts_fill_in_a_missing_public_key() {
        const RACERS: usize = 8;
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = load_or_create(dir.path(), &policy()).unwrap();
        let public_before = fs::read(dir.path().join(PUBLIC_FILE)).unwrap();
        let private_before = fs::read(dir.path().join(PRIVATE_FILE)).unwrap();
        fs::remove_file(dir.path().join(PUBLIC_FILE)).unwrap();
        let barrier = std::sync::Barrier::new(RACERS);
        let outcomes: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..RACERS)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        let (k, outcome) = load_or_create(dir.path(), &policy()).unwrap();
                        assert_eq!(k.jwk(), key.jwk());
                        outcome
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let regenerated = outcomes
            .iter()
            .filter(|o| **o == Outcome::PublicRegenerated)
            .count();
        assert_eq!(regenerated, 1, "one writer of public.pem: {outcomes:?}");
        assert_eq!(
            fs::read(dir.path().join(PUBLIC_FILE)).unwrap(),
            public_before
        );
        assert_eq!(
            fs::read(dir.path().join(PRIVATE_FILE)).unwrap(),
            private_before
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    /// A `tracing` writer into a shared buffer, to read what was logged.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn logs_of<T>(f: impl FnOnce() -> T) -> (T, String) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let value = tracing::subscriber::with_default(subscriber, f);
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        (value, logs)
    }

    #[cfg(unix)]
    #[test]
    fn private_key_open_to_others_is_a_warning_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = load_or_create(dir.path(), &policy()).unwrap();
        let private = dir.path().join(PRIVATE_FILE);
        let (_, logs) = logs_of(|| load_or_create(dir.path(), &policy()).unwrap());
        assert!(!logs.contains("WARN"), "mode 0600: no warning: {logs}");

        for mode in [0o644, 0o640, 0o604] {
            fs::set_permissions(&private, fs::Permissions::from_mode(mode)).unwrap();
            let ((loaded, outcome), logs) =
                logs_of(|| load_or_create(dir.path(), &policy()).unwrap());
            assert_eq!((loaded.jwk(), outcome), (key.jwk(), Outcome::Loaded));
            let want = format!("mode {mode:04o}");
            assert!(
                logs.contains("WARN")
                    && logs.contains(&private.display().to_string())
                    && logs.contains(&want)
                    && logs.contains("chmod 600"),
                "{want}: {logs}"
            );
            let now = fs::metadata(&private).unwrap().permissions().mode() & 0o777;
            assert_eq!(now, mode, "the file is never chmod-ed");
        }
        assert_eq!(loose_mode_warning(&private, 0o600), None);
        assert_eq!(loose_mode_warning(&private, 0o400), None);
        assert!(
            loose_mode_warning(&private, 0o620).is_some(),
            "group-writable"
        );
    }

    /// main prints `{:#}` of the anyhow chain: each cause once.
    #[test]
    fn os_errors_appear_once_in_the_printed_chain() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(PRIVATE_FILE)).unwrap();
        let err = load_or_create(dir.path(), &policy()).unwrap_err();
        let printed = format!("{:#}", anyhow::Error::from(err));
        assert_eq!(printed.matches("os error").count(), 1, "{printed}");
        assert!(
            printed.contains("private.pem: cannot read the private key: Is a directory"),
            "{printed}"
        );
        assert!(!printed.contains('\n'), "one line: {printed}");
    }

    fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut all: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).unwrap_or_default(),
                )
            })
            .collect();
        all.sort();
        all
    }

    /// `mock-idp mint`/`jwks` read the key the server persisted and never
    /// write anything, whatever the directory holds.
    #[test]
    fn load_existing_reads_and_never_writes() {
        let root = tempfile::tempdir().unwrap();
        let absent = root.path().join("absent");
        assert!(load_existing(&absent, &policy()).unwrap().is_none());
        assert!(!absent.exists(), "the directory is not created");
        let empty = root.path().join("empty");
        fs::create_dir(&empty).unwrap();
        assert!(load_existing(&empty, &policy()).unwrap().is_none());
        assert!(listing(&empty).is_empty(), "no file is created");

        let keys = root.path().join("keys");
        let (created, _) = load_or_create(&keys, &policy()).unwrap();
        let before = listing(&keys);
        let loaded = load_existing(&keys, &policy()).unwrap().unwrap();
        assert_eq!(loaded.jwk(), created.jwk());
        assert_eq!(listing(&keys), before, "nothing written or removed");

        // A missing public.pem is not written back.
        fs::remove_file(keys.join(PUBLIC_FILE)).unwrap();
        let loaded = load_existing(&keys, &policy()).unwrap().unwrap();
        assert_eq!(loaded.jwk(), created.jwk());
        assert!(!keys.join(PUBLIC_FILE).exists(), "public.pem not written");

        // Bad files are errors naming them, left as they are.
        let other = SigningKey::generate(&policy()).unwrap();
        let wrong_public = pem::encode(&pem::Pem::new("PUBLIC KEY", other.spki_der().unwrap()));
        fs::write(keys.join(PUBLIC_FILE), &wrong_public).unwrap();
        let before = listing(&keys);
        let err = load_existing(&keys, &policy()).unwrap_err().to_string();
        assert!(
            err.contains(PUBLIC_FILE) && err.contains("does not hold"),
            "{err}"
        );
        assert_eq!(listing(&keys), before);

        fs::write(keys.join(PRIVATE_FILE), "garbage").unwrap();
        let before = listing(&keys);
        let err = load_existing(&keys, &policy()).unwrap_err().to_string();
        assert!(
            err.contains(PRIVATE_FILE) && err.contains("not a PEM file"),
            "{err}"
        );
        assert_eq!(listing(&keys), before);

        fs::remove_file(keys.join(PRIVATE_FILE)).unwrap();
        let err = load_existing(&keys, &policy()).unwrap_err().to_string();
        assert!(
            err.contains(PUBLIC_FILE) && err.contains("restore"),
            "{err}"
        );
        assert_eq!(listing(&keys).len(), 1, "only the orphan public.pem");
    }

    /// Other algorithms' key pairs are read from their own files; HS256 is
    /// a secret, never a file.
    #[test]
    fn load_existing_for_other_algorithms() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            load_existing_for(dir.path(), Alg::ES256, &policy())
                .unwrap()
                .is_none()
        );
        let (created, _) = load_or_create_for(dir.path(), Alg::ES256, &policy()).unwrap();
        let before = listing(dir.path());
        let loaded = load_existing_for(dir.path(), Alg::ES256, &policy())
            .unwrap()
            .unwrap();
        assert_eq!((loaded.alg(), loaded.jwk()), (Alg::ES256, created.jwk()));
        assert!(
            load_existing(dir.path(), &policy()).unwrap().is_none(),
            "no RS256 key"
        );
        assert!(
            load_existing_for(dir.path(), Alg::EdDSA, &policy())
                .unwrap()
                .is_none()
        );
        assert!(
            load_existing_for(dir.path(), Alg::HS256, &policy())
                .unwrap()
                .is_none()
        );
        assert_eq!(listing(dir.path()), before, "nothing written");
    }

    #[test]
    fn write_new_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        assert!(write_new(&path, b"one", 0o600).unwrap());
        assert!(!write_new(&path, b"two", 0o600).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"one");
    }
}
