//! Plain-text renderings shared by reporters: one failure's details, the summary lines, and the
//! sentences every format shows (verdict, reason, area tallies, mode, cleanup, store damage).

use std::fmt::Write as _;

use crate::{
    check::visible,
    run::{
        CaseResult, Counts, RunReport, Status, Verdict, ledger::describe_leftovers,
        result::Disposition,
    },
    target::TargetInfo,
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

/// Why a failure does not fail the run, in words: `known failure (in the baseline)` or
/// `waived until 2027-06-30: <reason>`; `None` for a case without a disposition.
pub fn disposition_words(r: &CaseResult) -> Option<String> {
    r.disposition.as_ref().map(|d| match d {
        Disposition::KnownFailure => "known failure (in the baseline)".to_string(),
        Disposition::Waived { reason, expires } => format!("waived until {expires}: {reason}"),
    })
}

/// The failed count of one level, with the known and waived ones among them:
/// `6 failed (4 known, 1 waived)`.
pub fn failed_words(c: &Counts) -> String {
    match accepted_words(c) {
        None => format!("{} failed", c.failed),
        Some(accepted) => format!("{} failed ({accepted})", c.failed),
    }
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
        "MUST:   {} passed, {}, {} skipped, {} blocked",
        s.must.passed,
        failed_words(&s.must),
        s.must.skipped,
        s.must.blocked
    );
    let _ = writeln!(
        out,
        "SHOULD: {} passed, {}, {} skipped, {} blocked",
        s.should.passed,
        failed_words(&s.should),
        s.should.skipped,
        s.should.blocked
    );
    if let Some(line) = gate_sentence(report) {
        let _ = writeln!(out, "gate: {line}");
    }
    if let Some(line) = cleanup_sentence(report) {
        let _ = writeln!(out, "cleanup: {line}");
    }
    if let Some(line) = left_running_sentence(report) {
        let _ = writeln!(out, "left running: {line}");
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
            "Every MUST case passed; {}{}.",
            against_words("SHOULD", &s.should),
            if report.strict {
                " (the run was strict, so it failed)"
            } else {
                ""
            }
        ),
        Verdict::NotConformant => format!("{}.", against_words("MUST", &s.must)),
    }
}

/// `2 MUST cases failed or errored`, `1 SHOULD case failed`, with the blocked cases after:
/// `and 1 was blocked (a precondition did not hold, so its requirement was not tested)`.
fn against_words(level: &str, c: &Counts) -> String {
    let failed_word = if level == "MUST" {
        "failed or errored"
    } else {
        "failed"
    };
    let blocked = |n: usize, verb: &str| {
        format!(
            "{n} {level} case{} {verb} blocked (a precondition did not hold, so {} not tested)",
            plural(n),
            if n == 1 {
                "its requirement was"
            } else {
                "their requirements were"
            }
        )
    };
    match (c.failed, c.blocked) {
        (f, 0) => format!("{f} {level} case{} {failed_word}", plural(f)),
        (0, b) => blocked(b, if b == 1 { "was" } else { "were" }),
        (f, b) => format!(
            "{f} {level} case{} {failed_word} and {}",
            plural(f),
            blocked(b, if b == 1 { "was" } else { "were" })
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
    words
}

/// Why a run that ended before every case ran is not conformant, `None` for a complete run.
pub fn ended_early_sentence(report: &RunReport) -> Option<String> {
    let not_run = report
        .cases
        .iter()
        .filter(|c| {
            c.status == Status::Skipped
                && c.note.as_deref().is_some_and(|n| n.starts_with("not run:"))
        })
        .count();
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
    use crate::{report::sample, scenario::Level};

    #[test]
    fn known_and_waived_failures_show_in_lines_summary_and_verdict_sentence() {
        use crate::{
            gate::{BaselineUse, GateUse, WaiverUse},
            run::Summary,
            scenario::Level,
        };
        let mut known = sample::failed("HP-A-1", "a", Level::Must);
        known.disposition = Some(Disposition::KnownFailure);
        let mut waived = sample::failed("HP-A-2", "a", Level::Must);
        waived.disposition = Some(Disposition::Waived {
            reason: "upstream bug".into(),
            expires: "2027-06-30".into(),
        });
        assert!(case_line(&known).starts_with("KNOWN HP-A-1 [MUST]"));
        assert!(case_line(&waived).ends_with("(waived until 2027-06-30: upstream bug)"));
        let mut report = sample::report(vec![known, waived]);
        report.summary = Summary::of(&report.cases);
        report.gate = Some(GateUse {
            baseline: Some(BaselineUse {
                file: "old.json".into(),
                now_passing: vec!["HP-A-9".into()],
            }),
            waivers: Some(WaiverUse {
                file: "w.toml".into(),
                waived: vec!["HP-A-2".into()],
            }),
        });
        let text = summary(&report);
        assert!(
            text.contains("MUST:   0 passed, 2 failed (1 known, 1 waived), 0 skipped"),
            "{text}"
        );
        let reason = verdict_reason(&report);
        let expected = "2 MUST cases failed or errored. The run was checked with a baseline \
                        (1 known failure from old.json); 1 MUST failure and 0 SHOULD failures \
                        waived (by w.toml).";
        assert!(reason.starts_with(expected), "{reason}");
        assert!(
            reason.ends_with("HP-A-9 now passes: drop it from your baseline."),
            "{reason}"
        );
    }

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
    fn blocked_cases_are_counted_apart_and_named_in_the_reason() {
        let report = sample::blocked_report();
        let text = summary(&report);
        assert!(
            text.contains("MUST:   1 passed, 0 failed, 0 skipped, 1 blocked"),
            "{text}"
        );
        assert_eq!(
            verdict_reason(&report),
            "1 MUST case was blocked (a precondition did not hold, so its requirement was not \
             tested)."
        );
        assert!(case_line(&report.cases[1]).starts_with("BLOCK HP-ER-004 [MUST]"));
        let details = failure_details(&report.cases[1]);
        assert!(
            details.contains("note: precondition step 2 (get) did not hold"),
            "{details}"
        );
        assert!(details.contains("step 2: get"), "{details}");

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
        assert!(
            verdict_reason(&warn).starts_with("Every MUST case passed; 1 SHOULD case was blocked"),
            "{}",
            verdict_reason(&warn)
        );
    }

    #[test]
    fn a_run_that_ended_early_says_so_in_its_verdict() {
        let mut report = sample::failing_report();
        assert!(ended_early_sentence(&report).is_none());
        report.cases[0].status = Status::Skipped;
        report.cases[0].note = Some(crate::run::limits::INTERRUPTED_NOTE.into());
        report.interrupted = true;
        assert!(verdict_words(&report).ends_with("(interrupted)"));
        let reason = verdict_reason(&report);
        assert!(
            reason.starts_with("The run was interrupted: 1 of"),
            "{reason}"
        );
        assert!(summary(&report).contains("(interrupted) ("));
        report.interrupted = false;
        report.max_duration_reached = true;
        assert!(verdict_words(&report).ends_with("(stopped at --max-duration)"));
    }

    #[test]
    fn processes_left_running_are_listed_by_command() {
        let mut report = sample::failing_report();
        assert!(left_running_sentence(&report).is_none());
        report.cleanup.left_running = vec![
            crate::drive::LeftRunning {
                command: "sleep 1000".into(),
                count: 50,
            },
            crate::drive::LeftRunning {
                command: "gpg-agent --daemon".into(),
                count: 1,
            },
        ];
        let text = summary(&report);
        assert!(
            text.contains(
                "left running: the target left 51 processes running after its calls, ended by \
                 the runner: `sleep 1000` ×50, `gpg-agent --daemon`"
            ),
            "{text}"
        );
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
