//! The login suite against the real CLIs on this machine: the docker CLI passes every MUST
//! case; skopeo, podman and buildah (Debian 12), crane and oras (built by `compat/build.sh`) fail
//! exactly the cases below, as observed. A missing CLI is SKIPPED, or a failure when `CI` is set.

mod support;

use support::*;

fn certify(cli: impl AsRef<std::ffi::OsStr>) -> (Option<i32>, serde_json::Value) {
    let mut cmd = credconform();
    cmd.arg("--login-cli").arg(cli).args(["--jobs", "2"]);
    run_with_report(cmd)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// What the containers tools (containers/image auth code) really do against the suite.
const CONTAINERS_TOOLS_FAIL: &[&str] = &[
    "LC-FILE-004",  // drops psFormat and proxies
    "LC-FILE-005",  // drops unknown top-level keys
    "LC-FILE-008",  // refuses `host:port/`
    "LC-IN-003",    // no warning for --password
    "LC-IN-005",    // prints `invalid username/password`, not the registry's message
    "LC-OUT-001",   // logout drops psFormat
    "LC-OUT-003",   // logout exits 2 when the helper's erase fails
    "LC-OUT-004",   // logout of an unknown registry exits 1 and rewrites the file
    "LC-PAT-002",   // `invalid username/password` instead of the expiry message
    "LC-PAT-003",   // ... instead of `inactive`
    "LC-PAT-004",   // ... instead of `incorrect username or password` (close, but not the text)
    "LC-PW-002",    // ... instead of `please use personal access token to login`
    "LC-STORE-005", // deletes credsStore
    "LC-STORE-006", // writes the secret in plain text despite credsStore
];

fn check_containers_tool(name: &str) {
    if !require_program(name) {
        return;
    }
    let (code, report) = certify(name);
    assert_eq!(code, Some(1));
    assert_eq!(
        sorted(failed_ids(&report)),
        sorted(
            CONTAINERS_TOOLS_FAIL
                .iter()
                .map(|s| s.to_string())
                .collect()
        )
    );
    for skipped in ["LC-STORE-001", "LC-IDT-001", "LC-JRN-001", "LC-OUT-002"] {
        assert_eq!(status_of(&report, skipped), "skipped", "{skipped}");
    }
}

#[test]
fn docker_passes_every_must_case() {
    if !require_program("docker") {
        return;
    }
    let (code, report) = certify("docker");
    assert_eq!(code, Some(0), "{:?}", failed_ids(&report));
    assert_eq!(report["summary"]["must"]["failed"], 0);
    assert_eq!(report["summary"]["must"]["skipped"], 0);
    // Observed deviations at SHOULD level: unknown top-level keys are dropped, and a failing
    // erase leaves the registry's entry in the file.
    assert_eq!(sorted(failed_ids(&report)), ["LC-FILE-005", "LC-OUT-003"]);
}

#[test]
fn skopeo_verdicts_are_as_observed() {
    check_containers_tool("skopeo");
}

#[test]
fn podman_verdicts_are_as_observed() {
    check_containers_tool("podman");
}

#[test]
fn buildah_verdicts_are_as_observed() {
    check_containers_tool("buildah");
}

/// crane 0.22.1 writes what it is given without asking the registry.
const CRANE_FAILS: &[&str] = &[
    "LC-FAIL-001", // a refused login still writes the file ...
    "LC-FAIL-002", // ... and creates it
    "LC-FAIL-003", // a registry answering 500 is never asked: exit 0
    "LC-FAIL-004", // ... nor a dropped connection
    "LC-FAIL-005", // ... nor a failing token endpoint
    "LC-FILE-005", // drops unknown top-level keys (docker's config library)
    "LC-FILE-007", // refuses `http://host:port`: not an RFC 3986 authority
    "LC-FILE-008", // refuses `host:port/`
    "LC-IN-003",   // no warning for --password
    "LC-JRN-002",  // no request at all
    "LC-OUT-003",  // logout exits 1 and keeps the entry when the helper's erase fails
    "LC-OUT-004",  // logout of an unknown registry rewrites the file (tabs, no final newline)
    "LC-PAT-002",  // an expired PAT is stored
    "LC-PAT-003",  // ... a deactivated one
    "LC-PAT-004",  // ... a deleted one
    "LC-PW-002",   // ... and a 2FA account's password
];

/// oras 1.3.6 logs in through the registry but keeps none of its messages.
const ORAS_FAILS: &[&str] = &[
    "LC-FILE-007",  // refuses `http://host:port`: invalid registry
    "LC-FILE-008",  // refuses `host:port/`
    "LC-IN-005",    // `response status code 401: Unauthorized`, not the registry's message
    "LC-OUT-003",   // logout exits 1 when the helper's erase fails
    "LC-PAT-002",   // ... instead of the expiry message
    "LC-PAT-003",   // ... instead of `inactive`
    "LC-PAT-004",   // ... instead of `incorrect username or password`
    "LC-PW-002",    // ... instead of `please use personal access token to login`
    "LC-STORE-001", // with credsStore no `auths[host]` entry is written
];

fn check_compat_cli(name: &str, expected_failures: &[&str], skipped: &[&str]) {
    let Some(cli) = require_compat_program(name) else {
        return;
    };
    let (code, report) = certify(&cli);
    assert_eq!(code, Some(1));
    assert_eq!(
        sorted(failed_ids(&report)),
        sorted(expected_failures.iter().map(|s| s.to_string()).collect())
    );
    for id in skipped {
        assert_eq!(status_of(&report, id), "skipped", "{id}");
    }
}

#[test]
fn crane_verdicts_are_as_observed() {
    check_compat_cli(
        "crane",
        CRANE_FAILS,
        &["LC-IDT-001", "LC-JRN-001", "LC-IN-004", "LC-IN-005"],
    );
}

#[test]
fn oras_verdicts_are_as_observed() {
    check_compat_cli("oras", ORAS_FAILS, &["LC-IDT-001", "LC-JRN-001"]);
}
