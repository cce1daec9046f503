//! Get-only helpers (ecr-login, gcr...): with `--get-only` the cases that need a writing helper
//! are skipped with a reason, the get-only cases run, and a declaration that does not match
//! the helper is caught either way.

mod support;

use credconform::bundled::Variant;
use support::*;

/// The note of one case in a JSON report.
fn note_of<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .and_then(|c| c["note"].as_str())
        .unwrap_or_default()
}

fn ids(report: &serde_json::Value) -> Vec<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_get_only_helper_declared_get_only_is_conformant_strictly() {
    let b = Bundled::new();
    let mut cmd = b.certify(&b.path(Variant::GetOnly));
    cmd.args(["--get-only", "--strict"]);
    let (code, report) = run_with_report(cmd);
    assert_eq!(code, Some(0), "failed: {:?}", failed_ids(&report));
    assert_eq!(report["target"]["get_only"], true);
    for id in [
        "HP-RO-001",
        "HP-RO-002",
        "HP-RO-003",
        "HP-RO-004",
        "HP-RO-005",
    ] {
        assert_eq!(status_of(&report, id), "passed", "{id}");
    }
    // Writing cases are skipped with the reason; refusals and reads still run.
    for id in [
        "HP-RT-001",
        "HP-KEY-001",
        "HP-GEN-001",
        "HP-ER-005",
        "HP-LS-001",
    ] {
        assert_eq!(status_of(&report, id), "skipped", "{id}");
        assert!(note_of(&report, id).contains("declared get-only"), "{id}");
    }
    for id in [
        "HP-NF-002",
        "HP-IN-003",
        "HP-IN-013",
        "HP-OUT-003",
        "HP-ACT-001",
    ] {
        assert_eq!(status_of(&report, id), "passed", "{id}");
    }
    assert!(report["summary"]["must"]["passed"].as_u64().unwrap() >= 20);
}

#[test]
fn a_writing_helper_declared_get_only_fails_the_get_only_cases() {
    let b = Bundled::new();
    let mut cmd = b.certify(&b.path(Variant::Reference));
    cmd.arg("--get-only");
    let (code, report) = run_with_report(cmd);
    assert_eq!(code, Some(1));
    // It accepts every store (and its erase of an unknown URL refuses with a message, as the
    // get-only rule asks): the declaration is wrong, and the report names the cases that show it.
    assert_eq!(
        failed_ids(&report),
        ["HP-RO-001", "HP-RO-002", "HP-RO-003", "HP-RO-004"]
            .map(String::from)
            .to_vec(),
    );
    // The run erased what the accepted stores kept.
    let listed = b.reference("list", "");
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "{}");
}

#[test]
fn a_get_only_helper_certified_as_a_writing_one_fails_and_gets_no_get_only_cases() {
    let b = Bundled::new();
    let (code, report) = run_with_report(b.certify(&b.path(Variant::GetOnly)));
    assert_eq!(code, Some(1));
    assert_eq!(status_of(&report, "HP-RT-001"), "failed");
    assert!(report["target"].get("get_only").is_none());
    assert!(!ids(&report).iter().any(|id| id.starts_with("HP-RO-")));
}

#[test]
fn get_only_conflicts_with_a_login_cli() {
    credconform()
        .args(["--get-only", "--login-cli", "docker"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--get-only"));
}
