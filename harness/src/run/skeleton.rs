//! The timeline every run follows, whatever it certifies: prepare what the cases share,
//! announce the run, run the plan's batches on workers within the run's limits, clean up, hash
//! the binary, assemble the report and hand it to the reporter. What is specific to a helper or
//! a login CLI sits behind [`TargetRun`].

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::Path,
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::Instant,
};

use super::{
    CleanupReport, Limits, RunOptions, interrupt, limits,
    plan::{Plan, Planned},
    result::{CaseResult, RunFacts, RunReport, Status},
};
use crate::{
    check::{Redactor, visible},
    gate::certificate::Certificate,
    report::Reporter,
    scenario::Case,
    target::TargetInfo,
};

/// What a run against one kind of target shares between its cases.
pub trait TargetRun: Sync {
    /// The program under test as reports show it (its digest is filled in by the skeleton).
    fn describe(&self) -> TargetInfo;
    /// The program's file, hashed for the report.
    fn binary(&self) -> &Path;
    /// The run identifier.
    fn run_id(&self) -> String;
    /// Every secret handed out so far; every result is redacted with it.
    fn redactor(&self) -> &Redactor;
    /// Runs one case of the plan.
    fn run_case(&self, case: &Case) -> CaseResult;
    /// Cleans up after the last case and says what was erased or left; nothing by default.
    fn finish(&self) -> CleanupReport {
        CleanupReport::default()
    }
}

/// Runs `plan` against the context `prepare` makes; an error of `prepare` ends the run before
/// any reporter event.
pub fn run<R: TargetRun, E>(
    plan: &Plan<'_>,
    options: &RunOptions,
    reporter: &mut dyn Reporter,
    prepare: impl FnOnce() -> Result<R, E>,
) -> Result<RunReport, E> {
    let started = Instant::now();
    let started_at = super::now_rfc3339();
    let cx = prepare()?;
    let mut info = cx.describe();
    // Hashing a large binary takes a while: do it while the cases run.
    let digest = crate::target::sha256_in_background(cx.binary().to_path_buf());
    reporter.started(&info, plan.len(), options.seed);
    let limits = Limits::new(started, options.max_duration);
    let suites = plan.used_suites();
    let (results, certificate) = thread::scope(|s| {
        // The suites' digest reads them again: that too is done while the cases run.
        let certificate = s.spawn(|| Certificate::of(&suites));
        let mut results = Vec::with_capacity(plan.len());
        for batch in plan.batches() {
            let workers = if batch.one_at_a_time { 1 } else { options.jobs };
            results.extend(run_pool(&batch.cases, &cx, &limits, workers, reporter));
        }
        let certificate = certificate
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (results, certificate)
    });
    let mut cleanup = cx.finish();
    cleanup.left_running = left_running(cx.redactor());
    info.sha256 = digest.join().unwrap_or_default();
    let cases: Vec<&Case> = plan.cases.iter().map(|p| p.case).collect();
    let mut report = RunReport::assemble(
        RunFacts {
            target: info,
            suites,
            certificate,
            cases: &cases,
            run_id: cx.run_id(),
            options,
            started,
            started_at,
            cleanup,
        },
        results,
    );
    report.mark_ended_early(interrupt::interrupted(), limits.max_duration_reached());
    reporter.finished(&report);
    Ok(report)
}

/// Runs one case of the plan, or reports it skipped for the plan's reason.
fn run_planned(p: &Planned, cx: &impl TargetRun) -> CaseResult {
    guarded(p.case, || match p.skip {
        Some(why) => CaseResult::new(p.case, Status::Skipped).with_note(why.to_string()),
        None => cx.run_case(p.case),
    })
}

/// Runs `cases` of one batch on `jobs` workers, handing each result to the reporter as it
/// comes. Once `limits` refuse, the cases left are reported as not run, and so is a case that
/// finished after an interrupt (its processes were killed under it).
fn run_pool(
    cases: &[&Planned<'_>],
    cx: &impl TargetRun,
    limits: &Limits,
    jobs: usize,
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
                while let Some(p) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = match limits.refusal() {
                        Some(why) => CaseResult::not_run(p.case, why),
                        None => match run_planned(p, cx) {
                            _ if interrupt::interrupted() => {
                                CaseResult::not_run(p.case, limits::INTERRUPTED_NOTE)
                            }
                            result => result,
                        },
                    };
                    if tx.send(result).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut results = Vec::with_capacity(cases.len());
        // Redacted here, while the workers go on with the next cases.
        for result in rx.into_iter().map(|r| redacted(r, cx.redactor())) {
            reporter.case_finished(&result);
            results.push(result);
        }
        results
    })
}

/// Runs `f` for `case`; a panic inside the runner becomes an error result, not a crashed run.
fn guarded(case: &Case, f: impl FnOnce() -> CaseResult) -> CaseResult {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        CaseResult::new(case, Status::Error)
            .with_note(format!("internal error in the runner: {why}"))
    })
}

/// `result` with every string redacted (every form of every secret) and shown with control
/// characters escaped, as every reporter sees it.
fn redacted(mut result: CaseResult, redactor: &Redactor) -> CaseResult {
    result.map_evidence(
        &|text| visible(&redactor.redact(text)).into_owned(),
        &|input| redactor.redact(input),
    );
    result
}

/// Ends every process the target left that reparented to the runner, and returns what was
/// ended during the run (command lines redacted).
fn left_running(redactor: &Redactor) -> Vec<crate::drive::LeftRunning> {
    crate::drive::strays::end_orphans();
    crate::drive::strays::take_ended()
        .into_iter()
        .map(|mut l| {
            l.command = redactor.redact(&l.command);
            l
        })
        .collect()
}
