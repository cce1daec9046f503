//! The binary works wherever it is installed: a copy in a temporary folder, run from an empty
//! directory with a bare environment (no source tree reachable), lists the built-in cases,
//! certifies the bundled reference helper and login client (snapshots included), adds a
//! vendor's suite, and writes snapshots only into a folder the user names.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
};

/// The copy of the built binary, away from the source tree, shared by every test: made once,
/// before any test of this file runs a program, so no child forked meanwhile can hold the copy
/// open for writing (exec would then fail with "Text file busy").
fn installed_binary() -> &'static Path {
    static BIN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &BIN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("credconform");
        fs::copy(env!("CARGO_BIN_EXE_credconform"), &bin).unwrap();
        (dir, bin)
    })
    .1
}

/// The installed binary and an empty working directory of one test.
struct Installed {
    dir: tempfile::TempDir,
}

impl Installed {
    fn new() -> Self {
        installed_binary();
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("cwd")).unwrap();
        Installed { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the copy from the empty directory with nothing of the build's environment.
    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let Output {
            status,
            stdout,
            stderr,
        } = Command::new(installed_binary())
            .args(args)
            .current_dir(self.path("cwd"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", self.path("cwd"))
            .env("XDG_STATE_HOME", self.path("state"))
            .output()
            .unwrap();
        (
            status.code(),
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }
}

/// The example vendor suite of `docs/examples`, copied next to the installed binary.
fn copy_example(to: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/acme-helper");
    let dst = to.join("acme-helper");
    fs::create_dir_all(&dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let p = entry.unwrap().path();
        fs::copy(&p, dst.join(p.file_name().unwrap())).unwrap();
    }
    dst
}

#[test]
fn a_copied_binary_lists_and_certifies_from_an_empty_directory() {
    let installed = Installed::new();
    let (code, out, err) = installed.run(&["list"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("# helper-protocol (") && out.contains("cases, built-in)"),
        "{out}"
    );
    assert!(
        out.contains("HP-RT-001") && out.contains("LC-FILE-004"),
        "{out}"
    );

    let json = installed.path("helper.json");
    let (code, out, err) =
        installed.run(&["--filter", "HP-RT-00", "--json", json.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("bundled reference helper"), "{out}");
    assert!(
        out.contains(&format!("JSON report: {}", json.display())),
        "{out}"
    );
    assert!(json.is_file());

    // A login case that compares the config file with its built-in snapshot.
    let (code, out, err) = installed.run(&["--suite", "login", "--filter", "LC-FILE-004"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("bundled reference login client"), "{out}");
}

#[test]
fn a_vendor_suite_runs_beside_the_built_in_ones() {
    let installed = Installed::new();
    let vendor = copy_example(installed.dir.path());
    let vendor_arg = vendor.to_str().unwrap();
    let (code, out, err) = installed.run(&["list", "--add-suite", vendor_arg]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains(&format!("cases, from {})", vendor.display())),
        "{out}"
    );
    assert!(
        out.contains("AC-USER-001") && out.contains("HP-RT-001"),
        "{out}"
    );

    let json = installed.path("vendor.json");
    let (code, out, err) = installed.run(&[
        "--add-suite",
        vendor_arg,
        "--suite",
        "acme-helper",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    let report: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    let ids: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["AC-USER-001", "AC-USER-002"], "{out}");

    // An ID of a built-in case is refused, naming both places.
    let file = vendor.join("usernames.toml");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replace("AC-USER-002", "HP-RT-001")).unwrap();
    let (code, _, err) = installed.run(&["list", "--add-suite", vendor_arg]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&file.display().to_string())
            && err.contains("already used at suites/helper-protocol/roundtrip.toml:"),
        "{err}"
    );
}

#[test]
fn snapshots_are_updated_only_into_a_named_folder() {
    let installed = Installed::new();
    let login = ["--suite", "login", "--filter", "LC-FILE-004"];
    let (code, _, err) = installed.run(&[&login[..], &["--update-snapshots"]].concat());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--snapshots-dir"), "{err}");

    let snapshots = installed.path("snapshots");
    let dir = snapshots.to_str().unwrap();
    let (code, out, err) =
        installed.run(&[&login[..], &["--update-snapshots", "--snapshots-dir", dir]].concat());
    assert_eq!(code, Some(0), "{out}{err}");
    let written = fs::read_to_string(snapshots.join("reference/LC-FILE-004.snap")).unwrap();
    let shipped = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/snapshots/reference/LC-FILE-004.snap"),
    )
    .unwrap();
    assert_eq!(written, shipped);
    // Read back from the named folder: an edited snapshot fails the case.
    fs::write(
        snapshots.join("reference/LC-FILE-004.snap"),
        shipped.replace("alice", "mallory"),
    )
    .unwrap();
    let (code, out, _) = installed.run(&[&login[..], &["--snapshots-dir", dir]].concat());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("config snapshot"), "{out}");
}
