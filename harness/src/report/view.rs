//! What every reporter shows, apart from its markup: the words for verdicts, statuses and
//! counts, the sentences of a report (verdict reason, gate, cleanup, mode, store damage), how
//! cases group into areas, and which steps of a failure are shown and how they are named.

use std::fmt::Write as _;

use crate::{
    run::{
        CaseResult, Counts, RunReport, Status, Verdict,
        ledger::describe_leftovers,
        result::{Disposition, StepEnding, StepRecord},
    },
    scenario::TargetKind,
    target::TargetInfo,
};

/// A verdict or status as the JSON report spells it (`not-conformant`, `passed`).
pub fn slug(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(slug)) => slug,
        _ => unreachable!("verdicts and statuses serialize as strings"),
    }
}

/// The disposition as the JSON report spells its kind (`known-failure`, `waived`).
pub fn disposition_slug(disposition: &Disposition) -> &'static str {
    match disposition {
        Disposition::KnownFailure => "known-failure",
        Disposition::Waived { .. } => "waived",
    }
}

/// `2026-01-02T03:04:05.123Z` shown as `2026-01-02 03:04:05 UTC`; anything else as it is.
pub fn display_date(rfc3339: &str) -> String {
    if rfc3339.len() >= 19 && rfc3339.ends_with('Z') && rfc3339.as_bytes()[10] == b'T' {
        format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..19])
    } else {
        rfc3339.to_string()
    }
}

/// Requirement areas in the order their first case appears: suite, area and its cases.
pub fn group_by_area(report: &RunReport) -> Vec<(&str, &str, Vec<&CaseResult>)> {
    let mut groups: Vec<(&str, &str, Vec<&CaseResult>)> = Vec::new();
    for case in &report.cases {
        match groups
            .iter_mut()
            .find(|(suite, area, _)| *suite == case.suite && *area == case.area)
        {
            Some((_, _, cases)) => cases.push(case),
            None => groups.push((&case.suite, &case.area, vec![case])),
        }
    }
    groups
}

/// The failed cases (failed, errored or blocked), in report order.
pub fn failures(report: &RunReport) -> Vec<&CaseResult> {
    report.cases.iter().filter(|c| c.is_failure()).collect()
}

/// The steps a failure's details show: those with a mismatch, and those that never started.
pub fn failing_steps(case: &CaseResult) -> impl Iterator<Item = &StepRecord> {
    case.steps
        .iter()
        .filter(|s| !s.mismatches.is_empty() || s.ending == StepEnding::NotStarted)
}

/// A step's arguments as one string, or `(no arguments)`.
pub fn step_args(step: &StepRecord) -> String {
    if step.args.is_empty() {
        "(no arguments)".to_string()
    } else {
        step.args.join(" ")
    }
}

/// ` (repetition N)` for a repeated step's later runs, empty for the first.
pub fn repetition_words(step: &StepRecord) -> String {
    match step.repetition {
        0 => String::new(),
        n => format!(" (repetition {n})"),
    }
}

/// Why a failure does not fail the run, in words: `known failure (in the baseline)` or
/// `waived until 2027-06-30: <reason>`; `None` for a case without a disposition.
pub fn disposition_words(r: &CaseResult) -> Option<String> {
    r.disposition.as_ref().map(|d| match d {
        Disposition::KnownFailure => "known failure (in the baseline)".to_string(),
        Disposition::Waived { reason, expires } => format!("waived until {expires}: {reason}"),
    })
}

/// The accepted failures of one level: `4 known, 1 waived`; `None` when there are none.
pub fn accepted_words(c: &Counts) -> Option<String> {
    let parts: Vec<String> = [(c.known_failures, "known"), (c.waived, "waived")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The sentence saying what the run was gated with: the baseline and its known failures, how
/// many MUST and SHOULD failures were waived, and the baseline cases that now pass; `None` for
/// a run without `--baseline` or `--waivers`.
pub fn gate_sentence(report: &RunReport) -> Option<String> {
    let used = report.gate.as_ref()?;
    let s = &report.summary;
    let mut parts = Vec::new();
    if let Some(b) = &used.baseline {
        let known = s.must.known_failures + s.should.known_failures;
        parts.push(format!(
            "checked with a baseline ({known} known failure{} from {})",
            plural(known),
            b.file
        ));
    }
    if let Some(w) = &used.waivers {
        parts.push(format!(
            "{} MUST failure{} and {} SHOULD failure{} waived (by {})",
            s.must.waived,
            plural(s.must.waived),
            s.should.waived,
            plural(s.should.waived),
            w.file
        ));
    }
    let mut sentence = format!("The run was {}.", parts.join("; "));
    if let Some(b) = &used.baseline {
        for id in &b.now_passing {
            let _ = write!(sentence, " {id} now passes: drop it from your baseline.");
        }
    }
    Some(sentence)
}

/// One sentence saying why the verdict is what it is, followed by what the run was gated with
/// (see [`gate_sentence`]).
pub fn verdict_reason(report: &RunReport) -> String {
    let reason = ungated_verdict_reason(report);
    match gate_sentence(report) {
        Some(gate) => format!("{reason} {gate}"),
        None => reason,
    }
}

fn ungated_verdict_reason(report: &RunReport) -> String {
    let s = &report.summary;
    if let Some(why) = ended_early_sentence(report) {
        return why;
    }
    match s.verdict {
        Verdict::Conformant => match s.must.skipped + s.should.skipped {
            0 => format!(
                "Every MUST and SHOULD case passed ({} case{}).",
                report.cases.len(),
                plural(report.cases.len())
            ),
            skipped => format!(
                "Every MUST and SHOULD case that ran passed ({} ran, {skipped} skipped).",
                report.cases.len() - skipped
            ),
        },
        Verdict::ConformantWithWarnings => format!(
            "Every MUST case passed; {}.",
            against_words("SHOULD", &s.should)
        ),
        Verdict::NotConformant => format!("{}.", against_words("MUST", &s.must)),
    }
}

/// `2 MUST cases failed or errored`, `1 SHOULD case failed`, with the blocked cases after:
/// `and 1 was blocked (a precondition did not hold, so its requirement was not tested)`.
fn against_words(level: &str, c: &Counts) -> String {
    let failed_word = match level {
        "MUST" => "failed or errored",
        _ => "failed",
    };
    let failed = format!(
        "{} {level} case{} {failed_word}",
        c.failed,
        plural(c.failed)
    );
    let (verb, tested) = match c.blocked {
        1 => ("was", "its requirement was"),
        _ => ("were", "their requirements were"),
    };
    let blocked = format!(
        "{} {level} case{} {verb} blocked (a precondition did not hold, so {tested} not tested)",
        c.blocked,
        plural(c.blocked)
    );
    match (c.failed, c.blocked) {
        (_, 0) => failed,
        (0, _) => blocked,
        _ => format!("{failed} and {blocked}"),
    }
}

/// The plural ending of a count: `""` for 1, `"s"` otherwise.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// How an area's cases went: `3 of 4 passed`, `2 of 2 passed, 1 skipped`, or `all 3 skipped`.
pub fn area_tally(cases: &[&CaseResult]) -> String {
    let skipped = cases.iter().filter(|c| c.status == Status::Skipped).count();
    let passed = cases.iter().filter(|c| c.status == Status::Passed).count();
    let ran = cases.len() - skipped;
    match (ran, skipped) {
        (0, n) => format!("all {n} skipped"),
        (ran, 0) => format!("{passed} of {ran} passed"),
        (ran, n) => format!("{passed} of {ran} passed, {n} skipped"),
    }
}

/// The verdict as people read it: its label, scoped to the get-only part of the protocol when
/// the helper was certified as get-only, and saying when the run ended early.
pub fn verdict_words(report: &RunReport) -> String {
    let mut words = report.summary.verdict.label().to_string();
    if report.target.get_only {
        words.push_str(" (get-only)");
    }
    if report.interrupted {
        words.push_str(" (interrupted)");
    } else if report.max_duration_reached {
        words.push_str(" (stopped at --max-duration)");
    }
    // The run failed only because it was strict: every MUST case passed, and some SHOULD
    // failure that neither a baseline nor a waiver accepts failed the run.
    let s = &report.summary;
    if report.strict && s.verdict == Verdict::ConformantWithWarnings && s.should.unaccepted() > 0 {
        words.push_str(" (--strict: SHOULD failures fail the run)");
    }
    words
}

/// Why a run that ended before every case ran is not conformant, `None` for a complete run.
pub fn ended_early_sentence(report: &RunReport) -> Option<String> {
    let not_run = report.cases.iter().filter(|c| c.not_run).count();
    let what = if report.interrupted {
        "The run was interrupted"
    } else if report.max_duration_reached {
        "The run reached --max-duration"
    } else {
        return None;
    };
    Some(format!(
        "{what}: {not_run} of {} case{} did not run, so the target is not certified.",
        report.cases.len(),
        plural(report.cases.len())
    ))
}

/// What the target left running that the runner ended, as a sentence; `None` when nothing.
pub fn left_running_sentence(report: &RunReport) -> Option<String> {
    let left = &report.cleanup.left_running;
    if left.is_empty() {
        return None;
    }
    let total: usize = left.iter().map(|l| l.count).sum();
    let shown: Vec<String> = left
        .iter()
        .map(|l| match l.count {
            1 => format!("`{}`", l.command),
            n => format!("`{}` ×{n}", l.command),
        })
        .collect();
    Some(format!(
        "the target left {total} process{} running after its calls, ended by the runner: {}",
        if total == 1 { "" } else { "es" },
        shown.join(", ")
    ))
}

/// The sentence a report shows for a get-only certification, `None` otherwise.
pub fn get_only_sentence(target: &TargetInfo) -> Option<&'static str> {
    target.get_only.then_some(
        "certified as a get-only helper (--get-only): the cases that need store or erase to \
         succeed were skipped, and the get-only cases checked that both are refused",
    )
}

/// What cleanup left in the helper's store, as a sentence; `None` for runs that use no store
/// (login runs keep everything in a sandbox that is removed whole).
pub fn cleanup_sentence(report: &RunReport) -> Option<String> {
    if report.target.kind != TargetKind::Helper {
        return None;
    }
    let swept = match report.cleanup.erased {
        0 => String::new(),
        n => format!(" ({n} erased by the final sweep)"),
    };
    Some(format!("{}{swept}", describe_leftovers(&report.cleanup)))
}

/// The warning for entries the run never named that changed in the helper's store, if any did.
pub fn store_damage_warning(report: &RunReport) -> Option<String> {
    let changed = &report.cleanup.foreign_changed;
    (!changed.is_empty()).then(|| {
        format!(
            "entries this run never named changed in the helper's store, so the helper damaged \
             its own store (for example by racing its own concurrent writes): {}",
            changed.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{report::sample, scenario::Level};

    #[test]
    fn failures_and_blocked_cases_are_named_apart_in_the_reason() {
        let mut both = sample::blocked_report();
        both.cases
            .push(sample::failed("HP-NF-001", "Unknown entries", Level::Must));
        both.cases
            .push(sample::blocked("HP-ER-001", "Erase", Level::Must));
        both.summary = crate::run::Summary::of(&both.cases);
        assert_eq!(
            verdict_reason(&both),
            "1 MUST case failed or errored and 2 MUST cases were blocked (a precondition did \
             not hold, so their requirements were not tested)."
        );
        let warn = sample::report(vec![sample::blocked("HP-ER-005", "Erase", Level::Should)]);
        assert_eq!(
            verdict_reason(&warn),
            "Every MUST case passed; 1 SHOULD case was blocked (a precondition did not hold, so \
             its requirement was not tested)."
        );
    }

    #[test]
    fn the_verdict_words_say_how_the_run_ended_and_when_strict_failed_it() {
        let mut report = sample::failing_report();
        report.max_duration_reached = true;
        assert_eq!(
            verdict_words(&report),
            "Not conformant (stopped at --max-duration)"
        );
        let mut strict = sample::strict_warning_report();
        assert_eq!(
            verdict_words(&strict),
            "Conformant with warnings (--strict: SHOULD failures fail the run)"
        );
        strict.cases[1].disposition = Some(Disposition::KnownFailure);
        strict.summary = crate::run::Summary::of(&strict.cases);
        assert_eq!(verdict_words(&strict), "Conformant with warnings");
        strict.strict = false;
        strict.cases[1].disposition = None;
        strict.summary = crate::run::Summary::of(&strict.cases);
        assert_eq!(verdict_words(&strict), "Conformant with warnings");
    }

    #[test]
    fn area_tallies_count_only_the_cases_that_ran_as_passed_or_not() {
        let pass = sample::passed("A-1", "a", Level::Must);
        let fail = sample::failed("A-2", "a", Level::Must);
        let mut skip = sample::passed("A-3", "a", Level::Must);
        skip.status = Status::Skipped;
        assert_eq!(area_tally(&[&pass, &fail]), "1 of 2 passed");
        assert_eq!(area_tally(&[&pass, &skip]), "1 of 1 passed, 1 skipped");
        assert_eq!(area_tally(&[&skip, &skip]), "all 2 skipped");
    }
}
