//! What a run produces: one result per case and a summary. Reporters read only these types,
//! and every string in them is already redacted.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{RunOptions, ledger::CleanupReport};
use crate::{
    check::Mismatch,
    gate::{Certificate, GateUse},
    scenario::{Case, Level, Precondition, Suite},
    target::TargetInfo,
};

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every expectation held.
    Passed,
    /// An expectation did not hold.
    Failed,
    /// Not run, for a stated reason (safety or filter).
    Skipped,
    /// The runner could not carry the case out (the target could not be started).
    Error,
    /// A precondition step did not hold (the store did not take, the entry to erase was not
    /// returned), so the requirement was not tested; counts against the verdict like a failure.
    Blocked,
}

/// One invocation of the target as evidence.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    /// The step's position in the case, from 1.
    pub step: usize,
    /// The repetition, from 0, for repeated steps.
    pub repetition: usize,
    /// The arguments passed.
    pub args: Vec<String>,
    /// Standard input as shown (secrets redacted).
    pub stdin: String,
    /// How the invocation ended.
    pub ending: StepEnding,
    /// Wall time of the process, in milliseconds.
    pub elapsed_ms: f64,
    /// Expectations that did not hold.
    pub mismatches: Vec<Mismatch>,
}

/// How one invocation ended, as a report shows it; serialized as its words (`exit 0`,
/// `not started`, `registry changed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepEnding {
    /// The process ran and ended so, in words (`exit 0`, `timed out and was killed`).
    Ran(String),
    /// The process could not be started.
    NotStarted,
    /// The step changed the fake registry; no process ran.
    RegistryChanged,
    /// A generated input broke a property; the step stands for the smallest one found.
    PropertyFailed,
}

impl std::fmt::Display for StepEnding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StepEnding::Ran(words) => words,
            StepEnding::NotStarted => "not started",
            StepEnding::RegistryChanged => "registry changed",
            StepEnding::PropertyFailed => "property failed",
        })
    }
}

impl Serialize for StepEnding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case ID.
    pub id: String,
    /// The suite.
    pub suite: String,
    /// The requirement area.
    pub area: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// The case title.
    pub title: String,
    /// The protocol text enforced.
    pub cites: String,
    /// How it ended.
    pub status: Status,
    /// Wall time, in milliseconds.
    pub duration_ms: f64,
    /// Why it was skipped, errored or blocked (naming the step), or the minimal failing input
    /// of a property.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The invocations, in order.
    pub steps: Vec<StepRecord>,
    /// Why a failure does not fail the run (a baseline or a waiver accepted it); never set on
    /// a case that did not fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposition: Option<Disposition>,
    /// The run ended early (interrupted, or `--max-duration` reached) before this case ran or
    /// before it finished: it is skipped, its note says why. Not part of the JSON report.
    #[serde(skip)]
    pub not_run: bool,
}

/// Why a failed case does not fail the run. The case still counts as failed in the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Disposition {
    /// The baseline report (`--baseline`) had this case failing too.
    KnownFailure,
    /// A waiver (`--waivers`) accepts this failure.
    Waived {
        /// Why the failure is accepted.
        reason: String,
        /// The last day the waiver applies (YYYY-MM-DD).
        expires: String,
    },
}

impl CaseResult {
    /// A result for `case` with no steps yet.
    pub fn new(case: &Case, status: Status) -> Self {
        CaseResult {
            id: case.id.clone(),
            suite: case.suite.clone(),
            area: case.area.clone(),
            level: case.level,
            title: case.title.clone(),
            cites: case.cites.clone(),
            status,
            duration_ms: 0.0,
            note: None,
            steps: Vec::new(),
            disposition: None,
            not_run: false,
        }
    }

    /// A skipped result for `case`, which the run did not run because it ended early (`why`).
    pub fn not_run(case: &Case, why: impl Into<String>) -> Self {
        CaseResult {
            not_run: true,
            ..CaseResult::new(case, Status::Skipped).with_note(why)
        }
    }

    /// The same result with a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Ends the case at step `step` (its `action`), whose expectations did not hold: failed, or
    /// blocked (see [`CaseResult::block`]) when the step is a precondition.
    pub fn unmet(&mut self, step: usize, action: &str, precondition: Option<&Precondition>) {
        match precondition {
            None => self.status = Status::Failed,
            Some(needed) => self.block(step, action, needed.as_str()),
        }
    }

    /// Ends the case blocked at precondition step `step` (its `action`), which had to show
    /// `needed`: the note names the step and says the requirement was not tested.
    pub fn block(&mut self, step: usize, action: &str, needed: &str) {
        self.status = Status::Blocked;
        self.note = Some(format!(
            "precondition step {step} ({action}) did not hold: {}; the requirement was not tested",
            needed.trim()
        ));
    }

    /// Passes every string of evidence through `show` (note, arguments, ending, mismatches),
    /// stdin through `show_input` (it is the suite's data, escaped where it is printed): the
    /// last redaction and escaping before a reporter sees the result.
    pub fn map_evidence(
        &mut self,
        show: &dyn Fn(&str) -> String,
        show_input: &dyn Fn(&str) -> String,
    ) {
        let apply = |s: &mut String| *s = show(s);
        if let Some(note) = &mut self.note {
            apply(note);
        }
        for step in &mut self.steps {
            step.args.iter_mut().for_each(apply);
            step.stdin = show_input(&step.stdin);
            if let StepEnding::Ran(words) = &mut step.ending {
                apply(words);
            }
            for m in &mut step.mismatches {
                apply(&mut m.what);
                apply(&mut m.expected);
                apply(&mut m.actual);
                if let Some(diff) = &mut m.diff {
                    apply(diff);
                }
            }
        }
    }

    /// True when the case counts against the verdict (failed, errored or blocked).
    pub fn is_failure(&self) -> bool {
        matches!(
            self.status,
            Status::Failed | Status::Error | Status::Blocked
        )
    }

    /// True when the case failed and no baseline or waiver accepted the failure.
    pub fn fails_the_run(&self) -> bool {
        self.is_failure() && self.disposition.is_none()
    }
}

/// Counts for one level.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Passed cases.
    pub passed: usize,
    /// Failed or errored cases.
    pub failed: usize,
    /// Skipped cases.
    pub skipped: usize,
    /// Of the failed cases, those the baseline already had failing (`--baseline`).
    pub known_failures: usize,
    /// Of the failed cases, those a waiver accepts (`--waivers`).
    pub waived: usize,
    /// Blocked cases (a precondition did not hold): shown apart, counted against the verdict.
    pub blocked: usize,
}

impl Counts {
    /// Cases that count against the verdict: failed, errored or blocked.
    pub fn against(&self) -> usize {
        self.failed + self.blocked
    }

    /// Cases against the verdict that neither the baseline nor a waiver accepts.
    pub fn unaccepted(&self) -> usize {
        self.against() - self.known_failures - self.waived
    }
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every MUST and SHOULD case passed.
    Conformant,
    /// Every MUST case passed; some SHOULD case failed.
    ConformantWithWarnings,
    /// A MUST case failed.
    NotConformant,
}

impl Verdict {
    /// The words shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Conformant => "Conformant",
            Verdict::ConformantWithWarnings => "Conformant with warnings",
            Verdict::NotConformant => "Not conformant",
        }
    }
}

/// Counts per level and the verdict.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// MUST cases.
    pub must: Counts,
    /// SHOULD cases.
    pub should: Counts,
    /// The helper lost or changed entries outside the run namespace during the run.
    pub store_damaged: bool,
    /// The run ended before every case ran (interrupted, or `--max-duration` reached).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
    /// The verdict.
    pub verdict: Verdict,
}

impl Summary {
    /// Counts the results.
    pub fn of(cases: &[CaseResult]) -> Self {
        let mut must = Counts::default();
        let mut should = Counts::default();
        for c in cases {
            let counts = match c.level {
                Level::Must => &mut must,
                Level::Should => &mut should,
            };
            match c.status {
                Status::Passed => counts.passed += 1,
                Status::Failed | Status::Error => counts.failed += 1,
                Status::Skipped => counts.skipped += 1,
                Status::Blocked => counts.blocked += 1,
            }
            if c.is_failure() {
                match c.disposition {
                    Some(Disposition::KnownFailure) => counts.known_failures += 1,
                    Some(Disposition::Waived { .. }) => counts.waived += 1,
                    None => {}
                }
            }
        }
        let verdict = match (must.against(), should.against()) {
            (0, 0) => Verdict::Conformant,
            (0, _) => Verdict::ConformantWithWarnings,
            _ => Verdict::NotConformant,
        };
        Summary {
            must,
            should,
            store_damaged: false,
            incomplete: false,
            verdict,
        }
    }

    /// The same summary, not conformant whatever the cases say when the helper damaged entries
    /// the run never named.
    pub fn with_store_damage(mut self, damaged: bool) -> Self {
        self.store_damaged = damaged;
        if damaged {
            self.verdict = Verdict::NotConformant;
        }
        self
    }

    /// The same summary, not conformant whatever the cases say when the run ended before every
    /// case ran.
    pub fn with_incomplete(mut self, incomplete: bool) -> Self {
        self.incomplete = incomplete;
        if incomplete {
            self.verdict = Verdict::NotConformant;
        }
        self
    }

    /// The process exit code: 0 when no MUST case failed or was blocked (and no SHOULD case,
    /// when strict) and every case ran, not counting failures a baseline or a waiver accepts.
    pub fn exit_code(&self, strict: bool) -> i32 {
        let failed = self.must.unaccepted() > 0
            || self.store_damaged
            || self.incomplete
            || (strict && self.should.unaccepted() > 0);
        i32::from(failed)
    }
}

/// A suite as a report names it.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteInfo {
    /// The folder name.
    pub name: String,
    /// The suite version.
    pub version: String,
    /// Its title.
    pub title: String,
}

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The report format version (see `docs/report.schema.json`).
    pub schema_version: u32,
    /// The credconform version that wrote it.
    pub tool_version: String,
    /// The program certified.
    pub target: TargetInfo,
    /// The suites run.
    pub suites: Vec<SuiteInfo>,
    /// The run namespace identifier.
    pub run_id: String,
    /// The seed of generative cases (`--seed` reproduces it).
    pub seed: u64,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// Wall time of the whole run, in milliseconds.
    pub duration_ms: f64,
    /// Whether SHOULD failures fail the run.
    pub strict: bool,
    /// Counts and verdict.
    pub summary: Summary,
    /// Every case, in suite order.
    pub cases: Vec<CaseResult>,
    /// What cleanup did.
    pub cleanup: CleanupReport,
    /// What the report certifies: the suites' digest, the platform and the command line.
    pub certificate: Certificate,
    /// The baseline and waivers the run was gated with, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateUse>,
    /// The run was interrupted (SIGINT/SIGTERM): the cases not run are marked so.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// The run reached `--max-duration`: the cases not started are marked not run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub max_duration_reached: bool,
}

/// The current report format version (2 added `certificate`, `gate`, case `disposition` and
/// the `known_failures` and `waived` counts).
pub const SCHEMA_VERSION: u32 = 2;

/// What a finished run knows besides its case results.
pub struct RunFacts<'a> {
    /// The program certified.
    pub target: TargetInfo,
    /// The suites that had a case.
    pub suites: Vec<&'a Suite>,
    /// What the report certifies besides the binary.
    pub certificate: Certificate,
    /// The cases run, in suite order.
    pub cases: &'a [&'a Case],
    /// The run identifier.
    pub run_id: String,
    /// The options of the run.
    pub options: &'a RunOptions,
    /// When the run started.
    pub started: Instant,
    /// The same, RFC 3339.
    pub started_at: String,
    /// What cleanup did.
    pub cleanup: CleanupReport,
}

impl RunReport {
    /// Assembles the report of a finished run: results in suite order, the suites that had a
    /// case, counts and verdict (not conformant when the helper damaged the user's entries).
    pub fn assemble(facts: RunFacts<'_>, mut results: Vec<CaseResult>) -> RunReport {
        let order = |id: &str| facts.cases.iter().position(|c| c.id == id);
        results.sort_by_key(|r| order(&r.id));
        let damaged = !facts.cleanup.foreign_changed.is_empty();
        RunReport {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            target: facts.target,
            suites: facts
                .suites
                .iter()
                .map(|s| SuiteInfo {
                    name: s.name.clone(),
                    version: s.header.version.clone(),
                    title: s.header.title.clone(),
                })
                .collect(),
            run_id: facts.run_id,
            seed: facts.options.seed,
            started_at: facts.started_at,
            duration_ms: millis(facts.started.elapsed()),
            strict: facts.options.strict,
            summary: Summary::of(&results).with_store_damage(damaged),
            certificate: facts.certificate,
            cases: results,
            cleanup: facts.cleanup,
            gate: None,
            interrupted: false,
            max_duration_reached: false,
        }
    }

    /// Marks a run that ended before every case ran; its verdict is then not conformant.
    pub fn mark_ended_early(&mut self, interrupted: bool, max_duration_reached: bool) {
        self.interrupted = interrupted;
        self.max_duration_reached = max_duration_reached;
        self.summary = self
            .summary
            .with_incomplete(interrupted || max_duration_reached);
    }
}

/// Milliseconds of a duration, as a float.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(level: Level, status: Status) -> CaseResult {
        CaseResult {
            id: "HP-X-1".into(),
            suite: "s".into(),
            area: "a".into(),
            level,
            title: "t".into(),
            cites: "c".into(),
            status,
            duration_ms: 0.0,
            note: None,
            steps: vec![],
            disposition: None,
            not_run: false,
        }
    }

    #[test]
    fn verdicts_and_exit_codes_follow_levels() {
        let all_pass = [
            result(Level::Must, Status::Passed),
            result(Level::Should, Status::Passed),
        ];
        let s = Summary::of(&all_pass);
        assert_eq!(s.verdict, Verdict::Conformant);
        assert_eq!(s.exit_code(true), 0);

        let should_fails = [
            result(Level::Must, Status::Passed),
            result(Level::Should, Status::Failed),
        ];
        let s = Summary::of(&should_fails);
        assert_eq!(s.verdict, Verdict::ConformantWithWarnings);
        assert_eq!((s.exit_code(false), s.exit_code(true)), (0, 1));

        let must_errors = [
            result(Level::Must, Status::Error),
            result(Level::Should, Status::Skipped),
        ];
        let s = Summary::of(&must_errors);
        assert_eq!(s.verdict, Verdict::NotConformant);
        assert_eq!(s.exit_code(false), 1);
        assert_eq!(s.should.skipped, 1);

        let should_blocked = [
            result(Level::Must, Status::Passed),
            result(Level::Should, Status::Blocked),
        ];
        let s = Summary::of(&should_blocked);
        assert_eq!(s.verdict, Verdict::ConformantWithWarnings);
        assert_eq!((s.should.blocked, s.should.failed), (1, 0));
        assert_eq!((s.exit_code(false), s.exit_code(true)), (0, 1));

        let must_blocked = [result(Level::Must, Status::Blocked)];
        let s = Summary::of(&must_blocked);
        assert_eq!(s.verdict, Verdict::NotConformant);
        assert_eq!((s.must.blocked, s.must.failed), (1, 0));
        assert_eq!(s.exit_code(false), 1);
        assert!(must_blocked[0].is_failure());

        let mut blocked = result(Level::Must, Status::Passed);
        blocked.block(2, "get", "get must return the entry stored in step 1 ");
        assert_eq!(blocked.status, Status::Blocked);
        assert_eq!(
            blocked.note.as_deref(),
            Some(
                "precondition step 2 (get) did not hold: get must return the entry stored in \
                 step 1; the requirement was not tested"
            )
        );

        let damaged = Summary::of(&all_pass).with_store_damage(true);
        assert_eq!(damaged.verdict, Verdict::NotConformant);
        assert_eq!(damaged.exit_code(false), 1);

        let cut_short = Summary::of(&all_pass).with_incomplete(true);
        assert_eq!(cut_short.verdict, Verdict::NotConformant);
        assert_eq!(cut_short.exit_code(false), 1);
    }
}
