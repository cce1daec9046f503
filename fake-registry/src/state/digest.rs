//! Content digests (`algorithm:hex`) as the OCI image spec defines them, for the algorithms the
//! registry verifies: `sha256` (canonical) and `sha512`.

use sha2::{Digest as _, Sha256, Sha512};

use super::content::{ContentError, ErrorCode};

/// A digest algorithm the registry can verify content against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// SHA-256, 64 hex digits; the canonical algorithm.
    Sha256,
    /// SHA-512, 128 hex digits.
    Sha512,
}

impl Algorithm {
    /// Parses the algorithm part of a digest; `None` for one the registry does not support.
    pub fn parse(name: &str) -> Option<Algorithm> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// Number of hex digits of an encoded digest.
    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    /// `algorithm:<hex>` of `data`.
    pub fn digest(self, data: &[u8]) -> String {
        match self {
            Algorithm::Sha256 => format!("sha256:{}", hex::encode(Sha256::digest(data))),
            Algorithm::Sha512 => format!("sha512:{}", hex::encode(Sha512::digest(data))),
        }
    }
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    Algorithm::Sha256.digest(data)
}

/// Checks a digest string (`sha256:` with 64 or `sha512:` with 128 lower-case hex digits) and
/// returns its algorithm.
pub fn validate_digest(digest: &str) -> Result<Algorithm, ContentError> {
    let invalid = |message: String| Err(ContentError::new(ErrorCode::DigestInvalid, message));
    let Some((name, hex)) = digest.split_once(':') else {
        return invalid(format!("invalid digest {digest:?}"));
    };
    let Some(algorithm) = Algorithm::parse(name) else {
        return invalid(format!("unsupported digest algorithm {name:?}"));
    };
    if hex.len() != algorithm.hex_len() || !hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    {
        return invalid(format!("invalid digest {digest:?}"));
    }
    Ok(algorithm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_algorithms_round_trip() {
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            let digest = algorithm.digest(b"hello");
            assert_eq!(validate_digest(&digest), Ok(algorithm), "{digest}");
        }
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn malformed_digests_are_refused_naming_the_problem() {
        for bad in [
            "",
            "sha256",
            "sha256:abc",
            &format!("sha256:{}", "A".repeat(64)),
            &format!("sha512:{}", "a".repeat(64)),
        ] {
            let err = validate_digest(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::DigestInvalid, "{bad}");
            assert!(err.message.contains("invalid digest"), "{}", err.message);
        }
        let err = validate_digest("md5:00").unwrap_err();
        assert!(err.message.contains("\"md5\""), "{}", err.message);
    }
}
