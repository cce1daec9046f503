//! GitHub-flavoured Markdown, sized for `$GITHUB_STEP_SUMMARY`: the verdict, counts per level,
//! a table per requirement area, each failure's details in a `<details>` block, the cleanup
//! line and the seed.

use std::fmt::Write as _;

use super::{
    Format,
    html::{display_date, escape, group_by_area},
    text::{
        accepted_words, area_tally, case_line, cleanup_sentence, disposition_words,
        failure_details, get_only_sentence, left_running_sentence, store_damage_warning,
        verdict_reason, verdict_words,
    },
};
use crate::{
    run::{RunReport, Status, Verdict},
    scenario::Level,
};

/// Writes the Markdown summary.
pub struct Markdown;

impl Format for Markdown {
    fn name(&self) -> &'static str {
        "Markdown"
    }

    fn render(&self, report: &RunReport) -> anyhow::Result<String> {
        Ok(render(report))
    }
}

fn render(report: &RunReport) -> String {
    let s = &report.summary;
    let t = &report.target;
    let mut out = String::new();
    let icon = match s.verdict {
        Verdict::Conformant => "✅",
        Verdict::ConformantWithWarnings => "⚠️",
        Verdict::NotConformant => "❌",
    };
    let _ = writeln!(
        out,
        "## {icon} credconform: {} — {}\n",
        inline(&t.name),
        verdict_words(report)
    );
    let _ = writeln!(
        out,
        "{}
",
        verdict_reason(report)
    );

    let suites: Vec<String> = report
        .suites
        .iter()
        .map(|x| format!("{} (`{}` v{})", inline(&x.title), x.name, x.version))
        .collect();
    let _ = writeln!(
        out,
        "| target | {} ({}) |\n|---|---|",
        code(&t.name),
        cell(&t.kind)
    );
    let _ = writeln!(out, "| path | {} |", code(&t.path));
    let _ = writeln!(out, "| sha256 | {} |", code(&t.sha256));
    let cert = &report.certificate;
    let _ = writeln!(out, "| suites sha256 | {} |", code(&cert.suites_sha256));
    let _ = writeln!(
        out,
        "| platform | {} {} |",
        cell(&cert.os),
        cell(&cert.arch)
    );
    let _ = writeln!(out, "| command | {} |", code(&cert.command_line.join(" ")));
    let version = t
        .version
        .as_deref()
        .map_or_else(|| "_`version` did not succeed_".to_string(), code);
    let _ = writeln!(out, "| version | {version} |");
    if let Some(mode) = get_only_sentence(t) {
        let _ = writeln!(out, "| mode | {} |", cell(mode));
    }
    let _ = writeln!(out, "| suite | {} |", cell(&suites.join(", ")));
    let _ = writeln!(
        out,
        "| started | {} |",
        cell(&display_date(&report.started_at))
    );
    let _ = writeln!(
        out,
        "| strict | {} |\n",
        if report.strict { "yes" } else { "no" }
    );

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
            let status = match (c.status, c.level) {
                _ if c.disposition.is_some() => "🟡 accepted failure",
                (Status::Passed, _) => "✅ passed",
                (Status::Skipped, _) => "⏭️ skipped",
                (Status::Error, _) => "💥 error",
                (Status::Failed, Level::Should) => "⚠️ failed",
                (Status::Failed, Level::Must) => "❌ failed",
                (Status::Blocked, _) => "🚧 blocked",
            };
            let title = match (&c.note, c.status) {
                (Some(note), Status::Skipped) => {
                    format!("{} _(skipped: {})_", cell(&c.title), cell(note))
                }
                (Some(note), Status::Blocked) if c.disposition.is_none() => {
                    format!("{} _(blocked: {})_", cell(&c.title), cell(note))
                }
                _ => match disposition_words(c) {
                    Some(words) => format!("{} _({})_", cell(&c.title), cell(&words)),
                    None => cell(&c.title),
                },
            };
            let _ = writeln!(
                out,
                "| {} | {} | {status} | {title} |",
                code(&c.id),
                c.level,
            );
        }
        out.push('\n');
    }

    let failed: Vec<_> = report.cases.iter().filter(|c| c.is_failure()).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "### Failures\n");
        for c in failed {
            let details = failure_details(c);
            let fence = "`".repeat(longest_backtick_run(&details).max(2) + 1);
            let _ = writeln!(
                out,
                "<details><summary>{}</summary>\n\n{fence}text\n{}{fence}\n\n</details>\n",
                escape(&case_line(c)),
                details
            );
        }
    }

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
    out
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
    use crate::report::sample::{self, failing_report};

    #[test]
    fn a_blocked_case_shows_its_status_note_and_count() {
        let md = Markdown.render(&sample::blocked_report()).unwrap();
        assert!(md.contains("| MUST | 1 | 0 | 0 | 1 |"), "{md}");
        assert!(md.contains(
            "| `HP-ER-004` | MUST | 🚧 blocked | title of HP-ER-004 _(blocked: precondition step 2 \
             (get) did not hold"
        ));
        assert!(
            md.contains("<details><summary>BLOCK HP-ER-004 [MUST]"),
            "{md}"
        );
    }

    #[test]
    fn failing_report_has_verdict_counts_tables_details_cleanup_and_seed() {
        let md = Markdown.render(&failing_report()).unwrap();
        assert!(md.starts_with("## ❌ credconform: docker-credential-demo — Not conformant\n"));
        assert!(md.contains(" — Not conformant\n\n1 MUST case failed or errored.\n"));
        assert!(md.contains("| MUST | 1 | 1 | 1 | 0 |\n| SHOULD | 1 | 0 | 0 | 0 |"));
        assert!(md.contains(
            "| target | `docker-credential-demo` (helper) |\n|---|---|\n| path | `/opt/demo/"
        ));
        assert!(md.contains("| sha256 | `abababab"));
        assert!(md.contains("| started | 2026-01-02 03:04:05 UTC |"));
        assert!(md.contains("| version | `docker-credential-demo (demo) 1.2.3` |"));
        assert!(md.contains("### Round trip (1 of 1 passed)\n\n| ID | level | status | title |"));
        assert!(md.contains("| `HP-NF-001` | MUST | ❌ failed | title of HP-NF-001 |"));
        assert!(md.contains(
            "| `HP-KEY-006` | MUST | ⏭️ skipped | title of HP-KEY-006 \
             _(skipped: you already have entries for localhost)_ |"
        ));
        // The failure's details are the text reporter's, inside a fenced block.
        let details = failure_details(&failing_report().cases[1]);
        assert!(md.contains(&format!(
            "<details><summary>FAIL  HP-NF-001 [MUST] title of HP-NF-001</summary>\n\n```text\n{details}```\n\n</details>"
        )));
        assert!(md.contains("-credentials not found in native keychain"));
        assert!(md.contains("**Cleanup:** no entry of this run is left in the store"));
        assert!(md.contains("**Seed:** `42` (reproduce with `--seed 42`)"));
    }

    #[test]
    fn conformant_and_warning_headlines() {
        let ok = sample::report(vec![sample::passed("A-1", "a", Level::Must)]);
        let md = Markdown.render(&ok).unwrap();
        assert!(md.starts_with("## ✅ credconform: docker-credential-demo — Conformant\n"));
        assert!(!md.contains("### Failures"));

        let warn = sample::report(vec![sample::failed("A-2", "a", Level::Should)]);
        let md = Markdown.render(&warn).unwrap();
        assert!(md.contains("— Conformant with warnings"));
        assert!(md.contains("| `A-2` | SHOULD | ⚠️ failed |"));
    }

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
