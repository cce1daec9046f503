//! `Range: bytes=...` requests on blobs (RFC 9110 section 14): one range, resolved against
//! the blob's length.

use super::content::{ContentError, ErrorCode};

/// The inclusive byte span a range request selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSpan {
    /// First byte.
    pub first: u64,
    /// Last byte (inclusive).
    pub last: u64,
}

impl ByteSpan {
    /// The `Content-Range` value of a 206 answer for a blob of `total` bytes.
    pub fn content_range(self, total: u64) -> String {
        format!("bytes {}-{}/{total}", self.first, self.last)
    }
}

fn unsatisfiable(header: &str, total: u64) -> ContentError {
    let message = format!("range {header:?} cannot be served from a blob of {total} bytes");
    ContentError::new(ErrorCode::RangeInvalid, message)
}

/// Resolves a `Range` header value against a blob of `total` bytes. `Ok(None)` means "send the
/// whole blob" (a unit other than bytes, or several ranges, which this registry does not
/// serve); a range that selects no byte of the blob is refused with `RANGE_INVALID` (416).
pub fn resolve(header: &str, total: u64) -> Result<Option<ByteSpan>, ContentError> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (first, last) = spec
        .split_once('-')
        .ok_or_else(|| unsatisfiable(header, total))?;
    let number = |text: &str| {
        text.trim()
            .parse::<u64>()
            .map_err(|_| unsatisfiable(header, total))
    };
    let span = match (first.trim().is_empty(), last.trim().is_empty()) {
        (true, true) => return Err(unsatisfiable(header, total)),
        (true, false) => {
            let suffix = number(last)?;
            if suffix == 0 || total == 0 {
                return Err(unsatisfiable(header, total));
            }
            ByteSpan {
                first: total.saturating_sub(suffix),
                last: total - 1,
            }
        }
        (false, open_end) => {
            let first = number(first)?;
            let last = if open_end { u64::MAX } else { number(last)? };
            if last < first || first >= total {
                return Err(unsatisfiable(header, total));
            }
            ByteSpan {
                first,
                last: last.min(total - 1),
            }
        }
    };
    Ok(Some(span))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(first: u64, last: u64) -> Option<ByteSpan> {
        Some(ByteSpan { first, last })
    }

    #[test]
    fn the_forms_of_a_single_range() {
        assert_eq!(resolve("bytes=500-1499", 2048), Ok(span(500, 1499)));
        assert_eq!(resolve("bytes=500-", 2048), Ok(span(500, 2047)));
        assert_eq!(resolve("bytes=-500", 2048), Ok(span(1548, 2047)));
        assert_eq!(resolve("bytes=-5000", 2048), Ok(span(0, 2047)));
        assert_eq!(resolve("bytes=2000-5000", 2048), Ok(span(2000, 2047)));
        assert_eq!(
            span(500, 1499).unwrap().content_range(2048),
            "bytes 500-1499/2048"
        );
    }

    #[test]
    fn unsatisfiable_ranges_are_refused() {
        for bad in [
            "bytes=500-0",
            "bytes=5000-10000",
            "bytes=-0",
            "bytes=x-1",
            "bytes=-",
            "bytes=5",
        ] {
            let err = resolve(bad, 2048).unwrap_err();
            assert_eq!(err.code, ErrorCode::RangeInvalid, "{bad}");
            assert!(err.message.contains("2048 bytes"), "{}", err.message);
        }
        assert!(resolve("bytes=0-", 0).is_err());
    }

    #[test]
    fn other_units_and_multiple_ranges_get_the_whole_blob() {
        assert_eq!(resolve("items=0-1", 10), Ok(None));
        assert_eq!(resolve("bytes=0-1,3-4", 10), Ok(None));
    }
}
