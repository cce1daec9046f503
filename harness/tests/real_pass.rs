//! The suite against a real helper: Debian's docker-credential-pass 0.6.4, with a throwaway GPG
//! key and password store. Asserts the verdicts it really earns, and that the run leaves the
//! store as it found it.

mod support;

use std::{path::Path, process::Command};

use support::*;

/// The cases pass 0.6.4 fails, each for a reason observed on the real program.
const EXPECTED_FAILURES: &[(&str, &str)] = &[
    ("HP-NF-001", "get of an unknown URL exits 0 with empty credentials"),
    ("HP-NF-002", "the not-found message is missing (exit 0, empty credentials)"),
    ("HP-NF-003", "get after erase exits 0 with empty credentials"),
    ("HP-NF-004", "get of an unknown URL answers with a JSON object holding an empty Secret"),
    ("HP-KEY-007", "get of an unknown URL exits 0"),
    ("HP-KEY-008", "get of an unknown URL exits 0"),
    ("HP-KEY-009", "get of an unknown URL exits 0"),
    ("HP-KEY-010", "get of an unknown URL exits 0"),
    ("HP-KEY-011", "get of an unknown URL exits 0"),
    ("HP-KEY-012", "get of an unknown URL exits 0"),
    ("HP-RT-003", "a second username for the same URL is kept beside the first, and get returns the first"),
    ("HP-RT-008", "a username with a slash breaks get"),
    ("HP-SEC-004", "pass keeps only the first line of a multi-line secret"),
    ("HP-SEC-005", "trailing CR/LF is stripped from secrets"),
    ("HP-ER-004", "get after erase exits 0"),
    ("HP-ER-005", "erase of an unknown URL fails with a pass-specific message"),
    ("HP-IN-005", "get of an unknown URL exits 0"),
    ("HP-IN-007", "get of an unknown URL exits 0"),
    ("HP-IN-014", "payload lines of 64 KiB or more fail: bufio.Scanner: token too long"),
    ("HP-OUT-004", "get of an unknown URL prints a JSON answer, not an error"),
];

fn run(program: &str, args: &[&str], env: &[(&str, &Path)], stdin: &str) -> std::process::Output {
    let mut cmd = assert_cmd::Command::new(program);
    cmd.args(args).write_stdin(stdin);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn docker_credential_pass_earns_its_known_verdicts_and_is_left_clean() {
    if !(require_program("docker-credential-pass") && require_program("pass") && require_program("gpg")) {
        return;
    }
    // gpg-agent's socket lives in GNUPGHOME: keep its path short.
    let gnupg = tempfile::Builder::new().prefix("ccg").tempdir_in("/tmp").unwrap();
    let store = tempfile::Builder::new().prefix("ccp").tempdir_in("/tmp").unwrap();
    let env = [("GNUPGHOME", gnupg.path()), ("PASSWORD_STORE_DIR", store.path())];
    let gen = run(
        "gpg",
        &["--batch", "--passphrase", "", "--quick-gen-key", "credconform-ci <ci@credconform.test>", "default", "default", "never"],
        &env,
        "",
    );
    assert!(gen.status.success(), "{}", String::from_utf8_lossy(&gen.stderr));
    let keys = run("gpg", &["--list-keys", "--with-colons"], &env, "");
    let keys = String::from_utf8_lossy(&keys.stdout);
    let fpr = keys.lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap().to_string();
    assert!(run("pass", &["init", &fpr], &env, "").status.success());
    let helper = "docker-credential-pass";
    let user_entry = r#"{"ServerURL":"https://index.docker.io/v1/","Username":"realuser","Secret":"real-hub-token"}"#;
    assert!(run(helper, &["store"], &env, user_entry).status.success());

    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("pass.json");
    let out = credconform()
        .args(["--helper", helper, "--seed", "1", "--json", json.to_str().unwrap()])
        .args(["--env", &format!("GNUPGHOME={}", gnupg.path().display())])
        .args(["--env", &format!("PASSWORD_STORE_DIR={}", store.path().display())])
        .output()
        .unwrap();
    let report = read_report(&json);
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["target"]["version"], "0.6.4");
    let mut expected: Vec<String> = EXPECTED_FAILURES.iter().map(|(id, _)| id.to_string()).collect();
    expected.sort();
    let mut failed = failed_ids(&report);
    // The generative cases fail on whatever random secret pass mangles first; they are checked
    // separately below.
    failed.retain(|id| !id.starts_with("HP-GEN-"));
    failed.sort();
    assert_eq!(failed, expected, "pass 0.6.4's verdicts changed");
    assert_eq!(status_of(&report, "HP-RT-001"), "passed");
    assert_eq!(status_of(&report, "HP-CON-001"), "passed");
    assert_eq!(status_of(&report, "HP-SEC-007"), "passed");
    assert_eq!(report["summary"]["verdict"], "not-conformant");

    // Nothing of the run is left, and the user's entry is untouched.
    let list = run(helper, &["list"], &env, "");
    let listed: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    let keys: Vec<&String> = listed.keys().collect();
    assert_eq!(keys, ["https://index.docker.io/v1/"], "entries left behind: {keys:?}");
    let got = run(helper, &["get"], &env, "https://index.docker.io/v1/");
    let got: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(got["Secret"], "real-hub-token");
    let _ = Command::new("gpgconf").args(["--kill", "gpg-agent"]).env("GNUPGHOME", gnupg.path()).status();
}
