//! JWS compact serialization: `base64url(header).base64url(payload).base64url(signature)`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// Longest token accepted for decoding.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The header fields a verifier looks at.
#[derive(Debug, Deserialize)]
pub struct Header {
    /// Signature algorithm.
    pub alg: String,
}

/// A token split into its parts, not yet verified.
#[derive(Debug)]
pub struct Parts<'a> {
    /// Decoded header.
    pub header: Header,
    /// Decoded payload bytes.
    pub payload: Vec<u8>,
    /// `header.payload` as sent, the bytes the signature covers.
    pub signing_input: &'a str,
    /// Decoded signature.
    pub signature: Vec<u8>,
}

/// Base64url without padding.
pub fn encode_segment(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Splits and decodes a compact JWS, naming what is wrong.
pub fn split(token: &str) -> Result<Parts<'_>, String> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(format!("token longer than {MAX_TOKEN_LEN} bytes"));
    }
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err("token is not a JWS (expected three dot-separated parts)".into());
    };
    let decode = |segment: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|e| format!("token {what} is not base64url: {e}"))
    };
    let signing_input = &token[..header.len() + 1 + payload.len()];
    let header_bytes = decode(header, "header")?;
    let header: Header = serde_json::from_slice(&header_bytes)
        .map_err(|e| format!("token header is not valid JSON: {e}"))?;
    Ok(Parts {
        header,
        payload: decode(payload, "payload")?,
        signing_input,
        signature: decode(signature, "signature")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_a_well_formed_token() {
        let token = format!(
            "{}.{}.{}",
            encode_segment(br#"{"alg":"ES256"}"#),
            encode_segment(b"{}"),
            encode_segment(b"sig")
        );
        let parts = split(&token).unwrap();
        assert_eq!(parts.header.alg, "ES256");
        assert_eq!(parts.payload, b"{}");
        assert_eq!(parts.signature, b"sig");
        assert_eq!(parts.signing_input, token.rsplit_once('.').unwrap().0);
    }

    #[test]
    fn names_what_is_wrong() {
        assert!(split("a.b").unwrap_err().contains("three"));
        assert!(split("a.b.c.d").unwrap_err().contains("three"));
        assert!(split("!!.b.c").unwrap_err().contains("header"));
        let bad_json = format!("{}.e30.c2ln", encode_segment(b"not json"));
        assert!(split(&bad_json).unwrap_err().contains("JSON"));
    }

    proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,200}") {
            let _ = split(&input);
        }
    }
}
