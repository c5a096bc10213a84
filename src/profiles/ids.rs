//! Identifiers the providers make GUIDs: deterministic UUID v5 (RFC 4122
//! §4.3, URL namespace) for ids that must stay the same for one user across
//! tokens and restarts (Entra `oid` and tenant, Keycloak service accounts),
//! random UUID v4 for token ids.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};

use crate::random::RandomError;

/// The URL namespace of RFC 4122 appendix C (`6ba7b811-9dad-11d1-80b4-00c04fd430c8`).
const NAMESPACE_URL: [u8; 16] = [
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
];

fn format(mut b: [u8; 16], version: u8) -> String {
    b[6] = (b[6] & 0x0f) | (version << 4);
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// UUID v5 of `name` in the URL namespace (SHA-1 is what RFC 4122 §4.3
/// prescribes for v5; no security depends on it).
pub fn uuid_v5(name: &str) -> String {
    let mut input = Vec::with_capacity(16 + name.len());
    input.extend_from_slice(&NAMESPACE_URL);
    input.extend_from_slice(name.as_bytes());
    let d = digest(&SHA1_FOR_LEGACY_USE_ONLY, &input);
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    format(b, 5)
}

/// A random UUID v4 from the OS CSPRNG.
pub fn uuid_v4() -> Result<String, RandomError> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| RandomError)?;
    Ok(format(b, 4))
}

/// Whether `s` is a GUID (`8-4-4-4-12` hex digits, any case).
pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v5_matches_python_uuid5() {
        // python3 -c "import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, 'entra'))"
        assert_eq!(uuid_v5("entra"), "69317114-f541-5e47-b959-a8288dc3b60d");
        assert_eq!(
            uuid_v5("https://x|user_alice"),
            "6ffb001d-e09f-5048-b5f0-1bfc5a0c6d07"
        );
    }

    #[test]
    fn v4_is_random_and_well_formed() {
        let a = uuid_v4().unwrap();
        assert!(is_guid(&a), "{a}");
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert_ne!(a, uuid_v4().unwrap());
    }

    #[test]
    fn guids() {
        assert!(is_guid("8eaef023-2b34-4da1-9baa-8bc8c9d6a490"));
        assert!(is_guid("8EAEF023-2B34-4DA1-9BAA-8BC8C9D6A490"));
        for bad in [
            "",
            "entra",
            "8eaef023-2b34-4da1-9baa-8bc8c9d6a49",
            "8eaef023x2b34-4da1-9baa-8bc8c9d6a490",
        ] {
            assert!(!is_guid(bad), "{bad}");
        }
    }
}
