//! JUnit XML: one testsuite per suite, one testcase per case named by its ID.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{
    Format,
    text::failure_details,
    view::{disposition_words, ended_early_sentence},
};
use crate::run::{RunReport, Status};

/// Writes JUnit XML for CI systems.
pub struct Junit;

impl Format for Junit {
    fn name(&self) -> &'static str {
        "JUnit"
    }

    fn render(&self, report: &RunReport) -> anyhow::Result<String> {
        let mut junit = Report::new(format!("credconform: {}", report.target.name));
        junit.set_time(ms(report.duration_ms));
        let ended_early = ended_early_sentence(report);
        for suite in &report.suites {
            let mut ts = TestSuite::new(suite.name.clone());
            if let Some(why) = &ended_early {
                ts.add_property(quick_junit::Property::new("ended-early", why.clone()));
            }
            for r in report.cases.iter().filter(|c| c.suite == suite.name) {
                let mut status = match r.status {
                    // An accepted failure does not fail the run: shown as skipped, with why.
                    _ if r.disposition.is_some() => TestCaseStatus::skipped(),
                    Status::Passed => TestCaseStatus::success(),
                    Status::Skipped => TestCaseStatus::skipped(),
                    Status::Failed => TestCaseStatus::non_success(NonSuccessKind::Failure),
                    Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
                    // Counts against the verdict like a failure; the type tells them apart.
                    Status::Blocked => TestCaseStatus::non_success(NonSuccessKind::Failure),
                };
                if r.status != Status::Passed {
                    let message = match (disposition_words(r), r.status, &r.note) {
                        (Some(words), ..) => format!("[{}] {}: {words}", r.level, r.title),
                        (None, Status::Skipped, Some(note)) => note.clone(),
                        (None, Status::Blocked, Some(note)) => {
                            format!("[{}] blocked: {note}", r.level)
                        }
                        _ => format!("[{}] {}", r.level, r.title),
                    };
                    status.set_message(message);
                    status.set_description(failure_details(r));
                }
                if r.status == Status::Blocked && r.disposition.is_none() {
                    status.set_type("blocked");
                }
                let mut tc = TestCase::new(r.id.clone(), status);
                tc.set_classname(format!("{}.{}", suite.name, r.area));
                tc.set_time(ms(r.duration_ms));
                ts.add_test_case(tc);
            }
            junit.add_test_suite(ts);
        }
        Ok(junit.to_string()?)
    }
}

fn ms(v: f64) -> Duration {
    Duration::from_secs_f64(v.max(0.0) / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn a_blocked_case_is_a_failure_of_type_blocked_with_its_note() {
        let xml = Junit.render(&sample::blocked_report()).unwrap();
        let at = xml.find("name=\"HP-ER-004\"").expect("the blocked case");
        let case = &xml[at..at + xml[at..].find("</testcase>").unwrap()];
        assert!(case.contains("<failure "), "{case}");
        assert!(case.contains("type=\"blocked\""), "{case}");
        assert!(
            case.contains("[MUST] blocked: precondition step 2 (get) did not hold"),
            "{case}"
        );
        assert!(xml.contains("failures=\"1\""), "{xml}");
    }
}
