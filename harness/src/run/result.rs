//! What a run produces: one result per case and a summary. Reporters read only these types,
//! and every string in them is already redacted.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{RunOptions, ledger::CleanupReport};
use crate::{
    check::Mismatch,
    scenario::{Case, Level, Suite},
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
    /// How the process ended.
    pub ending: String,
    /// Wall time of the process, in milliseconds.
    pub elapsed_ms: f64,
    /// Expectations that did not hold.
    pub mismatches: Vec<Mismatch>,
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
    /// Why it was skipped, why it errored, or the minimal failing input of a property.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The invocations, in order.
    pub steps: Vec<StepRecord>,
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
        }
    }

    /// The same result with a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
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
            apply(&mut step.ending);
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

    /// True when the case counts against the verdict (failed or errored).
    pub fn is_failure(&self) -> bool {
        matches!(self.status, Status::Failed | Status::Error)
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
            }
        }
        let verdict = match (must.failed, should.failed) {
            (0, 0) => Verdict::Conformant,
            (0, _) => Verdict::ConformantWithWarnings,
            _ => Verdict::NotConformant,
        };
        Summary {
            must,
            should,
            store_damaged: false,
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

    /// The process exit code: 0 when no MUST case failed (and no SHOULD case, when strict).
    pub fn exit_code(&self, strict: bool) -> i32 {
        let failed =
            self.must.failed > 0 || self.store_damaged || (strict && self.should.failed > 0);
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
}

/// The current report format version.
pub const SCHEMA_VERSION: u32 = 1;

/// What a finished run knows besides its case results.
pub struct RunFacts<'a> {
    /// The program certified.
    pub target: TargetInfo,
    /// The suites the cases were taken from.
    pub suites: &'a [&'a Suite],
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
                .filter(|s| facts.cases.iter().any(|c| c.suite == s.name))
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
            cases: results,
            cleanup: facts.cleanup,
        }
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

        let damaged = Summary::of(&all_pass).with_store_damage(true);
        assert_eq!(damaged.verdict, Verdict::NotConformant);
        assert_eq!(damaged.exit_code(false), 1);
    }
}
