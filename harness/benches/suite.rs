//! Benchmark: the whole helper-protocol suite against the bundled reference helper, and the
//! runner's overhead over the raw spawn time of the very same invocations, measured in the same
//! run (replayed with plain `std::process::Command` at the same concurrency).
//!
//! `cargo bench -p credconform --bench suite` (env `BENCH_ROUNDS`, default 9).

use std::{
    io::Write,
    process::{Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    thread,
    time::{Duration, Instant},
};

use credconform::{
    bundled::{BundledPrograms, Variant},
    drive::{self, Invocation},
    report::Silent,
    run::{self, RunOptions, Selection},
    scenario::{self, TargetKind},
    target::HelperTarget,
};

fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9);
    let exe = std::path::PathBuf::from(env!("CARGO_BIN_EXE_credconform"));
    let programs = BundledPrograms::linking(&exe).expect("bundled programs");
    let suites = scenario::load_builtin().expect("suites");
    let cpus = thread::available_parallelism().map_or(2, |n| n.get());
    println!(
        "whole helper suite against the reference helper vs raw spawn of the same invocations\n\
         (the median of {rounds} rounds after a warm-up, each timing both back to back; \
         raw = plain std::process::Command)"
    );
    for jobs in [1, cpus] {
        let (invocations, ratios) = measure(&programs, &suites, jobs, rounds);
        let median = ratios[ratios.len() / 2];
        println!(
            "jobs {jobs}: {invocations} invocations; suite/raw = {median:.3} ({:+.1} %), \
             rounds from {:.3} to {:.3}",
            (median - 1.0) * 100.0,
            ratios[0],
            ratios[ratios.len() - 1]
        );
    }
}

/// The invocations of one run and the rounds' suite/raw ratios, sorted. Each round runs the
/// suite and replays its invocations back to back, in alternating order (so that neither always
/// follows the other's disk writes); the warm-up (page cache, first exec) records them.
fn measure(
    programs: &BundledPrograms,
    suites: &[scenario::Suite],
    jobs: usize,
    rounds: usize,
) -> (usize, Vec<f64>) {
    let trace = run_suite(programs, suites, jobs).1;
    let mut ratios: Vec<f64> = (0..rounds.max(1))
        .map(|round| {
            let (suite, raw) = if round % 2 == 0 {
                let suite = run_suite(programs, suites, jobs).0;
                (suite, replay(&trace, jobs))
            } else {
                let raw = replay(&trace, jobs);
                (run_suite(programs, suites, jobs).0, raw)
            };
            suite.as_secs_f64() / raw.as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    (trace.len(), ratios)
}

/// One whole run of the suite against a fresh store: its wall time and its invocations.
fn run_suite(
    programs: &BundledPrograms,
    suites: &[scenario::Suite],
    jobs: usize,
) -> (Duration, Vec<Invocation>) {
    let store = tempfile::tempdir().unwrap();
    let mut target =
        HelperTarget::resolve(programs.path(Variant::Reference).to_str().unwrap()).unwrap();
    target.env.push((
        "CREDCONFORM_REF_STORE".into(),
        store.path().join("s.json").into(),
    ));
    let options = RunOptions {
        jobs,
        strict: true,
        seed: 1,
        prop_cases: None,
        max_duration: None,
    };
    drive::start_trace();
    let started = Instant::now();
    let plan = run::Plan::new(TargetKind::Helper, suites, &Selection::default(), false);
    let report = run::certify_helper(&plan, target, options, &mut Silent);
    let elapsed = started.elapsed();
    let trace = drive::take_trace();
    assert_eq!(
        report.summary.exit_code(true),
        0,
        "the reference helper must pass"
    );
    (elapsed, trace)
}

/// Runs the recorded invocations with plain `Command`, `jobs` at a time, against a fresh store.
fn replay(trace: &[Invocation], jobs: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.json");
    let store = store.as_path();
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                while let Some(inv) = trace.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let mut child = Command::new(&inv.program)
                        .args(&inv.args)
                        .env("CREDCONFORM_REF_STORE", store)
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap();
                    let _ = child.stdin.take().unwrap().write_all(&inv.stdin);
                    let _ = child.wait_with_output();
                }
            });
        }
    });
    started.elapsed()
}
