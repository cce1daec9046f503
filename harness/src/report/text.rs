//! The plain-text form of a report: a case's line, one failure's details and the summary lines
//! (the terminal shows them; JUnit and Markdown embed the failure details).

use std::fmt::Write as _;

use super::view::{
    accepted_words, cleanup_sentence, disposition_words, failing_steps, gate_sentence,
    left_running_sentence, repetition_words, step_args, store_damage_warning, verdict_words,
};
use crate::{
    check::visible,
    run::{CaseResult, RunReport, Status, result::Disposition},
};

/// The first line of a case: status word, ID, level and title; a failure a baseline or a
/// waiver accepts says so (`KNOWN`, `WAIVED` and the reason).
pub fn case_line(r: &CaseResult) -> String {
    let word = match (&r.disposition, r.status) {
        (Some(Disposition::KnownFailure), _) => "KNOWN",
        (Some(Disposition::Waived { .. }), _) => "WAIVED",
        (None, Status::Passed) => "PASS",
        (None, Status::Failed) => "FAIL",
        (None, Status::Skipped) => "SKIP",
        (None, Status::Error) => "ERROR",
        (None, Status::Blocked) => "BLOCK",
    };
    let accepted = disposition_words(r)
        .map(|w| format!(" ({w})"))
        .unwrap_or_default();
    format!(
        "{word:<5} {} [{}] {}{accepted}",
        visible(&r.id),
        r.level,
        visible(&r.title)
    )
}

/// Everything a reader needs to see why a case did not pass: the requirement, each failing
/// invocation with its (redacted) stdin, and expected against actual.
pub fn failure_details(r: &CaseResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", case_line(r));
    let _ = writeln!(out, "  requirement: {}", visible(&r.cites));
    if let Some(note) = &r.note {
        let _ = writeln!(out, "  note: {note}");
    }
    for step in failing_steps(r) {
        let _ = writeln!(
            out,
            "  step {}{}: {}",
            step.step,
            repetition_words(step),
            step_args(step)
        );
        if !step.stdin.is_empty() {
            let _ = writeln!(out, "    stdin:    {}", crate::check::quote(&step.stdin));
        }
        let _ = writeln!(out, "    ended:    {}", step.ending);
        for m in &step.mismatches {
            let _ = writeln!(out, "    {}:", m.what);
            let _ = writeln!(out, "      expected: {}", m.expected);
            let _ = writeln!(out, "      actual:   {}", m.actual);
            for line in m.diff.iter().flat_map(|diff| diff.lines()) {
                let _ = writeln!(out, "        {line}");
            }
        }
    }
    out
}

/// The closing lines: counts per level, cleanup, verdict.
pub fn summary(report: &RunReport) -> String {
    let s = &report.summary;
    let mut out = String::new();
    for (level, c) in [("MUST:  ", &s.must), ("SHOULD:", &s.should)] {
        let accepted = accepted_words(c).map(|a| format!(" ({a})"));
        let _ = writeln!(
            out,
            "{level} {} passed, {} failed{}, {} skipped, {} blocked",
            c.passed,
            c.failed,
            accepted.unwrap_or_default(),
            c.skipped,
            c.blocked
        );
    }
    let lines = [
        ("gate", gate_sentence(report)),
        ("cleanup", cleanup_sentence(report)),
        ("left running", left_running_sentence(report)),
        ("WARNING", store_damage_warning(report)),
    ];
    for (label, line) in lines {
        if let Some(line) = line {
            let _ = writeln!(out, "{label}: {line}");
        }
    }
    let _ = writeln!(
        out,
        "verdict: {} ({} cases in {:.0} ms; seed {}, reproduce with --seed {})",
        verdict_words(report),
        report.cases.len(),
        report.duration_ms,
        report.seed,
        report.seed
    );
    out
}
