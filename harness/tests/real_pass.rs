//! The suite against a real helper: Debian's docker-credential-pass 0.6.4, with a throwaway GPG
//! key and password store. Asserts the verdicts it really earns, and that the run leaves the
//! store as it found it.

mod support;

use support::*;

/// The cases pass 0.6.4 fails, each for a reason observed on the real program.
const EXPECTED_FAILURES: &[(&str, &str)] = &[
    ("HP-NF-001", "get of an unknown URL exits 0"),
    (
        "HP-NF-002",
        "get of an unknown URL answers with empty credentials, not the not-found message",
    ),
    (
        "HP-NF-003",
        "get after erase exits 0 with empty credentials",
    ),
    (
        "HP-NF-004",
        "get of an unknown URL answers with a Username and an empty Secret",
    ),
    (
        "HP-RT-003",
        "a new username for the same URL is kept beside the first; get returns the first",
    ),
    ("HP-RT-008", "a username with a slash breaks get"),
    ("HP-SEC-005", "trailing CR/LF is stripped from secrets"),
    (
        "HP-ER-005",
        "erase of an unknown URL fails with a pass-specific message",
    ),
    (
        "HP-IN-014",
        "payload lines of 64 KiB or more fail: bufio.Scanner: token too long",
    ),
];

#[test]
fn docker_credential_pass_earns_its_known_verdicts_and_is_left_clean() {
    let Some(pass) = PassStore::new() else {
        return;
    };
    let helper = "docker-credential-pass";
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("pass.json");
    let out = pass
        .certify()
        .args(["--json", json.to_str().unwrap()])
        .output()
        .unwrap();
    let report = read_report(&json);
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["target"]["version"], "0.6.4");
    let mut expected: Vec<String> = EXPECTED_FAILURES
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    expected.sort();
    let mut failed = failed_ids(&report);
    failed.sort();
    assert_eq!(failed, expected, "pass 0.6.4's verdicts changed");
    assert_eq!(status_of(&report, "HP-RT-001"), "passed");
    assert_eq!(status_of(&report, "HP-CON-001"), "passed");
    assert_eq!(status_of(&report, "HP-SEC-007"), "passed");
    assert_eq!(status_of(&report, "HP-GEN-001"), "passed");
    assert_eq!(report["summary"]["verdict"], "not-conformant");

    // Nothing of the run is left, and the user's entry is untouched.
    let list = pass.run(helper, &["list"], "");
    let listed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&list.stdout).unwrap();
    let keys: Vec<&String> = listed.keys().collect();
    assert_eq!(
        keys,
        ["https://index.docker.io/v1/"],
        "entries left behind: {keys:?}"
    );
    let got = pass.run(helper, &["get"], "https://index.docker.io/v1/");
    let got: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(got["Secret"], "real-hub-token");
}
