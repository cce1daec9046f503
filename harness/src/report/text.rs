//! Plain-text renderings shared by reporters: one failure's details, the summary lines, and the
//! sentences every format shows (verdict, reason, area tallies, mode, cleanup, store damage).

use std::fmt::Write as _;

use crate::{
    check::visible,
    run::{CaseResult, RunReport, Status, Verdict, ledger::describe_leftovers},
    target::TargetInfo,
};

/// The first line of a case: status word, ID, level and title.
pub fn case_line(r: &CaseResult) -> String {
    let word = match r.status {
        Status::Passed => "PASS",
        Status::Failed => "FAIL",
        Status::Skipped => "SKIP",
        Status::Error => "ERROR",
    };
    format!(
        "{word:<5} {} [{}] {}",
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
        verdict_words(report),
        report.cases.len(),
        report.duration_ms,
        report.seed,
        report.seed
    );
    out
}

/// One sentence saying why the verdict is what it is.
pub fn verdict_reason(report: &RunReport) -> String {
    let s = &report.summary;
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
            "Every MUST case passed; {} SHOULD case{} failed{}.",
            s.should.failed,
            plural(s.should.failed),
            if report.strict {
                " (the run was strict, so it failed)"
            } else {
                ""
            }
        ),
        Verdict::NotConformant => format!(
            "{} MUST case{} failed or errored.",
            s.must.failed,
            plural(s.must.failed)
        ),
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
/// the helper was certified as get-only.
pub fn verdict_words(report: &RunReport) -> String {
    let label = report.summary.verdict.label();
    if report.target.get_only {
        format!("{label} (get-only)")
    } else {
        label.to_string()
    }
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

    #[test]
    fn area_tallies_count_only_the_cases_that_ran_as_passed_or_not() {
        use crate::scenario::Level;
        let pass = sample::passed("A-1", "a", Level::Must);
        let fail = sample::failed("A-2", "a", Level::Must);
        let mut skip = sample::passed("A-3", "a", Level::Must);
        skip.status = Status::Skipped;
        assert_eq!(area_tally(&[&pass, &fail]), "1 of 2 passed");
        assert_eq!(area_tally(&[&pass, &skip]), "1 of 1 passed, 1 skipped");
        assert_eq!(area_tally(&[&skip, &skip]), "all 2 skipped");
    }

    #[test]
    fn a_get_only_certification_is_named_with_its_verdict() {
        let mut report = sample::failing_report();
        assert_eq!(verdict_words(&report), "Not conformant");
        assert!(get_only_sentence(&report.target).is_none());
        report.target.get_only = true;
        assert_eq!(verdict_words(&report), "Not conformant (get-only)");
        assert!(summary(&report).contains("verdict: Not conformant (get-only) ("));
        assert!(
            get_only_sentence(&report.target)
                .unwrap()
                .contains("--get-only")
        );
    }
}
