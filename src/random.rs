//! Random identifiers (`jti`, `sid`, codes) from the OS CSPRNG (aws-lc). A
//! machine without an entropy source gets an error, never a predictable id.

/// Alphabets for random identifiers.
#[derive(Clone, Copy, Debug)]
pub enum Alphabet {
    /// `0-9a-f`.
    Hex,
    /// `0-9A-Za-z`.
    Base62,
}

/// The OS random number generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomError;

/// A random identifier of `len` characters from `alphabet`.
pub fn token(len: usize, alphabet: Alphabet) -> Result<String, RandomError> {
    const HEX: &[u8] = b"0123456789abcdef";
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let chars = match alphabet {
        Alphabet::Hex => HEX,
        Alphabet::Base62 => B62,
    };
    // Rejection sampling keeps every character equally likely: 62 does not
    // divide 256, so bytes >= 248 (4 * 62) are drawn again.
    let limit = 256 - 256 % chars.len();
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        aws_lc_rs::rand::fill(&mut buf).map_err(|_| RandomError)?;
        for b in buf {
            if usize::from(b) < limit && out.len() < len {
                out.push(chars[usize::from(b) % chars.len()] as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_alphabet_and_uniqueness() {
        let a = token(32, Alphabet::Hex).unwrap();
        assert_eq!(a.len(), 32);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        let b = token(200, Alphabet::Base62).unwrap();
        assert_eq!(b.len(), 200);
        assert!(b.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(token(32, Alphabet::Hex).unwrap(), a);
        assert_eq!(token(0, Alphabet::Hex).unwrap(), "");
    }
}
