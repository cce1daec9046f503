//! Parsing the `Authorization` header: Basic (RFC 7617) and Bearer (RFC 6750).

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// Longest Authorization value accepted.
pub const MAX_AUTHORIZATION_LEN: usize = 8 * 1024;

/// Parsed credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// `Basic base64(user:password)`.
    Basic {
        /// User name (before the first `:`).
        username: String,
        /// Password (after the first `:`).
        password: String,
    },
    /// `Bearer token` (Hub's legacy `JWT token` too).
    Bearer(String),
}

/// The scheme of an Authorization value in lower case, for the journal (no credentials).
pub fn scheme_of(value: &[u8]) -> String {
    let scheme: String = value
        .iter()
        .take_while(|b| !b.is_ascii_whitespace())
        .take(16)
        .map(|b| char::from(*b).to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if scheme.is_empty() {
        "invalid".into()
    } else {
        scheme
    }
}

/// Why an Authorization header is refused; each message names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthHeaderError {
    /// The value exceeds [`MAX_AUTHORIZATION_LEN`].
    #[error("malformed Authorization header: longer than {MAX_AUTHORIZATION_LEN} bytes")]
    TooLong,
    /// The value holds bytes other than printable ASCII and spaces.
    #[error("malformed Authorization header: not printable ASCII")]
    NotPrintable,
    /// No space between scheme and credentials.
    #[error("malformed Authorization header: expected \"<scheme> <credentials>\"")]
    NoCredentials,
    /// The credentials are empty or hold a space.
    #[error("malformed Authorization header: credentials must be one word")]
    NotOneWord,
    /// A scheme other than Basic, Bearer or JWT.
    #[error("unsupported Authorization scheme {0:?} (expected Basic or Bearer)")]
    UnsupportedScheme(String),
    /// Basic credentials that are not base64.
    #[error("malformed Basic credentials: not valid base64")]
    NotBase64,
    /// Basic credentials that do not decode to UTF-8.
    #[error("malformed Basic credentials: not valid UTF-8")]
    NotUtf8,
    /// Basic credentials without the `:` separator.
    #[error("malformed Basic credentials: missing ':' between user name and password")]
    NoColon,
    /// More than one Authorization header.
    #[error("malformed Authorization: the header is repeated")]
    Repeated,
}

/// Parses one Authorization value, naming what is wrong.
pub fn parse(value: &[u8]) -> Result<Authorization, AuthHeaderError> {
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(AuthHeaderError::TooLong);
    }
    let text = std::str::from_utf8(value)
        .ok()
        .filter(|t| t.bytes().all(|b| b == b' ' || b.is_ascii_graphic()))
        .ok_or(AuthHeaderError::NotPrintable)?;
    let (scheme, credentials) = text
        .trim()
        .split_once(' ')
        .ok_or(AuthHeaderError::NoCredentials)?;
    let credentials = credentials.trim();
    if credentials.is_empty() || credentials.contains(' ') {
        return Err(AuthHeaderError::NotOneWord);
    }
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => parse_basic(credentials),
        "bearer" | "jwt" => Ok(Authorization::Bearer(credentials.to_string())),
        other => Err(AuthHeaderError::UnsupportedScheme(other.to_string())),
    }
}

fn parse_basic(encoded: &str) -> Result<Authorization, AuthHeaderError> {
    let decoded = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| AuthHeaderError::NotBase64)?;
    let decoded = String::from_utf8(decoded).map_err(|_| AuthHeaderError::NotUtf8)?;
    let (username, password) = decoded.split_once(':').ok_or(AuthHeaderError::NoColon)?;
    Ok(Authorization::Basic {
        username: username.to_string(),
        password: password.to_string(),
    })
}

/// The request's credentials: `Ok(None)` without an Authorization header, an error when it is
/// malformed or repeated.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<Authorization>, AuthHeaderError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthHeaderError::Repeated);
    }
    parse(value.as_bytes()).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn basic(user_pass: &str) -> String {
        format!("Basic {}", STANDARD.encode(user_pass))
    }

    #[test]
    fn parses_basic_and_bearer() {
        assert_eq!(
            parse(basic("alice:pa:ss").as_bytes()).unwrap(),
            Authorization::Basic {
                username: "alice".into(),
                password: "pa:ss".into()
            }
        );
        assert_eq!(
            parse(b"bearer abc.def").unwrap(),
            Authorization::Bearer("abc.def".into())
        );
        assert_eq!(parse(b"JWT x"), Ok(Authorization::Bearer("x".into())));
        let no_pad = format!("Basic {}", STANDARD_NO_PAD.encode("a:b"));
        assert!(parse(no_pad.as_bytes()).is_ok());
    }

    #[test]
    fn names_each_problem() {
        let cases: [(&[u8], &str); 7] = [
            (b"Basic", "expected"),
            (b"Basic !!!", "base64"),
            (b"Basic YWxpY2U=", "missing ':'"),
            (b"Basic //79", "UTF-8"),
            (b"Digest x", "unsupported"),
            (b"Bearer a b", "one word"),
            (b"Bearer \xff", "ASCII"),
        ];
        for (input, expected) in cases {
            let err = parse(input).unwrap_err();
            assert!(err.to_string().contains(expected), "{input:?}: {err}");
        }
        assert!(
            parse(&vec![b'a'; MAX_AUTHORIZATION_LEN + 1])
                .unwrap_err()
                .to_string()
                .contains("longer")
        );
    }

    #[test]
    fn repeated_header_is_refused() {
        let mut headers = HeaderMap::new();
        assert_eq!(from_headers(&headers), Ok(None));
        headers.append(header::AUTHORIZATION, "Bearer a".parse().unwrap());
        assert!(from_headers(&headers).unwrap().is_some());
        headers.append(header::AUTHORIZATION, "Bearer b".parse().unwrap());
        assert!(from_headers(&headers).is_err());
    }

    #[test]
    fn scheme_for_the_journal() {
        assert_eq!(scheme_of(b"Basic abc"), "basic");
        assert_eq!(scheme_of(b"BEARER x"), "bearer");
        assert_eq!(scheme_of(b" x"), "invalid");
    }

    proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&input);
            let _ = scheme_of(&input);
        }

        #[test]
        fn basic_round_trips(user in "[^:\\x00]{0,20}", password in "\\PC{0,40}") {
            let header = basic(&format!("{user}:{password}"));
            prop_assert_eq!(
                parse(header.as_bytes()).unwrap(),
                Authorization::Basic { username: user, password }
            );
        }

        #[test]
        fn printable_bearer_tokens_round_trip(token in "[A-Za-z0-9._~+/=-]{1,200}") {
            let header = format!("Bearer {token}");
            prop_assert_eq!(parse(header.as_bytes()).unwrap(), Authorization::Bearer(token));
        }
    }
}
