//! Keeping secrets out of everything the runner shows: terminal, reports, logs.
//!
//! Two layers: every secret the run hands to the target is registered and replaced wherever it
//! appears in text, and any `Secret` field of a JSON answer is replaced by a description even
//! when its value is unknown (a helper might answer with somebody else's secret).

use std::sync::RwLock;

/// Secrets shorter than this are not searched for in free text (they would match ordinary
/// words); `Secret` fields of JSON are still replaced whatever their length.
pub const MIN_TEXT_SECRET: usize = 4;

/// The registry of secrets of one run.
#[derive(Debug, Default)]
pub struct Redactor {
    secrets: RwLock<Vec<String>>,
}

impl Redactor {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a secret, before it is handed to the target.
    pub fn register(&self, secret: &str) {
        if secret.len() < MIN_TEXT_SECRET {
            return;
        }
        let mut secrets = self.secrets.write().unwrap_or_else(|p| p.into_inner());
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_string());
            // Longest first, so a secret that contains another is replaced whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Replaces every registered secret in `text`.
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets.read().unwrap_or_else(|p| p.into_inner());
        let mut out = text.to_string();
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), &placeholder(secret));
            }
        }
        out
    }

    /// True when `text` contains a registered secret (or `extra`, a secret of the caller's).
    pub fn leaks(&self, text: &str, extra: &[&str]) -> bool {
        let secrets = self.secrets.read().unwrap_or_else(|p| p.into_inner());
        secrets.iter().any(|s| text.contains(s.as_str()))
            || extra
                .iter()
                .any(|s| s.len() >= MIN_TEXT_SECRET && text.contains(s))
    }

    /// Renders a JSON value for display: `Secret` fields described, other strings redacted.
    pub fn redact_json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let shown = match (k.as_str(), v) {
                            ("Secret", Value::String(s)) => Value::String(placeholder(s)),
                            _ => self.redact_json(v),
                        };
                        (k.clone(), shown)
                    })
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_json(v)).collect())
            }
            Value::String(s) => Value::String(self.redact(s)),
            other => other.clone(),
        }
    }
}

/// What is shown instead of a secret.
pub fn placeholder(secret: &str) -> String {
    format!("<secret: {} bytes>", secret.len())
}

/// Says how `actual` differs from the expected secret without showing either, except for
/// differences made only of whitespace or control characters, which are shown escaped (they
/// are the usual culprits: a stripped newline, a trimmed space).
pub fn describe_secret_difference(expected: &str, actual: &str) -> String {
    let (e, a) = (expected.as_bytes(), actual.as_bytes());
    let prefix = e.iter().zip(a).take_while(|(x, y)| x == y).count();
    let max_suffix = e.len().min(a.len()) - prefix;
    let suffix = e
        .iter()
        .rev()
        .zip(a.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    let e_mid = &expected[boundary(expected, prefix)..boundary_end(expected, suffix)];
    let a_mid = &actual[boundary(actual, prefix)..boundary_end(actual, suffix)];
    let harmless = |s: &str| s.chars().all(|c| c.is_whitespace() || c.is_control());
    let what = if harmless(e_mid) && harmless(a_mid) {
        format!(
            "where the secret has {:?} the answer has {:?}",
            e_mid, a_mid
        )
    } else {
        format!(
            "{} byte(s) of the secret were replaced by {} other byte(s)",
            e_mid.len(),
            a_mid.len()
        )
    };
    format!(
        "a different secret ({} bytes, expected {}): first difference at byte {prefix}; {what}",
        actual.len(),
        expected.len()
    )
}

fn boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn boundary_end(s: &str, suffix: usize) -> usize {
    let mut i = s.len() - suffix;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn registered_secrets_are_replaced_in_text() {
        let r = Redactor::new();
        r.register("hunter22");
        r.register("hunter22-long");
        assert_eq!(
            r.redact("pw=hunter22-long and hunter22"),
            "pw=<secret: 13 bytes> and <secret: 8 bytes>"
        );
        assert!(r.leaks("xx hunter22 xx", &[]));
        assert!(!r.leaks("nothing here", &[]));
    }

    #[test]
    fn secret_fields_are_described_even_when_unknown() {
        let r = Redactor::new();
        let shown = r.redact_json(&json!({"ServerURL":"h","Username":"u","Secret":"someone-else"}));
        assert_eq!(shown["Secret"], "<secret: 12 bytes>");
        assert_eq!(shown["Username"], "u");
    }

    #[test]
    fn a_stripped_newline_is_named_without_showing_the_secret() {
        let d = describe_secret_difference("abc\n", "abc");
        assert!(d.contains(r#"has "\n" the answer has """#), "{d}");
        assert!(!d.contains("abc"));
    }

    #[test]
    fn other_differences_show_only_sizes() {
        let d = describe_secret_difference("p@ssw0rd-é", "p@ssw0rd-?");
        assert!(d.contains("replaced"), "{d}");
        assert!(!d.contains("ssw0rd"));
    }
}
