//! The file reports of real runs: the JSON validates against docs/report.schema.json, the
//! Markdown, HTML and badge say what the JSON says, and the HTML renders in headless Chromium
//! with the verdict and the counts on the page.

mod support;

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use credconform::bundled::{Mutant, Variant};
use serde_json::Value;
use support::*;

const FORMATS: [(&str, &str); 4] = [
    ("--json", "report.json"),
    ("--markdown", "report.md"),
    ("--html", "report.html"),
    ("--badge", "badge.svg"),
];

/// The files of one run, written with every format flag.
struct Run {
    code: Option<i32>,
    dir: tempfile::TempDir,
}

impl Run {
    /// Runs `cmd` with every report format written into a fresh folder.
    fn of(mut cmd: assert_cmd::Command) -> Run {
        let dir = tempfile::tempdir().unwrap();
        cmd.args(["--seed", "7"]);
        for (flag, file) in FORMATS {
            cmd.arg(flag).arg(dir.path().join(file));
        }
        let out = cmd.output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "credconform failed to run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Run {
            code: out.status.code(),
            dir,
        }
    }

    /// The bundled reference helper (no target given).
    fn reference() -> Run {
        Run::of(credconform())
    }

    /// The mutant whose `get` of an unknown URL answers exit 0 with empty credentials, run
    /// through its link `docker-credential-credconform-mutant-notfound-exit-zero`.
    fn failing() -> Run {
        let b = Bundled::new();
        let helper = b.path(Variant::Mutant(Mutant::NotfoundExitZero));
        assert_eq!(
            helper.file_name().unwrap(),
            "docker-credential-credconform-mutant-notfound-exit-zero"
        );
        Run::of(b.certify(&helper))
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    fn text(&self, file: &str) -> String {
        fs::read_to_string(self.path(file)).unwrap()
    }

    fn json(&self) -> Value {
        read_report(&self.path("report.json"))
    }
}

/// The text content of the element with `id` (up to its first child element).
fn text_by_id<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id} in the page"));
    let start = at + html[at..].find('>').unwrap() + 1;
    let end = start + html[start..].find('<').unwrap();
    &html[start..end]
}

/// Checks that the page shows the JSON report's verdict and counts.
fn assert_page_matches(page: &str, report: &Value) {
    let verdict = report["summary"]["verdict"].as_str().unwrap();
    assert!(page.contains(&format!("data-verdict=\"{verdict}\"")));
    let label = match verdict {
        "conformant" => "Conformant",
        "conformant-with-warnings" => "Conformant with warnings",
        _ => "Not conformant",
    };
    let label = if report["target"]["get_only"] == true {
        format!("{label} (get-only)")
    } else {
        label.to_string()
    };
    assert_eq!(text_by_id(page, "verdict-label"), label);
    for level in ["must", "should"] {
        for what in ["passed", "failed", "skipped", "blocked"] {
            assert_eq!(
                text_by_id(page, &format!("count-{level}-{what}")),
                report["summary"][level][what].to_string(),
                "count-{level}-{what}"
            );
        }
    }
}

/// Checks that the markup names no external resource: URLs appear only as escaped text.
fn assert_self_contained(html: &str) {
    for banned in [
        "<script", "<link", "<img", "<iframe", "src=", "url(", "@import",
    ] {
        assert!(!html.contains(banned), "`{banned}` in the page");
    }
    let tags: Vec<&str> = html
        .split('<')
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap_or(rest))
        .collect();
    assert!(tags.len() > 500, "{} tags", tags.len());
    let external: Vec<&&str> = tags.iter().filter(|t| t.contains("http")).collect();
    assert!(external.is_empty(), "tags naming URLs: {external:?}");
}

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema() {
    let schema = schema();
    jsonschema::meta::validate(&schema).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        schema["properties"]["schema_version"]["const"],
        credconform::run::result::SCHEMA_VERSION
    );
}

#[test]
fn reports_of_the_bundled_reference_helper_say_conformant() {
    let run = Run::reference();
    assert_eq!(run.code, Some(0));
    let report = run.json();
    assert_eq!(schema_errors(&report), Vec::<String>::new());
    assert_eq!(report["summary"]["verdict"], "conformant");
    // A report with a field the schema does not know, a value outside an enum, or without a
    // field it requires, is refused.
    let mut broken = report.clone();
    broken["cases"][0]["surprise"] = Value::Bool(true);
    broken["summary"]["verdict"] = "fine".into();
    broken.as_object_mut().unwrap().remove("seed");
    let errors = schema_errors(&broken);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_eq!(
        report["target"]["name"],
        "docker-credential-credconform-ref"
    );

    let md = run.text("report.md");
    assert!(
        md.starts_with("## ✅ credconform: docker-credential-credconform-ref — Conformant\n"),
        "{md}"
    );
    assert!(!md.contains("<details>"));
    assert!(md.contains("**Seed:** `7` (reproduce with `--seed 7`)"));
    let cases = report["cases"].as_array().unwrap();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        assert!(
            md.contains(&format!("| `{id}` | ")),
            "{id} not in the Markdown"
        );
    }

    let html = run.text("report.html");
    assert_page_matches(&html, &report);
    assert_self_contained(&html);
    assert_eq!(html.matches("<tr id=\"case-").count(), cases.len());
    assert!(!html.contains("id=\"failures\""));

    let badge = run.text("badge.svg");
    assert!(badge.contains(">conformant</text>") && badge.contains("fill=\"#4c1\""));
}

#[test]
fn reports_of_a_get_only_certification_say_so_in_every_format() {
    let run = Run::of({
        let mut cmd = credconform();
        cmd.arg("--get-only");
        cmd
    });
    assert_eq!(run.code, Some(0));
    let report = run.json();
    assert_eq!(schema_errors(&report), Vec::<String>::new());
    assert_eq!(report["target"]["get_only"], true);
    assert_eq!(report["summary"]["verdict"], "conformant");

    let md = run.text("report.md");
    assert!(md.starts_with(
        "## ✅ credconform: docker-credential-credconform-getonly — Conformant (get-only)\n"
    ));
    assert!(md.contains("| mode | certified as a get-only helper (--get-only)"));
    assert!(md.contains("_(skipped: needs store or erase to succeed, and the helper is declared get-only (--get-only))_"));
    assert!(md.contains("### Round trip (all 9 skipped)"));

    let html = run.text("report.html");
    assert_page_matches(&html, &report);
    assert!(text_by_id(&html, "target-mode").starts_with("certified as a get-only helper"));

    let badge = run.text("badge.svg");
    assert!(badge.contains(">conformant (get-only)</text>"));
}

#[test]
fn reports_of_a_failing_mutant_match_the_schema_and_name_the_failures() {
    let run = Run::failing();
    assert_eq!(run.code, Some(1));
    let report = run.json();
    assert_eq!(schema_errors(&report), Vec::<String>::new());
    assert_eq!(report["summary"]["verdict"], "not-conformant");
    let failed = failed_ids(&report);
    assert!(failed.contains(&"HP-NF-001".to_string()), "{failed:?}");
    // The schema's optional fields occur in real output: a diff, and a note.
    let cases = report["cases"].as_array().unwrap();
    let steps = || cases.iter().flat_map(|c| c["steps"].as_array().unwrap());
    assert!(
        steps()
            .flat_map(|s| s["mismatches"].as_array().unwrap())
            .any(|m| m.get("diff").is_some())
    );
    assert!(cases.iter().any(|c| c.get("note").is_some()));

    let md = run.text("report.md");
    assert!(md.starts_with("## ❌ credconform: docker-credential-credconform-mutant-notfound-exit-zero — Not conformant\n"));
    let must = &report["summary"]["must"];
    assert!(md.contains(&format!(
        "| MUST | {} | {} | {} |",
        must["passed"], must["failed"], must["skipped"]
    )));
    for id in &failed {
        assert!(
            md.contains(&format!("<details><summary>FAIL  {id} [")),
            "{id}"
        );
        assert!(
            md.contains(&format!("| `{id}` | MUST | ❌ failed |")),
            "{id}"
        );
    }
    assert!(md.contains("-credentials not found in native keychain"));
    assert!(md.contains("**Cleanup:** no entry of this run is left in the store"));

    let html = run.text("report.html");
    assert_page_matches(&html, &report);
    assert_self_contained(&html);
    assert!(html.contains(&report["target"]["sha256"].as_str().unwrap().to_string()));
    assert_eq!(
        text_by_id(&html, "target-name"),
        "docker-credential-credconform-mutant-notfound-exit-zero"
    );
    for id in &failed {
        assert!(html.contains(&format!(
            "<tr id=\"case-{id}\" class=\"failed\" data-status=\"failed\" data-level=\"MUST\">"
        )));
        assert!(html.contains(&format!(
            "<section class=\"failure must\" id=\"failure-{id}\">"
        )));
    }
    assert!(html.contains("<span class=\"del\">-credentials not found in native keychain</span>"));

    let badge = run.text("badge.svg");
    assert!(badge.contains(">not conformant</text>") && badge.contains("fill=\"#e05d44\""));
}

/// Runs headless Chromium with `args` and the page; returns its stdout. Killed after a minute.
fn chromium(profile: &Path, args: &[&str], page: &Path) -> String {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reader = {
        let mut stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut stdout, &mut text).unwrap();
            text
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium ended with {status}");
    reader.join().unwrap()
}

#[test]
fn html_report_renders_in_headless_chromium_with_verdict_and_counts() {
    if !require_program("chromium") {
        return;
    }
    let run = Run::failing();
    let report = run.json();
    let page = run.path("report.html");
    let profile = tempfile::tempdir().unwrap();

    let dom = chromium(profile.path(), &["--dump-dom"], &page);
    assert!(dom.contains("<main>"), "no page in: {dom}");
    assert_page_matches(&dom, &report);
    assert_eq!(text_by_id(&dom, "verdict-label"), "Not conformant");
    assert_ne!(text_by_id(&dom, "count-must-failed"), "0");
    assert_eq!(
        dom.matches("<tr id=\"case-").count(),
        report["cases"].as_array().unwrap().len()
    );

    let shot = run.path("report.png");
    chromium(
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
        ],
        &page,
    );
    let png = fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(
        png.len() > 20_000,
        "a {}-byte screenshot is blank",
        png.len()
    );
}
