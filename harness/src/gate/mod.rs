//! Release gating: reports read back and compared (`diff`), a run gated by an earlier report
//! (`--baseline`) and by accepted deviations (`--waivers`), and certificates bound to the binary
//! and the suites (`verify`).

pub mod baseline;
pub mod certificate;
pub mod diff;
pub mod read;
pub mod verify;
pub mod waiver;

use std::{collections::BTreeSet, path::Path};

use serde::Serialize;

pub use baseline::Baseline;
pub use certificate::Certificate;
pub use waiver::Waivers;

use crate::{
    report::Reporter,
    run::{CaseResult, RunReport, Summary},
    scenario::Suite,
    target::TargetInfo,
};

/// How a baseline was used, as a report records it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BaselineUse {
    /// The baseline report, as given.
    pub file: String,
    /// Cases the baseline had failing that now pass: drop them from the baseline.
    pub now_passing: Vec<String>,
}

/// How waivers were used, as a report records it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WaiverUse {
    /// The waiver file, as given.
    pub file: String,
    /// The cases whose failure a waiver accepted.
    pub waived: Vec<String>,
}

/// The baseline and waivers a run was gated with.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GateUse {
    /// The baseline, with `--baseline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineUse>,
    /// The waivers, with `--waivers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waivers: Option<WaiverUse>,
}

/// Why a run cannot be gated as asked (the cause names the file and line at fault).
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The `--baseline` report cannot be read.
    #[error("--baseline")]
    Baseline(#[source] read::ReadError),
    /// The `--waivers` file cannot be used.
    #[error("--waivers")]
    Waivers(#[source] waiver::WaiverError),
}

/// What a run is gated with; empty without `--baseline` and `--waivers`.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// The baseline's failures.
    pub baseline: Option<Baseline>,
    /// The checked waivers.
    pub waivers: Option<Waivers>,
}

impl Gate {
    /// Reads the baseline report and the waiver file, checking each waiver against the cases of
    /// `suites` and `today`. The error names the file (and line) at fault.
    pub fn load(
        baseline: Option<&Path>,
        waivers: Option<&Path>,
        suites: &[Suite],
        today: time::Date,
    ) -> Result<Gate, GateError> {
        let known: BTreeSet<&str> = suites
            .iter()
            .flat_map(|s| s.cases.iter().map(|c| c.id.as_str()))
            .collect();
        Ok(Gate {
            baseline: baseline
                .map(|p| Baseline::load(p).map_err(GateError::Baseline))
                .transpose()?,
            waivers: waivers
                .map(|p| Waivers::load(p, &known, today).map_err(GateError::Waivers))
                .transpose()?,
        })
    }

    /// True when the run is not gated.
    pub fn is_empty(&self) -> bool {
        self.baseline.is_none() && self.waivers.is_none()
    }

    /// Marks accepted failures in `results` (a waiver before the baseline, so its reason shows)
    /// for a target whose version output is `version`.
    fn mark(&self, results: &mut [CaseResult], version: Option<&str>) -> Option<GateUse> {
        if self.is_empty() {
            return None;
        }
        let waivers = self.waivers.as_ref().map(|w| WaiverUse {
            file: w.file.display().to_string(),
            waived: w.apply(results, version),
        });
        let baseline = self.baseline.as_ref().map(|b| BaselineUse {
            file: b.file.clone(),
            now_passing: b.apply(results),
        });
        Some(GateUse { baseline, waivers })
    }

    /// Applies the gate to a finished report: dispositions, counts, and what was used.
    pub fn apply(&self, report: &mut RunReport) {
        let version = report.target.version.clone();
        let Some(used) = self.mark(&mut report.cases, version.as_deref()) else {
            return;
        };
        report.summary = Summary::of(&report.cases)
            .with_store_damage(report.summary.store_damaged)
            .with_incomplete(report.summary.incomplete);
        report.gate = Some(used);
    }

    /// A reporter that shows `inner` every result and the finished report as gated.
    pub fn reporter<'a>(&'a self, inner: &'a mut dyn Reporter) -> GatedReporter<'a> {
        GatedReporter {
            gate: self,
            inner,
            version: None,
        }
    }
}

/// Forwards results and the finished report with the gate applied.
pub struct GatedReporter<'a> {
    gate: &'a Gate,
    inner: &'a mut dyn Reporter,
    version: Option<String>,
}

impl Reporter for GatedReporter<'_> {
    fn started(&mut self, target: &TargetInfo, cases: usize, seed: u64) {
        self.version = target.version.clone();
        self.inner.started(target, cases, seed);
    }

    fn case_finished(&mut self, result: &CaseResult) {
        let mut one = [result.clone()];
        self.gate.mark(&mut one, self.version.as_deref());
        self.inner.case_finished(&one[0]);
    }

    fn finished(&mut self, report: &RunReport) {
        let mut gated = report.clone();
        self.gate.apply(&mut gated);
        self.inner.finished(&gated);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{report::sample, run::Verdict, scenario::Level};

    #[test]
    fn a_gated_report_counts_known_and_waived_failures_apart_and_never_as_passes() {
        let mut report = sample::report(vec![
            sample::failed("HP-A-1", "a", Level::Must),
            sample::failed("HP-A-2", "a", Level::Must),
            sample::failed("HP-A-3", "a", Level::Should),
            sample::passed("HP-A-4", "a", Level::Must),
        ]);
        let gate = Gate {
            baseline: Some(Baseline {
                file: "old.json".into(),
                failing: ["HP-A-1", "HP-A-4"].map(String::from).into(),
            }),
            waivers: Some(Waivers {
                file: "w.toml".into(),
                waivers: vec![waiver::Waiver {
                    case: "HP-A-2".into(),
                    reason: "upstream".into(),
                    expires: time::macros::date!(2030 - 01 - 01),
                    versions: vec![],
                    line: 1,
                }],
            }),
        };
        assert_eq!(report.summary.exit_code(false), 1);
        gate.apply(&mut report);
        let s = report.summary;
        assert_eq!((s.must.passed, s.must.failed), (1, 2));
        assert_eq!((s.must.known_failures, s.must.waived), (1, 1));
        assert_eq!(s.verdict, Verdict::NotConformant);
        assert_eq!(s.exit_code(false), 0);
        assert_eq!(
            s.exit_code(true),
            1,
            "the SHOULD failure is neither known nor waived"
        );
        let used = report.gate.unwrap();
        assert_eq!(used.baseline.unwrap().now_passing, ["HP-A-4"]);
        assert_eq!(used.waivers.unwrap().waived, ["HP-A-2"]);
    }

    #[test]
    fn a_gated_run_that_ended_early_stays_not_conformant() {
        let mut report = sample::report(vec![sample::failed("HP-A-1", "a", Level::Must)]);
        report.summary = report.summary.with_incomplete(true);
        let gate = Gate {
            baseline: Some(Baseline {
                file: "old.json".into(),
                failing: ["HP-A-1"].map(String::from).into(),
            }),
            ..Gate::default()
        };
        gate.apply(&mut report);
        assert!(report.summary.incomplete);
        assert_eq!(report.summary.verdict, Verdict::NotConformant);
        assert_eq!(report.summary.exit_code(false), 1);
    }

    #[test]
    fn an_empty_gate_changes_nothing() {
        let mut report = sample::failing_report();
        let before = report.summary;
        Gate::default().apply(&mut report);
        assert_eq!(report.summary, before);
        assert!(report.gate.is_none());
    }
}
