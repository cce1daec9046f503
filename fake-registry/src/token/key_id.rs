//! The libtrust key id distribution uses to find a trusted key named by a token's `kid`.

use data_encoding::BASE32_NOPAD;
use sha2::{Digest, Sha256};

/// libtrust key id of a public key given as DER SubjectPublicKeyInfo: the first 240 bits of
/// its SHA-256, base32, in 12 colon-separated groups of 4 characters.
pub fn libtrust_key_id(subject_public_key_info_der: &[u8]) -> String {
    let digest = Sha256::digest(subject_public_key_info_der);
    let encoded = BASE32_NOPAD.encode(&digest[..30]);
    encoded
        .as_bytes()
        .chunks(4)
        .map(|chunk| std::str::from_utf8(chunk).expect("base32 is ASCII"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_groups_of_four() {
        let id = libtrust_key_id(b"any key");
        let groups: Vec<&str> = id.split(':').collect();
        assert_eq!(groups.len(), 12);
        assert!(groups.iter().all(|g| g.len() == 4));
    }

    #[test]
    fn matches_a_known_value() {
        // sha256("") = e3b0c442..., first 30 bytes in base32.
        assert_eq!(
            libtrust_key_id(b""),
            "4OYM:IQUY:7QOB:JGX3:6TEJ:S35Z:EQT2:4QPE:MSNZ:GTFE:SWMR:W6CS"
        );
    }
}
