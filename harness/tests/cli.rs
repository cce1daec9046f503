//! The command line as users meet it: first run, listing, reports, selection, exit codes and
//! setup errors.

mod support;

use std::fs;

use predicates::prelude::*;
use support::*;

#[test]
fn the_first_run_certifies_the_bundled_reference_helper_strictly() {
    credconform()
        .arg("--strict")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("bundled reference helper"))
        .stdout(predicate::str::contains("verdict: Conformant ("))
        .stdout(predicate::str::contains(
            "no entry of this run is left in the store",
        ));
}

#[test]
fn list_shows_every_case_with_id_and_level() {
    let out = credconform()
        .arg("list")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let cases: Vec<&str> = text.lines().filter(|l| l.starts_with("HP-")).collect();
    assert!(cases.len() >= 40, "{text}");
    assert!(
        cases
            .iter()
            .all(|l| l.contains("MUST") || l.contains("SHOULD"))
    );
    assert!(text.contains("HP-NF-002"));
    // The get-only cases say when they are selected.
    let ro: Vec<&&str> = cases.iter().filter(|l| l.starts_with("HP-RO-")).collect();
    assert!(!ro.is_empty() && ro.iter().all(|l| l.ends_with("(with --get-only)")));
}

#[test]
fn json_and_junit_reports_are_written_and_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let (json, junit) = (
        dir.path().join("r/report.json"),
        dir.path().join("r/junit.xml"),
    );
    credconform()
        .args([
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ])
        .assert()
        .code(0);
    let report = read_report(&json);
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(report["schema_version"], 2);
    assert_eq!(report["summary"]["verdict"], "conformant");
    assert!(cases.len() >= 40);
    let xml = fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), cases.len());
    assert!(xml.contains("<testsuite name=\"helper-protocol\""));
    assert!(xml.contains("name=\"HP-RT-001\""));
}

#[test]
fn filter_suite_and_partition_select_cases() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("f.json");
    credconform()
        .args([
            "--filter",
            "hp-key",
            "--suite",
            "helper-protocol",
            "--json",
            json.to_str().unwrap(),
        ])
        .assert()
        .code(0);
    let r = read_report(&json);
    let ids: Vec<&str> = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|id| id.starts_with("HP-KEY-")),
        "{ids:?}"
    );

    let mut seen = Vec::new();
    for part in ["1/2", "2/2"] {
        credconform()
            .args([
                "--partition",
                part,
                "--filter",
                "HP-RT",
                "--json",
                json.to_str().unwrap(),
            ])
            .assert()
            .code(0);
        let r = read_report(&json);
        seen.extend(
            r["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        );
    }
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!(before, seen.len(), "a case ran in two partitions");
    assert_eq!(seen.len(), 9);
}

#[test]
fn setup_errors_exit_2_and_say_what_is_wrong() {
    credconform()
        .args(["--helper", "/no/such/docker-credential-x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/no/such/docker-credential-x"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docker-credential-noexec");
    fs::write(&file, "#!/bin/sh\n").unwrap();
    credconform()
        .args(["--helper", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not executable"));
    credconform()
        .args(["--suite", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no suite `nope`"));
    credconform().args(["--partition", "3/2"]).assert().code(2);
    credconform()
        .args(["--filter", "no-case-has-this"])
        .assert()
        .code(2);
    credconform().args(["--bogus-flag"]).assert().code(2);
}

#[test]
fn a_suite_for_the_other_kind_of_target_names_the_flag_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let helper = script_helper(dir.path(), "unused", "exit 0");
    credconform()
        .args(["--helper", helper.to_str().unwrap(), "--suite", "login"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the `login` suite certifies a login CLI: it needs --login-cli PATH",
        ))
        .stderr(predicate::str::contains("no case matches").not());
    credconform()
        .args(["--login-cli", "/bin/true", "--profile", "reference"])
        .args(["--suite", "helper-protocol"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the `helper-protocol` suite certifies a credential helper: it needs --helper PATH",
        ));
}

#[test]
fn a_broken_suite_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("broken");
    fs::create_dir(&suite).unwrap();
    fs::write(
        suite.join("suite.toml"),
        "title = \"b\"\nversion = \"1\"\ntarget = \"helper\"\n",
    )
    .unwrap();
    fs::write(
        suite.join("cases.toml"),
        "area = \"x\"\n\n[[case]]\nid = \"HP-X-001\"\nlevel = \"MAYBE\"\ntitle = \"t\"\ncites = \"c\"\n",
    )
    .unwrap();
    credconform()
        .args(["--suites-dir", dir.path().to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cases.toml:5"))
        .stderr(predicate::str::contains("MAYBE"));
}

#[test]
fn a_hanging_helper_times_out_with_a_clear_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let helper = script_helper(dir.path(), "hang", "sleep 30");
    let started = std::time::Instant::now();
    credconform()
        .args([
            "--helper",
            helper.to_str().unwrap(),
            "--filter",
            "HP-RT-001",
            "--timeout",
            "0.3",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("timed out and was killed"));
    assert!(started.elapsed().as_secs() < 20);
}

#[test]
fn a_flooding_helper_is_capped_and_a_crashing_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let flood = script_helper(dir.path(), "flood", "yes flood");
    credconform()
        .args(["--helper", flood.to_str().unwrap(), "--filter", "HP-RT-001"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("exceeded the output cap"));
    let crash = script_helper(dir.path(), "crash", "kill -SEGV $$");
    credconform()
        .args(["--helper", crash.to_str().unwrap(), "--filter", "HP-RT-001"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("SIGSEGV"));
}

#[test]
fn failures_show_action_redacted_stdin_and_expected_against_actual() {
    let b = Bundled::new();
    let helper = b.path(credconform::bundled::Variant::Mutant(
        "strip-secret-newline".parse().unwrap(),
    ));
    let out = credconform()
        .args([
            "--helper",
            helper.to_str().unwrap(),
            "--env",
            &b.store_env(),
            "--filter",
            "HP-SEC-005",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("FAIL  HP-SEC-005 [MUST]"), "{text}");
    assert!(text.contains("step 2: get"), "{text}");
    assert!(
        text.contains("expected:") && text.contains("actual:"),
        "{text}"
    );
    assert!(
        text.contains(r#"where the secret has "\r\n" the answer has """#),
        "{text}"
    );
    assert!(
        !text.contains("ends-with-crlf"),
        "the secret leaked: {text}"
    );
    assert!(text.contains("MUST:   0 passed, 1 failed"), "{text}");
}

#[test]
fn a_seed_reproduces_the_minimal_failing_input() {
    let b = Bundled::new();
    let helper = b.path(credconform::bundled::Variant::Mutant(
        "ascii-only".parse().unwrap(),
    ));
    let run = |seed: &str| {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("r.json");
        b.certify(&helper)
            .args([
                "--filter",
                "HP-GEN-001",
                "--seed",
                seed,
                "--json",
                json.to_str().unwrap(),
            ])
            .assert()
            .code(1)
            .stdout(predicate::str::contains(format!("seed {seed}")));
        let r = read_report(&json);
        assert_eq!(r["seed"], seed.parse::<u64>().unwrap());
        let note = r["cases"][0]["note"].as_str().unwrap();
        note.replace(r["run_id"].as_str().unwrap(), "RUN")
    };
    let (first, second) = (run("4242"), run("4242"));
    assert!(first.contains("minimal failing input"), "{first}");
    assert!(first.contains("non-ASCII"), "{first}");
    assert_eq!(first, second, "the same seed must shrink to the same input");
}

/// Every literal secret the helper suite hands out, read from the suite files.
fn suite_secrets() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites/helper-protocol");
    let mut secrets = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let text = fs::read_to_string(entry.unwrap().path()).unwrap();
        for piece in text
            .split("Secret = ")
            .skip(1)
            .chain(text.split("\"Secret\":").skip(1))
        {
            let value: String = piece
                .trim_start_matches(['"', '\\'])
                .chars()
                .take_while(|c| *c != '"' && *c != '\\')
                .collect();
            if value.len() >= 6 && !value.contains("${") {
                secrets.push(value);
            }
        }
    }
    assert!(secrets.len() > 40, "{secrets:?}");
    secrets
}

#[test]
fn no_secret_reaches_any_output_even_from_leaking_helpers() {
    let secrets = suite_secrets();
    let b = Bundled::new();
    for mutant in [
        "list-leaks-secret",
        "secret-on-stderr",
        "prefix-match",
        "strip-secret-newline",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
        let out = b
            .certify(&b.path(credconform::bundled::Variant::Mutant(
                mutant.parse().unwrap(),
            )))
            .args(["--json", &file("r.json"), "--junit", &file("r.xml")])
            .args(["--markdown", &file("r.md"), "--html", &file("r.html")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{mutant}");
        let mut everything = String::from_utf8_lossy(&out.stdout).into_owned();
        everything.push_str(&String::from_utf8_lossy(&out.stderr));
        for name in ["r.json", "r.xml", "r.md", "r.html"] {
            everything.push_str(&fs::read_to_string(file(name)).unwrap());
        }
        for secret in &secrets {
            assert!(
                !everything.contains(secret.as_str()),
                "{mutant}: secret {secret:?} leaked into the output"
            );
        }
    }
}
