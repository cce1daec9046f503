//! The HTML certification report: one self-contained page (inline CSS, no scripts, no external
//! resources) with the target, the verdict, the counts, a table per requirement area with the
//! evidence of every case, and the details of every failure with its diffs.
//!
//! Elements tests and tools can rely on: `#verdict` (with `data-verdict` set to the JSON
//! verdict, e.g. `not-conformant`) holding `#verdict-label` and `#verdict-reason`;
//! `#count-{must,should}-{passed,failed,skipped,blocked}`; `#target-name`, `#target-sha256`,
//! `#target-version`, `#suites-sha256`, `#platform`, `#command-line`;
//! `#accepted-{must,should}` (known and waived counts, when any); `#cleanup`; `#seed`; one
//! `tr#case-<ID>` per case (with `data-status` and `data-level`, and `data-disposition` on the
//! status of an accepted failure); one `section#failure-<ID>` per failed, errored or blocked
//! case.

use std::fmt::Write as _;

use super::{
    Format,
    text::{
        accepted_words, area_tally, cleanup_sentence, disposition_words, get_only_sentence,
        left_running_sentence, plural, store_damage_warning, verdict_reason, verdict_words,
    },
};
use crate::{
    check::quote,
    run::{CaseResult, RunReport, Status, Verdict, result::StepRecord},
};

/// Writes the self-contained HTML certification report.
pub struct Html;

impl Format for Html {
    fn name(&self) -> &'static str {
        "HTML"
    }

    fn render(&self, report: &RunReport) -> anyhow::Result<String> {
        Ok(render(report))
    }
}

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Suite text (titles, requirements) escaped, with its `backtick` spans shown as code.
fn rich(text: &str) -> String {
    if !text.matches('`').count().is_multiple_of(2) {
        return escape(text);
    }
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

/// The verdict as the JSON report spells it (`conformant`, `conformant-with-warnings`,
/// `not-conformant`); also the CSS class of the banner.
pub fn verdict_slug(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Conformant => "conformant",
        Verdict::ConformantWithWarnings => "conformant-with-warnings",
        Verdict::NotConformant => "not-conformant",
    }
}

/// The status as the JSON report spells it; also its CSS class.
fn status_slug(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::Error => "error",
        Status::Blocked => "blocked",
    }
}

const STYLE: &str = r#"
:root { --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --skip: #6e7781;
  --border: #d0d7de; --muted: #57606a; --bg: #f6f8fa; --text: #1f2328; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans", Helvetica, Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h1 .tool { color: var(--muted); font-weight: 400; }
h2 { font-size: 17px; margin: 32px 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--border); }
h2 .meta { color: var(--muted); font-weight: 400; font-size: 13px; }
h3 { font-size: 15px; margin: 0 0 6px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 12.5px; }
.subtitle { color: var(--muted); margin: 0 0 20px; }
.verdict { border-radius: 8px; padding: 18px 22px; color: #fff; margin: 0 0 20px; }
.verdict .label { font-size: 26px; font-weight: 700; letter-spacing: .2px; }
.verdict .reason { font-size: 14px; opacity: .95; }
.verdict.conformant { background: var(--pass); }
.verdict.conformant-with-warnings { background: #bf8700; }
.verdict.not-conformant { background: var(--fail); }
.grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 20px; align-items: start; }
.card { background: #fff; border: 1px solid var(--border); border-radius: 8px; padding: 14px 16px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border: 1px solid var(--border); padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: #f0f3f6; font-weight: 600; }
table.facts th { width: 130px; background: transparent; border-width: 0 0 1px; color: var(--muted); font-weight: 500; }
table.facts td { border-width: 0 0 1px; overflow-wrap: anywhere; }
table.facts tr:last-child th, table.facts tr:last-child td { border-bottom: 0; }
table.counts td, table.counts th { text-align: center; }
table.counts td.n { font-size: 18px; font-weight: 600; }
table.counts td.n.failed.nonzero, table.counts td.n.blocked.nonzero { color: var(--fail); }
table.counts td.n.passed { color: var(--pass); }
table.cases td.col-id { white-space: nowrap; width: 1%; }
table.cases td.col-level, table.cases td.col-status { white-space: nowrap; width: 1%; }
table.cases td.col-evidence { width: 36%; font-size: 12.5px; color: #333; overflow-wrap: anywhere; }
table.cases tr.failed td, table.cases tr.error td, table.cases tr.blocked td { background: #fff8f8; }
.status { font-weight: 600; }
.status.passed { color: var(--pass); }
.status.failed, .status.error { color: var(--fail); }
.status.accepted { color: var(--warn); }
.status.skipped { color: var(--skip); }
.status.blocked { color: var(--warn); }
.level { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 11.5px; font-weight: 600; }
.level.must { background: #ddf4ff; color: #0550ae; }
.level.should { background: #fff8c5; color: #7d4e00; }
ul.steps { margin: 0; padding-left: 18px; }
.mismatch { margin: 2px 0; }
.note { color: var(--muted); font-style: italic; }
.store-damage { color: var(--fail); }
.failure { background: #fff; border: 1px solid var(--border); border-left: 4px solid var(--fail);
  border-radius: 6px; padding: 12px 16px; margin: 0 0 14px; }
.failure.should { border-left-color: #bf8700; }
.failure .cites { color: var(--muted); margin: 0 0 8px; }
.failure .step { margin: 10px 0 0; }
dl.mm { display: grid; grid-template-columns: 90px minmax(0, 1fr); gap: 2px 10px; margin: 4px 0 6px 14px; }
dl.mm dt { color: var(--muted); }
dl.mm dd { margin: 0; overflow-wrap: anywhere; }
pre { background: #f6f8fa; border: 1px solid var(--border); border-radius: 6px; padding: 8px 10px;
  margin: 4px 0 8px 14px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
pre.diff span { display: block; }
pre.diff .add { background: #dafbe1; color: #116329; }
pre.diff .del { background: #ffebe9; color: #82071e; }
pre.diff .hunk { color: #8250df; }
footer { margin-top: 36px; color: var(--muted); font-size: 12.5px; }
"#;

fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let title = format!(
        "credconform: {} — {}",
        report.target.name,
        verdict_words(report)
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"credconform {}\">\n<title>{}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(&report.tool_version),
        escape(&title)
    );
    let _ = writeln!(
        out,
        "<h1><span class=\"tool\">credconform certification report:</span> {}</h1>",
        escape(&report.target.name)
    );
    let suites: Vec<String> = report
        .suites
        .iter()
        .map(|x| format!("{} v{}", x.title, x.version))
        .collect();
    let _ = writeln!(
        out,
        "<p class=\"subtitle\">{} · {}</p>",
        escape(&suites.join(", ")),
        escape(&display_date(&report.started_at))
    );
    verdict_banner(&mut out, report);
    let _ = writeln!(out, "<div class=\"grid\">");
    target_card(&mut out, report);
    counts_card(&mut out, report);
    let _ = writeln!(out, "</div>");
    areas(&mut out, report);
    failures(&mut out, report);
    let _ = writeln!(
        out,
        "<footer>Written by credconform {}. Secrets sent to the target are shown redacted, \
         e.g. <code>&lt;secret: 13 bytes&gt;</code>. Reproduce the generative cases with \
         <code>--seed {}</code>.</footer>",
        escape(&report.tool_version),
        report.seed
    );
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// `2026-01-02T03:04:05.123Z` shown as `2026-01-02 03:04:05 UTC`; anything else as it is.
pub(crate) fn display_date(rfc3339: &str) -> String {
    let bytes = rfc3339.as_bytes();
    if rfc3339.len() >= 19 && rfc3339.ends_with('Z') && bytes.get(10) == Some(&b'T') {
        format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..19])
    } else {
        rfc3339.to_string()
    }
}

fn verdict_banner(out: &mut String, report: &RunReport) {
    let s = &report.summary;
    let reason = verdict_reason(report);
    let slug = verdict_slug(s.verdict);
    let _ = writeln!(
        out,
        "<div id=\"verdict\" class=\"verdict {slug}\" data-verdict=\"{slug}\">\
         <div class=\"label\" id=\"verdict-label\">{}</div><div class=\"reason\" id=\"verdict-reason\">{}</div></div>",
        escape(&verdict_words(report)),
        escape(&reason)
    );
}

fn fact(out: &mut String, name: &str, id: &str, value_html: &str) {
    let _ = writeln!(
        out,
        "<tr><th>{}</th><td id=\"{id}\">{value_html}</td></tr>",
        escape(name)
    );
}

fn target_card(out: &mut String, report: &RunReport) {
    let t = &report.target;
    let _ = writeln!(
        out,
        "<section class=\"card\"><h3>Target</h3><table class=\"facts\">"
    );
    fact(out, "Program", "target-name", &escape(&t.name));
    fact(out, "Kind", "target-kind", &escape(&t.kind));
    fact(
        out,
        "Path",
        "target-path",
        &format!("<code>{}</code>", escape(&t.path)),
    );
    fact(
        out,
        "SHA-256",
        "target-sha256",
        &format!("<code>{}</code>", escape(&t.sha256)),
    );
    let cert = &report.certificate;
    fact(
        out,
        "Suites SHA-256",
        "suites-sha256",
        &format!("<code>{}</code>", escape(&cert.suites_sha256)),
    );
    fact(
        out,
        "Platform",
        "platform",
        &escape(&format!("{} {}", cert.os, cert.arch)),
    );
    fact(
        out,
        "Command line",
        "command-line",
        &format!("<code>{}</code>", escape(&cert.command_line.join(" "))),
    );
    let version = match &t.version {
        Some(v) => format!("<code>{}</code>", escape(v)),
        None => "<span class=\"note\">`version` did not succeed</span>".to_string(),
    };
    fact(out, "version output", "target-version", &version);
    if let Some(mode) = get_only_sentence(&report.target) {
        fact(out, "Mode", "target-mode", &escape(mode));
    }
    let suites: Vec<String> = report
        .suites
        .iter()
        .map(|x| {
            format!(
                "{} <code>{}</code> v{}",
                escape(&x.title),
                escape(&x.name),
                escape(&x.version)
            )
        })
        .collect();
    fact(out, "Suite", "suites", &suites.join("<br>"));
    fact(
        out,
        "Date",
        "date",
        &format!(
            "<time datetime=\"{}\">{}</time>",
            escape(&report.started_at),
            escape(&display_date(&report.started_at))
        ),
    );
    fact(
        out,
        "Duration",
        "duration",
        &format!("{:.1} s", report.duration_ms / 1000.0),
    );
    fact(
        out,
        "Strict",
        "strict",
        if report.strict {
            "yes: SHOULD failures fail the run"
        } else {
            "no: SHOULD failures are warnings"
        },
    );
    fact(out, "Run ID", "run-id", &escape(&report.run_id));
    fact(
        out,
        "Seed",
        "seed",
        &format!(
            "{} <span class=\"note\">(reproduce with <code>--seed {}</code>)</span>",
            report.seed, report.seed
        ),
    );
    let _ = writeln!(out, "</table></section>");
}

fn counts_card(out: &mut String, report: &RunReport) {
    let s = &report.summary;
    let _ = writeln!(
        out,
        "<section class=\"card\"><h3>Results</h3><table class=\"counts\">\
         <thead><tr><th>level</th><th>passed</th><th>failed</th><th>skipped</th><th>blocked</th></tr></thead><tbody>"
    );
    for (name, counts) in [("must", s.must), ("should", s.should)] {
        let _ = write!(
            out,
            "<tr><th><span class=\"level {name}\">{}</span></th>",
            name.to_uppercase()
        );
        for (what, n) in [
            ("passed", counts.passed),
            ("failed", counts.failed),
            ("skipped", counts.skipped),
            ("blocked", counts.blocked),
        ] {
            let nonzero = if n > 0 { " nonzero" } else { "" };
            let accepted = match (what, accepted_words(&counts)) {
                ("failed", Some(words)) => format!(
                    " <span class=\"note\" id=\"accepted-{name}\">({})</span>",
                    escape(&words)
                ),
                _ => String::new(),
            };
            let _ = write!(
                out,
                "<td class=\"n {what}{nonzero}\"><span id=\"count-{name}-{what}\">{n}</span>{accepted}</td>"
            );
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody></table>");
    if let Some(line) = cleanup_sentence(report) {
        let _ = writeln!(
            out,
            "<p><strong>Cleanup:</strong> <span id=\"cleanup\">{}</span></p>",
            escape(&line)
        );
    }
    if let Some(line) = left_running_sentence(report) {
        let _ = writeln!(
            out,
            "<p><strong>Left running:</strong> <span id=\"left-running\">{}</span></p>",
            escape(&line)
        );
    }
    if let Some(warning) = store_damage_warning(report) {
        let _ = writeln!(
            out,
            "<p class=\"store-damage\" id=\"store-damage\"><strong>Warning:</strong> {}</p>",
            escape(&warning)
        );
    }
    let _ = writeln!(out, "</section>");
}

/// Requirement areas in the order their first case appears, each with its cases.
pub(crate) fn group_by_area(report: &RunReport) -> Vec<(&str, &str, Vec<&CaseResult>)> {
    let mut groups: Vec<(&str, &str, Vec<&CaseResult>)> = Vec::new();
    for case in &report.cases {
        match groups
            .iter_mut()
            .find(|(suite, area, _)| *suite == case.suite && *area == case.area)
        {
            Some((_, _, cases)) => cases.push(case),
            None => groups.push((&case.suite, &case.area, vec![case])),
        }
    }
    groups
}

fn areas(out: &mut String, report: &RunReport) {
    let several_suites = report.suites.len() > 1;
    for (suite, area, cases) in group_by_area(report) {
        let suite_note = if several_suites {
            format!("{} · ", escape(suite))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "<section class=\"area\"><h2>{} <span class=\"meta\">{suite_note}{}</span></h2>",
            escape(area),
            escape(&area_tally(&cases))
        );
        let _ = writeln!(
            out,
            "<table class=\"cases\"><thead><tr><th>ID</th><th>level</th><th>status</th>\
             <th>requirement</th><th>evidence</th></tr></thead><tbody>"
        );
        for case in cases {
            case_row(out, case);
        }
        let _ = writeln!(out, "</tbody></table></section>");
    }
}

fn case_row(out: &mut String, case: &CaseResult) {
    let status = status_slug(case.status);
    let level = case.level.to_string();
    let id = escape(&case.id);
    let id_cell = if case.is_failure() {
        format!("<a href=\"#failure-{id}\"><code>{id}</code></a>")
    } else {
        format!("<code>{id}</code>")
    };
    let _ = writeln!(
        out,
        "<tr id=\"case-{id}\" class=\"{status}\" data-status=\"{status}\" data-level=\"{level}\">\
         <td class=\"col-id\">{id_cell}</td><td class=\"col-level\"><span class=\"level {}\">{level}</span></td>\
         <td class=\"col-status\">{}</td>\
         <td class=\"col-title\">{}</td><td class=\"col-evidence\">{}</td></tr>",
        level.to_lowercase(),
        status_badge(case),
        rich(&case.title),
        evidence(case)
    );
}

/// The status word of a case; an accepted failure says why it does not fail the run.
fn status_badge(case: &CaseResult) -> String {
    let status = status_slug(case.status);
    match disposition_words(case) {
        Some(words) => format!(
            "<span class=\"status {status} accepted\" data-disposition=\"{}\">{status}</span> \
             <span class=\"note\">{}</span>",
            match case.disposition {
                Some(crate::run::result::Disposition::KnownFailure) => "known-failure",
                _ => "waived",
            },
            escape(&words)
        ),
        None => format!("<span class=\"status {status}\">{status}</span>"),
    }
}

/// The evidence cell: the steps for a pass, the mismatches for a failure, the note for a skip.
fn evidence(case: &CaseResult) -> String {
    let mut out = String::new();
    match case.status {
        Status::Passed => {
            let _ = write!(out, "<ul class=\"steps\">");
            for group in step_groups(&case.steps) {
                let _ = write!(out, "<li>{}</li>", escape(&describe_group(group)));
            }
            let _ = write!(out, "</ul>");
            if let Some(note) = &case.note {
                let _ = write!(out, "<div class=\"note\">{}</div>", escape(note));
            }
        }
        Status::Failed | Status::Error | Status::Blocked => {
            for step in case.steps.iter().filter(|s| !s.mismatches.is_empty()) {
                for m in &step.mismatches {
                    let _ = write!(
                        out,
                        "<div class=\"mismatch\">step {}{}: <strong>{}</strong>: expected {}, got {}</div>",
                        step.step,
                        repetition(step),
                        escape(&m.what),
                        escape(&shorten(&m.expected)),
                        escape(&shorten(&m.actual))
                    );
                }
            }
            if let Some(note) = &case.note {
                let _ = write!(out, "<div class=\"note\">{}</div>", escape(note));
            }
            if out.is_empty() {
                let _ = write!(out, "<div class=\"note\">see the failure details</div>");
            }
        }
        Status::Skipped => {
            let note = case.note.as_deref().unwrap_or("skipped");
            let _ = write!(out, "<div class=\"note\">{}</div>", escape(note));
        }
    }
    out
}

fn repetition(step: &StepRecord) -> String {
    if step.repetition > 0 {
        format!(" (repetition {})", step.repetition)
    } else {
        String::new()
    }
}

/// Consecutive records of the same step (its repetitions) grouped together.
fn step_groups(steps: &[StepRecord]) -> Vec<&[StepRecord]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=steps.len() {
        if i == steps.len() || steps[i].step != steps[start].step {
            if i > start {
                groups.push(&steps[start..i]);
            }
            start = i;
        }
    }
    groups
}

/// `store → exit 0`, or for a repeated step `store ×20 → exit 0 (20)`.
fn describe_group(group: &[StepRecord]) -> String {
    let first = &group[0];
    let action = if first.args.is_empty() {
        "(no arguments)".to_string()
    } else {
        shorten(&first.args.join(" "))
    };
    if group.len() == 1 {
        return format!("{action} → {}", first.ending);
    }
    let mut endings: Vec<(&str, usize)> = Vec::new();
    for s in group {
        match endings.iter_mut().find(|(e, _)| *e == s.ending) {
            Some((_, n)) => *n += 1,
            None => endings.push((&s.ending, 1)),
        }
    }
    let endings: Vec<String> = endings.iter().map(|(e, n)| format!("{e} ({n})")).collect();
    format!("{action} ×{} → {}", group.len(), endings.join(", "))
}

/// Long evidence text cut for the table (the failure details show it whole).
fn shorten(text: &str) -> String {
    const SHOWN: usize = 160;
    if text.chars().count() <= SHOWN {
        text.to_string()
    } else {
        let head: String = text.chars().take(SHOWN).collect();
        format!("{head}…")
    }
}

fn failures(out: &mut String, report: &RunReport) {
    let failed: Vec<&CaseResult> = report.cases.iter().filter(|c| c.is_failure()).collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2 id=\"failures\">Failure details <span class=\"meta\">{} case{}</span></h2>",
        failed.len(),
        plural(failed.len())
    );
    for case in failed {
        failure(out, case);
    }
}

fn failure(out: &mut String, case: &CaseResult) {
    let id = escape(&case.id);
    let level = case.level.to_string();
    let _ = writeln!(
        out,
        "<section class=\"failure {}\" id=\"failure-{id}\"><h3><code>{id}</code> \
         <span class=\"level {}\">{level}</span> {} {}</h3>",
        level.to_lowercase(),
        level.to_lowercase(),
        status_badge(case),
        rich(&case.title),
    );
    let _ = writeln!(
        out,
        "<p class=\"cites\">Requirement: {}</p>",
        rich(&case.cites)
    );
    if let Some(note) = &case.note {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(note));
    }
    for step in case
        .steps
        .iter()
        .filter(|s| !s.mismatches.is_empty() || s.ending == "not started")
    {
        let args = if step.args.is_empty() {
            "(no arguments)".to_string()
        } else {
            step.args.join(" ")
        };
        let _ = writeln!(
            out,
            "<div class=\"step\"><strong>Step {}{}:</strong> <code>{}</code>",
            step.step,
            repetition(step),
            escape(&args)
        );
        let _ = writeln!(out, "<dl class=\"mm\">");
        if !step.stdin.is_empty() {
            let _ = writeln!(
                out,
                "<dt>stdin</dt><dd><code>{}</code></dd>",
                escape(&quote(&step.stdin))
            );
        }
        let _ = writeln!(
            out,
            "<dt>ended</dt><dd><code>{}</code></dd></dl>",
            escape(&step.ending)
        );
        for m in &step.mismatches {
            let _ = writeln!(
                out,
                "<div class=\"mismatch\"><strong>{}</strong><dl class=\"mm\">\
                 <dt>expected</dt><dd><code>{}</code></dd>\
                 <dt>actual</dt><dd><code>{}</code></dd></dl>",
                escape(&m.what),
                escape(&m.expected),
                escape(&m.actual)
            );
            if let Some(diff) = &m.diff {
                let _ = write!(out, "<pre class=\"diff\">");
                for line in diff.lines() {
                    let class = if line.starts_with("+++") || line.starts_with("---") {
                        "file"
                    } else if line.starts_with('+') {
                        "add"
                    } else if line.starts_with('-') {
                        "del"
                    } else if line.starts_with("@@") {
                        "hunk"
                    } else {
                        "ctx"
                    };
                    let _ = write!(out, "<span class=\"{class}\">{}</span>", escape(line));
                }
                let _ = writeln!(out, "</pre>");
            }
            let _ = writeln!(out, "</div>");
        }
        let _ = writeln!(out, "</div>");
    }
    let _ = writeln!(out, "</section>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        report::sample::{self, failing_report},
        scenario::Level,
    };

    fn text_of<'a>(html: &'a str, id: &str) -> &'a str {
        let at = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no element #{id}"));
        let start = at + html[at..].find('>').unwrap() + 1;
        let end = start + html[start..].find('<').unwrap();
        &html[start..end]
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain text ✓"), "plain text ✓");
    }

    #[test]
    fn failing_report_shows_verdict_counts_target_and_details() {
        let html = Html.render(&failing_report()).unwrap();
        assert!(html.contains("data-verdict=\"not-conformant\""));
        assert_eq!(text_of(&html, "verdict-label"), "Not conformant");
        assert_eq!(
            text_of(&html, "verdict-reason"),
            "1 MUST case failed or errored."
        );
        assert_eq!(text_of(&html, "count-must-passed"), "1");
        assert_eq!(text_of(&html, "count-must-failed"), "1");
        assert_eq!(text_of(&html, "count-must-skipped"), "1");
        assert_eq!(text_of(&html, "count-should-passed"), "1");
        assert_eq!(text_of(&html, "count-should-failed"), "0");
        assert_eq!(text_of(&html, "target-name"), "docker-credential-demo");
        assert!(html.contains(&"ab".repeat(32)));
        assert!(html.contains("docker-credential-demo (demo) 1.2.3"));
        assert!(html.contains(
            "<time datetime=\"2026-01-02T03:04:05.123456789Z\">2026-01-02 03:04:05 UTC</time>"
        ));
        assert!(html.contains("Docker credential helper protocol"));
        // One table per area, in the order of the cases.
        let areas: Vec<usize> = [
            "Round trip",
            "Unknown entries",
            "Output discipline",
            "Keying",
        ]
        .iter()
        .map(|a| html.find(&format!("<h2>{a} ")).expect(a))
        .collect();
        assert!(areas.windows(2).all(|w| w[0] < w[1]), "{areas:?}");
        // Evidence: steps for a pass, mismatches for a failure, the note for a skip.
        assert!(html.contains("<li>store → exit 0</li><li>get → exit 0</li>"));
        assert!(html.contains(
            "step 1: <strong>exit status</strong>: expected a non-zero exit, got exit 0"
        ));
        assert!(html.contains("you already have entries for localhost"));
        // Failure details with the diff lines marked.
        assert!(html.contains("id=\"failure-HP-NF-001\""));
        assert!(html.contains("<a href=\"#failure-HP-NF-001\">"));
        assert!(
            html.contains("<span class=\"del\">-credentials not found in native keychain</span>")
        );
        assert!(html.contains(
            "<span class=\"add\">+{&quot;Username&quot;:&quot;&quot;,&quot;Secret&quot;:&quot;&quot;}</span>"
        ));
        assert_eq!(text_of(&html, "seed"), "42 ");
    }

    #[test]
    fn a_blocked_case_is_counted_marked_and_detailed() {
        let html = Html.render(&sample::blocked_report()).unwrap();
        assert!(html.contains("data-verdict=\"not-conformant\""));
        assert_eq!(text_of(&html, "count-must-blocked"), "1");
        assert_eq!(text_of(&html, "count-must-failed"), "0");
        assert!(html.contains("data-status=\"blocked\""));
        assert!(html.contains("id=\"failure-HP-ER-004\""));
        assert!(html.contains("precondition step 2 (get) did not hold"));
        assert!(html.contains("step 2: <strong>exit status</strong>: expected exit 0, got exit 1"));
    }

    #[test]
    fn banner_follows_the_verdict() {
        let ok = sample::report(vec![sample::passed("A-1", "a", Level::Must)]);
        let html = Html.render(&ok).unwrap();
        assert!(html.contains("data-verdict=\"conformant\""));
        assert!(html.contains("Every MUST and SHOULD case passed (1 case)."));
        assert!(!html.contains("Failure details"));

        let warn = sample::report(vec![
            sample::passed("A-1", "a", Level::Must),
            sample::failed("A-2", "a", Level::Should),
        ]);
        let html = Html.render(&warn).unwrap();
        assert!(html.contains("data-verdict=\"conformant-with-warnings\""));
        assert!(html.contains(">Conformant with warnings<"));
        assert!(html.contains("1 SHOULD case failed."));
        assert!(html.contains("class=\"failure should\""));
    }

    #[test]
    fn every_text_is_escaped() {
        let mut report = failing_report();
        report.target.name = "docker-credential-<script>alert(1)</script>".into();
        report.cases[1].title = "a title with <b>markup</b> & \"quotes\"".into();
        report.cases[1].steps[0].stdin = "<img src=x onerror=alert(1)>".into();
        report.cases[1].id = "X\"><script>".into();
        let html = Html.render(&report).unwrap();
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>markup"));
        assert!(html.contains("a title with &lt;b&gt;markup&lt;/b&gt; &amp; &quot;quotes&quot;"));
        assert!(html.contains("id=\"case-X&quot;&gt;&lt;script&gt;\""));
    }

    #[test]
    fn backtick_spans_become_code() {
        assert_eq!(
            rich("says `<token>` & `x`"),
            "says <code>&lt;token&gt;</code> &amp; <code>x</code>"
        );
        assert_eq!(rich("odd ` tick"), "odd ` tick");
    }

    #[test]
    fn repeated_steps_are_summarised() {
        let mut steps = vec![sample::step(1, "store", "exit 0", vec![])];
        for r in 0..3 {
            let mut s = sample::step(2, "get", if r == 2 { "exit 1" } else { "exit 0" }, vec![]);
            s.repetition = r;
            steps.push(s);
        }
        let case = sample::case("C-1", "a", Level::Must, Status::Passed, steps);
        assert_eq!(
            evidence(&case),
            "<ul class=\"steps\"><li>store → exit 0</li>\
             <li>get ×3 → exit 0 (2), exit 1 (1)</li></ul>"
        );
    }

    #[test]
    fn no_external_resources() {
        let html = Html.render(&failing_report()).unwrap();
        for banned in ["<script", "<link", "<img", "src=", "url(", "@import"] {
            assert!(!html.contains(banned), "{banned} in the page");
        }
        // URLs appear only as escaped evidence text (the sample's stdin), never in markup.
        assert!(html.contains("https://get.cc0run.credconform.test"));
        let tags: Vec<&str> = html
            .split('<')
            .skip(1)
            .map(|rest| rest.split('>').next().unwrap_or(rest))
            .collect();
        assert!(tags.len() > 100);
        assert!(tags.iter().all(|t| !t.contains("http")));
    }
}
