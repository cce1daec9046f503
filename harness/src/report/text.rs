//! Plain-text renderings shared by reporters: one failure's details, the summary lines.

use std::fmt::Write as _;

use crate::run::{CaseResult, RunReport, Status, ledger::describe_leftovers};

/// The first line of a case: status word, ID, level and title.
pub fn case_line(r: &CaseResult) -> String {
    let word = match r.status {
        Status::Passed => "PASS",
        Status::Failed => "FAIL",
        Status::Skipped => "SKIP",
        Status::Error => "ERROR",
    };
    format!("{word:<5} {} [{}] {}", r.id, r.level, r.title)
}

/// Everything a reader needs to see why a case did not pass: the requirement, each failing
/// invocation with its (redacted) stdin, and expected against actual.
pub fn failure_details(r: &CaseResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", case_line(r));
    let _ = writeln!(out, "  requirement: {}", r.cites);
    if let Some(note) = &r.note {
        let _ = writeln!(out, "  note: {note}");
    }
    for step in r
        .steps
        .iter()
        .filter(|s| !s.mismatches.is_empty() || s.ending == "not started")
    {
        let rep = if step.repetition > 0 {
            format!(" (repetition {})", step.repetition)
        } else {
            String::new()
        };
        let args = if step.args.is_empty() {
            "(no arguments)".to_string()
        } else {
            step.args.join(" ")
        };
        let _ = writeln!(out, "  step {}{rep}: {args}", step.step);
        if !step.stdin.is_empty() {
            let _ = writeln!(out, "    stdin:    {}", crate::check::quote(&step.stdin));
        }
        let _ = writeln!(out, "    ended:    {}", step.ending);
        for m in &step.mismatches {
            let _ = writeln!(out, "    {}:", m.what);
            let _ = writeln!(out, "      expected: {}", m.expected);
            let _ = writeln!(out, "      actual:   {}", m.actual);
            if let Some(diff) = &m.diff {
                for line in diff.lines() {
                    let _ = writeln!(out, "        {line}");
                }
            }
        }
    }
    out
}

/// The closing lines: counts per level, cleanup, verdict.
pub fn summary(report: &RunReport) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "MUST:   {} passed, {} failed, {} skipped",
        s.must.passed, s.must.failed, s.must.skipped
    );
    let _ = writeln!(
        out,
        "SHOULD: {} passed, {} failed, {} skipped",
        s.should.passed, s.should.failed, s.should.skipped
    );
    let swept = match report.cleanup.erased {
        0 => String::new(),
        n => format!(" ({n} erased by the final sweep)"),
    };
    let _ = writeln!(
        out,
        "cleanup: {}{swept}",
        describe_leftovers(&report.cleanup)
    );
    let _ = writeln!(
        out,
        "verdict: {} ({} cases in {:.0} ms; seed {}, reproduce with --seed {})",
        s.verdict.label(),
        report.cases.len(),
        report.duration_ms,
        report.seed,
        report.seed
    );
    out
}
