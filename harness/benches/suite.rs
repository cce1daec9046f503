//! Benchmark: the whole helper-protocol suite against the bundled reference helper, and the
//! runner's overhead over the raw spawn time of the very same invocations, measured in the same
//! run (replayed with plain `std::process::Command` at the same concurrency).
//!
//! `cargo bench -p credconform --bench suite` (env `BENCH_ROUNDS`, default 5).

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
        .unwrap_or(5);
    let exe = std::path::PathBuf::from(env!("CARGO_BIN_EXE_credconform"));
    let programs = BundledPrograms::linking(&exe).expect("bundled programs");
    let suites = scenario::load_builtin().expect("suites");
    let cpus = thread::available_parallelism().map_or(2, |n| n.get());
    println!(
        "whole helper suite against the reference helper vs raw spawn of the same invocations"
    );
    println!("(medians of {rounds} rounds after a warm-up; raw = plain std::process::Command)");
    for jobs in [1, cpus] {
        let m = measure(&programs, &suites, jobs, rounds);
        println!(
            "jobs {jobs}: {} invocations; suite {:.1} ms, raw {:.1} ms; suite/raw = {:.3} ({:+.1} %)",
            m.invocations,
            ms(m.suite),
            ms(m.raw),
            m.ratio(),
            (m.ratio() - 1.0) * 100.0
        );
    }
}

/// Medians of one configuration.
struct Measurement {
    invocations: usize,
    suite: Duration,
    raw: Duration,
}

impl Measurement {
    fn ratio(&self) -> f64 {
        self.suite.as_secs_f64() / self.raw.as_secs_f64()
    }
}

fn measure(
    programs: &BundledPrograms,
    suites: &[scenario::Suite],
    jobs: usize,
    rounds: usize,
) -> Measurement {
    let mut suite_times = Vec::new();
    let mut raw_times = Vec::new();
    let mut invocations = 0;
    for round in 0..=rounds {
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
        let suite = started.elapsed();
        let trace = drive::take_trace();
        assert_eq!(
            report.summary.exit_code(true),
            0,
            "the reference helper must pass"
        );

        let replay_store = tempfile::tempdir().unwrap();
        let raw = replay(&trace, jobs, &replay_store.path().join("s.json"));
        if round == 0 {
            continue; // warm-up: page cache, first exec
        }
        invocations = trace.len();
        suite_times.push(suite);
        raw_times.push(raw);
    }
    Measurement {
        invocations,
        suite: median(&mut suite_times),
        raw: median(&mut raw_times),
    }
}

/// Runs the recorded invocations with plain `Command`, `jobs` at a time.
fn replay(trace: &[Invocation], jobs: usize, store: &std::path::Path) -> Duration {
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

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
