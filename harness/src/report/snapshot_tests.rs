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

/// The sample reports, by snapshot name: every status, disposition and kind of run.
fn samples() -> [(&'static str, RunReport); 9] {
    [
        ("conformant", sample::conformant_report()),
        ("failing", sample::failing_report()),
        ("blocked", sample::blocked_report()),
        ("gated", sample::gated_report()),
        ("interrupted", sample::interrupted_report()),
        ("get_only", sample::get_only_report()),
        ("damaged", sample::damaged_report()),
        ("login", sample::login_report()),
        ("strict", sample::strict_warning_report()),
    ]
}

#[test]
fn every_sample_in_every_format() {
    for (name, report) in samples() {
        snapshot_every_format(name, &report);
    }
}
