//! Unified diffs of expected and actual text.

use similar::TextDiff;

use super::visible;

/// A unified diff (`-` expected, `+` actual), or `None` when both sides are one short line
/// (the expected/actual pair already says everything) or equal.
/// Control characters of either side are shown escaped (see [`super::visible`]), so a diff line
/// cannot carry an escape sequence to the terminal.
pub fn unified(expected: &str, actual: &str) -> Option<String> {
    let (expected, actual) = (&*visible(expected), &*visible(actual));
    if expected == actual
        || (!expected.contains('\n')
            && !actual.contains('\n')
            && expected.len() + actual.len() < 60)
    {
        return None;
    }
    let diff = TextDiff::from_lines(expected, actual);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string();
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_single_lines_need_no_diff() {
        assert_eq!(unified("a", "b"), None);
        assert_eq!(unified("same\nx", "same\nx"), None);
    }

    #[test]
    fn control_characters_in_diff_lines_are_escaped() {
        let d = unified("title\nok\n", "\x1b]0;pwned\x07\nok\rPASS\n").unwrap();
        assert!(d.contains("+\\x1b]0;pwned\\x07"), "{d}");
        assert!(d.contains("+ok\\rPASS"), "{d}");
        assert!(!d.contains('\x1b') && !d.contains('\r') && !d.contains('\x07'));
    }

    #[test]
    fn multi_line_text_gets_marked_lines() {
        let d = unified("{\n  \"a\": 1\n}", "{\n  \"a\": 2\n}").unwrap();
        assert!(d.contains("-  \"a\": 1"), "{d}");
        assert!(d.contains("+  \"a\": 2"), "{d}");
    }
}
