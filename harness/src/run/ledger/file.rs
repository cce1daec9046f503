//! The ledger file a run leaves in the user's state folder (`$XDG_STATE_HOME/credconform/`, or
//! `~/.local/state/credconform/`): the server URLs it is about to store, one JSON string a
//! line after a header line, appended before each `store` so that a run killed outright
//! (SIGKILL, a power cut) still tells `credconform clean` exactly what it may have left. A run
//! that ends cleanly removes its file.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write},
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

/// The largest ledger file read back (a run of the shipped suites writes a few kilobytes).
const MAX_READ: u64 = 16 << 20;
/// The most ledger files `clean` reads.
const MAX_FILES: usize = 1000;

/// The first line of a ledger file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    /// Always 1 for this layout.
    credconform_ledger: u32,
    run_id: String,
    helper: PathBuf,
    pid: u32,
    started_at: String,
}

/// The folder ledger files live in: `$XDG_STATE_HOME/credconform` when that is an absolute
/// path, else `$HOME/.local/state/credconform`; `None` when neither is known.
pub fn state_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base =
        absolute("XDG_STATE_HOME").or_else(|| absolute("HOME").map(|h| h.join(".local/state")))?;
    Some(base.join("credconform"))
}

/// An open ledger file of the current run.
#[derive(Debug)]
pub struct LedgerFile {
    path: PathBuf,
    file: File,
}

impl LedgerFile {
    /// Creates `ledger-<run id>.jsonl` in `dir` (made private to the user) with its header.
    pub fn create(dir: &Path, run_id: &str, helper: &Path) -> io::Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let path = dir.join(format!("ledger-{run_id}.jsonl"));
        let mut file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .mode(0o600)
            .open(&path)?;
        let header = Header {
            credconform_ledger: 1,
            run_id: run_id.to_string(),
            helper: helper.to_path_buf(),
            pid: std::process::id(),
            started_at: crate::run::now_rfc3339(),
        };
        let line = serde_json::to_string(&header).map_err(io::Error::other)?;
        file.write_all(format!("{line}\n").as_bytes())?;
        Ok(LedgerFile { path, file })
    }

    /// Appends one URL, in a single write, so a killed run leaves at most one partial line.
    pub fn append(&mut self, url: &str) -> io::Result<()> {
        let line = serde_json::to_string(url).map_err(io::Error::other)?;
        self.file.write_all(format!("{line}\n").as_bytes())
    }

    /// Removes the file: the run erased everything it stored.
    pub fn remove(self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A ledger file found in the state folder.
#[derive(Debug, Clone)]
pub struct FoundLedger {
    /// Where it is.
    pub path: PathBuf,
    /// The run that wrote it.
    pub run_id: String,
    /// The helper that run certified (its resolved path).
    pub helper: PathBuf,
    /// The process that wrote it.
    pub pid: u32,
    /// The URLs the run stored or was about to store.
    pub urls: Vec<String>,
}

impl FoundLedger {
    /// True while the process that wrote it is still running (its run will clean up itself).
    pub fn is_live(&self) -> bool {
        let Some(pid) = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        match rustix::process::test_kill_process(pid) {
            Ok(()) => true,
            Err(e) => e == rustix::io::Errno::PERM,
        }
    }

    /// Removes the file once its entries are gone.
    pub fn remove(&self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Every readable ledger file in `dir`, oldest name first; files that are not ledgers are
/// skipped, and a partial last line (a run killed mid-write) is ignored.
pub fn read_all(dir: &Path) -> Vec<FoundLedger> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ledger-") && n.ends_with(".jsonl"))
        })
        .take(MAX_FILES)
        .collect();
    paths.sort();
    paths.into_iter().filter_map(|p| read_one(&p)).collect()
}

fn read_one(path: &Path) -> Option<FoundLedger> {
    if fs::metadata(path).ok()?.len() > MAX_READ {
        return None;
    }
    let text = fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let header: Header = serde_json::from_str(lines.next()?).ok()?;
    if header.credconform_ledger != 1 {
        return None;
    }
    let urls = lines
        .filter_map(|l| serde_json::from_str::<String>(l).ok())
        .collect();
    Some(FoundLedger {
        path: path.to_path_buf(),
        run_id: header.run_id,
        helper: header.helper,
        pid: header.pid,
        urls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_written_is_read_back_even_after_a_partial_line() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("credconform");
        let mut f = LedgerFile::create(&state, "ccabc", Path::new("/bin/helper")).unwrap();
        f.append("https://a.ccabc.credconform.test").unwrap();
        f.append("localhost:1/ccabc-hp-x-1").unwrap();
        let path = state.join("ledger-ccabc.jsonl");
        let mut raw = OpenOptions::new().append(true).open(&path).unwrap();
        raw.write_all(b"\"https://cut-of").unwrap();
        fs::write(state.join("notes.txt"), "not a ledger").unwrap();
        let found = read_all(&state);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].run_id, "ccabc");
        assert_eq!(found[0].helper, Path::new("/bin/helper"));
        assert_eq!(
            found[0].urls,
            [
                "https://a.ccabc.credconform.test",
                "localhost:1/ccabc-hp-x-1"
            ]
        );
        assert!(found[0].is_live(), "this process wrote it");
        f.remove();
        assert!(read_all(&state).is_empty());
    }

    #[test]
    fn a_dead_writer_is_not_live() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let found = FoundLedger {
            path: PathBuf::new(),
            run_id: String::new(),
            helper: PathBuf::new(),
            pid,
            urls: Vec::new(),
        };
        assert!(!found.is_live());
    }
}
