//! Showing text a target printed without letting it drive the reader's terminal: control
//! characters become visible escapes (`\x1b`, `\r`, `\u{9b}`), so an escape sequence, a window
//! title (OSC), a bell or a carriage return that rewrites a line is shown, not obeyed. The same
//! text is then safe in every report format (XML forbids most C0 characters).
//! Long text (command lines, evidence) is cut with [`shorten`].

use std::borrow::Cow;

/// True for characters that must not reach a terminal raw: C0 controls except newline and tab,
/// DEL, C1 controls, and the bidirectional overrides that reorder what is displayed.
fn is_hazard(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every hazardous character escaped: `\r`, `\x1b` (C0, DEL) or `\u{9b}`
/// (everything else). Newlines and tabs are kept (lines are split on newlines).
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hazard) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if is_hazard(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_hazard(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` cut after its first `max_chars` characters, ending in `…` when it was longer.
pub fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_bells_and_carriage_returns_are_shown_escaped() {
        let hostile = "ok\x1b]0;pwned\x07 \x1b[2J\rfake PASS\u{9b}31m\x7f\u{202e}txt\nnext\tcol";
        let shown = visible(hostile);
        assert_eq!(
            shown,
            "ok\\x1b]0;pwned\\x07 \\x1b[2J\\rfake PASS\\u{9b}31m\\x7f\\u{202e}txt\nnext\tcol"
        );
        assert!(
            !shown
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        );
    }

    #[test]
    fn plain_text_is_not_copied() {
        assert!(matches!(visible("plain é text\n"), Cow::Borrowed(_)));
    }
}
