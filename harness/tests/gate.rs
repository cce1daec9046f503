//! Release gating on real programs: a baseline from a program's own earlier report, a mutant of
//! the reference helper as a candidate against the reference's report, waivers, the report diff,
//! and `verify` of a certificate against the binary and the suites.

mod support;

use std::{fs, os::unix::fs::PermissionsExt, path::Path};

use credconform::bundled::{Mutant, Variant};
use serde_json::Value;
use support::*;

/// The mutant that prints a debug line with the secret on stderr during store: only the case
/// that checks stderr for secrets catches it.
const MUTANT: Mutant = Mutant::SecretOnStderr;
const MUTATED_CASE: &str = "HP-OUT-002";

/// Runs `cmd` with `--json FILE` and returns the exit code, stdout and the report.
fn run_to(mut cmd: assert_cmd::Command, json: &Path) -> (Option<i32>, String, Value) {
    let out = cmd.arg("--json").arg(json).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        json.exists(),
        "no report written: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), stdout, read_report(json))
}

/// IDs of the cases a report lists under `section` of a diff's JSON.
fn section(diff: &Value, section: &str) -> Vec<String> {
    diff[section]
        .as_array()
        .unwrap_or_else(|| panic!("no section {section}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn diff(old: &Path, new: &Path, dir: &Path) -> (Option<i32>, String, Value, String) {
    let (json, md) = (dir.join("diff.json"), dir.join("diff.md"));
    let out = credconform()
        .arg("diff")
        .args([old, new])
        .arg("--json")
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        read_report(&json),
        fs::read_to_string(&md).unwrap(),
    )
}

#[test]
fn a_mutant_candidate_regresses_exactly_the_mutated_case_against_the_reference_baseline() {
    let b = Bundled::new();
    let dir = tempfile::tempdir().unwrap();
    let (base, cand) = (dir.path().join("base.json"), dir.path().join("cand.json"));
    let mut reference = b.certify(&b.path(Variant::Reference));
    reference.args(["--seed", "7"]);
    let (code, _, _) = run_to(reference, &base);
    assert_eq!(code, Some(0));

    let mut candidate = b.certify(&b.path(Variant::Mutant(MUTANT)));
    candidate.args(["--seed", "7", "--baseline"]).arg(&base);
    let (code, stdout, report) = run_to(candidate, &cand);
    assert_eq!(code, Some(1), "{stdout}");
    assert_eq!(failed_ids(&report), [MUTATED_CASE]);
    assert_eq!(report["summary"]["must"]["known_failures"], 0);
    assert!(
        stdout.contains("checked with a baseline (0 known failures from"),
        "{stdout}"
    );

    let (code, text, json, md) = diff(&base, &cand, dir.path());
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(section(&json, "regressed"), [MUTATED_CASE]);
    for other in ["fixed", "still_failing", "added", "removed", "skip_changes"] {
        assert_eq!(section(&json, other), Vec::<String>::new(), "{other}");
    }
    assert!(
        text.contains(&format!(
            "Regressed (did not fail before, fails now): 1\n  {MUTATED_CASE}"
        )),
        "{text}"
    );
    assert!(
        text.contains("WARNING: the reports certify different targets"),
        "{text}"
    );
    assert!(md.contains("❌ 1 case regressed."), "{md}");

    // The candidate's own report as the baseline: its failure is known, the run passes, the
    // verdict stays honest. The reference against that baseline is told to drop the case.
    let again = dir.path().join("again.json");
    let mut candidate = b.certify(&b.path(Variant::Mutant(MUTANT)));
    candidate.args(["--seed", "7", "--baseline"]).arg(&cand);
    let (code, stdout, report) = run_to(candidate, &again);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("KNOWN {MUTATED_CASE}")),
        "{stdout}"
    );
    assert_eq!(report["summary"]["verdict"], "not-conformant");
    let known = report["summary"]["must"]["known_failures"]
        .as_u64()
        .unwrap()
        + report["summary"]["should"]["known_failures"]
            .as_u64()
            .unwrap();
    assert_eq!(known, 1);
    let case = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == MUTATED_CASE)
        .unwrap();
    assert_eq!(case["status"], "failed");
    assert_eq!(case["disposition"]["kind"], "known-failure");

    let mut reference = b.certify(&b.path(Variant::Reference));
    reference.arg("--baseline").arg(&cand);
    let (code, stdout, report) = run_to(reference, &dir.path().join("fixed.json"));
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains(&format!(
            "{MUTATED_CASE} now passes: drop it from your baseline."
        )),
        "{stdout}"
    );
    assert_eq!(report["gate"]["baseline"]["now_passing"][0], MUTATED_CASE);
}

fn waiver_file(dir: &Path, case: &str, expires: &str) -> std::path::PathBuf {
    let path = dir.join("waivers.toml");
    fs::write(
        &path,
        format!(
            "# accepted deviations\n\n[[waiver]]\ncase = \"{case}\"\nreason = \"debug logging, \
             fixed in the next release\"\nexpires = {expires}\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_waived_failure_passes_the_run_and_an_expired_or_unknown_waiver_stops_it() {
    let b = Bundled::new();
    let dir = tempfile::tempdir().unwrap();
    let mutant = b.path(Variant::Mutant(MUTANT));

    let waivers = waiver_file(dir.path(), MUTATED_CASE, "2999-12-31");
    let mut cmd = b.certify(&mutant);
    cmd.arg("--waivers").arg(&waivers);
    let md = dir.path().join("report.md");
    cmd.arg("--markdown").arg(&md);
    let (code, stdout, report) = run_to(cmd, &dir.path().join("waived.json"));
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("WAIVED {MUTATED_CASE}")),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 MUST failure and 0 SHOULD failures waived"),
        "{stdout}"
    );
    assert_eq!(report["summary"]["verdict"], "not-conformant");
    assert_eq!(report["summary"]["must"]["waived"], 1);
    let md = fs::read_to_string(md).unwrap();
    assert!(md.contains("🟡 accepted failure"), "{md}");
    assert!(
        md.contains("waived until 2999-12-31: debug logging"),
        "{md}"
    );

    for (case, expires, why) in [
        (MUTATED_CASE, "2020-01-01", "expired on 2020-01-01"),
        ("HP-NO-999", "2999-12-31", "no loaded suite has this case"),
    ] {
        let waivers = waiver_file(dir.path(), case, expires);
        let json = dir.path().join("stopped.json");
        let out = b
            .certify(&mutant)
            .arg("--waivers")
            .arg(&waivers)
            .arg("--json")
            .arg(&json)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "{}:3: waiver for {case}: {why}",
                waivers.display()
            )),
            "{stderr}"
        );
        assert!(!json.exists(), "a case ran despite the bad waiver");
    }
}

#[test]
fn the_real_docker_credential_pass_passes_with_a_baseline_from_its_own_report() {
    let Some(pass) = PassStore::new() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (earlier, now) = (dir.path().join("earlier.json"), dir.path().join("now.json"));
    let (code, _, first) = run_to(pass.certify(), &earlier);
    assert_eq!(code, Some(1));
    let failures = failed_ids(&first);
    assert!(!failures.is_empty());

    let mut gated = pass.certify();
    gated.arg("--baseline").arg(&earlier);
    let (code, stdout, report) = run_to(gated, &now);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(failed_ids(&report), failures);
    let s = &report["summary"];
    let known = s["must"]["known_failures"].as_u64().unwrap()
        + s["should"]["known_failures"].as_u64().unwrap();
    assert_eq!(known as usize, failures.len());
    assert_eq!(
        s["verdict"], "not-conformant",
        "known failures are never passes"
    );

    let (code, text, json, _) = diff(&earlier, &now, dir.path());
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(section(&json, "still_failing"), failures);
    assert!(json["warnings"].as_array().unwrap().is_empty(), "{text}");
}

#[test]
fn verify_matches_the_certified_binary_and_names_a_changed_byte_or_an_edited_case() {
    let dir = tempfile::tempdir().unwrap();
    // A copy of the binary under the reference helper's name runs the reference helper.
    let helper = dir.path().join("docker-credential-credconform-ref");
    fs::copy(credconform_bin(), &helper).unwrap();
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    let store = dir.path().join("store.json");
    let json = dir.path().join("cert.json");
    let mut cmd = credconform();
    cmd.arg("--helper")
        .arg(&helper)
        .args([
            "--env",
            &format!("CREDCONFORM_REF_STORE={}", store.display()),
        ])
        .args(["--filter", "HP-RT-001"]);
    let (code, _, report) = run_to(cmd, &json);
    assert_eq!(code, Some(0));
    let command_line: Vec<&str> = report["certificate"]["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        command_line.contains(&"CREDCONFORM_REF_STORE=<redacted>"),
        "{command_line:?}"
    );
    assert!(
        !command_line
            .iter()
            .any(|a| a.contains(&*store.to_string_lossy()))
    );

    let verify = |suites: &Path| {
        let out = credconform()
            .arg("verify")
            .arg(&json)
            .arg("--helper")
            .arg(&helper)
            .arg("--suites-dir")
            .arg(suites)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites");
    let (code, out) = verify(&shipped);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("matches:"), "{out}");

    // An edited case, same suite version.
    let suites = dir.path().join("suites");
    for suite in ["helper-protocol", "login"] {
        fs::create_dir_all(suites.join(suite)).unwrap();
        for entry in fs::read_dir(shipped.join(suite)).unwrap() {
            let p = entry.unwrap().path();
            fs::copy(&p, suites.join(suite).join(p.file_name().unwrap())).unwrap();
        }
    }
    let file = suites.join("helper-protocol/erase.toml");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(
        &file,
        text.replacen("level = \"MUST\"", "level = \"SHOULD\"", 1),
    )
    .unwrap();
    let (code, out) = verify(&suites);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("suite digest: the report certified suites with sha256"),
        "{out}"
    );
    assert!(!out.contains("binary digest"), "{out}");

    // One byte more in the binary.
    let mut bytes = fs::read(&helper).unwrap();
    bytes.push(0);
    fs::write(&helper, bytes).unwrap();
    let (code, out) = verify(&shipped);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("does not match"), "{out}");
    assert!(
        out.contains("binary digest: the report certified sha256"),
        "{out}"
    );
    assert!(!out.contains("suite digest"), "{out}");
}

#[test]
fn unreadable_reports_are_named_and_committed_format_1_reports_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    fs::write(&broken, "{\"schema_version\": 1}").unwrap();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/reports/format-1-docker-credential-pass.json");
    let out = credconform()
        .arg("diff")
        .arg(&committed)
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}: report format version 1", broken.display())),
        "{stderr}"
    );

    // The previous release's report against itself: nothing regressed.
    let out = credconform()
        .arg("diff")
        .args([&committed, &committed])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Still failing: 9"), "{text}");

    // A format 1 report carries no suite digest: verify cannot confirm it.
    let out = credconform()
        .arg("verify")
        .arg(&committed)
        .args(["--helper", "sh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("suite digest: the report (format 1) records none"),
        "{text}"
    );
}
