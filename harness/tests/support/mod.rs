//! Helpers shared by the end-to-end tests: the built binary, bundled programs, scripted helpers.

#![allow(dead_code)]

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Output,
};

use credconform::bundled::{BundledPrograms, Variant};

/// The built `credconform` binary.
pub fn credconform_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_credconform"))
}

/// A `credconform` command with a scrubbed, predictable environment.
pub fn credconform() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(credconform_bin());
    cmd.env_remove("CREDCONFORM_REF_STORE");
    // Ledger files of test runs go to the build's scratch folder, not the user's state folder.
    cmd.env(
        "XDG_STATE_HOME",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("state"),
    );
    cmd
}

/// The bundled programs, linked to the built binary, and a private store for them.
pub struct Bundled {
    pub programs: BundledPrograms,
    pub store_dir: tempfile::TempDir,
}

impl Bundled {
    pub fn new() -> Self {
        Bundled {
            programs: BundledPrograms::linking(&credconform_bin()).unwrap(),
            store_dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn store(&self) -> PathBuf {
        self.store_dir.path().join("store.json")
    }

    pub fn path(&self, v: Variant) -> PathBuf {
        self.programs.path(v)
    }

    /// `--env` value pointing the reference helper (or a mutant) at the private store.
    pub fn store_env(&self) -> String {
        format!("CREDCONFORM_REF_STORE={}", self.store().display())
    }

    /// `credconform --helper HELPER` with the private store, for the reference or a mutant.
    pub fn certify(&self, helper: &Path) -> assert_cmd::Command {
        let mut cmd = credconform();
        cmd.arg("--helper")
            .arg(helper)
            .args(["--env", &self.store_env()]);
        cmd
    }

    /// The reference helper behind a script that sleeps before each call, so that a run lasts
    /// long enough to be interrupted or killed in the middle.
    pub fn slow_reference(&self, dir: &Path) -> PathBuf {
        script_helper(
            dir,
            "slow",
            &format!(
                "sleep 0.05\nexec {} \"$@\"",
                self.path(Variant::Reference).display()
            ),
        )
    }

    /// `credconform --helper HELPER --jobs 2` with the private store, as a plain process.
    pub fn run_command(&self, helper: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new(credconform_bin());
        cmd.arg("--helper")
            .arg(helper)
            .args(["--env", &self.store_env(), "--jobs", "2"])
            .stdout(std::process::Stdio::null());
        cmd
    }

    /// Waits (up to `within`) until the store holds an entry of some run.
    pub fn wait_until_a_run_stored(&self, within: std::time::Duration) {
        let deadline = std::time::Instant::now() + within;
        loop {
            let list: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&self.reference("list", "").stdout).unwrap_or_default();
            if list.keys().any(|k| k.contains(".credconform.test")) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the run never stored anything"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Calls the reference helper directly, as a user's docker would.
    pub fn reference(&self, action: &str, stdin: &str) -> Output {
        let mut cmd = assert_cmd::Command::new(self.path(Variant::Reference));
        cmd.arg(action)
            .env("CREDCONFORM_REF_STORE", self.store())
            .write_stdin(stdin);
        cmd.output().unwrap()
    }
}

/// Writes an executable shell script named `docker-credential-<name>` into `dir`.
pub fn script_helper(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("docker-credential-{name}"));
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The start of a file-backed Python helper: `store` (a dict) loaded from `$STORE`, `save()`,
/// `action` and the stdin text `data`.
const PYTHON_STORE: &str = r#"#!/usr/bin/env python3
import base64, fcntl, html, json, os, sys, urllib.parse
path = os.environ["STORE"]
# One call at a time: the runner calls helpers concurrently, and a store that lost writes to a
# race would be a broken helper, not the subject of these tests.
lock = open(path + ".lock", "a")
fcntl.flock(lock, fcntl.LOCK_EX)
store = json.load(open(path)) if os.path.exists(path) else {}
action = sys.argv[1] if len(sys.argv) > 1 else ""
data = sys.stdin.read()
def save():
    with open(path + ".tmp", "w") as f:
        json.dump(store, f, sort_keys=True)
    os.replace(path + ".tmp", path)
"#;

/// Writes an executable file-backed Python helper `docker-credential-<name>` into `dir`: the
/// shared start (see [`PYTHON_STORE`]) followed by `body`, which dispatches on `action`.
pub fn python_helper(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("docker-credential-{name}"));
    fs::write(&path, format!("{PYTHON_STORE}{body}")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Runs `cmd` with `--json` into a temporary file; returns the exit code and the report.
pub fn run_with_report(mut cmd: assert_cmd::Command) -> (Option<i32>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let out = cmd.arg("--json").arg(&json).output().unwrap();
    (out.status.code(), read_report(&json))
}

/// Reads a JSON report written with `--json`.
pub fn read_report(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// The status of one case in a JSON report.
pub fn status_of<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id} in the report"))["status"]
        .as_str()
        .unwrap()
}

/// IDs of the cases that count against the verdict (failed, errored or blocked).
pub fn failed_ids(report: &serde_json::Value) -> Vec<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| ["failed", "error", "blocked"].contains(&c["status"].as_str().unwrap()))
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// IDs of the cases with `status`, sorted.
pub fn ids_with_status(report: &serde_json::Value, status: &str) -> Vec<String> {
    let mut ids: Vec<String> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == status)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// True when a program is installed; in CI (env CI set) a missing program fails the test.
pub fn require_program(name: &str) -> bool {
    let found = credconform::target::find_program(name).is_some();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is required in CI but is not installed (.ci/run installs it)"
        );
        eprintln!("SKIPPED: {name} is not installed");
    }
    found
}

/// A throwaway GPG key and password store for the real docker-credential-pass, holding one
/// entry of the user's own (`https://index.docker.io/v1/`, user `realuser`).
pub struct PassStore {
    pub gnupg: tempfile::TempDir,
    pub store: tempfile::TempDir,
}

impl PassStore {
    /// Makes the key and the store; `None` (after saying so) when pass, gpg or the helper is
    /// not installed outside CI.
    pub fn new() -> Option<PassStore> {
        if !(require_program("docker-credential-pass")
            && require_program("pass")
            && require_program("gpg"))
        {
            return None;
        }
        // gpg-agent's socket lives in GNUPGHOME: keep its path short.
        let short = |prefix: &str| {
            tempfile::Builder::new()
                .prefix(prefix)
                .tempdir_in("/tmp")
                .unwrap()
        };
        let pass = PassStore {
            gnupg: short("ccg"),
            store: short("ccp"),
        };
        let keygen = pass.run(
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
            "",
        );
        assert!(
            keygen.status.success(),
            "{}",
            String::from_utf8_lossy(&keygen.stderr)
        );
        let keys = pass.run("gpg", &["--list-keys", "--with-colons"], "");
        let keys = String::from_utf8_lossy(&keys.stdout);
        let fpr = keys
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .unwrap()
            .split(':')
            .nth(9)
            .unwrap()
            .to_string();
        assert!(pass.run("pass", &["init", &fpr], "").status.success());
        let user_entry = r#"{"ServerURL":"https://index.docker.io/v1/","Username":"realuser","Secret":"real-hub-token"}"#;
        assert!(
            pass.run("docker-credential-pass", &["store"], user_entry)
                .status
                .success()
        );
        Some(pass)
    }

    /// The variables that point gpg, pass and the helper at this store.
    pub fn env(&self) -> [(&'static str, &Path); 2] {
        [
            ("GNUPGHOME", self.gnupg.path()),
            ("PASSWORD_STORE_DIR", self.store.path()),
        ]
    }

    /// Runs `program` with this store's variables.
    pub fn run(&self, program: &str, args: &[&str], stdin: &str) -> Output {
        let mut cmd = assert_cmd::Command::new(program);
        cmd.args(args).write_stdin(stdin);
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    /// `credconform --helper docker-credential-pass --seed 1` with this store.
    pub fn certify(&self) -> assert_cmd::Command {
        let mut cmd = credconform();
        cmd.args(["--helper", "docker-credential-pass", "--seed", "1"]);
        for (k, v) in self.env() {
            cmd.args(["--env", &format!("{k}={}", v.display())]);
        }
        cmd
    }
}

impl Drop for PassStore {
    fn drop(&mut self) {
        let _ = std::process::Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.gnupg.path())
            .status();
    }
}

/// A program built from the Go modules pinned in `compat/go.mod` (by `compat/build.sh`, into
/// `$CREDCONFORM_COMPAT_BIN` or `target/compat/bin`). `None` (printing `SKIPPED`) when it has not
/// been built; in CI (env CI set) a missing program fails the test.
pub fn require_compat_program(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("CREDCONFORM_COMPAT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/compat/bin"));
    let path = dir.join(name);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is required in CI but is not built (compat/build.sh builds it)",
        path.display()
    );
    eprintln!(
        "SKIPPED: {} is not built (run compat/build.sh)",
        path.display()
    );
    None
}

/// The report schema, docs/report.schema.json.
pub fn schema() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report.schema.json");
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Every way `report` breaks the schema, one line each.
pub fn schema_errors(report: &serde_json::Value) -> Vec<String> {
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema())
        .unwrap();
    validator
        .iter_errors(report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}
