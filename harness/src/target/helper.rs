//! A credential helper under test: where it is, what it is, and how to invoke it.

use std::{
    ffi::OsString,
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{
    drive::{self, Ending, Invocation, Outcome, SpawnError},
    scenario::TargetKind,
};

/// Why a target cannot be certified at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// No such file, and no such program on PATH.
    #[error("helper `{0}` not found (give a path, or a program name on PATH)")]
    NotFound(String),
    /// The path is a directory or another non-file.
    #[error("helper `{0}` is not a regular file")]
    NotAFile(PathBuf),
    /// The file has no execute permission.
    #[error("helper `{0}` is not executable (chmod +x it)")]
    NotExecutable(PathBuf),
}

/// A credential helper and the way the runner calls it.
#[derive(Debug, Clone)]
pub struct HelperTarget {
    /// The program, resolved to a path.
    pub path: PathBuf,
    /// Variables set on top of the inherited environment (`--env K=V`).
    pub env: Vec<(OsString, OsString)>,
    /// The timeout of each invocation.
    pub timeout: Duration,
    /// The cap on each of stdout and stderr.
    pub output_cap: usize,
    /// Declared get-only (`--get-only`): it serves credentials provisioned by other means and
    /// refuses `store` and `erase`, so the cases that write are skipped.
    pub get_only: bool,
    /// Shared by every copy of the target: see [`StoreTurns`].
    turns: Arc<StoreTurns>,
}

/// Keeps `list` calls from failing on another case's half-written entry. Cases running at the
/// same time each read only their own part of `list`, so a `list` runs beside the other calls;
/// but a helper may fail its whole `list` on an entry another case is halfway through storing or
/// erasing, so a `list` that fails while another call was under way is run again with the
/// helper to itself, and that answer counts (unless the run was interrupted meanwhile).
#[derive(Debug, Default)]
struct StoreTurns {
    /// Held shared by every call, exclusively by a `list` run again alone.
    alone: RwLock<()>,
    /// Calls other than `list` started so far.
    started: AtomicU64,
    /// Calls other than `list` under way.
    under_way: AtomicUsize,
}

impl StoreTurns {
    /// Runs `f`, a call whose first argument is `action`, in its turn.
    fn take(
        &self,
        action: Option<&OsString>,
        f: impl Fn() -> Result<Outcome, SpawnError>,
    ) -> Result<Outcome, SpawnError> {
        let shared = || self.alone.read().unwrap_or_else(|p| p.into_inner());
        if action.is_none_or(|a| a != "list") {
            let _turn = shared();
            self.started.fetch_add(1, Ordering::SeqCst);
            self.under_way.fetch_add(1, Ordering::SeqCst);
            let out = f();
            self.under_way.fetch_sub(1, Ordering::SeqCst);
            return out;
        }
        {
            let _turn = shared();
            let started = self.started.load(Ordering::SeqCst);
            let busy = self.under_way.load(Ordering::SeqCst) > 0;
            let out = f();
            // Nothing is run again once the run is interrupted (its calls were killed).
            if out.as_ref().is_ok_and(|o| list_entries(o).is_some())
                || !(busy || self.started.load(Ordering::SeqCst) != started)
                || crate::run::interrupt::interrupted()
            {
                return out;
            }
        }
        let _alone = self.alone.write().unwrap_or_else(|p| p.into_inner());
        f()
    }
}

/// A helper's `list` answer: server URL -> username.
pub type Listing = serde_json::Map<String, serde_json::Value>;

/// The entries a `list` call answered, server URL -> username: `None` unless it exited 0 with a
/// JSON object on stdout.
pub fn list_entries(out: &Outcome) -> Option<Listing> {
    (out.ending == Ending::Exited(0))
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

impl HelperTarget {
    /// Resolves `name` (a path, or a program name looked up on PATH) and checks that it can be
    /// executed.
    pub fn resolve(name: &str) -> Result<Self, TargetError> {
        let path = find_program(name).ok_or_else(|| TargetError::NotFound(name.to_string()))?;
        let meta = fs::metadata(&path).map_err(|_| TargetError::NotFound(name.to_string()))?;
        if !meta.is_file() {
            return Err(TargetError::NotAFile(path));
        }
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(TargetError::NotExecutable(path));
        }
        Ok(HelperTarget {
            path,
            env: Vec::new(),
            timeout: Duration::from_secs(10),
            output_cap: drive::process::DEFAULT_OUTPUT_CAP,
            get_only: false,
            turns: Arc::default(),
        })
    }

    /// The invocation of one action (or of the given raw arguments) with `stdin`.
    pub fn invocation(&self, args: Vec<String>, stdin: Vec<u8>) -> Invocation {
        let mut inv = Invocation::new(&self.path, args);
        inv.stdin = stdin;
        inv.env = self.env.clone();
        inv.timeout = self.timeout;
        inv.output_cap = self.output_cap;
        inv
    }

    /// Runs an invocation made by [`HelperTarget::invocation`], in its turn (see
    /// [`StoreTurns`]).
    pub fn run(&self, inv: &Invocation) -> Result<Outcome, SpawnError> {
        self.turns.take(inv.args.first(), || drive::run(inv))
    }

    /// Runs one action.
    pub fn call(&self, action: &str, stdin: &str) -> Result<Outcome, SpawnError> {
        self.run(&self.invocation(vec![action.to_string()], stdin.as_bytes().to_vec()))
    }

    /// Runs one action even after the run was interrupted (then with a short timeout, see
    /// [`crate::run::interrupt::cleanup_timeout`]): for cleanup only.
    pub fn call_for_cleanup(&self, action: &str, stdin: &str) -> Result<Outcome, SpawnError> {
        let mut inv = self.invocation(vec![action.to_string()], stdin.as_bytes().to_vec());
        inv.timeout = crate::run::interrupt::cleanup_timeout(inv.timeout);
        self.turns
            .take(inv.args.first(), || drive::run_ungated(&inv))
    }

    /// Describes the target for reports: name, path and `version` answer. The digest is left
    /// empty: it can take a while on a large binary, see [`sha256_file`].
    pub fn describe(&self) -> TargetInfo {
        let version = match self.call("version", "") {
            Ok(out) if out.ending == Ending::Exited(0) => {
                Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
            }
            _ => None,
        };
        TargetInfo {
            kind: TargetKind::Helper,
            name: file_name(&self.path),
            path: self.path.display().to_string(),
            sha256: String::new(),
            version,
            get_only: self.get_only,
        }
    }
}

/// What a report says about the program under test.
#[derive(Debug, Clone, Serialize)]
pub struct TargetInfo {
    /// A helper or a login CLI.
    pub kind: TargetKind,
    /// The program's file name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// The SHA-256 of the file, hex.
    pub sha256: String,
    /// What `version` printed, when it succeeded.
    pub version: Option<String>,
    /// The helper was certified as a get-only helper: the cases that store or erase were
    /// skipped (see [`HelperTarget::get_only`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub get_only: bool,
}

impl std::fmt::Display for TargetKind {
    /// The kind as reports spell it: `helper` or `login-cli`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TargetKind::Helper => "helper",
            TargetKind::LoginCli => "login-cli",
        })
    }
}

/// Finds a program: a name with a slash is a path; otherwise PATH is searched.
pub fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = Path::new(name);
        return p.exists().then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The file name of `path` (lossily UTF-8), empty when it has none.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    // Read a MiB at a time: a large binary then takes a few reads, not thousands.
    let mut file = std::io::BufReader::with_capacity(1 << 20, fs::File::open(path)?);
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Hashes `path` ([`sha256_file`]) on a thread of the lowest priority, so that hashing a large
/// binary takes the time the cases leave idle rather than theirs. The digest is empty when the
/// file cannot be read.
pub fn sha256_in_background(path: PathBuf) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        // Linux gives each thread its own nice value: only this thread yields.
        let _ = rustix::process::nice(19);
        sha256_file(&path).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: i32, stdout: &str) -> Result<Outcome, SpawnError> {
        Ok(Outcome {
            ending: Ending::Exited(code),
            stdout: stdout.into(),
            stderr: Vec::new(),
            elapsed: Duration::ZERO,
        })
    }

    /// `list` runs while a `store` is held under way; the list's first answer is `list_answer`.
    /// Returns how many times the list ran and the answer that counted.
    fn list_beside_a_store(list_answer: (i32, &str)) -> (usize, Outcome) {
        let turns = StoreTurns::default();
        let (entered, entered_rx) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel();
        let runs = AtomicUsize::new(0);
        std::thread::scope(|s| {
            let store_turns = &turns;
            s.spawn(move || {
                store_turns.take(Some(&"store".into()), || {
                    entered.send(()).unwrap();
                    release_rx.recv().unwrap();
                    answer(0, "")
                })
            });
            entered_rx.recv().unwrap();
            let out = turns.take(Some(&"list".into()), || {
                let _ = release.send(());
                match runs.fetch_add(1, Ordering::SeqCst) {
                    0 => answer(list_answer.0, list_answer.1),
                    _ => answer(0, "{}"),
                }
            });
            (runs.load(Ordering::SeqCst), out.unwrap())
        })
    }

    #[test]
    fn a_list_that_fails_beside_another_call_is_run_again_alone() {
        let (runs, out) = list_beside_a_store((1, "half-written entry"));
        assert_eq!((runs, out.stdout), (2, b"{}".to_vec()));
        let (runs, out) = list_beside_a_store((0, "not json"));
        assert_eq!((runs, out.stdout), (2, b"{}".to_vec()));
    }

    #[test]
    fn a_list_that_answers_beside_another_call_counts() {
        let (runs, out) = list_beside_a_store((0, r#"{"https://a":"u"}"#));
        assert_eq!((runs, out.stdout), (1, br#"{"https://a":"u"}"#.to_vec()));
    }

    #[test]
    fn a_list_that_fails_alone_is_not_run_again() {
        let turns = StoreTurns::default();
        let runs = AtomicUsize::new(0);
        let out = turns.take(Some(&"list".into()), || {
            runs.fetch_add(1, Ordering::SeqCst);
            answer(1, "broken")
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(out.unwrap().ending, Ending::Exited(1));
    }

    #[test]
    fn a_missing_helper_is_named() {
        let err = HelperTarget::resolve("/no/such/docker-credential-x").unwrap_err();
        assert!(err.to_string().contains("/no/such/docker-credential-x"));
        assert!(matches!(
            HelperTarget::resolve("docker-credential-surely-not-installed"),
            Err(TargetError::NotFound(_))
        ));
    }

    #[test]
    fn directories_and_non_executables_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            HelperTarget::resolve(dir.path().to_str().unwrap()),
            Err(TargetError::NotAFile(_))
        ));
        let file = dir.path().join("docker-credential-x");
        fs::write(&file, "#!/bin/sh\n").unwrap();
        assert!(matches!(
            HelperTarget::resolve(file.to_str().unwrap()),
            Err(TargetError::NotExecutable(_))
        ));
    }

    #[test]
    fn programs_are_found_on_path_and_described() {
        let t = HelperTarget::resolve("sh").unwrap();
        assert!(t.path.is_absolute());
        let info = t.describe();
        assert_eq!(info.name, "sh");
        assert_eq!(sha256_file(&t.path).unwrap().len(), 64);
    }
}
