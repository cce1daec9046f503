//! The login suite against the bundled reference login client (passes every case strictly)
//! and its mutants (each one caught by at least one case).

mod support;

use credconform::bundled::{BundledPrograms, LoginMutant, LoginVariant};
use support::*;

fn certify(programs: &BundledPrograms, v: LoginVariant) -> (Option<i32>, serde_json::Value) {
    let mut cmd = credconform();
    cmd.arg("--login-cli")
        .arg(programs.login_path(v))
        .args(["--profile", "reference", "--strict"]);
    run_with_report(cmd)
}

#[test]
fn the_reference_login_client_passes_every_case_strictly() {
    let programs = BundledPrograms::linking(&credconform_bin()).unwrap();
    let (code, report) = certify(&programs, LoginVariant::Reference);
    assert_eq!(failed_ids(&report), Vec::<String>::new());
    assert_eq!(code, Some(0));
    let cases = report["cases"].as_array().unwrap();
    assert!(
        cases.len() >= 25,
        "the login suite has {} cases",
        cases.len()
    );
    assert!(cases.iter().all(|c| c["status"] == "passed"));
    assert!(
        cases
            .iter()
            .all(|c| c["id"].as_str().unwrap().starts_with("LC-"))
    );
    let text = report.to_string();
    for secret in ["alice-password", "fkr_pat_bob_write_2d8e4a6c1f3b5d7e9a0c"] {
        assert!(!text.contains(secret), "the report shows a secret");
    }
}

#[test]
fn every_login_mutant_is_caught_and_the_catching_cases_are_named() {
    let programs = BundledPrograms::linking(&credconform_bin()).unwrap();
    assert!(LoginMutant::ALL.len() >= 6);
    let mut escaped = Vec::new();
    for m in LoginMutant::ALL {
        let (code, report) = certify(&programs, LoginVariant::Mutant(*m));
        let caught_by = failed_ids(&report);
        println!(
            "{:<30} breaks: {}\n{:<30} caught by: {caught_by:?}",
            m.name(),
            m.rule_broken(),
            ""
        );
        if code != Some(1) || caught_by.is_empty() {
            escaped.push(m.name());
        }
        assert!(
            !report.to_string().contains("alice-password"),
            "{} report leaks",
            m.name()
        );
    }
    assert!(escaped.is_empty(), "login mutants not caught: {escaped:?}");
}

#[test]
fn a_snapshot_mismatch_prints_a_unified_diff() {
    let programs = BundledPrograms::linking(&credconform_bin()).unwrap();
    let mutant = LoginVariant::Mutant(LoginMutant::DropsSettings);
    let out = credconform()
        .arg("--login-cli")
        .arg(programs.login_path(mutant))
        .args(["--profile", "reference", "--filter", "LC-FILE-004"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("config snapshot"), "{text}");
    assert!(
        text.contains("-  \"psFormat\": \"table {{.ID}}\""),
        "{text}"
    );
}
