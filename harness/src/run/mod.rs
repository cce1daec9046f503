//! Scheduling cases against a target: selection (suite, filter, partition), parallel workers,
//! the run's limits (interruption, `--max-duration`), the run namespace, and cleanup.

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

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

pub use ledger::{CleanupReport, Ledger};
pub use limits::Limits;
pub use login_case::{LoginOptions, certify_login_cli};
pub use namespace::{ForeignHosts, Namespace};
pub use plan::{Partition, Selection};
pub use result::{CaseResult, Counts, RunReport, Status, Summary, Verdict};

use crate::{
    check::{Redactor, visible},
    report::Reporter,
    scenario::{Case, CaseBody, Suite, TargetKind},
    target::HelperTarget,
};

/// How a run is carried out.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Which cases.
    pub selection: Selection,
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
}

/// Certifies a credential helper with the helper suites among `suites`.
pub fn certify_helper(
    suites: &[Suite],
    target: HelperTarget,
    options: RunOptions,
    reporter: &mut dyn Reporter,
) -> RunReport {
    let started = Instant::now();
    let started_at = now_rfc3339();
    let helper_suites: Vec<&Suite> = suites
        .iter()
        .filter(|s| s.header.target == TargetKind::Helper)
        .collect();
    let cases = helper_cases(&helper_suites, &options.selection, target.get_only);
    let mut info = target.describe();
    // The version is the helper's own output: shown, never obeyed.
    info.version = info.version.map(|v| visible(&v).into_owned());
    // Hashing a large binary takes a while: do it while the cases run.
    let digest = {
        let path = target.path.clone();
        thread::spawn(move || crate::target::sha256_file(&path).unwrap_or_default())
    };
    let namespace = Namespace::random();
    let foreign_before = integrity::ForeignEntries::read(&target, &namespace);
    let foreign_hosts = foreign_before.hosts(&namespace);
    let ledger = Ledger::new(target.clone(), namespace.clone());
    let cx = HelperRun {
        target,
        namespace,
        ledger: ledger.clone(),
        redactor: Redactor::new(),
        foreign_hosts,
        options,
    };
    reporter.started(&info, cases.len(), cx.options.seed);
    let limits = Limits::new(started, cx.options.max_duration);
    let results = run_all(&cases, &cx, &limits, reporter);
    let mut cleanup = ledger.cleanup();
    cleanup.foreign_changed =
        foreign_before.changed_since(&integrity::ForeignEntries::read(&cx.target, &cx.namespace));
    cleanup.left_running = left_running(&cx.redactor);
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
    info.sha256 = digest.join().unwrap_or_default();
    let mut report = RunReport::assemble(
        result::RunFacts {
            target: info,
            suites: &helper_suites,
            cases: &cases,
            run_id: cx.namespace.run_id().to_string(),
            options: &cx.options,
            started,
            started_at,
            cleanup,
        },
        results,
    );
    report.mark_ended_early(interrupt::interrupted(), limits.max_duration_reached());
    reporter.finished(&report);
    report
}

/// Ends every process the target left that reparented to the runner, and returns what was
/// ended during the run (command lines redacted).
pub fn left_running(redactor: &Redactor) -> Vec<crate::drive::LeftRunning> {
    crate::drive::strays::end_orphans();
    crate::drive::strays::take_ended()
        .into_iter()
        .map(|mut l| {
            l.command = redactor.redact(&l.command);
            l
        })
        .collect()
}

/// The cases of `suites` that `selection` picks and that apply to a helper that is, or is not,
/// declared get-only (see [`Case::applies_to_helper`]).
pub fn helper_cases<'a>(
    suites: &[&'a Suite],
    selection: &Selection,
    get_only: bool,
) -> Vec<&'a Case> {
    let mut cases = selection.select(suites);
    cases.retain(|c| c.applies_to_helper(get_only));
    cases
}

/// Runs the shared cases on `jobs` workers, then the exclusive ones one at a time, handing each
/// result to the reporter as it comes.
fn run_all(
    cases: &[&Case],
    cx: &HelperRun,
    limits: &Limits,
    reporter: &mut dyn Reporter,
) -> Vec<CaseResult> {
    let (alone, mut shared): (Vec<&Case>, Vec<&Case>) = cases.iter().partition(|c| c.runs_alone());
    // Longest first, so no long case starts last and leaves the other workers idle.
    shared.sort_by_key(|c| std::cmp::Reverse(estimated_invocations(c)));
    let run_one = |case: &Case| guarded(case, &cx.redactor, || run_case(case, cx));
    let mut results = run_pool(&shared, limits, cx.options.jobs, &run_one, reporter);
    results.extend(run_pool(&alone, limits, 1, &run_one, reporter));
    results
}

/// A rough count of the invocations a case makes, for scheduling.
fn estimated_invocations(case: &Case) -> usize {
    match &case.body {
        CaseBody::Property(p) => p.cases as usize * 7,
        _ => case
            .steps()
            .iter()
            .map(|s| if s.parallel { 1 } else { s.repeat })
            .sum(),
    }
}

/// Runs `cases` on `jobs` workers. Once `limits` refuse, the cases left are reported as not run,
/// and so is a case that finished after an interrupt (its processes were killed under it).
pub(crate) fn run_pool(
    cases: &[&Case],
    limits: &Limits,
    jobs: usize,
    run_one: &(dyn Fn(&Case) -> CaseResult + Sync),
    reporter: &mut dyn Reporter,
) -> Vec<CaseResult> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    let workers = jobs.clamp(1, cases.len().max(1));
    thread::scope(|s| {
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = match limits.refusal() {
                        Some(why) => CaseResult::new(case, Status::Skipped).with_note(why),
                        None => {
                            let result = run_one(case);
                            match interrupt::interrupted() {
                                true => CaseResult::new(case, Status::Skipped)
                                    .with_note(limits::INTERRUPTED_NOTE),
                                false => result,
                            }
                        }
                    };
                    if tx.send(result).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut results = Vec::with_capacity(cases.len());
        for result in rx {
            reporter.case_finished(&result);
            results.push(result);
        }
        results
    })
}

/// Runs one helper case; a case that writes is skipped when the helper is declared get-only.
fn run_case(case: &Case, cx: &HelperRun) -> CaseResult {
    if cx.target.get_only && case.needs_writing_helper() {
        return CaseResult::new(case, Status::Skipped).with_note(
            "needs store or erase to succeed, and the helper is declared get-only (--get-only)",
        );
    }
    match &case.body {
        CaseBody::Property(p) => property::run(case, p, cx),
        _ => helper_case::run(case, cx),
    }
}

/// Runs `f` for `case`; a panic inside the runner becomes an error result, not a crashed run.
/// Every string of the result is redacted (every form of every secret) and shown with control
/// characters escaped before any reporter sees it.
pub(crate) fn guarded(
    case: &Case,
    redactor: &Redactor,
    f: impl FnOnce() -> CaseResult,
) -> CaseResult {
    let mut result = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        CaseResult::new(case, Status::Error)
            .with_note(format!("internal error in the runner: {why}"))
    });
    result.map_evidence(
        &|text| visible(&redactor.redact(text)).into_owned(),
        &|input| redactor.redact(input),
    );
    result
}

/// The current time, RFC 3339 in UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
