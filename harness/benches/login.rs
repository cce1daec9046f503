//! Benchmark: the whole login suite against the docker CLI (`/usr/local/bin/docker`, or the
//! bundled reference login client when docker is missing), and how the time of each case splits
//! between the CLI's own invocations and the runner's per-case overhead: the fake registry's
//! start and shutdown, the sandbox, and the checks (config file, spy calls, journal, snapshots).
//!
//! CLI time is the sum of the steps' `elapsed_ms` (spawn to end of output, pipe and pty alike);
//! overhead is each case's `duration_ms` minus its steps' time, summed over the cases, so both
//! are busy time, comparable at any `--jobs`.
//!
//! `cargo bench -p credconform --bench login` (env `BENCH_ROUNDS`, default 3).

use std::{
    path::{Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use credconform::{
    bundled::{BundledPrograms, LoginVariant},
    report::Silent,
    run::{self, LoginOptions, RunOptions, RunReport, Selection, Status},
    scenario::{self, TargetKind},
    target::LoginCliTarget,
};

const DOCKER: &str = "/usr/local/bin/docker";

fn main() {
    // The login run links its spy credential helpers to the current executable, this benchmark:
    // when the CLI under test calls one, this binary must act as it.
    if let Some(code) = credconform::bundled::dispatch_from_argv0() {
        std::process::exit(code);
    }
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_credconform"));
    let programs = BundledPrograms::linking(&exe).expect("bundled programs");
    let target = if is_executable(Path::new(DOCKER)) {
        println!("whole login suite against {DOCKER} (docker profile)");
        LoginCliTarget::resolve(DOCKER, Some("docker")).expect("docker target")
    } else {
        let path = programs.login_path(LoginVariant::Reference);
        println!(
            "{DOCKER} is missing: whole login suite against the bundled reference login client \
             instead (reference profile)"
        );
        LoginCliTarget::resolve(&path.to_string_lossy(), Some("reference"))
            .expect("reference login client target")
    };
    let suites = scenario::load_builtin().expect("suites");
    let cpus = thread::available_parallelism().map_or(2, |n| n.get());
    println!(
        "(medians of {rounds} rounds after a warm-up; CLI = summed wall time of the CLI \
         invocations; overhead = case time minus CLI time: registry start/stop, sandbox, checks)"
    );
    let mut configs = vec![1];
    if cpus > 1 {
        configs.push(cpus);
    }
    for jobs in configs {
        let m = measure(&target, &suites, jobs, rounds);
        println!(
            "jobs {jobs}: {} cases ({} steps running the CLI); wall {:.0} ms; CLI {:.0} ms \
             ({:.1} ms per invocation); overhead {:.1} ms per case; overhead/CLI = {:.3}",
            m.cases,
            m.invocations,
            m.wall_ms,
            m.cli_ms,
            m.cli_ms / m.invocations.max(1) as f64,
            m.overhead_per_case_ms,
            m.ratio,
        );
        println!(
            "         typical case (median over cases): CLI {:.1} ms, overhead {:.1} ms, \
             overhead/CLI = {:.3}; slowest case {} ({:.0} ms of CLI)",
            m.typical_cli_ms,
            m.typical_overhead_ms,
            m.typical_overhead_ms / m.typical_cli_ms,
            m.slowest.0,
            m.slowest.1,
        );
        println!(
            "         summed case time {:.0} ms; run setup outside the cases {:.0} ms{}",
            m.case_ms,
            m.outside_ms,
            if jobs == 1 {
                ""
            } else {
                " (wall minus case time / jobs: setup plus workers idle at the tail)"
            }
        );
    }
}

/// Medians of one configuration.
struct Measurement {
    cases: usize,
    invocations: usize,
    wall_ms: f64,
    cli_ms: f64,
    case_ms: f64,
    overhead_per_case_ms: f64,
    ratio: f64,
    outside_ms: f64,
    typical_cli_ms: f64,
    typical_overhead_ms: f64,
    slowest: (String, f64),
}

/// One round's figures.
struct Round {
    wall: f64,
    cli: f64,
    cases: f64,
    typical_cli: f64,
    typical_overhead: f64,
}

fn measure(
    target: &LoginCliTarget,
    suites: &[scenario::Suite],
    jobs: usize,
    rounds: usize,
) -> Measurement {
    let mut figures = Vec::new();
    let (mut cases, mut invocations) = (0, 0);
    let mut slowest = (String::new(), 0.0);
    for round in 0..=rounds {
        let options = RunOptions {
            jobs,
            strict: false,
            seed: 1,
            prop_cases: None,
            max_duration: None,
        };
        let started = Instant::now();
        let plan = run::Plan::new(TargetKind::LoginCli, suites, &Selection::default(), false);
        let report = run::certify_login_cli(
            &plan,
            target.clone(),
            options,
            LoginOptions::default(),
            &mut Silent,
        )
        .expect("login run");
        let wall = started.elapsed();
        if round == 0 {
            describe(&report);
            continue; // warm-up: page cache, first exec
        }
        cases = report.cases.len();
        invocations = report
            .cases
            .iter()
            .flat_map(|c| &c.steps)
            .filter(|s| s.ending != run::result::StepEnding::RegistryChanged)
            .count();
        let cli_of = |c: &run::CaseResult| c.steps.iter().map(|s| s.elapsed_ms).sum::<f64>();
        if let Some(c) = report
            .cases
            .iter()
            .max_by(|a, b| cli_of(a).total_cmp(&cli_of(b)))
        {
            slowest = (c.id.clone(), cli_of(c));
        }
        figures.push(Round {
            wall: ms(wall),
            cli: report.cases.iter().map(cli_of).sum(),
            cases: report.cases.iter().map(|c| c.duration_ms).sum(),
            typical_cli: median(report.cases.iter().map(cli_of).collect()),
            typical_overhead: median(
                report
                    .cases
                    .iter()
                    .map(|c| c.duration_ms - cli_of(c))
                    .collect(),
            ),
        });
    }
    let med = |f: &dyn Fn(&Round) -> f64| median(figures.iter().map(f).collect());
    let (wall, cli, case) = (med(&|r| r.wall), med(&|r| r.cli), med(&|r| r.cases));
    let overhead = med(&|r| r.cases - r.cli);
    Measurement {
        cases,
        invocations,
        wall_ms: wall,
        cli_ms: cli,
        case_ms: case,
        overhead_per_case_ms: overhead / cases.max(1) as f64,
        ratio: med(&|r| (r.cases - r.cli) / r.cli),
        outside_ms: med(&|r| r.wall - r.cases / jobs as f64),
        typical_cli_ms: med(&|r| r.typical_cli),
        typical_overhead_ms: med(&|r| r.typical_overhead),
        slowest,
    }
}

/// Shows the verdicts of the warm-up round once, so a broken setup is not mistaken for speed.
fn describe(report: &RunReport) {
    let count = |s: Status| report.cases.iter().filter(|c| c.status == s).count();
    let not_passed: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.is_failure())
        .map(|c| c.id.as_str())
        .collect();
    println!(
        "  warm-up verdicts: {} passed, {} failed, {} errored, {} skipped{}",
        count(Status::Passed),
        count(Status::Failed),
        count(Status::Error),
        count(Status::Skipped),
        if not_passed.is_empty() {
            String::new()
        } else {
            format!(" (failed: {})", not_passed.join(", "))
        }
    );
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
