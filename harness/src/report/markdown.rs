//! GitHub-flavoured Markdown, sized for `$GITHUB_STEP_SUMMARY`: the verdict, counts per level,
//! a table per requirement area, each failure's details in a `<details>` block, the cleanup
//! line and the seed.

use std::fmt::Write as _;

use maud::html;

use super::{
    Format,
    text::{case_line, failure_details},
    view::{
        accepted_words, area_tally, cleanup_sentence, display_date, disposition_words, failures,
        get_only_sentence, group_by_area, left_running_sentence, store_damage_warning,
        verdict_reason, verdict_words,
    },
};
use crate::{
    run::{CaseResult, RunReport, Status, Verdict},
    scenario::Level,
};

/// Writes the Markdown summary.
pub struct Markdown;

impl Format for Markdown {
    fn name(&self) -> &'static str {
        "Markdown"
    }

    fn render(&self, report: &RunReport) -> anyhow::Result<String> {
        let mut out = String::new();
        headline(&mut out, report);
        target_table(&mut out, report);
        counts_table(&mut out, report);
        area_tables(&mut out, report);
        failure_blocks(&mut out, report);
        closing_lines(&mut out, report);
        Ok(out)
    }
}

/// The verdict with its icon, and the sentence saying why.
fn headline(out: &mut String, report: &RunReport) {
    let icon = match report.summary.verdict {
        Verdict::Conformant => "✅",
        Verdict::ConformantWithWarnings => "⚠️",
        Verdict::NotConformant => "❌",
    };
    let _ = writeln!(
        out,
        "## {icon} credconform: {} — {}\n",
        inline(&report.target.name),
        verdict_words(report)
    );
    let _ = writeln!(out, "{}\n", verdict_reason(report));
}

/// What was certified: the program, the certificate and the run's settings.
fn target_table(out: &mut String, report: &RunReport) {
    let t = &report.target;
    let cert = &report.certificate;
    let _ = writeln!(
        out,
        "| target | {} ({}) |\n|---|---|",
        code(&t.name),
        cell(&t.kind.to_string())
    );
    let version = t
        .version
        .as_deref()
        .map_or_else(|| "_`version` did not succeed_".to_string(), code);
    let suites: Vec<String> = report
        .suites
        .iter()
        .map(|x| format!("{} (`{}` v{})", inline(&x.title), x.name, x.version))
        .collect();
    let platform = format!("{} {}", cell(&cert.os), cell(&cert.arch));
    let strict = if report.strict { "yes" } else { "no" };
    let rows = [
        ("path", Some(code(&t.path))),
        ("sha256", Some(code(&t.sha256))),
        ("suites sha256", Some(code(&cert.suites_sha256))),
        ("platform", Some(platform)),
        ("command", Some(code(&cert.command_line.join(" ")))),
        ("version", Some(version)),
        ("mode", get_only_sentence(t).map(cell)),
        ("suite", Some(cell(&suites.join(", ")))),
        ("started", Some(cell(&display_date(&report.started_at)))),
        ("strict", Some(strict.to_string())),
    ];
    for (name, value) in rows {
        if let Some(value) = value {
            let _ = writeln!(out, "| {name} | {value} |");
        }
    }
    out.push('\n');
}

/// Counts per level, with the accepted failures beside the failed.
fn counts_table(out: &mut String, report: &RunReport) {
    let s = &report.summary;
    let _ = writeln!(
        out,
        "| level | passed | failed | skipped | blocked |\n|:--|--:|--:|--:|--:|"
    );
    for (name, c) in [("MUST", s.must), ("SHOULD", s.should)] {
        let failed = match accepted_words(&c) {
            Some(accepted) => format!("{} ({accepted})", c.failed),
            None => c.failed.to_string(),
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {failed} | {} | {} |",
            c.passed, c.skipped, c.blocked
        );
    }
    out.push('\n');
}

/// A table per requirement area, each case on a row.
fn area_tables(out: &mut String, report: &RunReport) {
    for (suite, area, cases) in group_by_area(report) {
        let suite_note = if report.suites.len() > 1 {
            format!(" · `{suite}`")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "### {}{suite_note} ({})\n",
            inline(area),
            area_tally(&cases)
        );
        let _ = writeln!(out, "| ID | level | status | title |\n|---|---|---|---|");
        for c in cases {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&c.id),
                c.level,
                status_cell(c),
                title_cell(c)
            );
        }
        out.push('\n');
    }
}

/// The status of a case, with an icon.
fn status_cell(c: &CaseResult) -> &'static str {
    match (c.status, c.level) {
        _ if c.disposition.is_some() => "🟡 accepted failure",
        (Status::Passed, _) => "✅ passed",
        (Status::Skipped, _) => "⏭️ skipped",
        (Status::Error, _) => "💥 error",
        (Status::Failed, Level::Should) => "⚠️ failed",
        (Status::Failed, Level::Must) => "❌ failed",
        (Status::Blocked, _) => "🚧 blocked",
    }
}

/// The title of a case, with why it was skipped or blocked, or why its failure is accepted.
fn title_cell(c: &CaseResult) -> String {
    let why = match (&c.note, c.status) {
        (Some(note), Status::Skipped) => Some(format!("skipped: {note}")),
        (Some(note), Status::Blocked) if c.disposition.is_none() => {
            Some(format!("blocked: {note}"))
        }
        _ => disposition_words(c),
    };
    match why {
        Some(why) => format!("{} _({})_", cell(&c.title), cell(&why)),
        None => cell(&c.title),
    }
}

/// Each failure's details (the text reporter's), folded in a `<details>` block.
fn failure_blocks(out: &mut String, report: &RunReport) {
    let failed = failures(report);
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Failures\n");
    for c in failed {
        let details = failure_details(c);
        let fence = "`".repeat(longest_backtick_run(&details).max(2) + 1);
        let _ = writeln!(
            out,
            "<details><summary>{}</summary>\n\n{fence}text\n{}{fence}\n\n</details>\n",
            html! { (case_line(c)) }.into_string(),
            details
        );
    }
}

/// The store damage warning, cleanup, what was left running, the seed and the run's size.
fn closing_lines(out: &mut String, report: &RunReport) {
    if let Some(warning) = store_damage_warning(report) {
        let _ = writeln!(out, "> **Warning:** {}\n", inline(&warning));
    }
    if let Some(line) = cleanup_sentence(report) {
        let _ = writeln!(out, "**Cleanup:** {}  ", inline(&line));
    }
    if let Some(line) = left_running_sentence(report) {
        let _ = writeln!(out, "**Left running:** {}  ", inline(&line));
    }
    let _ = writeln!(
        out,
        "**Seed:** `{}` (reproduce with `--seed {}`)  \n\
         **Run:** {} cases in {:.1} s, credconform {}",
        report.seed,
        report.seed,
        report.cases.len(),
        report.duration_ms / 1000.0,
        inline(&report.tool_version)
    );
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Text outside code spans: markup characters escaped so they show as written.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            '&' if !in_code => out.push_str("&amp;"),
            '\\' | '*' | '_' | '[' | ']' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A table cell: like [`inline`], and `|` escaped even inside code spans (as GFM requires).
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

/// Literal text as a code span that survives a table cell.
fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ").replace('|', "\\|");
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::failing_report;

    #[test]
    fn cells_and_fences_survive_awkward_text() {
        assert_eq!(
            cell("list shows `<token>` | a <b> & *c*"),
            "list shows `<token>` \\| a &lt;b&gt; &amp; \\*c\\*"
        );
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("has `ticks`"), "`` has `ticks` ``");
        let mut report = failing_report();
        report.cases[1].steps[0].mismatches[0].actual = "```\n</details>".into();
        let md = Markdown.render(&report).unwrap();
        // The details fence is longer than any backtick run inside it.
        assert!(md.contains("````text\n"));
        assert_eq!(md.matches("</details>").count(), 2);
    }
}
