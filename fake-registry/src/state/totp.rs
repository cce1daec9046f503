//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits).

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha1::Sha1;

use super::secret::constant_time_eq;

const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;

/// A fresh random TOTP secret (20 bytes) in unpadded base32, as authenticator apps take it.
pub fn generate_secret() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    BASE32_NOPAD.encode(&bytes)
}

/// Whether `secret` is valid base32 (padding and lower case accepted).
pub fn is_valid_secret(secret: &str) -> bool {
    decode_secret(secret).is_some_and(|key| !key.is_empty())
}

fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    let normalized: String = secret
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    BASE32_NOPAD.decode(normalized.as_bytes()).ok()
}

/// The code for `secret` at Unix time `unix_secs`, or `None` when the secret is not base32.
pub fn code_at(secret: &str, unix_secs: i64) -> Option<String> {
    let key = decode_secret(secret)?;
    Some(hotp(&key, (unix_secs / STEP_SECS) as u64))
}

fn hotp(key: &[u8], counter: u64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!(
        "{:0width$}",
        binary % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// Whether `code` is valid for `secret` at `unix_secs`, allowing one step of drift either way.
pub fn verify(secret: &str, code: &str, unix_secs: i64) -> bool {
    let Some(key) = decode_secret(secret) else {
        return false;
    };
    let step = unix_secs / STEP_SECS;
    [-1, 0, 1].into_iter().fold(false, |ok, drift| {
        let expected = hotp(&key, (step + drift) as u64);
        ok | constant_time_eq(expected.as_bytes(), code.trim().as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 key "12345678901234567890", truncated to 6 digits.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc6238_vectors() {
        assert_eq!(code_at(RFC_SECRET, 59).unwrap(), "287082");
        assert_eq!(code_at(RFC_SECRET, 1111111109).unwrap(), "081804");
        assert_eq!(code_at(RFC_SECRET, 1234567890).unwrap(), "005924");
        assert_eq!(code_at(RFC_SECRET, 20000000000).unwrap(), "353130");
    }

    #[test]
    fn verify_allows_one_step_of_drift_only() {
        let code = code_at(RFC_SECRET, 1000).unwrap();
        assert!(verify(RFC_SECRET, &code, 1000));
        assert!(verify(RFC_SECRET, &code, 1030));
        assert!(!verify(RFC_SECRET, &code, 1100));
        assert!(!verify(RFC_SECRET, "000000x", 1000));
    }

    #[test]
    fn generated_secret_is_usable() {
        let secret = generate_secret();
        assert!(is_valid_secret(&secret));
        assert_eq!(code_at(&secret, 0).unwrap().len(), 6);
        assert!(!is_valid_secret("not base32!"));
    }

    #[test]
    fn lower_case_and_padding_are_accepted() {
        assert_eq!(
            code_at(&RFC_SECRET.to_lowercase(), 59),
            code_at(RFC_SECRET, 59)
        );
    }
}
