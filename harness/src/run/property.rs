//! Generative cases: random valid server URLs, usernames and secrets, checked with proptest so
//! a failure shrinks to a minimal input. The run seed makes every draw reproducible.

use std::{fmt, time::Instant};

use proptest::{
    prelude::*,
    test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner},
};
use sha2::{Digest, Sha256};

use super::{
    HelperRun,
    result::{CaseResult, Status, StepEnding, StepRecord, millis},
    shrink::{Calls, Stop, Trials},
};
use crate::{
    check::{Mismatch, redact::placeholder},
    drive::{Ending, Outcome},
    scenario::{Case, Property, PropertyKind},
};

/// One generated credential.
#[derive(Clone)]
pub struct Credential {
    /// The server URL (inside the case's namespace host).
    pub url: String,
    /// The username.
    pub username: String,
    /// The secret.
    pub secret: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{ url: {:?}, username: {:?}, secret: {} }}",
            self.url,
            self.username,
            describe_generated_secret(&self.secret)
        )
    }
}

/// Describes a generated secret without showing it: its size and the classes of its characters,
/// with whitespace and control characters named by code point (the usual culprits).
pub fn describe_generated_secret(secret: &str) -> String {
    let mut classes: Vec<String> = Vec::new();
    for ch in secret.chars() {
        let class = if ch.is_whitespace() || ch.is_control() {
            format!("U+{:04X}", ch as u32)
        } else if ch.is_ascii_alphanumeric() {
            "ASCII letters/digits".into()
        } else if ch.is_ascii() {
            "ASCII punctuation".into()
        } else {
            "non-ASCII".into()
        };
        if !classes.contains(&class) {
            classes.push(class);
        }
    }
    let first_last = match (secret.chars().next(), secret.chars().last()) {
        (Some(a), Some(b)) if a.is_whitespace() || b.is_whitespace() => {
            format!(
                ", starts with U+{:04X}, ends with U+{:04X}",
                a as u32, b as u32
            )
        }
        _ => String::new(),
    };
    format!(
        "{} {} chars: {}{first_last}",
        placeholder(secret),
        secret.chars().count(),
        classes.join(", ")
    )
}

/// Server URLs under `host`: an optional scheme, optional sub-labels, port, path and trailing
/// slash.
fn url_strategy(host: String) -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(""), Just("https://"), Just("http://")],
        proptest::option::of("[a-z0-9]{1,8}"),
        proptest::option::of(1u16..=65535),
        proptest::collection::vec("[A-Za-z0-9._~-]{1,10}", 0..3),
        any::<bool>(),
    )
        .prop_map(move |(scheme, label, port, path, slash)| {
            let label = label.map(|l| format!("{l}.")).unwrap_or_default();
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let path: String = path.iter().map(|seg| format!("/{seg}")).collect();
            let slash = if slash { "/" } else { "" };
            format!("{scheme}{label}{host}{port}{path}{slash}")
        })
}

fn username_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9._@+-]{1,32}",
        1 => Just("<token>".to_string()),
    ]
}

/// Secrets: printable text most of the time, any Unicode scalar except NUL sometimes, and
/// sizes up to 4 KiB.
fn secret_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{1,64}",
        2 => proptest::collection::vec(any::<char>().prop_filter("no NUL", |c| *c != '\0'), 1..128)
            .prop_map(|v| v.into_iter().collect::<String>()),
        1 => "[A-Za-z0-9+/=._-]{1024,4096}",
    ]
}

fn credential_strategy(host: String) -> impl Strategy<Value = Credential> {
    (url_strategy(host), username_strategy(), secret_strategy()).prop_map(
        |(url, username, secret)| Credential {
            url,
            username,
            secret,
        },
    )
}

/// The proptest seed of one case: derived from the run seed and the case ID, so that
/// `--seed N` reproduces every case, and cases do not share draws.
pub fn case_seed(run_seed: u64, case_id: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(run_seed.to_le_bytes());
    h.update(case_id.as_bytes());
    h.finalize().into()
}

/// Runs a property case.
pub fn run(case: &Case, property: &Property, cx: &HelperRun) -> CaseResult {
    let started = Instant::now();
    let host = cx.namespace.case_host(&case.id);
    let cases = cx.options.prop_cases.unwrap_or(property.cases);
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 512,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &case_seed(cx.options.seed, &case.id));
    let mut runner = TestRunner::new_with_rng(config, rng);
    let trials = Trials::new(cases, calls_per_trial(property.kind));
    let pcx = Ctx {
        run: cx,
        calls: &trials.calls,
    };
    let outcome = match property.kind {
        PropertyKind::RoundTrip => conclude(runner.run(&credential_strategy(host), |c| {
            trials.judge(|| round_trip(&c, &pcx))
        })),
        PropertyKind::Isolation => {
            let pair = (credential_strategy(host.clone()), credential_strategy(host))
                .prop_filter("distinct URLs and secrets", |(a, b)| {
                    a.url.trim() != b.url.trim() && a.secret != b.secret
                });
            conclude(runner.run(&pair, |(a, b)| trials.judge(|| isolation(&a, &b, &pcx))))
        }
    };
    let mut result = CaseResult::new(case, Status::Passed);
    match outcome {
        Ok(()) => result.note = Some(format!("{} random inputs held", trials.trials())),
        Err(TestError::Fail(reason, input)) => {
            let reason = reason.message().to_string();
            result.status = Status::Failed;
            let n = trials.trials();
            result.note = Some(match trials.stop() {
                None => format!("minimal failing input after {n} trials: {input}; {reason}"),
                Some(Stop::TimedOut) => format!(
                    "the helper timed out after {n} trials (a timeout is not shrunk) on: \
                     {input}; {reason}"
                ),
                Some(Stop::Budget { steps, why }) => format!(
                    "shrinking stopped early after {steps} steps ({why}); smallest failing \
                     input so far: {input}; {reason}"
                ),
            });
            result.steps.push(StepRecord {
                step: 1,
                repetition: 0,
                args: vec![format!("{:?}", property.kind)],
                stdin: input,
                ending: StepEnding::PropertyFailed,
                elapsed_ms: 0.0,
                mismatches: vec![Mismatch::new(
                    "property",
                    property_text(property.kind),
                    reason,
                )],
            });
        }
        Err(TestError::Abort(reason)) => {
            result.status = Status::Error;
            result.note = Some(reason.message().to_string());
        }
    }
    result.duration_ms = millis(started.elapsed());
    result
}

/// The most helper calls one trial of a property makes (a passing trial makes them all).
fn calls_per_trial(kind: PropertyKind) -> usize {
    match kind {
        PropertyKind::RoundTrip => 4,
        PropertyKind::Isolation => 7,
    }
}

/// What a trial works with: the run, and the count of the case's helper calls.
struct Ctx<'a> {
    run: &'a HelperRun,
    calls: &'a Calls,
}

/// A property's outcome with its failing (shrunk) input rendered for display.
fn conclude<T: fmt::Debug>(outcome: Result<(), TestError<T>>) -> Result<(), TestError<String>> {
    outcome.map_err(|e| match e {
        TestError::Fail(reason, input) => TestError::Fail(reason, format!("{input:?}")),
        TestError::Abort(reason) => TestError::Abort(reason),
    })
}

fn property_text(kind: PropertyKind) -> &'static str {
    match kind {
        PropertyKind::RoundTrip => {
            "store succeeds, get returns the same credentials, erase succeeds, get no longer returns them"
        }
        PropertyKind::Isolation => {
            "two entries with different URLs keep their own credentials, and erasing one keeps the other"
        }
    }
}

/// Calls the helper, failing the trial when it cannot be started or does not exit normally.
fn call(cx: &Ctx<'_>, action: &str, stdin: &str) -> Result<Outcome, TestCaseError> {
    let out = cx
        .run
        .target
        .call(action, stdin)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    cx.calls.count(out.ending == Ending::TimedOut);
    if !matches!(out.ending, Ending::Exited(_)) {
        return Err(TestCaseError::fail(format!("{action} {}", out.ending)));
    }
    Ok(out)
}

fn store(c: &Credential, cx: &Ctx<'_>) -> Result<(), TestCaseError> {
    cx.run.redactor.register_credentials(&c.username, &c.secret);
    cx.run.ledger.record(&c.url);
    let payload =
        serde_json::json!({"ServerURL": c.url, "Username": c.username, "Secret": c.secret});
    let out = call(cx, "store", &payload.to_string())?;
    if out.ending != Ending::Exited(0) {
        return Err(TestCaseError::fail(format!(
            "store of {:?} ended with {}: {}",
            c.url,
            out.ending,
            String::from_utf8_lossy(&out.stdout).trim()
        )));
    }
    Ok(())
}

/// What `get` returned: `None` when the helper said it has nothing.
fn get(url: &str, cx: &Ctx<'_>) -> Result<Option<(String, String)>, TestCaseError> {
    let out = call(cx, "get", url)?;
    if out.ending != Ending::Exited(0) {
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| TestCaseError::fail(format!("get of {url:?}: answer is not JSON: {e}")))?;
    let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Ok(Some((field("Username"), field("Secret"))))
}

fn expect_get(c: &Credential, cx: &Ctx<'_>) -> Result<(), TestCaseError> {
    match get(&c.url, cx)? {
        Some((u, s)) if u == c.username && s == c.secret => Ok(()),
        Some((u, s)) => Err(TestCaseError::fail(format!(
            "get of {:?} returned username {:?} and {}",
            c.url,
            u,
            if s == c.secret {
                "the right secret".to_string()
            } else {
                crate::check::redact::describe_secret_difference(&c.secret, &s)
            }
        ))),
        None => Err(TestCaseError::fail(format!(
            "get of {:?} found nothing right after store",
            c.url
        ))),
    }
}

fn erase(c: &Credential, cx: &Ctx<'_>) -> Result<(), TestCaseError> {
    let out = call(cx, "erase", &c.url)?;
    if out.ending != Ending::Exited(0) {
        return Err(TestCaseError::fail(format!(
            "erase of {:?} ended with {}",
            c.url, out.ending
        )));
    }
    cx.run.ledger.forget(&c.url);
    Ok(())
}

fn expect_gone(c: &Credential, cx: &Ctx<'_>) -> Result<(), TestCaseError> {
    match get(&c.url, cx)? {
        Some((_, s)) if s == c.secret => Err(TestCaseError::fail(format!(
            "get of {:?} still returns the secret after erase",
            c.url
        ))),
        _ => Ok(()),
    }
}

/// Erases whatever a failed trial left, so the next (shrunk) trial starts clean; after a
/// timeout that is left to the run's final cleanup.
fn tidy(creds: &[&Credential], cx: &Ctx<'_>) {
    if cx.calls.timed_out() {
        return;
    }
    for c in creds {
        if let Ok(out) = cx.run.target.call("erase", &c.url)
            && out.ending == Ending::Exited(0)
        {
            cx.run.ledger.forget(&c.url);
        }
    }
}

fn round_trip(c: &Credential, cx: &Ctx<'_>) -> Result<(), TestCaseError> {
    let result = store(c, cx)
        .and_then(|()| expect_get(c, cx))
        .and_then(|()| erase(c, cx))
        .and_then(|()| expect_gone(c, cx));
    result.inspect_err(|_| tidy(&[c], cx))
}

fn isolation(a: &Credential, b: &Credential, cx: &Ctx<'_>) -> Result<(), TestCaseError> {
    let result = store(a, cx)
        .and_then(|()| store(b, cx))
        .and_then(|()| expect_get(a, cx))
        .and_then(|()| expect_get(b, cx))
        .and_then(|()| erase(a, cx))
        .and_then(|()| expect_get(b, cx))
        .and_then(|()| erase(b, cx));
    result.inspect_err(|_| tidy(&[a, b], cx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    #[test]
    fn seeds_depend_on_run_seed_and_case() {
        assert_eq!(case_seed(1, "A"), case_seed(1, "A"));
        assert_ne!(case_seed(1, "A"), case_seed(2, "A"));
        assert_ne!(case_seed(1, "A"), case_seed(1, "B"));
    }

    #[test]
    fn generated_urls_stay_under_the_case_host() {
        let mut runner = TestRunner::deterministic();
        let s = url_strategy("c.ccx.credconform.test".into());
        for _ in 0..200 {
            let url = s.new_tree(&mut runner).unwrap().current();
            assert!(url.contains("c.ccx.credconform.test"), "{url}");
            assert_eq!(url.trim(), url);
        }
    }

    #[test]
    fn generated_secrets_are_described_not_shown() {
        let c = Credential {
            url: "u".into(),
            username: "n".into(),
            secret: "top-secret\r\n".into(),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("top-secret"), "{shown}");
        assert!(
            shown.contains("U+000D") && shown.contains("12 bytes"),
            "{shown}"
        );
    }
}
