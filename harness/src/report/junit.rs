//! JUnit XML: one testsuite per suite, one testcase per case named by its ID.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{Format, text::failure_details};
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
        for suite in &report.suites {
            let mut ts = TestSuite::new(suite.name.clone());
            if let Some(why) = super::text::ended_early_sentence(report) {
                ts.add_property(quick_junit::Property::new("ended-early", why));
            }
            for r in report.cases.iter().filter(|c| c.suite == suite.name) {
                let mut status = match r.status {
                    Status::Passed => TestCaseStatus::success(),
                    Status::Skipped => TestCaseStatus::skipped(),
                    Status::Failed => TestCaseStatus::non_success(NonSuccessKind::Failure),
                    Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
                };
                if r.status != Status::Passed {
                    status.set_message(format!("[{}] {}", r.level, r.title));
                    status.set_description(failure_details(r));
                }
                if r.status == Status::Skipped
                    && let Some(note) = &r.note
                {
                    status.set_message(note.clone());
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
