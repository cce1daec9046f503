//! The suite against a real helper: Debian's docker-credential-pass 0.6.4, with a throwaway GPG
//! key and password store. Asserts the verdicts it really earns, and that the run leaves the
//! store as it found it.

mod support;

use std::{path::Path, process::Command};

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
    if !(require_program("docker-credential-pass")
        && require_program("pass")
        && require_program("gpg"))
    {
        return;
    }
    // gpg-agent's socket lives in GNUPGHOME: keep its path short.
    let gnupg = tempfile::Builder::new()
        .prefix("ccg")
        .tempdir_in("/tmp")
        .unwrap();
    let store = tempfile::Builder::new()
        .prefix("ccp")
        .tempdir_in("/tmp")
        .unwrap();
    let env = [
        ("GNUPGHOME", gnupg.path()),
        ("PASSWORD_STORE_DIR", store.path()),
    ];
    let keygen = run(
        "gpg",
        &[
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "credconform-ci <ci@credconform.test>",
            "default",
            "default",
            "never",
        ],
        &env,
        "",
    );
    assert!(
        keygen.status.success(),
        "{}",
        String::from_utf8_lossy(&keygen.stderr)
    );
    let keys = run("gpg", &["--list-keys", "--with-colons"], &env, "");
    let keys = String::from_utf8_lossy(&keys.stdout);
    let fpr = keys
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .unwrap()
        .split(':')
        .nth(9)
        .unwrap()
        .to_string();
    assert!(run("pass", &["init", &fpr], &env, "").status.success());
    let helper = "docker-credential-pass";
    let user_entry = r#"{"ServerURL":"https://index.docker.io/v1/","Username":"realuser","Secret":"real-hub-token"}"#;
    assert!(run(helper, &["store"], &env, user_entry).status.success());

    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("pass.json");
    let out = credconform()
        .args([
            "--helper",
            helper,
            "--seed",
            "1",
            "--json",
            json.to_str().unwrap(),
        ])
        .args(["--env", &format!("GNUPGHOME={}", gnupg.path().display())])
        .args([
            "--env",
            &format!("PASSWORD_STORE_DIR={}", store.path().display()),
        ])
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
    let list = run(helper, &["list"], &env, "");
    let listed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&list.stdout).unwrap();
    let keys: Vec<&String> = listed.keys().collect();
    assert_eq!(
        keys,
        ["https://index.docker.io/v1/"],
        "entries left behind: {keys:?}"
    );
    let got = run(helper, &["get"], &env, "https://index.docker.io/v1/");
    let got: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(got["Secret"], "real-hub-token");
    let _ = Command::new("gpgconf")
        .args(["--kill", "gpg-agent"])
        .env("GNUPGHOME", gnupg.path())
        .status();
}
