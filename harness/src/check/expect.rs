//! Holding one invocation's outcome against a step's expectations.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    diff::unified,
    redact::{Redactor, describe_secret_difference},
};
use crate::{
    drive::{Ending, Outcome},
    scenario::{
        ExitExpect, ExitWord, Expect, ListExpect, TextMatch,
        template::{ObjectTemplate, Scope, Values, Vars},
    },
};

/// One expectation that did not hold. Every string in it is already redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// What was checked, e.g. `exit status` or `stdout (trimmed)`.
    pub what: String,
    /// What the case expected.
    pub expected: String,
    /// What the target did.
    pub actual: String,
    /// A unified diff of expected and actual, when both are multi-line text or JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl Mismatch {
    /// A mismatch without a diff.
    pub fn new(
        what: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Mismatch {
            what: what.into(),
            expected: expected.into(),
            actual: actual.into(),
            diff: None,
        }
    }
}

/// What checking needs besides the expectation and the outcome.
pub struct CheckContext<'a> {
    /// Replaces secrets in everything a mismatch shows.
    pub redactor: &'a Redactor,
    /// The secrets this case handed to the target.
    pub case_secrets: &'a [String],
    /// Tells which server URLs belong to this case; `list` entries outside it are ignored.
    pub owns: &'a dyn Fn(&str) -> bool,
}

/// Checks every expectation, with the placeholders of the step's `vars`; an empty answer means
/// the step passed.
pub fn check(
    expect: &Expect,
    vars: &Vars<'_>,
    outcome: &Outcome,
    cx: &CheckContext<'_>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    check_ending(expect.exit, &outcome.ending, &mut out);
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    if let Some(m) = &expect.stdout {
        check_text("stdout", m, vars, &stdout, cx, &mut out);
    }
    if let Some(m) = &expect.stderr {
        check_text("stderr", m, vars, &stderr, cx, &mut out);
    }
    if let Some(fields) = &expect.json {
        check_json(fields, vars, &stdout, cx, &mut out);
    }
    if let Some(list) = &expect.list {
        check_list(list, vars, &stdout, cx, &mut out);
    }
    if !expect.any_of.is_empty() {
        check_any_of(&expect.any_of, vars, outcome, cx, &mut out);
    }
    out
}

/// The exit status is the expected one, or (with none expected) a normal exit.
pub fn check_ending(exit: Option<ExitExpect>, ending: &Ending, out: &mut Vec<Mismatch>) {
    let (ok, expected) = match exit {
        None => (matches!(ending, Ending::Exited(_)), "a normal exit".into()),
        Some(ExitExpect::Code(want)) => (*ending == Ending::Exited(want), format!("exit {want}")),
        Some(ExitExpect::Word(ExitWord::Nonzero)) => (
            matches!(ending, Ending::Exited(got) if *got != 0),
            "a non-zero exit".into(),
        ),
    };
    if !ok {
        out.push(Mismatch::new("exit status", expected, ending.to_string()));
    }
}

/// Holds when one alternative holds entirely; otherwise one mismatch names what each missed.
fn check_any_of(
    alternatives: &[Expect],
    vars: &Vars<'_>,
    outcome: &Outcome,
    cx: &CheckContext<'_>,
    out: &mut Vec<Mismatch>,
) {
    let mut missed = Vec::with_capacity(alternatives.len());
    for (n, alternative) in alternatives.iter().enumerate() {
        let mismatches = check(alternative, vars, outcome, cx);
        if mismatches.is_empty() {
            return;
        }
        let what: Vec<String> = mismatches
            .iter()
            .map(|m| format!("{} was {}, not {}", m.what, m.actual, m.expected))
            .collect();
        missed.push(format!("alternative {}: {}", n + 1, what.join(", ")));
    }
    let expected = format!("one of {} alternatives to hold", alternatives.len());
    out.push(Mismatch::new("any_of", expected, missed.join("; ")));
}

/// Checks the matchers of one text stream, named `stream` in mismatches.
pub fn check_text<S: Scope>(
    stream: &str,
    m: &TextMatch<S>,
    values: &impl Values<S>,
    text: &str,
    cx: &CheckContext<'_>,
    out: &mut Vec<Mismatch>,
) {
    let x = |all: &[crate::scenario::template::Template<S>]| -> Vec<String> {
        all.iter().map(|t| t.expand(values)).collect()
    };
    let (trimmed, one_of) = (m.trimmed.as_ref().map(|t| t.expand(values)), x(&m.one_of));
    let (contains, not_contains) = (x(&m.contains), x(&m.not_contains));
    let shown = || cx.redactor.redact(text);
    let mut push = |what: String, expected: String, diff: Option<String>| {
        out.push(Mismatch {
            diff,
            ..Mismatch::new(what, expected, quote(&shown()))
        })
    };
    if let Some(empty) = m.empty
        && empty != text.is_empty()
    {
        let expected = if empty { "nothing" } else { "some output" };
        push(stream.to_string(), expected.into(), None);
    }
    if let Some(want) = &trimmed
        && want.trim() != text.trim()
    {
        let want = cx.redactor.redact(want.trim());
        let diff = unified(&format!("{want}\n"), &format!("{}\n", shown().trim()));
        push(format!("{stream} (trimmed)"), quote(&want), diff);
    }
    if !one_of.is_empty() && !one_of.iter().any(|w| w.trim() == text.trim()) {
        let options: Vec<String> = one_of
            .iter()
            .map(|w| quote(&cx.redactor.redact(w.trim())))
            .collect();
        push(
            format!("{stream} (trimmed)"),
            format!("one of {}", options.join(", ")),
            None,
        );
    }
    for needle in &contains {
        if !text.contains(needle.as_str()) {
            let needle = cx.redactor.redact(needle);
            push(format!("{stream} contains"), quote(&needle), None);
        }
    }
    let found: Vec<String> = not_contains
        .iter()
        .filter(|needle| text.contains(needle.as_str()))
        .map(|needle| quote(&cx.redactor.redact(needle)))
        .collect();
    if !found.is_empty() {
        push(format!("{stream} does not contain"), found.join(", "), None);
    }
    if m.no_secrets {
        let extra: Vec<&str> = cx.case_secrets.iter().map(String::as_str).collect();
        if cx.redactor.leaks(text, &extra) {
            push(
                format!("{stream} free of secrets"),
                "no secret of the case".into(),
                None,
            );
        }
    }
}

/// Parses the whole of stdout as exactly one JSON object; otherwise says what is wrong and
/// shows stdout.
fn parse_object(stdout: &str, cx: &CheckContext<'_>) -> Result<Map<String, Value>, String> {
    let why = match serde_json::from_str::<Value>(stdout.trim()) {
        Ok(Value::Object(map)) => return Ok(map),
        Ok(other) => format!("a JSON {} instead of an object", kind(&other)),
        Err(e) if stdout.trim().is_empty() => format!("no output ({e})"),
        Err(e) => format!("not exactly one JSON object: {e}"),
    };
    Err(format!("{why}: {}", quote(&cx.redactor.redact(stdout))))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check_json(
    fields: &ObjectTemplate<crate::scenario::template::Helper>,
    vars: &Vars<'_>,
    stdout: &str,
    cx: &CheckContext<'_>,
    out: &mut Vec<Mismatch>,
) {
    let fields = &fields.expand(vars);
    // Shown only on a mismatch: a passing step does not pay for it.
    let expected_shown = || cx.redactor.redact_json(&Value::Object(fields.clone()));
    let actual = match parse_object(stdout, cx) {
        Ok(map) => map,
        Err(actual) => {
            let expected = expected_shown().to_string();
            out.push(Mismatch::new("stdout as JSON", expected, actual));
            return;
        }
    };
    let mut wrong = Vec::new();
    for (key, want) in fields {
        match (actual.get(key), want) {
            (Some(got), _) if got == want => {}
            (Some(Value::String(got)), Value::String(want)) if key == "Secret" => {
                wrong.push(format!("Secret: {}", describe_secret_difference(want, got)));
            }
            (Some(_), _) => wrong.push(format!("{key}: a different value")),
            (None, _) => wrong.push(format!("{key}: missing")),
        }
    }
    if wrong.is_empty() {
        return;
    }
    let actual_shown = cx.redactor.redact_json(&Value::Object(actual));
    let expected_shown = expected_shown();
    out.push(Mismatch {
        diff: unified(&pretty(&expected_shown), &pretty(&actual_shown)),
        ..Mismatch::new(
            "stdout as JSON",
            expected_shown.to_string(),
            format!("{} ({})", actual_shown, wrong.join("; ")),
        )
    });
}

fn check_list(
    list: &ListExpect,
    vars: &Vars<'_>,
    stdout: &str,
    cx: &CheckContext<'_>,
    out: &mut Vec<Mismatch>,
) {
    let includes = list.includes.expand(vars);
    let excludes: Vec<String> = list.excludes.iter().map(|t| t.expand(vars)).collect();
    let entries = match parse_object(stdout, cx) {
        Ok(map) => map,
        Err(actual) => {
            let expected = "one JSON object mapping server URL to username";
            out.push(Mismatch::new("list answer", expected, actual));
            return;
        }
    };
    // Only the run's own entries are looked at or shown: the rest is the user's business.
    let ours: Map<String, Value> = entries
        .into_iter()
        .filter(|(url, _)| (cx.owns)(url))
        .collect();
    let mut wrong = Vec::new();
    for (url, user) in &includes {
        match ours.get(url) {
            Some(got) if got == user => {}
            Some(_) => wrong.push(format!("{url}: listed with another username")),
            None => wrong.push(format!("{url}: not listed")),
        }
    }
    for url in &excludes {
        if ours.contains_key(url) {
            wrong.push(format!("{url}: listed but should not be"));
        }
    }
    if wrong.is_empty() {
        return;
    }
    let shown = cx.redactor.redact_json(&Value::Object(ours));
    let expected = serde_json::json!({"includes": includes, "excludes": excludes});
    out.push(Mismatch::new(
        "list answer (run namespace only)",
        cx.redactor.redact_json(&expected).to_string(),
        format!(
            "{} ({})",
            cx.redactor.redact(&shown.to_string()),
            cx.redactor.redact(&wrong.join("; "))
        ),
    ));
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// Shows a text as a quoted, escaped literal, shortened when long.
pub fn quote(text: &str) -> String {
    const SHOWN: usize = 400;
    if text.chars().count() <= SHOWN {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(SHOWN).collect();
        format!("{head:?}... ({} bytes in all)", text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outcome(code: i32, stdout: &str, stderr: &str) -> Outcome {
        Outcome {
            ending: Ending::Exited(code),
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
            elapsed: Duration::ZERO,
        }
    }

    fn expect(toml_text: &str) -> Expect {
        toml::from_str(toml_text).unwrap()
    }

    fn run_check(e: &Expect, o: &Outcome) -> Vec<Mismatch> {
        let r = Redactor::new();
        r.register("s3cret-value");
        let secrets = vec!["s3cret-value".to_string()];
        let owns = |u: &str| u.contains("r1.credconform.test");
        let vars = Vars {
            ns: "c.r1.credconform.test",
            run: "r1",
            port: 1,
            i: 0,
            helper: "docker-credential-x",
        };
        check(
            e,
            &vars,
            o,
            &CheckContext {
                redactor: &r,
                case_secrets: &secrets,
                owns: &owns,
            },
        )
    }

    #[test]
    fn exit_codes_and_nonzero() {
        let e = expect("exit = \"nonzero\"");
        assert!(run_check(&e, &outcome(1, "", "")).is_empty());
        let m = run_check(&e, &outcome(0, "", ""));
        assert_eq!(m[0].expected, "a non-zero exit");
        assert_eq!(m[0].actual, "exit 0");
    }

    #[test]
    fn any_of_holds_when_one_alternative_holds_entirely() {
        let e = expect(
            "any_of = [{ exit = 0, stdout = { empty = true } }, \
             { exit = \"nonzero\", stdout = { trimmed = \"not found\" } }]",
        );
        assert!(run_check(&e, &outcome(0, "", "")).is_empty());
        assert!(run_check(&e, &outcome(1, "not found\n", "")).is_empty());
        // Each alternative half-holds: a silent refusal and a chatty success both miss.
        for o in [outcome(1, "", ""), outcome(0, "not found", "")] {
            let m = run_check(&e, &o);
            assert_eq!(m.len(), 1, "{m:?}");
            assert_eq!(m[0].what, "any_of");
            assert!(m[0].actual.contains("alternative 1: "), "{m:?}");
            assert!(m[0].actual.contains("alternative 2: "), "{m:?}");
        }
        let leaky = run_check(&e, &outcome(0, "s3cret-value", ""));
        assert!(!leaky[0].actual.contains("s3cret-value"), "{leaky:?}");
    }

    #[test]
    fn a_timeout_fails_even_without_an_exit_expectation() {
        let mut o = outcome(0, "", "");
        o.ending = Ending::TimedOut;
        let m = run_check(&Expect::default(), &o);
        assert_eq!(m[0].actual, "timed out and was killed");
    }

    #[test]
    fn trimmed_text_gets_a_diff() {
        let e = expect("stdout = { trimmed = \"credentials not found in native keychain\" }");
        assert!(
            run_check(
                &e,
                &outcome(1, "credentials not found in native keychain\n", "")
            )
            .is_empty()
        );
        let m = run_check(&e, &outcome(1, "not found\n", ""));
        assert!(
            m[0].diff
                .as_deref()
                .unwrap()
                .contains("-credentials not found")
        );
    }

    #[test]
    fn json_compares_fields_and_redacts_secrets() {
        let e = expect(
            r#"json = { ServerURL = "https://a", Username = "u", Secret = "s3cret-value" }"#,
        );
        let good = r#"{"ServerURL":"https://a","Username":"u","Secret":"s3cret-value"}"#;
        assert!(run_check(&e, &outcome(0, &format!("{good}\n"), "")).is_empty());
        let bad = r#"{"ServerURL":"https://a","Username":"u","Secret":"s3cret-valu"}"#;
        let m = run_check(&e, &outcome(0, bad, ""));
        let all = format!("{m:?}");
        assert!(!all.contains("s3cret"), "{all}");
        assert!(all.contains("first difference at byte 11"), "{all}");
    }

    #[test]
    fn json_with_chatter_before_it_is_refused() {
        let e = expect(r#"json = { Username = "u" }"#);
        let m = run_check(&e, &outcome(0, "hello\n{\"Username\":\"u\"}", ""));
        assert!(m[0].actual.contains("not exactly one JSON object"), "{m:?}");
    }

    #[test]
    fn secrets_on_stderr_are_caught_and_not_shown() {
        let e = expect("stderr = { no_secrets = true }");
        let m = run_check(&e, &outcome(0, "", "debug: secret=s3cret-value"));
        assert_eq!(m.len(), 1);
        assert!(m[0].actual.contains("<secret: 12 bytes>"));
    }

    #[test]
    fn list_looks_only_inside_the_namespace() {
        let e = expect(
            r#"list = { includes = { "https://a.r1.credconform.test" = "u" }, excludes = ["https://b.r1.credconform.test"] }"#,
        );
        let answer = r#"{"https://a.r1.credconform.test":"u","https://index.docker.io/v1/":"me"}"#;
        assert!(run_check(&e, &outcome(0, answer, "")).is_empty());
        let answer = r#"{"https://b.r1.credconform.test":"u","https://index.docker.io/v1/":"me"}"#;
        let m = run_check(&e, &outcome(0, answer, ""));
        assert!(m[0].actual.contains("not listed"));
        assert!(!m[0].actual.contains("index.docker.io"), "{m:?}");
    }
}
