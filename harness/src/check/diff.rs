//! Unified diffs of expected and actual text.

use similar::TextDiff;

/// A unified diff (`-` expected, `+` actual), or `None` when both sides are one short line
/// (the expected/actual pair already says everything) or equal.
pub fn unified(expected: &str, actual: &str) -> Option<String> {
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
    fn multi_line_text_gets_marked_lines() {
        let d = unified("{\n  \"a\": 1\n}", "{\n  \"a\": 2\n}").unwrap();
        assert!(d.contains("-  \"a\": 1"), "{d}");
        assert!(d.contains("+  \"a\": 2"), "{d}");
    }
}
