//! A credential helper under test: where it is, what it is, and how to invoke it.

use std::{
    ffi::OsString,
    fs,
    io::Read,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
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

/// Keeps `list` calls apart from every other call to the helper: a `list` call runs alone,
/// the others share their turn. Cases running at the same time each read only their own part
/// of `list`, and this way no `list` ever sees an entry that another case is halfway through
/// storing or erasing (a helper may fail its whole `list` on a half-written entry).
#[derive(Debug, Default)]
struct StoreTurns(RwLock<()>);

impl StoreTurns {
    /// Runs `f` in the turn of a call whose first argument is `action`.
    fn take<T>(&self, action: Option<&OsString>, f: impl FnOnce() -> T) -> T {
        if action.is_some_and(|a| a == "list") {
            let _alone = self.0.write().unwrap_or_else(|p| p.into_inner());
            f()
        } else {
            let _shared = self.0.read().unwrap_or_else(|p| p.into_inner());
            f()
        }
    }
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
            name: self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
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

/// The SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
