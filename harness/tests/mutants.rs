//! Every mutant of the reference helper breaks one rule; the suite must catch each of them.

mod support;

use credconform::bundled::{Mutant, Variant};
use support::*;

#[test]
fn every_mutant_is_caught_and_the_catching_cases_are_named() {
    let b = Bundled::new();
    let mut escaped = Vec::new();
    assert!(Mutant::ALL.len() >= 12, "at least 12 mutants are required");
    for mutant in Mutant::ALL {
        let mut cmd = b.certify(&b.path(Variant::Mutant(*mutant)));
        cmd.args(["--strict", "--seed", "7"]);
        let (code, report) = run_with_report(cmd);
        let caught_by = failed_ids(&report);
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
        if code != Some(1) || caught_by.is_empty() {
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
    let mut cmd = b.certify(&b.path(Variant::Reference));
    cmd.arg("--strict");
    let (code, report) = run_with_report(cmd);
    assert_eq!(code, Some(0));
    assert_eq!(failed_ids(&report), Vec::<String>::new());
    assert_eq!(report["summary"]["must"]["skipped"], 0);
    assert_eq!(report["summary"]["should"]["skipped"], 0);
}
