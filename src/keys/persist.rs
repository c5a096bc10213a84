//! `PERSIST_KEYS_DIR`: keep the signing key across restarts.
//!
//! First start writes `private.pem` (PKCS#8, mode 0600) and `public.pem`
//! (SPKI) atomically: each file is written to a temporary name, synced, then
//! hard-linked into place, which fails instead of replacing an existing file.
//! So a crash never leaves half a key, two replicas racing on one directory
//! end up sharing one key, and a present key file is never overwritten,
//! truncated or deleted, whatever it contains.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{KidPolicy, SigningKey};

/// File name of the private key (PKCS#8 PEM).
pub const PRIVATE_FILE: &str = "private.pem";
/// File name of the public key (SPKI PEM).
pub const PUBLIC_FILE: &str = "public.pem";

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
    /// Reading, creating or writing failed.
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
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

/// Loads the key pair from `dir`, or creates it there on first start.
pub fn load_or_create(
    dir: &Path,
    policy: &KidPolicy,
) -> Result<(SigningKey, Outcome), PersistError> {
    create_dir(dir)?;
    match try_load_or_create(dir, policy)? {
        Some(done) => Ok(done),
        // Another process created the key between our check and our write: use theirs.
        None => try_load_or_create(dir, policy)?.ok_or_else(|| PersistError::Invalid {
            path: dir.join(PRIVATE_FILE),
            reason: "appeared and vanished while starting".into(),
        }),
    }
}

fn try_load_or_create(
    dir: &Path,
    policy: &KidPolicy,
) -> Result<Option<(SigningKey, Outcome)>, PersistError> {
    let private_path = dir.join(PRIVATE_FILE);
    let public_path = dir.join(PUBLIC_FILE);
    match fs::read(&private_path) {
        Ok(bytes) => {
            let key = parse_private(&private_path, &bytes, policy)?;
            let outcome = ensure_public(&public_path, &key)?;
            Ok(Some((key, outcome)))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if public_path.exists() {
                return Err(PersistError::Invalid {
                    path: public_path,
                    reason: format!(
                        "exists but {PRIVATE_FILE} is missing, so the key pair cannot be \
                         restored (restore {PRIVATE_FILE}, or remove {PUBLIC_FILE} to start with a \
                         new key)"
                    ),
                });
            }
            let key = SigningKey::generate_fast(policy).map_err(|e| PersistError::Invalid {
                path: private_path.clone(),
                reason: e.to_string(),
            })?;
            let der = key.pkcs8_der().map_err(|e| PersistError::Invalid {
                path: private_path.clone(),
                reason: e.to_string(),
            })?;
            let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der));
            if !write_new(&private_path, pem.as_bytes(), 0o600)? {
                return Ok(None);
            }
            ensure_public(&public_path, &key)?;
            Ok(Some((key, Outcome::Created)))
        }
        Err(source) => Err(PersistError::Io {
            path: private_path,
            action: "read the private key",
            source,
        }),
    }
}

fn parse_private(
    path: &Path,
    bytes: &[u8],
    policy: &KidPolicy,
) -> Result<SigningKey, PersistError> {
    let invalid = |reason: String| PersistError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let block = pem::parse(bytes).map_err(|e| invalid(format!("not a PEM file ({e})")))?;
    match block.tag() {
        "PRIVATE KEY" | "RSA PRIVATE KEY" => {}
        other => {
            return Err(invalid(format!(
                "holds a {other:?} PEM block; expected an RSA \"PRIVATE KEY\" (PKCS#8)"
            )));
        }
    }
    SigningKey::from_der(block.contents(), policy).map_err(|e| invalid(e.to_string()))
}

/// Checks `public.pem` against the private key, or writes it when missing.
fn ensure_public(path: &Path, key: &SigningKey) -> Result<Outcome, PersistError> {
    let spki = key.spki_der().map_err(|e| PersistError::Invalid {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    match fs::read(path) {
        Ok(bytes) => {
            let block = pem::parse(&bytes).map_err(|e| PersistError::Invalid {
                path: path.to_path_buf(),
                reason: format!("not a PEM file ({e})"),
            })?;
            if block.tag() != "PUBLIC KEY" || block.contents() != spki.as_slice() {
                return Err(PersistError::Invalid {
                    path: path.to_path_buf(),
                    reason: format!(
                        "does not hold the public key of {PRIVATE_FILE} (remove it to have it \
                         regenerated)"
                    ),
                });
            }
            Ok(Outcome::Loaded)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let pem = pem::encode(&pem::Pem::new("PUBLIC KEY", spki));
            // Losing a race here is fine: the winner wrote the same public key.
            write_new(path, pem.as_bytes(), 0o644)?;
            Ok(Outcome::PublicRegenerated)
        }
        Err(source) => Err(PersistError::Io {
            path: path.to_path_buf(),
            action: "read the public key",
            source,
        }),
    }
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

/// Writes `contents` to `path` only if `path` does not exist yet.
/// Returns `Ok(false)` when another writer got there first.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<bool, PersistError> {
    let io_err = |action, source| PersistError::Io {
        path: path.to_path_buf(),
        action,
        source,
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options
        .open(&tmp)
        .map_err(|e| io_err("create a temporary key file", e))?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err("write the key file", e));
    }
    // hard_link never replaces an existing file, unlike rename.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(io_err("move the key file into place", e)),
    }
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(true)
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

    #[test]
    fn write_new_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        assert!(write_new(&path, b"one", 0o600).unwrap());
        assert!(!write_new(&path, b"two", 0o600).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"one");
    }
}
