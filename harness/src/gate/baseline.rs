//! `--baseline REPORT.json`: the failures an earlier report already had are known failures;
//! cases it had failing that now pass are announced.

use std::{collections::BTreeSet, path::Path};

use super::read::{ReadError, ReadReport};
use crate::run::{CaseResult, result::Disposition};

/// The failing cases of a baseline report.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The file, as given.
    pub file: String,
    /// IDs of the cases that failed (any status but passed and skipped).
    pub failing: BTreeSet<String>,
}

impl Baseline {
    /// Reads the baseline report at `path`.
    pub fn load(path: &Path) -> Result<Baseline, ReadError> {
        let report = ReadReport::load(path)?;
        Ok(Baseline::of(&path.display().to_string(), &report))
    }

    /// The baseline of an already read report.
    pub fn of(file: &str, report: &ReadReport) -> Baseline {
        Baseline {
            file: file.to_string(),
            failing: report
                .cases
                .iter()
                .filter(|c| c.status.is_failure())
                .map(|c| c.id.clone())
                .collect(),
        }
    }

    /// Marks the failures the baseline had as known failures (leaving any disposition already
    /// set); returns the IDs of the cases it had failing that now pass.
    pub fn apply(&self, results: &mut [CaseResult]) -> Vec<String> {
        let mut now_passing = Vec::new();
        for r in results.iter_mut().filter(|r| self.failing.contains(&r.id)) {
            if r.is_failure() {
                r.disposition.get_or_insert(Disposition::KnownFailure);
            } else if r.status == crate::run::Status::Passed {
                now_passing.push(r.id.clone());
            }
        }
        now_passing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{report::sample, scenario::Level};

    #[test]
    fn failures_the_baseline_had_are_known_and_fixes_are_announced() {
        let baseline = Baseline {
            file: "old.json".into(),
            failing: ["HP-A-1", "HP-A-2"].map(String::from).into(),
        };
        let mut results = vec![
            sample::failed("HP-A-1", "a", Level::Must),
            sample::passed("HP-A-2", "a", Level::Must),
            sample::failed("HP-A-3", "a", Level::Must),
        ];
        assert_eq!(baseline.apply(&mut results), ["HP-A-2"]);
        assert_eq!(results[0].disposition, Some(Disposition::KnownFailure));
        assert!(!results[0].fails_the_run());
        assert_eq!(results[1].disposition, None);
        assert!(results[2].fails_the_run(), "a new failure is not known");
    }
}
