//! The safety contract for helpers backed by a user's real keychain: the runner touches only
//! its own namespace, erases everything it stored (after failures and on Ctrl-C too), and leaves
//! entries it did not store untouched.

mod support;

use std::{process::Stdio, time::Duration};

use credconform::{
    bundled::{Mutant, Variant},
    run::Namespace,
};
use support::*;

const USER_ENTRIES: [(&str, &str, &str); 3] = [
    ("https://index.docker.io/v1/", "realuser", "real-hub-token"),
    ("localhost:5000", "localuser", "real-local-password"),
    ("127.0.0.1:5000", "ipuser", "real-ip-password"),
];

fn seed_user_entries(b: &Bundled) {
    for (url, user, secret) in USER_ENTRIES {
        let payload = serde_json::json!({"ServerURL": url, "Username": user, "Secret": secret});
        assert!(b.reference("store", &payload.to_string()).status.success());
    }
}

/// The store holds exactly the user's entries, unchanged, and nothing of any run.
fn assert_only_user_entries(b: &Bundled) {
    for (url, user, secret) in USER_ENTRIES {
        let out = b.reference("get", url);
        assert!(out.status.success(), "the user's entry {url} is gone");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (v["Username"].as_str(), v["Secret"].as_str()),
            (Some(user), Some(secret)),
            "{url} changed"
        );
    }
    let list: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&b.reference("list", "").stdout).unwrap();
    let mut urls: Vec<&String> = list.keys().collect();
    urls.sort();
    let mut expected: Vec<&str> = USER_ENTRIES.iter().map(|e| e.0).collect();
    expected.sort();
    assert_eq!(urls, expected, "entries were left behind or removed");
}

#[test]
fn a_failing_run_leaves_the_users_entries_untouched_and_nothing_of_its_own() {
    let b = Bundled::new();
    seed_user_entries(&b);
    // erase-by-host and host-only-key would destroy a user's entries if the runner ever named
    // a user's host; keep-first leaves entries behind unless cleanup sweeps.
    for mutant in ["erase-by-host", "host-only-key", "keep-first"] {
        let helper = b.path(Variant::Mutant(mutant.parse::<Mutant>().unwrap()));
        let out = b.certify(&helper).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{mutant} should fail the suite");
        assert_only_user_entries(&b);
    }
}

#[test]
fn a_helper_that_destroys_its_own_store_is_reported_loudly() {
    // unlocked-writes rewrites its file in place without a lock: under the suite's concurrent
    // stores a reader sees a half-written file and writes the user's entries away. The runner
    // never names those entries, cannot prevent the helper's own race, and must say so.
    let b = Bundled::new();
    seed_user_entries(&b);
    let (code, report) =
        run_with_report(b.certify(&b.path(Variant::Mutant(Mutant::UnlockedWrites))));
    assert_eq!(code, Some(1));
    let list: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&b.reference("list", "").stdout).unwrap_or_default();
    let lost: Vec<&str> = USER_ENTRIES
        .iter()
        .map(|e| e.0)
        .filter(|url| !list.contains_key(*url))
        .collect();
    let reported: Vec<String> = report["cleanup"]["foreign_changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let store_unreadable = reported
        .iter()
        .any(|r| r.contains("can no longer be listed"));
    for url in &lost {
        assert!(
            store_unreadable || reported.contains(&format!("{url}: gone")),
            "{url} lost silently: {reported:?}"
        );
    }
    if !lost.is_empty() {
        assert_eq!(report["summary"]["store_damaged"], true);
        assert_eq!(report["summary"]["verdict"], "not-conformant");
    }
    assert!(
        list.keys().all(|k| !k.contains(".credconform.test")),
        "run entries left: {list:?}"
    );
}

#[test]
fn cases_on_a_host_the_user_already_uses_are_skipped() {
    let b = Bundled::new();
    seed_user_entries(&b);
    let mut cmd = b.certify(&b.path(Variant::Reference));
    cmd.args(["--filter", "HP-KEY-00"]);
    let (code, r) = run_with_report(cmd);
    assert_eq!(code, Some(0));
    assert_eq!(status_of(&r, "HP-KEY-006"), "skipped");
    assert_eq!(status_of(&r, "HP-KEY-007"), "skipped");
    assert_eq!(status_of(&r, "HP-KEY-001"), "passed");
    assert_only_user_entries(&b);
}

#[test]
fn ctrl_c_stops_the_run_and_erases_what_it_stored() {
    let b = Bundled::new();
    seed_user_entries(&b);
    // A slow helper, so that the interrupt lands in the middle of the run.
    let dir = tempfile::tempdir().unwrap();
    let child = b
        .run_command(&b.slow_reference(dir.path()))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run has stored something, then interrupt it.
    b.wait_until_a_run_stored(Duration::from_secs(20));
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stderr.contains("no entry of this run is left"), "{stderr}");
    assert_only_user_entries(&b);
}

#[test]
fn clean_erases_leftovers_of_killed_runs_and_nothing_else() {
    let b = Bundled::new();
    seed_user_entries(&b);
    let (a, b_ns) = (Namespace::random(), Namespace::random());
    for url in [
        format!("https://{}", a.case_host("HP-RT-001")),
        format!("localhost:41234/{}", b_ns.case_segment("HP-KEY-006")),
    ] {
        let payload =
            serde_json::json!({"ServerURL": url, "Username": "u", "Secret": "left-behind"});
        assert!(b.reference("store", &payload.to_string()).status.success());
    }
    credconform()
        .args([
            "clean",
            "--helper",
            b.path(Variant::Reference).to_str().unwrap(),
            "--env",
            &b.store_env(),
        ])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("erased 2 entries"));
    assert_only_user_entries(&b);
}

#[test]
fn a_refused_store_is_erased_once_and_not_again_by_the_final_cleanup() {
    // HP-IN-005 stores with an empty Username, which the reference refuses: the case's own
    // erase hears "not found" and the run's cleanup has nothing left to erase. The store is
    // listed twice: before the run, and once at the end for both the sweep and the check of
    // the user's entries.
    let b = Bundled::new();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("actions.log");
    let body = format!(
        "echo \"$1\" >> '{}'\nexec '{}' \"$@\"",
        log.display(),
        b.path(Variant::Reference).display()
    );
    let mut cmd = b.certify(&script_helper(dir.path(), "logged", &body));
    cmd.args(["--filter", "HP-IN-005"]);
    let (code, r) = run_with_report(cmd);
    assert_eq!((code, status_of(&r, "HP-IN-005")), (Some(0), "passed"));
    let actions = std::fs::read_to_string(&log).unwrap();
    let erases = actions.lines().filter(|a| *a == "erase").count();
    assert_eq!(erases, 1, "{actions}");
    assert_eq!(
        actions.lines().filter(|a| *a == "list").count(),
        2,
        "{actions}"
    );
    assert_eq!(r["cleanup"]["erased"], 0);
}
