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

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{
    Format,
    view::{
        accepted_words, area_tally, cleanup_sentence, display_date, disposition_slug,
        disposition_words, failing_steps, failures, get_only_sentence, group_by_area,
        left_running_sentence, plural, repetition_words, slug, step_args, store_damage_warning,
        verdict_reason, verdict_words,
    },
};
use crate::{
    check::{quote, visible::shorten},
    run::{CaseResult, Counts, RunReport, Status, result::StepRecord},
};

/// Writes the self-contained HTML certification report.
pub struct Html;

/// The page's stylesheet, inlined into its `<style>` element.
const STYLE: &str = include_str!("report.css");

/// The characters of evidence text the table shows (the failure details show it whole).
const SHOWN: usize = 160;

impl Format for Html {
    fn name(&self) -> &'static str {
        "HTML"
    }

    fn render(&self, report: &RunReport) -> anyhow::Result<String> {
        Ok(html! {
            (DOCTYPE) "\n"
            html lang="en" {
                "\n"
                head {
                    "\n"
                    meta charset="utf-8"; "\n"
                    meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
                    meta name="generator" content={ "credconform " (report.tool_version) }; "\n"
                    title { "credconform: " (report.target.name) " — " (verdict_words(report)) } "\n"
                    style { "\n" (PreEscaped(STYLE)) } "\n"
                }
                "\n"
                body {
                    "\n"
                    main {
                        "\n"
                        h1 {
                            span class="tool" { "credconform certification report:" }
                            " " (report.target.name)
                        }
                        "\n"
                        p class="subtitle" {
                            @for (i, x) in report.suites.iter().enumerate() {
                                @if i > 0 { ", " } (x.title) " v" (x.version)
                            }
                            " · " (display_date(&report.started_at))
                        }
                        "\n"
                        (verdict_banner(report))
                        div class="grid" { "\n" (target_card(report)) (counts_card(report)) }
                        "\n"
                        (areas(report))
                        (failure_sections(report))
                        footer {
                            "Written by credconform " (report.tool_version) ". Secrets sent to the \
                             target are shown redacted, e.g. " code { "<secret: 13 bytes>" }
                            ". Reproduce the generative cases with " code { "--seed " (report.seed) }
                            "."
                        }
                        "\n"
                    }
                    "\n"
                }
                "\n"
            }
            "\n"
        }
        .into_string())
    }
}

/// Suite text (titles, requirements) with its `backtick` spans shown as code.
fn rich(text: &str) -> Markup {
    let balanced = text.matches('`').count().is_multiple_of(2);
    html! {
        @if balanced {
            @for (i, part) in text.split('`').enumerate() {
                @if i % 2 == 1 { code { (part) } } @else { (part) }
            }
        } @else {
            (text)
        }
    }
}

fn verdict_banner(report: &RunReport) -> Markup {
    let slug = slug(&report.summary.verdict);
    html! {
        div id="verdict" class={ "verdict " (slug) } data-verdict=(slug) {
            div class="label" id="verdict-label" { (verdict_words(report)) }
            div class="reason" id="verdict-reason" { (verdict_reason(report)) }
        }
        "\n"
    }
}

/// One row of the target card: `name`, and the value in a cell with `id`.
fn fact(name: &str, id: &str, value: Markup) -> Markup {
    html! { tr { th { (name) } td id=(id) { (value) } } "\n" }
}

/// Text shown as code.
fn code(text: &str) -> Markup {
    html! { code { (text) } }
}

fn target_card(report: &RunReport) -> Markup {
    let t = &report.target;
    let cert = &report.certificate;
    let version = match &t.version {
        Some(v) => code(v),
        None => html! { span class="note" { "`version` did not succeed" } },
    };
    let suites = html! {
        @for (i, x) in report.suites.iter().enumerate() {
            @if i > 0 { br; }
            (x.title) " " code { (x.name) } " v" (x.version)
        }
    };
    let date = html! {
        time datetime=(report.started_at) { (display_date(&report.started_at)) }
    };
    let seed = html! {
        (report.seed) " "
        span class="note" { "(reproduce with " code { "--seed " (report.seed) } ")" }
    };
    html! {
        section class="card" {
            h3 { "Target" }
            table class="facts" {
                "\n"
                (fact("Program", "target-name", html! { (t.name) }))
                (fact("Kind", "target-kind", html! { (t.kind.to_string()) }))
                (fact("Path", "target-path", code(&t.path)))
                (fact("SHA-256", "target-sha256", code(&t.sha256)))
                (fact("Suites SHA-256", "suites-sha256", code(&cert.suites_sha256)))
                (fact("Platform", "platform", html! { (cert.os) " " (cert.arch) }))
                (fact("Command line", "command-line", code(&cert.command_line.join(" "))))
                (fact("version output", "target-version", version))
                @if let Some(mode) = get_only_sentence(t) {
                    (fact("Mode", "target-mode", html! { (mode) }))
                }
                (fact("Suite", "suites", suites))
                (fact("Date", "date", date))
                (fact("Duration", "duration", html! { (format!("{:.1} s", report.duration_ms / 1000.0)) }))
                (fact("Strict", "strict", html! {
                    @if report.strict { "yes: SHOULD failures fail the run" }
                    @else { "no: SHOULD failures are warnings" }
                }))
                (fact("Run ID", "run-id", html! { (report.run_id) }))
                (fact("Seed", "seed", seed))
            }
        }
        "\n"
    }
}

fn counts_card(report: &RunReport) -> Markup {
    let s = &report.summary;
    html! {
        section class="card" {
            h3 { "Results" }
            table class="counts" {
                thead { tr { th { "level" } th { "passed" } th { "failed" } th { "skipped" } th { "blocked" } } }
                tbody {
                    "\n"
                    (counts_row("must", &s.must))
                    (counts_row("should", &s.should))
                }
            }
            "\n"
            @if let Some(line) = cleanup_sentence(report) {
                p { strong { "Cleanup:" } " " span id="cleanup" { (line) } } "\n"
            }
            @if let Some(line) = left_running_sentence(report) {
                p { strong { "Left running:" } " " span id="left-running" { (line) } } "\n"
            }
            @if let Some(warning) = store_damage_warning(report) {
                p class="store-damage" id="store-damage" { strong { "Warning:" } " " (warning) } "\n"
            }
        }
        "\n"
    }
}

/// The counts of one level (`must` or `should`), with the accepted failures beside the failed.
fn counts_row(name: &str, counts: &Counts) -> Markup {
    let cells = [
        ("passed", counts.passed),
        ("failed", counts.failed),
        ("skipped", counts.skipped),
        ("blocked", counts.blocked),
    ];
    let accepted = accepted_words(counts);
    html! {
        tr {
            th { span class={ "level " (name) } { (name.to_uppercase()) } }
            @for (what, n) in cells {
                @let nonzero = if n > 0 { " nonzero" } else { "" };
                td class={ "n " (what) (nonzero) } {
                    span id={ "count-" (name) "-" (what) } { (n) }
                    @if let (true, Some(words)) = (what == "failed", &accepted) {
                        " " span class="note" id={ "accepted-" (name) } { "(" (words) ")" }
                    }
                }
            }
        }
        "\n"
    }
}

fn areas(report: &RunReport) -> Markup {
    let several_suites = report.suites.len() > 1;
    html! {
        @for (suite, area, cases) in group_by_area(report) {
            section class="area" {
                h2 {
                    (area) " "
                    span class="meta" { @if several_suites { (suite) " · " } (area_tally(&cases)) }
                }
                "\n"
                table class="cases" {
                    thead { tr { th { "ID" } th { "level" } th { "status" } th { "requirement" } th { "evidence" } } }
                    tbody {
                        "\n"
                        @for case in cases { (case_row(case)) }
                    }
                }
            }
            "\n"
        }
    }
}

fn case_row(case: &CaseResult) -> Markup {
    let status = slug(&case.status);
    let level = case.level.to_string();
    html! {
        tr id={ "case-" (case.id) } class=(status) data-status=(status) data-level=(level) {
            td class="col-id" {
                @if case.is_failure() {
                    a href={ "#failure-" (case.id) } { (code(&case.id)) }
                } @else {
                    (code(&case.id))
                }
            }
            td class="col-level" { span class={ "level " (level.to_lowercase()) } { (level) } }
            td class="col-status" { (status_badge(case)) }
            td class="col-title" { (rich(&case.title)) }
            td class="col-evidence" { (evidence(case)) }
        }
        "\n"
    }
}

/// The status word of a case; an accepted failure says why it does not fail the run.
fn status_badge(case: &CaseResult) -> Markup {
    let status = slug(&case.status);
    html! {
        @match (&case.disposition, disposition_words(case)) {
            (Some(disposition), Some(words)) => {
                span class={ "status " (status) " accepted" } data-disposition=(disposition_slug(disposition)) { (status) }
                " " span class="note" { (words) }
            }
            _ => span class={ "status " (status) } { (status) },
        }
    }
}

/// The evidence cell: the steps for a pass, the mismatches for a failure, the note for a skip.
fn evidence(case: &CaseResult) -> Markup {
    let fallback = match case.status {
        Status::Passed => None,
        Status::Skipped => Some("skipped"),
        _ => case
            .steps
            .iter()
            .all(|s| s.mismatches.is_empty())
            .then_some("see the failure details"),
    };
    html! {
        @if case.status == Status::Passed {
            ul class="steps" {
                // Consecutive records of the same step (its repetitions) grouped together.
                @for group in case.steps.chunk_by(|a, b| a.step == b.step) {
                    li { (describe_group(group)) }
                }
            }
        } @else if case.is_failure() {
            @for step in &case.steps {
                @for m in &step.mismatches {
                    div class="mismatch" {
                        "step " (step.step) (repetition_words(step)) ": " strong { (m.what) }
                        ": expected " (shorten(&m.expected, SHOWN)) ", got " (shorten(&m.actual, SHOWN))
                    }
                }
            }
        }
        @if let Some(note) = case.note.as_deref().or(fallback) { div class="note" { (note) } }
    }
}

/// `store → exit 0`, or for a repeated step `store ×20 → exit 0 (20)`.
fn describe_group(group: &[StepRecord]) -> String {
    let first = &group[0];
    let action = shorten(&step_args(first), SHOWN);
    if group.len() == 1 {
        return format!("{action} → {}", first.ending);
    }
    let mut endings: Vec<(String, usize)> = Vec::new();
    for s in group {
        let ending = s.ending.to_string();
        match endings.iter_mut().find(|(e, _)| *e == ending) {
            Some((_, n)) => *n += 1,
            None => endings.push((ending, 1)),
        }
    }
    let endings: Vec<String> = endings.iter().map(|(e, n)| format!("{e} ({n})")).collect();
    format!("{action} ×{} → {}", group.len(), endings.join(", "))
}

fn failure_sections(report: &RunReport) -> Markup {
    let failed = failures(report);
    html! {
        @if !failed.is_empty() {
            h2 id="failures" {
                "Failure details " span class="meta" { (failed.len()) " case" (plural(failed.len())) }
            }
            "\n"
            @for case in failed { (failure(case)) }
        }
    }
}

fn failure(case: &CaseResult) -> Markup {
    let level = case.level.to_string();
    let lower = level.to_lowercase();
    html! {
        section class={ "failure " (lower) } id={ "failure-" (case.id) } {
            h3 {
                (code(&case.id)) " " span class={ "level " (lower) } { (level) } " "
                (status_badge(case)) " " (rich(&case.title))
            }
            "\n"
            p class="cites" { "Requirement: " (rich(&case.cites)) } "\n"
            @if let Some(note) = &case.note { p class="note" { (note) } "\n" }
            @for step in failing_steps(case) { (failing_step(step)) }
        }
        "\n"
    }
}

/// One failing invocation: its arguments, stdin and ending, and each mismatch with its diff.
fn failing_step(step: &StepRecord) -> Markup {
    html! {
        div class="step" {
            strong { "Step " (step.step) (repetition_words(step)) ":" } " " (code(&step_args(step)))
            "\n"
            dl class="mm" {
                "\n"
                @if !step.stdin.is_empty() {
                    dt { "stdin" } dd { (code(&quote(&step.stdin))) } "\n"
                }
                dt { "ended" } dd { code { (step.ending.to_string()) } }
            }
            "\n"
            @for m in &step.mismatches {
                div class="mismatch" {
                    strong { (m.what) }
                    dl class="mm" {
                        dt { "expected" } dd { (code(&m.expected)) }
                        dt { "actual" } dd { (code(&m.actual)) }
                    }
                    "\n"
                    @if let Some(diff) = &m.diff {
                        pre class="diff" {
                            @for line in diff.lines() { span class=(diff_line_class(line)) { (line) } }
                        }
                        "\n"
                    }
                }
                "\n"
            }
        }
        "\n"
    }
}

/// The CSS class of a line of a unified diff.
fn diff_line_class(line: &str) -> &'static str {
    match line.as_bytes() {
        [b'+', b'+', b'+', ..] | [b'-', b'-', b'-', ..] => "file",
        [b'+', ..] => "add",
        [b'-', ..] => "del",
        [b'@', b'@', ..] => "hunk",
        _ => "ctx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        report::sample::{self, failing_report},
        scenario::Level,
    };

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
            rich("says `<token>` & `x`").into_string(),
            "says <code>&lt;token&gt;</code> &amp; <code>x</code>"
        );
        assert_eq!(rich("odd ` tick").into_string(), "odd ` tick");
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
            evidence(&case).into_string(),
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
