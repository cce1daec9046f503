//! Storing and comparing secrets: salted digests, constant-time comparison, random generation.

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A secret kept only as a salted SHA-256 digest; the plain text is never stored.
#[derive(Clone)]
pub struct SecretHash {
    salt: [u8; 16],
    digest: [u8; 32],
}

impl SecretHash {
    /// Hashes `secret` with a fresh random salt.
    pub fn new(secret: &str) -> Self {
        let salt: [u8; 16] = rand::rng().random();
        SecretHash {
            salt,
            digest: salted_digest(&salt, secret),
        }
    }

    /// Whether `candidate` is the secret, compared in constant time.
    pub fn matches(&self, candidate: &str) -> bool {
        salted_digest(&self.salt, candidate)
            .ct_eq(&self.digest)
            .into()
    }
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

fn salted_digest(salt: &[u8], secret: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(secret.as_bytes());
    hasher.finalize().into()
}

/// Unsalted SHA-256 digest of a high-entropy random token, used to look tokens up.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Constant-time equality of two byte strings (the length is not hidden).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// A new random secret: `prefix` followed by 40 alphanumeric characters.
pub fn generate(prefix: &str) -> String {
    let body: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    format!("{prefix}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_only_its_secret() {
        let hash = SecretHash::new("s3cret");
        assert!(hash.matches("s3cret"));
        assert!(!hash.matches("s3cret "));
        assert!(!hash.matches(""));
    }

    #[test]
    fn same_secret_hashes_differently_each_time() {
        let a = SecretHash::new("x");
        let b = SecretHash::new("x");
        assert_ne!(a.digest, b.digest);
    }

    #[test]
    fn debug_does_not_show_the_digest() {
        assert_eq!(format!("{:?}", SecretHash::new("x")), "SecretHash(..)");
    }

    #[test]
    fn generated_secrets_carry_the_prefix_and_differ() {
        let a = generate("fkr_pat_");
        assert!(a.starts_with("fkr_pat_"));
        assert_eq!(a.len(), 48);
        assert_ne!(a, generate("fkr_pat_"));
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
