//! Carrying out one step-based case against a credential helper.

use std::{thread, time::Instant};

use serde_json::{Map, Value};

use super::{
    HelperRun,
    result::{CaseResult, Status, StepEnding, StepRecord, millis},
};
use crate::{
    check::{self, CheckContext},
    drive::{self, Ending, Outcome},
    scenario::{Action, Case, Stdin, Step, template::Vars},
};

/// Timed-out calls a case may make; then it fails with that reason, its remaining repetitions
/// are not run, and its entries are left to the run's final cleanup.
pub const TIMEOUT_BUDGET: usize = 3;

/// One invocation, fully expanded and ready to run.
#[derive(Debug, Clone)]
struct Prepared<'a> {
    step: usize,
    repetition: usize,
    /// The action, when the step passes one.
    action: Option<&'a Action>,
    args: Vec<String>,
    stdin: String,
    /// The credentials payload, when stdin is one (shown with its secret described).
    json: Option<Map<String, Value>>,
    /// The placeholders the step's expectations are checked with.
    vars: Vars<'a>,
    /// The server URL the invocation names, if any.
    url: Option<String>,
    /// The secret a `store` hands over, if any.
    secret: Option<String>,
}

impl Prepared<'_> {
    /// The server URL of a `store`, which the ledger must know of.
    fn stored_url(&self) -> Option<&String> {
        self.url
            .as_ref()
            .filter(|_| self.action == Some(&Action::Store))
    }
}

/// Runs a step-based case.
pub fn run(case: &Case, cx: &HelperRun) -> CaseResult {
    let started = Instant::now();
    let host = cx.namespace.case_host(&case.id);
    let segment = cx.namespace.case_segment(&case.id);
    let helper = cx
        .target
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let base = Vars {
        ns: &host,
        run: &segment,
        port: cx.namespace.port(),
        i: 0,
        helper: &helper,
    };
    let prepared = match prepare_case(case, cx, &base) {
        Ok(p) => p,
        Err((status, note)) => return CaseResult::new(case, status).with_note(note),
    };
    let mut secrets = Vec::new();
    for p in prepared.iter().flatten() {
        let Some(secret) = &p.secret else { continue };
        let username = p.json.as_ref().and_then(|j| j.get("Username"));
        match username.and_then(Value::as_str) {
            Some(user) => cx.redactor.register_credentials(user, secret),
            None => cx.redactor.register(secret),
        }
        secrets.push(secret.clone());
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
    for (step, group) in case.steps().iter().zip(&prepared) {
        let outcomes = execute(step, group, cx, &mut timeouts);
        for (p, outcome) in group.iter().zip(outcomes) {
            stored.extend(p.stored_url().cloned());
            let record = match outcome {
                Ok(outcome) => {
                    let mismatches = check::check(&step.expect, &p.vars, &outcome, &check_cx);
                    // Keeps the ledger exact: an entry erased by the case itself needs no
                    // cleanup.
                    if p.action == Some(&Action::Erase)
                        && outcome.ending == Ending::Exited(0)
                        && let Some(url) = &p.url
                    {
                        cx.ledger.forget(url);
                    }
                    record(p, Some(&outcome), mismatches)
                }
                Err(e) => {
                    result.status = Status::Error;
                    result.note = Some(e.to_string());
                    record(p, None, Vec::new())
                }
            };
            if !record.mismatches.is_empty() && result.status == Status::Passed {
                let precondition = step.precondition.as_ref();
                result.unmet(p.step, step.action_name(), precondition);
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
/// when it would use a host that already holds a user's entry: the case's status and note then.
fn prepare_case<'a>(
    case: &'a Case,
    cx: &HelperRun,
    base: &Vars<'a>,
) -> Result<Vec<Vec<Prepared<'a>>>, (Status, String)> {
    let prepare_step = |(step, n): (&'a Step, usize)| {
        (0..step.repeat)
            .map(|i| {
                let p = prepare(step, n, Vars { i, ..base.clone() });
                if let Some(url) = &p.url {
                    if !cx.namespace.owns(url) {
                        let why =
                            format!("refused: step {n} names `{url}`, outside the run namespace");
                        return Err((Status::Error, why));
                    }
                    if let Some(why) = cx.foreign_hosts.conflict(url) {
                        return Err((Status::Skipped, why));
                    }
                }
                Ok(p)
            })
            .collect()
    };
    case.steps().iter().zip(1..).map(prepare_step).collect()
}

fn prepare<'a>(step: &'a Step, n: usize, vars: Vars<'a>) -> Prepared<'a> {
    let mut args: Vec<String> = step.action.iter().map(|a| a.to_string()).collect();
    args.extend(step.extra_args.iter().map(|a| a.expand(&vars)));
    // A payload's URL is kept as written (the helper may be tested on surrounding blanks); a
    // get or erase argument is read the way helpers read it, trimmed.
    let url = step
        .server_url()
        .map(|u| u.expand(&vars))
        .filter(|u| !u.trim().is_empty())
        .map(|u| match step.stdin {
            Some(Stdin::Text(_)) => u.trim().to_string(),
            _ => u,
        });
    let (stdin, secret, json) = match &step.stdin {
        None => (String::new(), None, None),
        Some(Stdin::Text(t)) => {
            let text = t.expand(&vars);
            // A malformed payload can still carry a secret: find it so it is redacted too.
            let secret = secret_in_raw_payload(&text);
            (text, secret, None)
        }
        Some(Stdin::Credentials { json }) => {
            let expanded = json.expand(&vars);
            let text = Value::Object(expanded.clone()).to_string();
            let secret = expanded
                .get("Secret")
                .and_then(Value::as_str)
                .map(str::to_string);
            (text, secret, Some(expanded))
        }
    };
    Prepared {
        step: n,
        repetition: vars.i,
        action: step.action.as_ref(),
        args,
        stdin,
        json,
        vars,
        url,
        secret,
    }
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
        if let Some(url) = p.stored_url() {
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
        let within_budget = |p| {
            let outcome = (*timeouts < TIMEOUT_BUDGET).then(|| run_one(p))?;
            *timeouts += usize::from(timed_out(&outcome));
            Some(outcome)
        };
        group.iter().map_while(within_budget).collect()
    }
}

/// The record of an invocation: its stdin shown with the secret of a payload described (every
/// other string is redacted once the case ends); `None` when it could not be started.
fn record(p: &Prepared, outcome: Option<&Outcome>, mismatches: Vec<check::Mismatch>) -> StepRecord {
    let stdin = match &p.json {
        Some(map) => check::redact::describe_secrets(&Value::Object(map.clone())).to_string(),
        None => p.stdin.clone(),
    };
    StepRecord {
        step: p.step,
        repetition: p.repetition,
        args: p.args.clone(),
        stdin,
        ending: outcome.map_or(StepEnding::NotStarted, |o| {
            StepEnding::Ran(o.ending.to_string())
        }),
        elapsed_ms: outcome.map_or(0.0, |o| millis(o.elapsed)),
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
