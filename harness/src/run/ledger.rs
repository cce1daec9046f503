//! The ledger of entries a run may have left in the helper's store, and the cleanup that erases
//! them: at the end of the run, after failures, and on Ctrl-C or SIGTERM. Cleanup is bounded: it
//! stops after [`CLEANUP_TIMEOUTS`] timed-out calls, and once interrupted each call gets a short
//! timeout and the whole cleanup [`interrupt::CLEANUP_TOTAL`].

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Instant,
};

use serde::Serialize;

use super::{interrupt, namespace::Namespace};
use crate::{
    drive::{self, LeftRunning},
    target::HelperTarget,
};

/// Timed-out calls after which cleanup stops (a hanging helper would time out on every one).
pub const CLEANUP_TIMEOUTS: usize = 3;

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
    /// Processes the target left running that the runner ended (command lines, redacted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_running: Vec<LeftRunning>,
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
    fn exhausted(&self) -> Option<String> {
        if self.timeouts >= self.max_timeouts {
            return Some(format!(
                "cleanup stopped after the helper timed out {} times",
                self.timeouts
            ));
        }
        (interrupt::interrupted() && self.started.elapsed() >= interrupt::CLEANUP_TOTAL).then(
            || {
                format!(
                    "cleanup stopped after {} s, the bound of an interrupted run",
                    interrupt::CLEANUP_TOTAL.as_secs()
                )
            },
        )
    }

    /// Runs one cleanup call unless the budget is spent; counts a timeout against it.
    fn call(
        &mut self,
        helper: &HelperTarget,
        action: &str,
        stdin: &str,
    ) -> Result<drive::Outcome, String> {
        if let Some(why) = self.exhausted() {
            return Err(why);
        }
        let out = helper
            .call_for_cleanup(action, stdin)
            .map_err(|e| e.to_string())?;
        if out.ending == drive::Ending::TimedOut {
            self.timeouts += 1;
        }
        Ok(out)
    }

    fn erase(&mut self, helper: &HelperTarget, url: &str) -> bool {
        matches!(
            self.call(helper, "erase", url),
            Ok(out) if out.ending == drive::Ending::Exited(0)
        )
    }
}

impl Ledger {
    /// An empty ledger for a run against `helper`; registered for cleanup on interruption.
    pub fn new(helper: HelperTarget, namespace: Namespace) -> Arc<Self> {
        Arc::new(Ledger {
            helper,
            namespace,
            urls: Mutex::new(BTreeSet::new()),
            cleaned: Mutex::new(None),
        })
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
    /// the entries of cases still running), forgetting each one erased. Stops at the first
    /// timed-out erase: the rest is left to [`Ledger::cleanup`].
    pub fn erase_now(&self, urls: &[String]) {
        let mut budget = Budget::new(1);
        for url in urls.iter().filter(|u| self.namespace.owns(u)) {
            if budget.erase(&self.helper, url) {
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
        let mut budget = Budget::new(CLEANUP_TIMEOUTS);
        let recorded: Vec<String> = std::mem::take(&mut *self.urls()).into_iter().collect();
        let recorded: Vec<&String> = recorded.iter().filter(|u| self.namespace.owns(u)).collect();
        let mut attempted = 0;
        for url in &recorded {
            if budget.exhausted().is_some() {
                break;
            }
            attempted += 1;
            if budget.erase(&self.helper, url) {
                report.erased += 1;
            }
        }
        // A helper may have normalised keys (added a slash, dropped a scheme): sweep whatever
        // it lists inside the namespace, and only that.
        sweep_within(
            &self.helper,
            &|u| self.namespace.owns(u),
            &mut report,
            &mut budget,
        );
        if let Some(why) = budget.exhausted() {
            let skipped = recorded.len() - attempted;
            report.list_error = Some(format!(
                "{why}; {skipped} recorded entr{} not tried, `credconform clean` erases what is \
                 left later",
                if skipped == 1 { "y was" } else { "ies were" }
            ));
        }
        *cleaned = Some(report.clone());
        report
    }
}

/// Erases every listed entry that `ours` accepts, then lists again to find what is left.
pub fn sweep(helper: &HelperTarget, ours: &dyn Fn(&str) -> bool, report: &mut CleanupReport) {
    sweep_within(helper, ours, report, &mut Budget::new(CLEANUP_TIMEOUTS));
}

fn sweep_within(
    helper: &HelperTarget,
    ours: &dyn Fn(&str) -> bool,
    report: &mut CleanupReport,
    budget: &mut Budget,
) {
    match list_matching(helper, ours, budget) {
        Ok(listed) => {
            report.erased += listed.iter().filter(|u| budget.erase(helper, u)).count();
            match list_matching(helper, ours, budget) {
                Ok(left) => report.leftovers = left,
                Err(e) => report.list_error = Some(e),
            }
        }
        Err(e) => report.list_error = Some(e),
    }
}

fn list_matching(
    helper: &HelperTarget,
    ours: &dyn Fn(&str) -> bool,
    budget: &mut Budget,
) -> Result<Vec<String>, String> {
    let out = budget.call(helper, "list", "")?;
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
