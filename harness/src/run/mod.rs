//! Running a plan against a target: the plan (selection, partition, skips, order), the run
//! skeleton every run follows, the run's limits (interruption, `--max-duration`), the run
//! namespace, and cleanup.

pub mod helper_case;
pub mod integrity;
pub mod interrupt;
pub mod ledger;
pub mod limits;
pub mod login_case;
pub mod namespace;
pub mod plan;
pub mod property;
pub mod result;
pub mod shrink;
pub mod skeleton;

use std::{path::Path, sync::Arc, time::Duration};

pub use ledger::{CleanupReport, Ledger};
pub use limits::Limits;
pub use login_case::{LoginOptions, LoginSetupError, certify_login_cli};
pub use namespace::{ForeignHosts, Namespace};
pub use plan::{Partition, Plan, Selection};
pub use result::{CaseResult, Counts, RunReport, Status, Summary, Verdict};

use crate::{
    check::{Redactor, visible},
    report::Reporter,
    scenario::{Case, CaseBody},
    target::{HelperTarget, TargetInfo},
};

/// How a run is carried out.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How many cases run at the same time.
    pub jobs: usize,
    /// SHOULD failures fail the run.
    pub strict: bool,
    /// The seed of generative cases.
    pub seed: u64,
    /// Overrides the number of random inputs of every property.
    pub prop_cases: Option<u32>,
    /// Cases not started this long after the run started are reported as not run, and the
    /// run fails (`--max-duration`).
    pub max_duration: Option<Duration>,
}

/// What every case of a helper run shares.
pub struct HelperRun {
    /// The helper.
    pub target: HelperTarget,
    /// The run namespace.
    pub namespace: Namespace,
    /// What must be erased at the end.
    pub ledger: Arc<Ledger>,
    /// Secrets handed out so far.
    pub redactor: Redactor,
    /// Hosts that hold a user's entries.
    pub foreign_hosts: ForeignHosts,
    /// The run options.
    pub options: RunOptions,
    /// The user's entries before the run.
    foreign_before: integrity::ForeignEntries,
    /// The helper as reports show it.
    info: TargetInfo,
}

/// Certifies a credential helper with the cases of `plan` (a helper plan).
pub fn certify_helper(
    plan: &Plan<'_>,
    target: HelperTarget,
    options: RunOptions,
    reporter: &mut dyn Reporter,
) -> RunReport {
    let prepare = || Ok::<_, std::convert::Infallible>(HelperRun::prepare(target, options.clone()));
    let Ok(report) = skeleton::run(plan, &options, reporter, prepare);
    report
}

impl HelperRun {
    /// A fresh run namespace, its ledger, the user's entries as they are before the run, and
    /// the helper's version (asked for meanwhile).
    fn prepare(target: HelperTarget, options: RunOptions) -> Self {
        let namespace = Namespace::random();
        let (foreign_before, mut info) = std::thread::scope(|s| {
            let info = s.spawn(|| target.describe());
            let entries = integrity::ForeignEntries::read(&target, &namespace);
            let info = info.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            (entries, info)
        });
        // The version is the helper's own output: shown, never obeyed.
        info.version = info.version.map(|v| visible(&v).into_owned());
        HelperRun {
            info,
            foreign_hosts: foreign_before.hosts(&namespace),
            ledger: Ledger::new(target.clone(), namespace.clone()),
            target,
            namespace,
            redactor: Redactor::new(),
            options,
            foreign_before,
        }
    }
}

impl skeleton::TargetRun for HelperRun {
    fn describe(&self) -> TargetInfo {
        self.info.clone()
    }

    fn binary(&self) -> &Path {
        &self.target.path
    }

    fn run_id(&self) -> String {
        self.namespace.run_id().to_string()
    }

    fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    fn run_case(&self, case: &Case) -> CaseResult {
        match &case.body {
            CaseBody::Property(p) => property::run(case, p, self),
            _ => helper_case::run(case, self),
        }
    }

    /// Erases what the run stored and compares the user's entries with those before the run.
    fn finish(&self) -> CleanupReport {
        let (mut cleanup, listing) = self.ledger.cleanup();
        // The cleanup's last `list` shows the user's entries too; read again only without one.
        let after = match listing {
            Some(listed) => integrity::ForeignEntries::of(Some(listed), &self.namespace),
            None => integrity::ForeignEntries::read(&self.target, &self.namespace),
        };
        cleanup.foreign_changed = self.foreign_before.changed_since(&after);
        if interrupt::interrupted() {
            eprintln!(
                "cleanup: {} erase(s); {}",
                cleanup.erased,
                ledger::describe_leftovers(&cleanup)
            );
        }
        // URLs the helper listed: shown, never obeyed.
        for url in cleanup
            .leftovers
            .iter_mut()
            .chain(&mut cleanup.foreign_changed)
        {
            *url = visible(url).into_owned();
        }
        cleanup
    }
}

/// The current time, RFC 3339 in UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
