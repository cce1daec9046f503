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
    if let Some(line) = cleanup_sentence(report) {
        let _ = writeln!(out, "cleanup: {line}");
    }
    if let Some(warning) = store_damage_warning(report) {
        let _ = writeln!(out, "WARNING: {warning}");
    }
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

/// What cleanup left in the helper's store, as a sentence; `None` for runs that use no store
/// (login runs keep everything in a sandbox that is removed whole).
pub fn cleanup_sentence(report: &RunReport) -> Option<String> {
    if report.target.kind != "helper" {
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
    use crate::report::sample;

    #[test]
    fn damage_to_the_users_entries_is_a_warning_in_the_summary() {
        let mut report = sample::failing_report();
        assert!(store_damage_warning(&report).is_none());
        report.cleanup.foreign_changed = vec!["https://index.docker.io/v1/: gone".into()];
        let text = summary(&report);
        assert!(
            text.contains("WARNING: entries this run never named changed"),
            "{text}"
        );
        assert!(text.contains("https://index.docker.io/v1/: gone"), "{text}");
    }

    #[test]
    fn only_helper_runs_report_a_store_cleanup() {
        let mut report = sample::failing_report();
        report.target.kind = "helper".into();
        assert!(cleanup_sentence(&report).is_some());
        report.target.kind = "login-cli".into();
        assert!(cleanup_sentence(&report).is_none());
        assert!(!summary(&report).contains("cleanup:"));
    }
}
