//! The OCI distribution-spec conformance suite against the `fake-registry` binary, through
//! `reports/oci-conformance.sh --check`: fails when any test case's status differs from the
//! committed `reports/fake-registry/junit.xml`. The suite's binary comes from
//! `OCI_CONFORMANCE_BIN`, or `target/compat/bin/oci-conformance` (built by `compat/build.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::peer_program;

#[test]
fn the_committed_oci_conformance_result_still_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let default = root.join("target/compat/bin/oci-conformance");
    let candidate = std::env::var_os("OCI_CONFORMANCE_BIN")
        .map(PathBuf::from)
        .unwrap_or(default);
    let Some(suite) = peer_program("oci-conformance", &[candidate.to_str().unwrap()]) else {
        return;
    };
    // The script bounds its own waits: 30 s for the registry, 900 s for the suite.
    let output = Command::new("bash")
        .arg(root.join("reports/oci-conformance.sh"))
        .arg("--check")
        .env("OCI_CONFORMANCE_BIN", &suite)
        .env("FAKE_REGISTRY_BIN", env!("CARGO_BIN_EXE_fake-registry"))
        .output()
        .expect("bash runs reports/oci-conformance.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "reports/oci-conformance.sh --check failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("still holds"), "{stdout}");
}
