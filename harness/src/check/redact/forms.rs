//! The forms a secret takes in a program's output: raw, JSON-escaped (as serde, Go's
//! encoding/json and Python's json write it), HTML-escaped, URL-encoded, Rust-debug-escaped and
//! base64 (of the secret, and of `user:secret` as the `auth` field of a Docker config holds it).

use std::{collections::BTreeSet, fmt::Write as _};

use base64::{
    Engine as _,
    engine::{
        DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig,
        general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD},
    },
};

/// Every textual form of `secret` worth searching for (without surrounding quotes).
pub fn text_forms(secret: &str) -> BTreeSet<String> {
    let mut forms = BTreeSet::new();
    forms.insert(secret.to_string());
    for style in JsonStyle::telling(secret) {
        let once = json_escape(secret, style);
        forms.insert(json_escape(&once, style));
        forms.insert(debug_escape(&once));
        forms.insert(once);
    }
    forms.insert(debug_escape(secret));
    forms.extend(html_forms(secret));
    // Only the encoder choices some byte of the secret gives occasion to, as for JSON styles.
    let keeps = 1 + 2 * usize::from(secret.contains(['~', '!', '*', '\'', '(', ')']));
    let pluses = 1 + usize::from(secret.contains(' '));
    for keep in [UNRESERVED, URI_COMPONENT, FORM].into_iter().take(keeps) {
        for plus in [false, true].into_iter().take(pluses) {
            for upper in [false, true] {
                forms.insert(percent_encode(secret, keep, plus, upper));
            }
        }
    }
    forms.extend(base64_forms(secret.as_bytes()));
    forms
}

/// The base64 forms of `bytes`: standard and URL-safe alphabets, padded and not.
pub fn base64_forms(bytes: &[u8]) -> [String; 4] {
    [
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
    ]
}

/// How one JSON encoder writes strings.
#[derive(Debug, Clone, Copy)]
struct JsonStyle {
    /// Non-ASCII as `\uXXXX` (Python's default, `ensure_ascii`).
    ascii: bool,
    /// `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`... (Go's encoding/json).
    html: bool,
    /// `\b` and `\f` rather than `\u0008` and `\u000c`.
    short_bf: bool,
    /// Upper-case hex digits in `\u` escapes.
    upper: bool,
    /// `/` as `\/` (PHP, some JavaScript encoders).
    slash: bool,
}

impl JsonStyle {
    const ASCII: u8 = 1;
    const HTML: u8 = 2;
    const SHORT_BF: u8 = 4;
    const UPPER: u8 = 8;
    const SLASH: u8 = 16;

    fn from_bits(bits: u8) -> JsonStyle {
        JsonStyle {
            ascii: bits & Self::ASCII != 0,
            html: bits & Self::HTML != 0,
            short_bf: bits & Self::SHORT_BF != 0,
            upper: bits & Self::UPPER != 0,
            slash: bits & Self::SLASH != 0,
        }
    }

    #[cfg(test)]
    fn all() -> impl Iterator<Item = JsonStyle> {
        (0u8..32).map(Self::from_bits)
    }

    /// The styles that can write `s` (and `s` escaped once) differently: a choice that no
    /// character of `s` gives occasion to (`slash` without a `/`...) is left off, since either
    /// way writes `s` alike. A long plain secret then takes one style, not 32.
    fn telling(s: &str) -> impl Iterator<Item = JsonStyle> {
        let has = |f: fn(char) -> bool| s.chars().any(f);
        let html = has(|c| matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}'));
        let ascii = has(|c| !c.is_ascii());
        // Hex digits are written for HTML characters, non-ASCII and control characters.
        let hex = html || ascii || has(|c| (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t'));
        let choices = [
            (ascii, Self::ASCII),
            (html, Self::HTML),
            (has(|c| matches!(c, '\u{8}' | '\u{c}')), Self::SHORT_BF),
            (hex, Self::UPPER),
            (has(|c| c == '/'), Self::SLASH),
        ];
        let open = choices
            .iter()
            .filter(|(present, _)| *present)
            .fold(0, |mask, (_, bit)| mask | bit);
        (0u8..32)
            .filter(move |bits| bits & !open == 0)
            .map(Self::from_bits)
    }
}

fn json_escape(s: &str, style: JsonStyle) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let hex = |out: &mut String, unit: u16| {
        let _ = if style.upper {
            write!(out, "\\u{unit:04X}")
        } else {
            write!(out, "\\u{unit:04x}")
        };
    };
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' if style.short_bf => out.push_str("\\b"),
            '\u{c}' if style.short_bf => out.push_str("\\f"),
            '/' if style.slash => out.push_str("\\/"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style.html => hex(&mut out, c as u16),
            c if (c as u32) < 0x20 => hex(&mut out, c as u16),
            c if style.ascii && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    hex(&mut out, *unit);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The inside of Rust's `{:?}` rendering of a string (what the runner's own quoting shows).
fn debug_escape(s: &str) -> String {
    let quoted = format!("{s:?}");
    quoted[1..quoted.len() - 1].to_string()
}

/// How an HTML encoder writes `"`, and `'`: each kept or written as one of its entities
/// (encoders differ: Python writes `&quot;` and `&#x27;`, Go `&#34;` and `&#39;`).
const HTML_QUOTES: [&str; 4] = ["\"", "&quot;", "&#34;", "&#x22;"];
const HTML_APOSTROPHES: [&str; 4] = ["'", "&#39;", "&#x27;", "&apos;"];

/// Every HTML escaping of `s`: `&`, `<` and `>` always escaped, quotes in each style (only the
/// styles of the quotes `s` holds: the others write it alike).
fn html_forms(s: &str) -> Vec<String> {
    let escaped = s
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let styles =
        |quote, all: &'static [&'static str]| if s.contains(quote) { all } else { &all[..1] };
    let mut forms = Vec::new();
    for quote in styles('"', &HTML_QUOTES) {
        for apostrophe in styles('\'', &HTML_APOSTROPHES) {
            forms.push(escaped.replace('"', quote).replace('\'', apostrophe));
        }
    }
    forms
}

/// Bytes percent-encoding leaves alone besides letters and digits: RFC 3986 unreserved.
const UNRESERVED: &[u8] = b"-._~";
/// JavaScript's `encodeURIComponent`.
const URI_COMPONENT: &[u8] = b"-_.!~*'()";
/// `application/x-www-form-urlencoded` (WHATWG).
const FORM: &[u8] = b"*-._";

fn percent_encode(s: &str, keep: &[u8], plus_for_space: bool, upper: bool) -> String {
    let mut kept = [false; 256];
    for b in (b'0'..=b'9')
        .chain(b'a'..=b'z')
        .chain(b'A'..=b'Z')
        .chain(keep.iter().copied())
    {
        kept[usize::from(b)] = true;
    }
    let digits = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if kept[usize::from(b)] {
            out.push(char::from(b));
        } else if b == b' ' && plus_for_space {
            out.push('+');
        } else {
            out.extend([
                '%',
                digits[usize::from(b >> 4)].into(),
                digits[usize::from(b & 15)].into(),
            ]);
        }
    }
    out
}

/// The shortest run of base64 characters worth decoding (a 4-byte secret takes 6).
pub const MIN_BASE64_RUN: usize = 6;

/// Maximal runs of base64 characters (either alphabet, with padding) in `text`, as byte
/// ranges, each at least [`MIN_BASE64_RUN`] long.
pub fn base64_runs(text: &str) -> Vec<std::ops::Range<usize>> {
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_b64(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_b64(bytes[i]) {
            i += 1;
        }
        let mut end = i;
        while end < bytes.len() && end - i < 2 && bytes[end] == b'=' {
            end += 1;
        }
        if i - start >= MIN_BASE64_RUN {
            runs.push(start..end);
        }
        i = end.max(i);
    }
    runs
}

/// Decodings of a base64 run read from each of its first four characters (the run may start
/// with a stray letter, such as the `n` of an escaped newline), either alphabet.
pub fn decodings(run: &str) -> Vec<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let body: String = run
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    (0..4.min(body.len()))
        .filter_map(|skip| {
            let mut part = &body[skip..];
            if part.len() % 4 == 1 {
                part = &part[..part.len() - 1];
            }
            LENIENT.decode(part).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms_cover_serde_go_and_python() {
        let secret = "a\"b\\c\nd<é>\u{2028}/\u{1F600}";
        let forms = text_forms(secret);
        let serde = serde_json::to_string(secret).unwrap();
        assert!(forms.contains(&serde[1..serde.len() - 1]));
        // Go: <, >, & and U+2028 escaped, non-ASCII kept.
        assert!(forms.contains("a\\\"b\\\\c\\nd\\u003cé\\u003e\\u2028/\u{1F600}"));
        // Python ensure_ascii: non-ASCII escaped, astral planes as surrogate pairs.
        assert!(forms.contains("a\\\"b\\\\c\\nd<\\u00e9>\\u2028/\\ud83d\\ude00"));
        assert!(forms.contains(&debug_escape(secret)));
    }

    #[test]
    fn json_forms_are_those_of_every_style() {
        let every = |secret: &str| {
            let mut forms = BTreeSet::new();
            for style in JsonStyle::all() {
                let once = json_escape(secret, style);
                forms.insert(json_escape(&once, style));
                forms.insert(debug_escape(&once));
                forms.insert(once);
            }
            forms
        };
        for secret in [
            "plain-secret-123",
            "a/b",
            "x<y>&z",
            "caf\u{e9}",
            "tab\there\u{8}\u{c}\u{1}",
            "\u{2028}\"\\",
            "\u{1F600}/<\u{7f}\u{1b}",
        ] {
            let every = every(secret);
            let telling: BTreeSet<String> = text_forms(secret)
                .into_iter()
                .filter(|f| every.contains(f))
                .collect();
            assert_eq!(telling, every, "{secret:?}");
        }
        assert_eq!(JsonStyle::telling("plain").count(), 1);
    }

    #[test]
    fn html_url_and_base64_forms_are_derived() {
        let forms = text_forms("p'w\"d&<x> y");
        assert!(forms.contains("p&#39;w&quot;d&amp;&lt;x&gt; y"));
        assert!(forms.contains("p&#x27;w&#34;d&amp;&lt;x&gt; y"));
        assert!(forms.contains("p&#x27;w&quot;d&amp;&lt;x&gt; y"));
        assert!(forms.contains("p%27w%22d%26%3Cx%3E%20y"));
        assert!(forms.contains("p'w%22d%26%3Cx%3E+y"));
        assert!(forms.contains("p%27w%22d%26%3cx%3e%20y"));
        assert!(forms.contains(&STANDARD.encode("p'w\"d&<x> y")));
    }

    #[test]
    fn base64_runs_decode_from_any_of_their_first_characters() {
        let encoded = STANDARD.encode("user:hunter22");
        let text = format!("auth=\\n{encoded} and more");
        let runs = base64_runs(&text);
        let run = runs
            .iter()
            .map(|r| &text[r.clone()])
            .find(|r| r.ends_with('='))
            .unwrap();
        assert!(run.starts_with('n'), "{run}");
        assert!(
            decodings(run)
                .iter()
                .any(|d| d.windows(8).any(|w| w == b"hunter22"))
        );
    }
}
