//! Verdicts a broken helper cannot game: three helpers that do nothing right are certified, and
//! the only cases they pass are the ones they meet honestly. Every other case fails, or is
//! blocked when a precondition step (the store took, the entry was returned) did not hold.

mod support;

use support::*;

/// Prints a line of garbage whatever it is asked, and exits 0.
const GARBAGE: &str = "cat >/dev/null\necho 'garbage %% not an answer {'\nexit 0";
/// Prints nothing whatever it is asked, and exits 0.
const SILENT_OK: &str = "cat >/dev/null\nexit 0";
/// Prints nothing whatever it is asked, and exits 1.
const SILENT_FAIL: &str = "cat >/dev/null\nexit 1";

/// Certifies a script helper with every helper case; returns the exit code and the report.
fn certify(name: &str, body: &str) -> (Option<i32>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let helper = script_helper(dir.path(), name, body);
    let mut cmd = credconform();
    cmd.arg("--helper").arg(&helper).args([
        "--suite",
        "helper-protocol",
        "--seed",
        "3",
        "--timeout",
        "30",
    ]);
    run_with_report(cmd)
}

/// The passing cases must be exactly `honest` (ID, why the helper meets it honestly); every
/// case that did not pass or skip counts against the verdict, and HP-ER-004 is blocked.
fn assert_only_honest_passes(name: &str, body: &str, honest: &[(&str, &str)]) {
    let (code, report) = certify(name, body);
    let mut expected: Vec<String> = honest.iter().map(|(id, _)| id.to_string()).collect();
    expected.sort();
    assert_eq!(
        ids_with_status(&report, "passed"),
        expected,
        "{name}: the passing cases differ from the honest ones"
    );
    assert_eq!(code, Some(1), "{name}: the run must fail");
    assert_eq!(report["summary"]["verdict"], "not-conformant");
    // Only the loopback cases are skipped: without a `list` answer the user's hosts are unknown.
    assert_eq!(
        ids_with_status(&report, "skipped"),
        ["HP-KEY-006", "HP-KEY-007"],
        "{name}"
    );
    let cases = report["cases"].as_array().unwrap();
    let counted = |level: &str, what: &str| report["summary"][level][what].as_u64().unwrap();
    let against: u64 = ["must", "should"]
        .iter()
        .map(|l| counted(l, "failed") + counted(l, "blocked"))
        .sum();
    assert_eq!(
        against as usize,
        cases.len() - expected.len() - 2,
        "{name}: every case that neither passed nor skipped counts against the verdict"
    );
    let er_004 = cases.iter().find(|c| c["id"] == "HP-ER-004").unwrap();
    assert_eq!(er_004["status"], "blocked", "{name}: {er_004}");
    let note = er_004["note"].as_str().unwrap();
    assert!(note.starts_with("precondition step "), "{name}: {note}");
    assert!(note.contains("did not hold"), "{name}: {note}");
    let evidence = er_004["steps"].as_array().unwrap();
    assert!(
        evidence
            .last()
            .is_some_and(|s| !s["mismatches"].as_array().unwrap().is_empty()),
        "{name}: the precondition's mismatches are the evidence"
    );
    assert!(
        counted("must", "blocked") > 0,
        "{name}: blocked cases are counted"
    );
}

#[test]
fn a_helper_answering_garbage_with_exit_0_passes_only_what_it_meets() {
    assert_only_honest_passes(
        "garbage",
        GARBAGE,
        &[
            (
                "HP-ACT-005",
                "version exits 0 with a line: the protocol prescribes no format for it",
            ),
            (
                "HP-NF-004",
                "a URL never stored gets an answer without Username or Secret fields",
            ),
        ],
    );
}

#[test]
fn a_silent_helper_exiting_0_passes_only_what_it_meets() {
    assert_only_honest_passes(
        "silent-ok",
        SILENT_OK,
        &[
            (
                "HP-ER-005",
                "erasing a URL never stored succeeds with nothing on stdout",
            ),
            (
                "HP-NF-004",
                "a URL never stored gets an answer without Username or Secret fields",
            ),
        ],
    );
}

#[test]
fn a_silent_helper_exiting_1_passes_only_what_it_meets() {
    assert_only_honest_passes(
        "silent-fail",
        SILENT_FAIL,
        &[
            (
                "HP-ACT-006",
                "an action with extra arguments is refused: the refusal is the whole requirement",
            ),
            (
                "HP-NF-001",
                "get of a URL never stored exits non-zero: the refusal is the whole requirement",
            ),
            (
                "HP-NF-004",
                "a URL never stored gets an answer without Username or Secret fields",
            ),
            (
                "HP-OUT-003",
                "a store refused for an empty Username echoes no secret",
            ),
        ],
    );
}

/// Certified as get-only, a silent helper exiting 1 passes only the refusals it meets honestly.
#[test]
fn a_silent_helper_exiting_1_certified_get_only_passes_only_what_it_meets() {
    let dir = tempfile::tempdir().unwrap();
    let helper = script_helper(dir.path(), "silent-fail", SILENT_FAIL);
    let mut cmd = credconform();
    cmd.arg("--helper")
        .arg(&helper)
        .args(["--get-only", "--seed", "3", "--timeout", "30"]);
    let (code, report) = run_with_report(cmd);
    assert_eq!(code, Some(1));
    assert_eq!(
        ids_with_status(&report, "passed"),
        [
            // an action with extra arguments is refused: the refusal is the whole requirement
            "HP-ACT-006",
            // get of a URL never stored exits non-zero: the refusal is the whole requirement
            "HP-NF-001",
            // a URL never stored gets an answer without Username or Secret fields
            "HP-NF-004",
            // a store refused for an empty Username echoes no secret
            "HP-OUT-003",
            // a store a get-only helper refuses echoes no secret
            "HP-RO-002",
        ]
    );
    assert_eq!(ids_with_status(&report, "blocked"), ["HP-ACT-007"]);
}

/// Login CLIs that print garbage, or nothing, with exit 0 or 1 pass only the login cases they
/// meet honestly; a logout case whose login saved nothing is blocked at that login.
#[test]
fn broken_login_clis_pass_only_what_they_meet() {
    const LOGOUT_NOTHING: (&str, &str) = (
        "LC-OUT-004",
        "logging out where there is no entry and touching nothing leaves the file byte-identical",
    );
    let refusals: &[(&str, &str)] = &[
        (
            "LC-FAIL-001",
            "a refused login that writes nothing leaves the existing file byte-identical",
        ),
        (
            "LC-FAIL-002",
            "a refused login that writes nothing creates no file or folder",
        ),
        LOGOUT_NOTHING,
    ];
    // No `cat` here: the sandbox's controlled PATH need not hold it, and a "not found" message
    // would be output the CLI did not mean to give.
    for (name, body, honest) in [
        (
            "garbage",
            "echo 'garbage %% not an answer {'\nexit 0",
            &[LOGOUT_NOTHING][..],
        ),
        ("silent-ok", "exit 0", &[LOGOUT_NOTHING][..]),
        ("silent-fail", "exit 1", refusals),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let cli = script_helper(dir.path(), name, body);
        let mut cmd = credconform();
        cmd.arg("--login-cli")
            .arg(&cli)
            .args(["--profile", "reference", "--timeout", "30"]);
        let (code, report) = run_with_report(cmd);
        let mut expected: Vec<String> = honest.iter().map(|(id, _)| id.to_string()).collect();
        expected.sort();
        assert_eq!(ids_with_status(&report, "passed"), expected, "{name}");
        assert_eq!(code, Some(1), "{name}");
        assert_eq!(
            ids_with_status(&report, "blocked"),
            ["LC-OUT-001", "LC-OUT-003"],
            "{name}"
        );
    }
}
