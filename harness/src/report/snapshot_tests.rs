//! Every reporter's output on the fixed sample reports, kept as `insta` snapshots: a change to
//! what a report says shows up as a snapshot diff.

use super::{
    Format, badge::Badge, html::Html, json::Json, junit::Junit, markdown::Markdown, sample,
    terminal::closing_text, text::case_line,
};
use crate::run::RunReport;

/// The terminal's lines for a finished run: one line per case, then the closing text.
fn terminal(report: &RunReport) -> String {
    let lines: Vec<String> = report.cases.iter().map(case_line).collect();
    format!("{}\n{}", lines.join("\n"), closing_text(report))
}

/// Snapshots `report` in every format under `name`.
fn snapshot_every_format(name: &str, report: &RunReport) {
    let formats: [(&str, &dyn Format); 5] = [
        ("json", &Json),
        ("junit", &Junit),
        ("markdown", &Markdown),
        ("html", &Html),
        ("badge", &Badge),
    ];
    for (suffix, format) in formats {
        let text = format.render(report).unwrap();
        insta::assert_snapshot!(format!("{name}.{suffix}"), text);
    }
    insta::assert_snapshot!(format!("{name}.terminal"), terminal(report));
}

#[test]
fn conformant() {
    snapshot_every_format("conformant", &sample::conformant_report());
}

#[test]
fn failing_with_a_skip() {
    snapshot_every_format("failing", &sample::failing_report());
}

#[test]
fn blocked() {
    snapshot_every_format("blocked", &sample::blocked_report());
}

#[test]
fn known_and_waived_failures() {
    snapshot_every_format("gated", &sample::gated_report());
}

#[test]
fn interrupted() {
    snapshot_every_format("interrupted", &sample::interrupted_report());
}

#[test]
fn get_only() {
    snapshot_every_format("get_only", &sample::get_only_report());
}

#[test]
fn store_damaged_and_processes_left_running() {
    snapshot_every_format("damaged", &sample::damaged_report());
}

#[test]
fn login_cli_over_two_suites() {
    snapshot_every_format("login", &sample::login_report());
}

#[test]
fn strict_with_a_should_failure() {
    snapshot_every_format("strict", &sample::strict_warning_report());
}
