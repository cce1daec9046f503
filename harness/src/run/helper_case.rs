//! Carrying out one step-based case against a credential helper.

use std::{thread, time::Instant};

use serde_json::{Map, Value};

use super::{
    HelperRun,
    result::{CaseResult, Status, StepRecord, millis},
};
use crate::{
    check::{self, CheckContext},
    drive::{self, Ending, Outcome},
    scenario::{
        Case, Expect, Stdin, Step,
        template::{self, Vars},
    },
};

/// Timed-out calls a case may make; then it fails with that reason, its remaining repetitions
/// are not run, and its entries are left to the run's final cleanup.
pub const TIMEOUT_BUDGET: usize = 3;

/// One invocation, fully expanded and ready to run.
#[derive(Debug, Clone)]
struct Prepared {
    step: usize,
    repetition: usize,
    args: Vec<String>,
    stdin: String,
    /// The credentials payload, when stdin is one (shown with its secret described).
    json: Option<Map<String, Value>>,
    expect: Expect,
    /// The server URL the invocation names, if any.
    url: Option<String>,
    /// The secret a `store` hands over, if any.
    secret: Option<String>,
}

/// Runs a step-based case.
pub fn run(case: &Case, cx: &HelperRun) -> CaseResult {
    let started = Instant::now();
    let host = cx.namespace.case_host(&case.id);
    let segment = cx.namespace.case_segment(&case.id);
    let prepared = match prepare_case(case, cx, &host, &segment) {
        Ok(p) => p,
        Err(result) => return *result,
    };
    let secrets: Vec<String> = prepared
        .iter()
        .flatten()
        .filter_map(|p| p.secret.clone())
        .collect();
    for p in prepared.iter().flatten() {
        if let Some(secret) = &p.secret {
            let username = p.json.as_ref().and_then(|j| j.get("Username"));
            match username.and_then(Value::as_str) {
                Some(user) => cx.redactor.register_credentials(user, secret),
                None => cx.redactor.register(secret),
            }
        }
    }
    let owns = |url: &str| cx.namespace.owns_case(url, &case.id);
    let check_cx = CheckContext {
        redactor: &cx.redactor,
        case_secrets: &secrets,
        owns: &owns,
    };
    let mut result = CaseResult::new(case, Status::Passed);
    let mut timeouts = 0;
    let mut stored = Vec::new();
    for (step, group) in case.steps.iter().zip(&prepared) {
        let outcomes = execute(step, group, cx, &mut timeouts);
        for (p, outcome) in group.iter().zip(outcomes) {
            if p.args.first().map(String::as_str) == Some("store")
                && let Some(url) = &p.url
            {
                stored.push(url.clone());
            }
            let record = match outcome {
                Ok(outcome) => {
                    let mismatches = check::check(&p.expect, &outcome, &check_cx);
                    after_success(p, &outcome, cx);
                    record(
                        p,
                        cx,
                        outcome.ending.to_string(),
                        millis(outcome.elapsed),
                        mismatches,
                    )
                }
                Err(e) => {
                    result.status = Status::Error;
                    result.note = Some(cx.redactor.redact(&e.to_string()));
                    record(p, cx, "not started".into(), 0.0, Vec::new())
                }
            };
            if !record.mismatches.is_empty() && result.status == Status::Passed {
                set_unmet(&mut result, step, p);
            }
            result.steps.push(record);
        }
        if timeouts >= TIMEOUT_BUDGET {
            if result.status == Status::Passed {
                result.status = Status::Failed;
            }
            result.note = Some(format!(
                "the helper timed out {timeouts} times (each call may take {:.1} s); the case \
                 stopped there",
                cx.target.timeout.as_secs_f64()
            ));
        }
        if result.status != Status::Passed {
            break;
        }
    }
    // A helper that timed out would likely time out again: its entries are left to the run's
    // final cleanup, which has a budget of its own.
    if timeouts == 0 {
        cx.ledger.erase_now(&stored);
    }
    result.duration_ms = millis(started.elapsed());
    result
}

/// Expands every step of the case, refusing URLs outside the namespace and skipping the case
/// when it would use a host that already holds a user's entry.
fn prepare_case(
    case: &Case,
    cx: &HelperRun,
    host: &str,
    segment: &str,
) -> Result<Vec<Vec<Prepared>>, Box<CaseResult>> {
    let helper = cx
        .target
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let mut all = Vec::with_capacity(case.steps.len());
    for (n, step) in case.steps.iter().enumerate() {
        let mut group = Vec::with_capacity(step.repeat);
        for i in 0..step.repeat {
            let vars = Vars {
                ns: host,
                run: segment,
                port: cx.namespace.port(),
                i,
                helper: &helper,
            };
            let p = prepare(step, n + 1, i, &vars)
                .map_err(|e| Box::new(CaseResult::new(case, Status::Error).with_note(e)))?;
            if let Some(url) = &p.url {
                if !cx.namespace.owns(url) {
                    return Err(Box::new(CaseResult::new(case, Status::Error).with_note(
                        format!(
                            "refused: step {} names `{url}`, outside the run namespace",
                            n + 1
                        ),
                    )));
                }
                if let Some(why) = cx.foreign_hosts.conflict(url) {
                    return Err(Box::new(
                        CaseResult::new(case, Status::Skipped).with_note(why),
                    ));
                }
            }
            group.push(p);
        }
        all.push(group);
    }
    Ok(all)
}

fn prepare(step: &Step, n: usize, i: usize, vars: &Vars<'_>) -> Result<Prepared, String> {
    let x = |t: &str| template::expand(t, vars).map_err(|e| format!("step {n}: {e}"));
    let mut args: Vec<String> = step.action.iter().cloned().collect();
    for a in &step.extra_args {
        args.push(x(a)?);
    }
    let (stdin, url, secret, json) = match &step.stdin {
        None => (String::new(), None, None, None),
        Some(Stdin::Text(t)) => {
            let text = x(t)?;
            let url = (step.action.as_deref() != Some("store") && !text.trim().is_empty())
                .then(|| text.trim().to_string());
            // A malformed payload can still carry a secret: find it so it is redacted too.
            let secret = secret_in_raw_payload(&text);
            (text, url, secret, None)
        }
        Some(Stdin::Credentials { json }) => {
            let expanded = expand_map(json, &x)?;
            let text = Value::Object(expanded.clone()).to_string();
            let field = |k: &str| expanded.get(k).and_then(Value::as_str).map(str::to_string);
            let url = field("ServerURL").filter(|u| !u.trim().is_empty());
            (text, url, field("Secret"), Some(expanded))
        }
    };
    Ok(Prepared {
        step: n,
        repetition: i,
        args,
        stdin,
        json,
        expect: expand_expect(&step.expect, &x)?,
        url,
        secret,
    })
}

/// The string after the first `"Secret":` of a payload that may not be valid JSON as a whole.
fn secret_in_raw_payload(text: &str) -> Option<String> {
    let after_key = &text[text.find("\"Secret\"")? + "\"Secret\"".len()..];
    let value = after_key.trim_start().strip_prefix(':')?.trim_start();
    serde_json::Deserializer::from_str(value)
        .into_iter::<String>()
        .next()?
        .ok()
}

type Expand<'a> = dyn Fn(&str) -> Result<String, String> + 'a;

fn expand_map(map: &Map<String, Value>, x: &Expand<'_>) -> Result<Map<String, Value>, String> {
    map.iter()
        .map(|(k, v)| Ok((x(k)?, expand_value(v, x)?)))
        .collect()
}

fn expand_value(v: &Value, x: &Expand<'_>) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => Value::String(x(s)?),
        Value::Object(m) => Value::Object(expand_map(m, x)?),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| expand_value(v, x))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

fn expand_expect(e: &Expect, x: &Expand<'_>) -> Result<Expect, String> {
    let mut e = e.clone();
    for m in [&mut e.stdout, &mut e.stderr].into_iter().flatten() {
        if let Some(t) = &m.trimmed {
            m.trimmed = Some(x(t)?);
        }
        for s in m
            .contains
            .iter_mut()
            .chain(&mut m.not_contains)
            .chain(&mut m.one_of)
        {
            *s = x(s)?;
        }
    }
    if let Some(json) = &e.json {
        e.json = Some(expand_map(json, x)?);
    }
    if let Some(list) = &mut e.list {
        list.includes = expand_map(&list.includes, x)?;
        for s in &mut list.excludes {
            *s = x(s)?;
        }
    }
    e.any_of = e
        .any_of
        .iter()
        .map(|alternative| expand_expect(alternative, x))
        .collect::<Result<_, _>>()?;
    Ok(e)
}

/// Runs a step's invocations, at the same time when the step says `parallel`; one after the
/// other otherwise, stopping once the case has timed out [`TIMEOUT_BUDGET`] times (counted in
/// `timeouts`).
fn execute(
    step: &Step,
    group: &[Prepared],
    cx: &HelperRun,
    timeouts: &mut usize,
) -> Vec<Result<Outcome, drive::SpawnError>> {
    let run_one = |p: &Prepared| {
        if p.args.first().map(String::as_str) == Some("store")
            && let Some(url) = &p.url
        {
            cx.ledger.record(url);
        }
        cx.target.run(
            &cx.target
                .invocation(p.args.clone(), p.stdin.as_bytes().to_vec()),
        )
    };
    let timed_out =
        |r: &Result<Outcome, drive::SpawnError>| matches!(r, Ok(o) if o.ending == Ending::TimedOut);
    if step.parallel && group.len() > 1 {
        let outcomes: Vec<_> = thread::scope(|s| {
            let handles: Vec<_> = group.iter().map(|p| s.spawn(|| run_one(p))).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("an invocation thread panicked"))
                .collect()
        });
        *timeouts += outcomes.iter().filter(|r| timed_out(r)).count();
        outcomes
    } else {
        let mut outcomes = Vec::with_capacity(group.len());
        for p in group {
            if *timeouts >= TIMEOUT_BUDGET {
                break;
            }
            let outcome = run_one(p);
            *timeouts += usize::from(timed_out(&outcome));
            outcomes.push(outcome);
        }
        outcomes
    }
}

/// Ends the case at a step whose expectations did not hold: failed, or blocked with a note
/// naming the step when the step is a precondition (the requirement was then not tested).
fn set_unmet(result: &mut CaseResult, step: &Step, p: &Prepared) {
    match &step.precondition {
        None => result.status = Status::Failed,
        Some(needed) => result.block(
            p.step,
            step.action.as_deref().unwrap_or("no action"),
            needed,
        ),
    }
}

/// Keeps the ledger exact: an entry erased by the case itself needs no cleanup.
fn after_success(p: &Prepared, outcome: &Outcome, cx: &HelperRun) {
    if p.args.first().map(String::as_str) == Some("erase")
        && outcome.ending == Ending::Exited(0)
        && let Some(url) = &p.url
    {
        cx.ledger.forget(url);
    }
}

fn record(
    p: &Prepared,
    cx: &HelperRun,
    ending: String,
    elapsed_ms: f64,
    mismatches: Vec<check::Mismatch>,
) -> StepRecord {
    let stdin = match &p.json {
        Some(map) => cx
            .redactor
            .redact_json(&Value::Object(map.clone()))
            .to_string(),
        None => cx.redactor.redact(&p.stdin),
    };
    StepRecord {
        step: p.step,
        repetition: p.repetition,
        args: p.args.iter().map(|a| cx.redactor.redact(a)).collect(),
        stdin,
        ending: cx.redactor.redact(&ending),
        elapsed_ms,
        mismatches,
    }
}

#[cfg(test)]
mod tests {
    use super::secret_in_raw_payload;

    #[test]
    fn secrets_are_found_in_malformed_payloads() {
        let truncated = r#"{"ServerURL":"https://h","Username":"u","Secret" : "s3cr\"et""#;
        assert_eq!(
            secret_in_raw_payload(truncated).as_deref(),
            Some("s3cr\"et")
        );
        assert_eq!(
            secret_in_raw_payload(r#"[{"Secret":"x1"}]"#).as_deref(),
            Some("x1")
        );
        assert_eq!(secret_in_raw_payload("not json at all"), None);
        assert_eq!(secret_in_raw_payload(r#"{"Secret": 42}"#), None);
    }
}
