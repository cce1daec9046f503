//! Every mutant of the reference helper breaks one rule; the suite must catch each of them.

mod support;

use credconform::bundled::{Mutant, Variant};
use support::*;

#[test]
fn every_mutant_is_caught_and_the_catching_cases_are_named() {
    let b = Bundled::new();
    let dir = tempfile::tempdir().unwrap();
    let mut escaped = Vec::new();
    assert!(Mutant::ALL.len() >= 12, "at least 12 mutants are required");
    for mutant in Mutant::ALL {
        let json = dir.path().join(format!("{}.json", mutant.name()));
        let helper = b.path(Variant::Mutant(*mutant));
        let out = credconform()
            .args([
                "--helper",
                helper.to_str().unwrap(),
                "--env",
                &b.store_env(),
            ])
            .args(["--strict", "--seed", "7", "--json", json.to_str().unwrap()])
            .output()
            .unwrap();
        let caught_by = failed_ids(&read_report(&json));
        println!(
            "{:<26} breaks: {}\n{:<26} caught by: {}",
            mutant.name(),
            mutant.rule_broken(),
            "",
            if caught_by.is_empty() {
                "NOTHING".to_string()
            } else {
                caught_by.join(", ")
            }
        );
        if out.status.code() != Some(1) || caught_by.is_empty() {
            escaped.push(mutant.name());
        }
    }
    assert!(
        escaped.is_empty(),
        "mutants not caught by the suite: {escaped:?}"
    );
}

#[test]
fn the_reference_helper_passes_every_case_strictly() {
    let b = Bundled::new();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("ref.json");
    credconform()
        .args([
            "--helper",
            b.path(Variant::Reference).to_str().unwrap(),
            "--env",
            &b.store_env(),
        ])
        .args(["--strict", "--json", json.to_str().unwrap()])
        .assert()
        .code(0);
    let r = read_report(&json);
    assert_eq!(failed_ids(&r), Vec::<String>::new());
    assert_eq!(r["summary"]["must"]["skipped"], 0);
    assert_eq!(r["summary"]["should"]["skipped"], 0);
}
