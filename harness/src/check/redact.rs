//! Keeping secrets out of everything the runner shows: terminal, reports, logs.
//!
//! Two layers: every secret the run hands to the target is registered and replaced wherever it
//! appears in text, in any of the forms a program may print it ([`forms`]: raw, JSON-escaped,
//! HTML-escaped, URL-encoded, base64 of the secret and of `user:secret`, and base64 runs that
//! decode to any of those); and any `Secret` field of a JSON answer is replaced by a description
//! even when its value is unknown (a helper might answer with somebody else's secret).

pub mod forms;
mod segments;

use std::{
    collections::{BTreeSet, HashSet},
    sync::{RwLock, RwLockReadGuard},
};

use segments::Segments;

/// Secrets shorter than this are not searched for in free text (they would match ordinary
/// words); `Secret` fields of JSON are still replaced whatever their length.
pub const MIN_TEXT_SECRET: usize = 4;

/// Forms longer than this are searched for one by one rather than through the automaton (a
/// 70 kB secret would make the automaton huge).
const LONG_FORM: usize = 512;

/// How deep base64 inside base64 is decoded.
const BASE64_DEPTH: usize = 2;

/// The registry of secrets of one run.
#[derive(Debug, Default)]
pub struct Redactor {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Registered secrets, raw.
    secrets: BTreeSet<String>,
    /// Usernames registered with a secret, for the base64 of `user:secret`.
    pairs: BTreeSet<(String, String)>,
    /// Every short form registered so far.
    seen: HashSet<String>,
    /// The forms short enough for the automata, with the placeholder that replaces each.
    short: Segments,
    /// Registrations since the last search: the next search makes their forms and adds them
    /// in one batch (a case registers its secrets together, so they make one automaton, and
    /// a property's inputs are formed by the first thread that searches, not one by one by the
    /// worker that hands them to the target).
    pending: Vec<Unformed>,
    /// Forms too long for the automata, longest first.
    long: Vec<(String, String)>,
}

/// A registration whose forms are not made yet.
#[derive(Debug)]
enum Unformed {
    /// A secret: every text form of it.
    Secret(String),
    /// A username and its secret: the base64 forms of `user:secret` (a Docker config's `auth`).
    Auth(String, String),
}

impl Inner {
    /// Makes the forms of every pending registration and adds them to the searched sets.
    fn form_pending(&mut self) {
        let mut batch = Vec::new();
        for u in std::mem::take(&mut self.pending) {
            let (forms, secret): (Vec<String>, _) = match &u {
                Unformed::Secret(s) => (forms::text_forms(s).into_iter().collect(), s),
                Unformed::Auth(user, s) => (
                    forms::base64_forms(format!("{user}:{s}").as_bytes()).into(),
                    s,
                ),
            };
            let placeholder = placeholder(secret);
            for form in forms {
                // Long forms are not hashed into `seen`: a repeat only costs a second search.
                if form.len() > LONG_FORM {
                    self.long.push((form, placeholder.clone()));
                } else if form.len() >= MIN_TEXT_SECRET && self.seen.insert(form.clone()) {
                    batch.push((form, placeholder.clone()));
                }
            }
        }
        self.long.sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
        self.short.add(batch);
    }

    /// The long forms of at most `len` bytes (no longer one fits in a text of `len` bytes).
    fn long_within(&self, len: usize) -> &[(String, String)] {
        &self.long[self.long.partition_point(|(f, _)| f.len() > len)..]
    }

    /// Replaces every literal form.
    fn replace_forms(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (form, placeholder) in self.long_within(text.len()) {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), placeholder);
            }
        }
        self.short.replace(&out)
    }

    /// True when `bytes` hold a literal form, or base64 that decodes to one (to `depth`).
    fn holds(&self, bytes: &[u8], depth: usize) -> bool {
        if self.short.is_match(bytes) {
            return true;
        }
        // The bytes may be decoded base64, not always UTF-8; a secret is, so a lossy view (made
        // once, not once per form) finds it.
        let text = String::from_utf8_lossy(bytes);
        self.long_within(text.len())
            .iter()
            .any(|(f, _)| text.contains(f.as_str()))
            || (depth > 0
                && forms::base64_runs(&text).into_iter().any(|r| {
                    forms::decodings(&text[r])
                        .iter()
                        .any(|d| self.holds(d, depth - 1))
                }))
    }

    /// Replaces each base64 run that decodes to text holding a secret.
    fn replace_base64(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for run in forms::base64_runs(text) {
            let hit = forms::decodings(&text[run.clone()])
                .iter()
                .any(|d| self.holds(d, BASE64_DEPTH - 1));
            if hit {
                out.push_str(&text[last..run.start]);
                out.push_str("<secret: base64-encoded>");
                last = run.end;
            }
        }
        out.push_str(&text[last..]);
        out
    }
}

impl Redactor {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a secret, before it is handed to the target.
    pub fn register(&self, secret: &str) {
        self.enqueue(None, secret);
    }

    /// Remembers a secret and the username it is stored with: the base64 of `user:secret`
    /// (a Docker config's `auth` field) is searched for too.
    pub fn register_credentials(&self, username: &str, secret: &str) {
        self.enqueue(Some(username), secret);
    }

    fn enqueue(&self, username: Option<&str>, secret: &str) {
        if secret.len() < MIN_TEXT_SECRET {
            return;
        }
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if inner.secrets.insert(secret.to_string()) {
            inner.pending.push(Unformed::Secret(secret.to_string()));
        }
        if let Some(user) = username
            && inner.pairs.insert((user.to_string(), secret.to_string()))
        {
            let pair = Unformed::Auth(user.to_string(), secret.to_string());
            inner.pending.push(pair);
        }
    }

    /// The registry, for reading, with the forms of every registration made before the call
    /// searched (registrations made meanwhile by another thread are that thread's to flush).
    fn ready(&self) -> RwLockReadGuard<'_, Inner> {
        let inner = self.read();
        if inner.pending.is_empty() {
            return inner;
        }
        drop(inner);
        self.inner
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .form_pending();
        self.read()
    }

    /// The registry, for reading, as it is.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces every registered secret in `text`, in every form it may take.
    pub fn redact(&self, text: &str) -> String {
        let inner = self.ready();
        if inner.secrets.is_empty() {
            return text.to_string();
        }
        inner.replace_base64(&inner.replace_forms(text))
    }

    /// True when `text` contains a registered secret in any form (or `extra`, a secret of the
    /// caller's, raw).
    pub fn leaks(&self, text: &str, extra: &[&str]) -> bool {
        let inner = self.ready();
        inner.holds(text.as_bytes(), BASE64_DEPTH)
            || extra
                .iter()
                .any(|s| s.len() >= MIN_TEXT_SECRET && text.contains(s))
    }

    /// Renders a JSON value for display: `Secret` fields described, other strings redacted.
    pub fn redact_json(&self, value: &serde_json::Value) -> serde_json::Value {
        shown_json(value, &|s| self.redact(s))
    }
}

/// A JSON value with its `Secret` fields described and its other strings kept, for evidence
/// that is redacted as a whole later (as every case result is).
pub fn describe_secrets(value: &serde_json::Value) -> serde_json::Value {
    shown_json(value, &str::to_string)
}

/// `value` with `Secret` fields described and every other string passed through `show`.
fn shown_json(value: &serde_json::Value, show: &dyn Fn(&str) -> String) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let shown = match (k.as_str(), v) {
                        ("Secret", Value::String(s)) => Value::String(placeholder(s)),
                        _ => shown_json(v, show),
                    };
                    (k.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| shown_json(v, show)).collect()),
        Value::String(s) => Value::String(show(s)),
        other => other.clone(),
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

    /// Secrets full of quotes, backslashes, newlines, markup and non-ASCII.
    const NASTY: [&str; 4] = [
        "q\"uo\\te\nnew'line",
        "<b>&amp; \u{e9}t\u{e9} \u{1F600}\u{2028}",
        "tab\there/slash+plus=eq",
        "caf\u{e9} cr\r\u{1b}[31m",
    ];

    #[test]
    fn every_form_of_a_secret_is_redacted() {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let r = Redactor::new();
        for s in NASTY {
            r.register_credentials("alice", s);
        }
        for s in NASTY {
            let payload = serde_json::json!({"ServerURL": "x", "Username": "alice", "Secret": s});
            let json = payload.to_string();
            let shown = [
                s.to_string(),
                json.clone(),
                serde_json::to_string(&json).unwrap(),
                format!("{s:?}"),
                format!("{json:?}"),
                forms::text_forms(s)
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(" | "),
                format!("auth={}", STANDARD.encode(format!("alice:{s}"))),
                format!("Basic {}", URL_SAFE_NO_PAD.encode(format!("alice:{s}"))),
                format!("blob:{}", STANDARD.encode(&json)),
                format!(
                    "x{}",
                    STANDARD.encode(format!(
                        "{{\"auth\":\"{}\"}}",
                        STANDARD.encode(format!("bob:{s}"))
                    ))
                ),
            ];
            for text in shown {
                let out = r.redact(&text);
                assert!(r.leaks(&text, &[]), "{text}");
                assert!(!r.leaks(&out, &[]), "{text} -> {out}");
                for form in forms::text_forms(s) {
                    assert!(!out.contains(&form), "{form:?} in {out}");
                }
            }
        }
        assert_eq!(
            r.redact("nothing secret here, dXNlcjpwYXNz"),
            "nothing secret here, dXNlcjpwYXNz"
        );
    }

    #[test]
    fn secrets_registered_between_searches_are_all_found() {
        let r = Redactor::new();
        r.register("first-secret");
        assert_eq!(r.redact("a first-secret"), "a <secret: 12 bytes>");
        r.register_credentials("bob", "second-secret");
        r.register("third-secret");
        assert_eq!(
            r.redact("first-secret second-secret third-secret"),
            "<secret: 12 bytes> <secret: 13 bytes> <secret: 12 bytes>"
        );
        assert!(r.inner.read().unwrap().pending.is_empty());
    }

    #[test]
    fn long_secrets_are_found_without_the_automaton() {
        let r = Redactor::new();
        let long: String = "ab\"c\\".repeat(30_000);
        r.register(&long);
        let text = format!("x{}y", serde_json::to_string(&long).unwrap());
        assert_eq!(r.redact(&text), format!("x\"{}\"y", placeholder(&long)));
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
