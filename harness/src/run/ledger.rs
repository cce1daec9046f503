//! The ledger of entries a run may have left in the helper's store, and the cleanup that erases
//! them: at the end of the run, after failures, and on Ctrl-C or SIGTERM; `credconform clean`
//! erases what killed runs left, preferring the ledger files they wrote. Cleanup is bounded: it
//! stops after [`CLEANUP_TIMEOUTS`] timed-out calls, and once interrupted each call gets a short
//! timeout and the whole cleanup [`interrupt::CLEANUP_TOTAL`].

pub mod file;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Instant,
};

use reference_helper::NOT_FOUND;
use serde::Serialize;

use super::{
    interrupt,
    namespace::{self, Namespace},
};
use crate::{
    drive::{self, LeftRunning},
    target::{HelperTarget, Listing},
};
use file::LedgerFile;

/// Timed-out calls after which cleanup stops (a hanging helper would time out on every one).
pub const CLEANUP_TIMEOUTS: usize = 3;

/// Server URLs the run stored and has not seen erased yet.
#[derive(Debug)]
pub struct Ledger {
    helper: HelperTarget,
    namespace: Namespace,
    urls: Mutex<BTreeSet<String>>,
    file: Mutex<FileState>,
    cleaned: Mutex<Option<CleanupReport>>,
}

/// The run's ledger file: made at the first `store`, so runs that store nothing leave none.
#[derive(Debug)]
enum FileState {
    /// Not made yet, to be made in this folder (`None`: no state folder is known).
    Pending(Option<PathBuf>),
    /// Open.
    Open(LedgerFile),
    /// Could not be made, or removed after a clean end.
    Closed,
}

/// What the cleanup did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CleanupReport {
    /// Erase calls that succeeded.
    pub erased: usize,
    /// Entries of the run namespace still listed after cleanup (URLs only).
    pub leftovers: Vec<String>,
    /// Set when the final `list` could not be read, so leftovers are unknown.
    pub list_error: Option<String>,
    /// Entries outside the run namespace (the user's) that vanished or changed during the run:
    /// the helper damaged its own store. URLs only.
    pub foreign_changed: Vec<String>,
    /// Processes the target left running that the runner ended (command lines, redacted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_running: Vec<LeftRunning>,
}

/// Why a cleanup call gave no answer.
#[derive(Debug, thiserror::Error)]
enum CleanupError {
    /// The helper timed out too often.
    #[error("cleanup stopped after the helper timed out {0} times")]
    TimedOut(usize),
    /// An interrupted run spent its cleanup time.
    #[error(
        "cleanup stopped after {} s, the bound of an interrupted run",
        interrupt::CLEANUP_TOTAL.as_secs()
    )]
    OutOfTime,
    /// The helper could not be started.
    #[error(transparent)]
    Spawn(#[from] drive::SpawnError),
    /// `list` failed.
    #[error("list ended with {0}")]
    ListFailed(drive::Ending),
    /// `list` answered something other than a JSON object.
    #[error("list answer: {0}")]
    BadList(serde_json::Error),
}

/// What cleanup may still spend: timed-out calls and, once interrupted, time.
struct Budget {
    started: Instant,
    timeouts: usize,
    max_timeouts: usize,
}

impl Budget {
    fn new(max_timeouts: usize) -> Self {
        Budget {
            started: Instant::now(),
            timeouts: 0,
            max_timeouts,
        }
    }

    /// Why cleanup must stop, if it must.
    fn exhausted(&self) -> Option<CleanupError> {
        if self.timeouts >= self.max_timeouts {
            return Some(CleanupError::TimedOut(self.timeouts));
        }
        (interrupt::interrupted() && self.started.elapsed() >= interrupt::CLEANUP_TOTAL)
            .then_some(CleanupError::OutOfTime)
    }

    /// Runs one cleanup call unless the budget is spent; counts a timeout against it.
    fn call(
        &mut self,
        helper: &HelperTarget,
        action: &str,
        stdin: &str,
    ) -> Result<drive::Outcome, CleanupError> {
        if let Some(why) = self.exhausted() {
            return Err(why);
        }
        let out = helper.call_for_cleanup(action, stdin)?;
        if out.ending == drive::Ending::TimedOut {
            self.timeouts += 1;
        }
        Ok(out)
    }

    fn erase(&mut self, helper: &HelperTarget, url: &str) -> Erase {
        match self.call(helper, "erase", url) {
            Ok(out) if out.ending == drive::Ending::Exited(0) => Erase::Done,
            Ok(out) if out.stdout.trim_ascii() == NOT_FOUND.as_bytes() => Erase::Absent,
            _ => Erase::Failed,
        }
    }
}

/// How one cleanup erase ended.
#[derive(PartialEq)]
enum Erase {
    /// The helper erased the entry.
    Done,
    /// The helper answered that it holds nothing under the URL (a refused `store`).
    Absent,
    /// Anything else: the entry may still be there.
    Failed,
}

impl Ledger {
    /// An empty ledger for a run against `helper`; registered for cleanup on interruption.
    pub fn new(helper: HelperTarget, namespace: Namespace) -> Arc<Self> {
        Arc::new(Ledger {
            helper,
            namespace,
            urls: Mutex::new(BTreeSet::new()),
            file: Mutex::new(FileState::Pending(file::state_dir())),
            cleaned: Mutex::new(None),
        })
    }

    /// Records a URL before it is sent to `store` (so a store killed halfway is cleaned too),
    /// in memory and in the ledger file.
    pub fn record(&self, url: &str) {
        let mut urls = self.urls();
        if urls.insert(url.to_string()) {
            self.write_to_file(url);
        }
    }

    fn write_to_file(&self, url: &str) {
        let mut state = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let FileState::Pending(dir) = &*state {
            *state = dir
                .as_deref()
                .and_then(|d| {
                    LedgerFile::create(d, self.namespace.run_id(), &self.helper.path).ok()
                })
                .map_or(FileState::Closed, FileState::Open);
        }
        if let FileState::Open(f) = &mut *state
            && f.append(url).is_err()
        {
            *state = FileState::Closed;
        }
    }

    /// Forgets a URL after an `erase` of it succeeded.
    pub fn forget(&self, url: &str) {
        self.urls().remove(url.trim());
    }

    /// Erases the given URLs now (a case tidying up after itself, so that the store holds only
    /// the entries of cases still running), forgetting each one erased. Stops at the first
    /// timed-out erase: the rest is left to [`Ledger::cleanup`]. A URL the helper says it holds
    /// nothing under is forgotten too (the final sweep of its `list` still finds a helper that
    /// says so wrongly).
    pub fn erase_now(&self, urls: &[String]) {
        let mut budget = Budget::new(1);
        for url in urls.iter().filter(|u| self.namespace.owns(u)) {
            if budget.erase(&self.helper, url) != Erase::Failed {
                self.forget(url);
            }
        }
    }

    fn urls(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.urls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Erases every recorded URL, then every listed entry of the namespace, and reports what is
    /// left, with the store's last listing. Runs once; later calls return the first report.
    pub fn cleanup(&self) -> (CleanupReport, Option<Listing>) {
        let mut cleaned = self.cleaned.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(report) = &*cleaned {
            return (report.clone(), None);
        }
        let mut report = CleanupReport::default();
        let mut budget = Budget::new(CLEANUP_TIMEOUTS);
        let recorded = std::mem::take(&mut *self.urls()).into_iter();
        let recorded: Vec<String> = recorded.filter(|u| self.namespace.owns(u)).collect();
        let mut attempted = 0;
        for url in &recorded {
            if budget.exhausted().is_some() {
                break;
            }
            attempted += 1;
            if budget.erase(&self.helper, url) == Erase::Done {
                report.erased += 1;
            }
        }
        // A helper may have normalised keys (added a slash, dropped a scheme): sweep whatever
        // it lists inside the namespace, and only that.
        let ours = |u: &str| self.namespace.owns(u);
        let (_, listing) = sweep_within(&self.helper, &ours, &mut report, &mut budget);
        if let Some(why) = budget.exhausted() {
            let skipped = recorded.len() - attempted;
            report.list_error = Some(format!(
                "{why}; {skipped} recorded entr{} not tried, `credconform clean` erases what is \
                 left later",
                if skipped == 1 { "y was" } else { "ies were" }
            ));
        }
        // Everything is gone: the ledger file has done its work. Otherwise it stays for
        // `credconform clean`.
        if report.leftovers.is_empty() && report.list_error.is_none() {
            let mut state = self.file.lock().unwrap_or_else(|p| p.into_inner());
            if let FileState::Open(f) = std::mem::replace(&mut *state, FileState::Closed) {
                f.remove();
            }
        }
        *cleaned = Some(report.clone());
        (report, listing)
    }
}

/// Erases every listed entry that `ours` accepts, then, when it listed any, lists again to find
/// what is left. Answers the URLs erased and the last listing.
fn sweep_within(
    helper: &HelperTarget,
    ours: &dyn Fn(&str) -> bool,
    report: &mut CleanupReport,
    budget: &mut Budget,
) -> (Vec<String>, Option<Listing>) {
    match list_matching(helper, ours, budget) {
        Ok((listed, all)) if listed.is_empty() => (Vec::new(), Some(all)),
        Ok((listed, _)) => {
            let erased: Vec<String> = listed
                .into_iter()
                .filter(|u| budget.erase(helper, u) == Erase::Done)
                .collect();
            report.erased += erased.len();
            match list_matching(helper, ours, budget) {
                Ok((left, all)) => {
                    report.leftovers = left;
                    return (erased, Some(all));
                }
                Err(e) => report.list_error = Some(e.to_string()),
            }
            (erased, None)
        }
        Err(e) => {
            report.list_error = Some(e.to_string());
            (Vec::new(), None)
        }
    }
}

/// What `credconform clean` did.
#[derive(Debug, Clone, Default)]
pub struct CleanOutcome {
    /// Ledger files of earlier runs against this helper that were read.
    pub ledgers: usize,
    /// Ledger files of runs still in progress, left alone with their entries.
    pub live: usize,
    /// The URLs erased (from ledgers, then by the sweep), never a secret.
    pub erased: Vec<String>,
    /// Erase counts and what is left.
    pub report: CleanupReport,
}

/// Erases what earlier runs against `helper` left: first exactly the URLs their ledger files
/// (in `state_dir`) name, each still checked to be a URL of that run, then every listed entry of
/// any run (see [`namespace::run_id_of`]) except those of runs still in progress. Ledger
/// files whose entries are all gone are removed.
pub fn clean_earlier_runs(helper: &HelperTarget, state_dir: Option<&Path>) -> CleanOutcome {
    let mut outcome = CleanOutcome::default();
    let found = state_dir.map(file::read_all).unwrap_or_default();
    let same_helper = |p: &Path| {
        p == helper.path || p.canonicalize().ok() == helper.path.canonicalize().ok() && p.exists()
    };
    let (live, dead): (Vec<_>, Vec<_>) = found
        .into_iter()
        .filter(|l| same_helper(&l.helper))
        .partition(file::FoundLedger::is_live);
    outcome.live = live.len();
    outcome.ledgers = dead.len();
    let mut budget = Budget::new(CLEANUP_TIMEOUTS);
    for ledger in &dead {
        for url in &ledger.urls {
            let theirs = namespace::run_id_of(url).is_some_and(|id| id == ledger.run_id);
            if theirs && !outcome.erased.contains(url) && budget.erase(helper, url) == Erase::Done {
                outcome.report.erased += 1;
                outcome.erased.push(url.clone());
            }
        }
    }
    let live_ids: BTreeSet<&str> = live.iter().map(|l| l.run_id.as_str()).collect();
    let ours = |u: &str| namespace::run_id_of(u).is_some_and(|id| !live_ids.contains(id.as_str()));
    let (swept, _) = sweep_within(helper, &ours, &mut outcome.report, &mut budget);
    outcome.erased.extend(swept);
    if outcome.report.list_error.is_none() {
        for ledger in &dead {
            let left = outcome
                .report
                .leftovers
                .iter()
                .any(|u| namespace::run_id_of(u).is_some_and(|id| id == ledger.run_id));
            if !left {
                ledger.remove();
            }
        }
    }
    outcome
}

/// The URLs `list` names that `ours` accepts, and the whole answer.
fn list_matching(
    helper: &HelperTarget,
    ours: &dyn Fn(&str) -> bool,
    budget: &mut Budget,
) -> Result<(Vec<String>, Listing), CleanupError> {
    let out = budget.call(helper, "list", "")?;
    if out.ending != drive::Ending::Exited(0) {
        return Err(CleanupError::ListFailed(out.ending));
    }
    let map: Listing = serde_json::from_slice(&out.stdout).map_err(CleanupError::BadList)?;
    Ok((map.keys().filter(|u| ours(u)).cloned().collect(), map))
}

/// One line about what cleanup left behind.
pub fn describe_leftovers(report: &CleanupReport) -> String {
    match (&report.list_error, report.leftovers.len()) {
        (Some(e), _) => format!("could not list the store afterwards ({e})"),
        (None, 0) => "no entry of this run is left in the store".to_string(),
        (None, n) => format!(
            "{n} entr{} of this run could not be erased: {}",
            if n == 1 { "y" } else { "ies" },
            crate::check::visible(&report.leftovers.join(", "))
        ),
    }
}
