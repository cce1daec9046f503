//! The ledger of entries a run may have left in the helper's store, and the cleanup that erases
//! them: at the end of the run, after failures, and on Ctrl-C or SIGTERM.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex, Once, Weak},
};

use serde::Serialize;

use super::namespace::Namespace;
use crate::{drive, target::HelperTarget};

/// Server URLs the run stored and has not seen erased yet.
#[derive(Debug)]
pub struct Ledger {
    helper: HelperTarget,
    namespace: Namespace,
    urls: Mutex<BTreeSet<String>>,
    cleaned: Mutex<Option<CleanupReport>>,
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
}

impl Ledger {
    /// An empty ledger for a run against `helper`; registered for cleanup on interruption.
    pub fn new(helper: HelperTarget, namespace: Namespace) -> Arc<Self> {
        let ledger = Arc::new(Ledger {
            helper,
            namespace,
            urls: Mutex::new(BTreeSet::new()),
            cleaned: Mutex::new(None),
        });
        register_for_interrupt(&ledger);
        ledger
    }

    /// Records a URL before it is sent to `store` (so a store killed halfway is cleaned too).
    pub fn record(&self, url: &str) {
        self.urls().insert(url.to_string());
    }

    /// Forgets a URL after an `erase` of it succeeded.
    pub fn forget(&self, url: &str) {
        self.urls().remove(url.trim());
    }

    /// Erases the given URLs now (a case tidying up after itself, so that the store holds only
    /// the entries of cases still running), forgetting each one erased.
    pub fn erase_now(&self, urls: &[String]) {
        for url in urls.iter().filter(|u| self.namespace.owns(u)) {
            if erase(&self.helper, url) {
                self.forget(url);
            }
        }
    }

    fn urls(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.urls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Erases every recorded URL, then every listed entry of the namespace, and reports what is
    /// left. Runs once; later calls return the first report.
    pub fn cleanup(&self) -> CleanupReport {
        let mut cleaned = self.cleaned.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(report) = &*cleaned {
            return report.clone();
        }
        let mut report = CleanupReport::default();
        let recorded: Vec<String> = std::mem::take(&mut *self.urls()).into_iter().collect();
        for url in recorded.iter().filter(|u| self.namespace.owns(u)) {
            if erase(&self.helper, url) {
                report.erased += 1;
            }
        }
        // A helper may have normalised keys (added a slash, dropped a scheme): sweep whatever
        // it lists inside the namespace, and only that.
        sweep(&self.helper, &|u| self.namespace.owns(u), &mut report);
        *cleaned = Some(report.clone());
        report
    }
}

/// Erases every listed entry that `ours` accepts, then lists again to find what is left.
pub fn sweep(helper: &HelperTarget, ours: &dyn Fn(&str) -> bool, report: &mut CleanupReport) {
    match list_matching(helper, ours) {
        Ok(listed) => {
            report.erased += listed.iter().filter(|u| erase(helper, u)).count();
            match list_matching(helper, ours) {
                Ok(left) => report.leftovers = left,
                Err(e) => report.list_error = Some(e),
            }
        }
        Err(e) => report.list_error = Some(e),
    }
}

fn erase(helper: &HelperTarget, url: &str) -> bool {
    matches!(
        helper.call_for_cleanup("erase", url),
        Ok(out) if out.ending == drive::Ending::Exited(0)
    )
}

fn list_matching(
    helper: &HelperTarget,
    ours: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, String> {
    let out = helper
        .call_for_cleanup("list", "")
        .map_err(|e| e.to_string())?;
    if out.ending != drive::Ending::Exited(0) {
        return Err(format!("list ended with {}", out.ending));
    }
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("list answer: {e}"))?;
    Ok(map
        .into_iter()
        .map(|(url, _)| url)
        .filter(|u| ours(u))
        .collect())
}

/// Ledgers of runs in progress in this process, cleaned when the process is interrupted.
static LIVE: Mutex<Vec<Weak<Ledger>>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();

fn register_for_interrupt(ledger: &Arc<Ledger>) {
    let mut live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(ledger));
    HANDLER.call_once(|| {
        // Another handler may already be installed by an embedding program: then it owns
        // interruption, and the ledgers are still cleaned at the end of each run.
        let _ = ctrlc::set_handler(on_interrupt);
    });
}

fn on_interrupt() {
    eprintln!("\ninterrupted: stopping the helper and erasing every entry this run stored...");
    drive::stop_all();
    let ledgers: Vec<Arc<Ledger>> = LIVE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    for ledger in ledgers {
        let report = ledger.cleanup();
        eprintln!(
            "cleanup: {} erase(s); {}",
            report.erased,
            describe_leftovers(&report)
        );
    }
    std::process::exit(130);
}

/// One line about what cleanup left behind.
pub fn describe_leftovers(report: &CleanupReport) -> String {
    match (&report.list_error, report.leftovers.len()) {
        (Some(e), _) => format!("could not list the store afterwards ({e})"),
        (None, 0) => "no entry of this run is left in the store".to_string(),
        (None, n) => format!(
            "{n} entr{} of this run could not be erased: {}",
            if n == 1 { "y" } else { "ies" },
            report.leftovers.join(", ")
        ),
    }
}
