//! Minimal X.509 v3 certificates (RFC 5280) for Google's `/oauth2/v1/certs`
//! (`kid -> PEM certificate`), hand-written DER so no certificate crate is
//! needed: an RSA subject key, a common name, a validity period and a
//! sha256WithRSAEncryption signature made by the caller (the issuer's key),
//! no extensions. Google's libraries only read the public key out of it.

use aws_lc_rs::digest::{SHA256, digest};

/// DER of `sha256WithRSAEncryption` (1.2.840.113549.1.1.11) with NULL parameters.
const SHA256_WITH_RSA: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
];
/// DER of `rsaEncryption` (1.2.840.113549.1.1.1) with NULL parameters.
const RSA_ENCRYPTION: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];
/// DER of the `commonName` attribute type (2.5.4.3).
const COMMON_NAME: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];

/// What a certificate says.
#[derive(Debug, Clone, Copy)]
pub struct CertInfo<'a> {
    /// Common name of the subject (the key's `kid`).
    pub subject_cn: &'a str,
    /// Common name of the signer (equal to `subject_cn` when self-signed).
    pub issuer_cn: &'a str,
    /// RSA modulus of the subject key, big-endian.
    pub n: &'a [u8],
    /// RSA public exponent of the subject key, big-endian.
    pub e: &'a [u8],
    /// Start of validity, UNIX seconds.
    pub not_before: i64,
    /// End of validity, UNIX seconds.
    pub not_after: i64,
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
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
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER from big-endian bytes.
fn uint(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(&trimmed);
    tlv(0x02, &content)
}

fn name(cn: &str) -> Vec<u8> {
    // RFC 5280 ub-common-name: 64 characters.
    let cn: String = cn.chars().take(64).collect();
    let attribute = seq(&[COMMON_NAME, &tlv(0x0c, cn.as_bytes())]);
    seq(&[&tlv(0x31, &attribute)])
}

/// UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
fn time(t: i64) -> Vec<u8> {
    let crate::utc::Utc {
        year: y,
        month: mo,
        day: d,
        hour: h,
        minute: mi,
        second: s,
    } = crate::utc::Utc::from_unix(t.clamp(0, 253_402_300_799));
    if (1950..2050).contains(&y) {
        let text = format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100);
        tlv(0x17, text.as_bytes())
    } else {
        let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z");
        tlv(0x18, text.as_bytes())
    }
}

/// SubjectPublicKeyInfo DER of an RSA public key.
pub fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let key = seq(&[&uint(n), &uint(e)]);
    let mut bits = vec![0u8];
    bits.extend_from_slice(&key);
    seq(&[RSA_ENCRYPTION, &tlv(0x03, &bits)])
}

/// The to-be-signed part of the certificate (what the signer signs with
/// RSASSA-PKCS1-v1_5 SHA-256).
pub fn tbs(info: &CertInfo<'_>) -> Vec<u8> {
    // A positive 16-byte serial derived from the key: stable per key.
    let d = digest(&SHA256, &[info.n, info.issuer_cn.as_bytes()].concat());
    let mut serial = [0u8; 16];
    serial.copy_from_slice(&d.as_ref()[..16]);
    serial[0] = (serial[0] & 0x7f) | 0x01;
    let version = tlv(0xa0, &uint(&[2]));
    let validity = seq(&[&time(info.not_before), &time(info.not_after)]);
    seq(&[
        &version,
        &uint(&serial),
        SHA256_WITH_RSA,
        &name(info.issuer_cn),
        &validity,
        &name(info.subject_cn),
        &rsa_spki(info.n, info.e),
    ])
}

/// The certificate DER from its `tbs` and the signature over it.
pub fn certificate(tbs: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut bits = vec![0u8];
    bits.extend_from_slice(signature);
    seq(&[tbs, SHA256_WITH_RSA, &tlv(0x03, &bits)])
}

/// PEM armour with `\n` line endings, as Google serves it.
pub fn pem(der: &[u8]) -> String {
    let block = pem::Pem::new("CERTIFICATE", der.to_vec());
    pem::encode_config(
        &block,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_and_integers() {
        assert_eq!(tlv(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(uint(&[0x80]), [0x02, 2, 0x00, 0x80]);
        assert_eq!(uint(&[0, 0, 1]), [0x02, 1, 1]);
        assert_eq!(uint(&[]), [0x02, 1, 0]);
    }

    #[test]
    fn times() {
        assert_eq!(time(1_700_000_000), tlv(0x17, b"231114221320Z"));
        assert_eq!(time(2_524_608_000), tlv(0x18, b"20500101000000Z"));
    }

    #[test]
    fn pem_has_lf_lines() {
        let p = pem(&[1; 100]);
        assert!(p.starts_with("-----BEGIN CERTIFICATE-----\n"), "{p}");
        assert!(p.ends_with("-----END CERTIFICATE-----\n"), "{p}");
        assert!(!p.contains('\r'));
    }
}
