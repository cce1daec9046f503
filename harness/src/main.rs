//! The `credconform` command line: parses flags, calls the library, maps the outcome to an exit
//! code (0 conformant, 1 a case failed, 2 usage or setup error).

use std::{ffi::OsString, path::PathBuf, process::ExitCode, time::Duration};

use clap::{Args, Parser, Subcommand};
use credconform::{
    bundled::{BundledPrograms, LoginVariant, Variant},
    cli_args, default_suites_dir,
    gate::{Gate, diff::Diff, read::ReadReport, verify},
    report::{
        self, Format, Reporter, badge::Badge, html::Html, json::Json, junit::Junit,
        markdown::Markdown, terminal::Terminal,
    },
    run::{self, LoginOptions, Partition, RunOptions, RunReport, Selection, plan::suite_exists},
    scenario::{self, Suite, TargetKind},
    target::{HelperTarget, LoginCliTarget},
};

/// Certify Docker credential helpers and registry login CLIs against the protocol.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the cases: ID, level, title.
    List {
        /// Only this suite.
        #[arg(long)]
        suite: Option<String>,
        /// The folder holding the suites.
        #[arg(long, value_name = "DIR")]
        suites_dir: Option<PathBuf>,
    },
    /// Run the fake registry standalone (the same flags as the `fake-registry` binary).
    Registry(fake_registry::cli::ServeArgs),
    /// Erase entries left in a helper's store by earlier runs that were killed before they could
    /// clean up: first the URLs their ledger files name, then every listed URL of a run's exact
    /// shapes (`<case>.<run id>.credconform.test` hosts, `localhost:PORT/<run id>-<case>`).
    Clean {
        /// The credential helper: a path, or a program name on PATH.
        #[arg(long, value_name = "PATH")]
        helper: String,
        /// Set a variable for the helper (repeatable).
        #[arg(long = "env", value_name = "K=V", value_parser = parse_env)]
        env: Vec<(OsString, OsString)>,
    },
    /// Compare two JSON reports case by case: exit 1 when a case regressed, 0 otherwise.
    Diff(DiffArgs),
    /// Check that a binary and the loaded suites are the ones a JSON report certified: exit 0
    /// when they match, 1 naming what differs.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// The earlier report (e.g. of the previous release).
    #[arg(value_name = "OLD.json")]
    old: PathBuf,
    /// The later report (e.g. of the candidate).
    #[arg(value_name = "NEW.json")]
    new: PathBuf,
    /// Also write the diff as Markdown (a pull-request comment).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Also write the diff as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The JSON report (the published certificate).
    #[arg(value_name = "REPORT.json")]
    report: PathBuf,
    /// The credential helper binary to check.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "login_cli",
        conflicts_with = "login_cli"
    )]
    helper: Option<String>,
    /// The login CLI binary to check.
    #[arg(long, value_name = "PATH")]
    login_cli: Option<String>,
    /// The login CLI's profile [default: guessed from the file name].
    #[arg(long, value_name = "NAME", requires = "login_cli")]
    profile: Option<String>,
    /// The folder holding the suites [default: the source tree's suites/].
    #[arg(long, value_name = "DIR")]
    suites_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The credential helper to certify: a path, or a program name on PATH.
    #[arg(long, value_name = "PATH", conflicts_with = "login_cli")]
    helper: Option<String>,
    /// The registry login CLI to certify (docker, podman, skopeo, buildah, crane, oras...): a path
    /// or a name.
    #[arg(long, value_name = "PATH")]
    login_cli: Option<String>,
    /// The login CLI's profile in fixtures/profiles [default: guessed from the file name].
    #[arg(long, value_name = "NAME", requires = "login_cli")]
    profile: Option<String>,
    /// Accept the config files login cases produce as the new snapshots.
    #[arg(long)]
    update_snapshots: bool,
    /// Set a variable for the helper, on top of the inherited environment (repeatable).
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env)]
    env: Vec<(OsString, OsString)>,
    /// Certify the helper as get-only (like ecr-login or gcr: it serves credentials provisioned
    /// by other means): cases that store or erase are skipped, the get-only cases run.
    #[arg(long, conflicts_with = "login_cli")]
    get_only: bool,
    /// Only this suite.
    #[arg(long)]
    suite: Option<String>,
    /// Only cases whose ID or title contains TEXT (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// SHOULD failures fail the run too.
    #[arg(long)]
    strict: bool,
    /// Cases run at the same time [default: the number of CPUs].
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = cli_args::jobs)]
    jobs: Option<usize>,
    /// Only partition I of N (for CI matrices).
    #[arg(long, value_name = "I/N", allow_hyphen_values = true, value_parser = cli_args::partition)]
    partition: Option<Partition>,
    /// Seconds each invocation may run before its process group is killed (more than 0, at
    /// most 3600).
    #[arg(long, value_name = "SECS", default_value = "10", allow_hyphen_values = true,
          value_parser = cli_args::timeout)]
    timeout: Duration,
    /// The longest the run may take: cases not started by then are reported as not run and
    /// the run fails (seconds, or with a unit: 90s, 30m, 2h) [default: 30m].
    #[arg(long, value_name = "DURATION", value_parser = run::limits::parse_max_duration)]
    max_duration: Option<Duration>,
    /// Seed of the generative cases [default: random, printed].
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = cli_args::seed)]
    seed: Option<u64>,
    /// Random inputs per generative case (overrides the suite's number).
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = cli_args::prop_cases)]
    prop_cases: Option<u32>,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a JSON report.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a Markdown summary (fits $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Write a self-contained HTML certification report.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write an SVG badge of the verdict.
    #[arg(long, value_name = "FILE")]
    badge: Option<PathBuf>,
    /// Print a line for every case, not only failures.
    #[arg(long, short)]
    verbose: bool,
    /// The folder holding the suites [default: the source tree's suites/].
    #[arg(long, value_name = "DIR")]
    suites_dir: Option<PathBuf>,
    /// A JSON report of an earlier run: the failures it had are known failures, which do not
    /// fail the run; any other failure does.
    #[arg(long, value_name = "REPORT.json")]
    baseline: Option<PathBuf>,
    /// A TOML file of waivers (accepted failures with a reason and an expiry date); an expired
    /// waiver or one naming an unknown case stops the run (exit 2).
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
}

fn parse_env(s: &str) -> Result<(OsString, OsString), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.into(), v.into())),
        _ => Err(format!("`{s}` is not K=V")),
    }
}

/// A setup problem: printed, exit 2.
struct SetupError(String);

impl<E: std::fmt::Display> From<E> for SetupError {
    fn from(e: E) -> Self {
        SetupError(e.to_string())
    }
}

fn main() -> ExitCode {
    if let Some(code) = credconform::bundled::dispatch_from_argv0() {
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::List { suite, suites_dir }) => list(suite, suites_dir),
        Some(Command::Clean { helper, env }) => clean(&helper, env),
        Some(Command::Registry(args)) => registry(args),
        Some(Command::Diff(args)) => diff(args),
        Some(Command::Verify(args)) => verify(args),
        None => certify(cli.run),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(SetupError(message)) => {
            eprintln!("credconform: {message}");
            ExitCode::from(2)
        }
    }
}

fn load_suites(dir: Option<PathBuf>, only: Option<&str>) -> Result<Vec<Suite>, SetupError> {
    let dir = dir.unwrap_or_else(default_suites_dir);
    let suites = scenario::load_all(&dir)?;
    if let Some(name) = only
        && !suite_exists(&suites, name)
    {
        let known: Vec<&str> = suites.iter().map(|s| s.name.as_str()).collect();
        return Err(SetupError(format!(
            "no suite `{name}` (known: {})",
            known.join(", ")
        )));
    }
    Ok(suites)
}

/// Writes one line to stdout. A closed stdout (its reader, such as `head`, has gone: EPIPE) is
/// not a failure: the answer is `false` and the caller stops printing, as Unix tools do.
fn say(line: std::fmt::Arguments<'_>) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
}

fn list(suite: Option<String>, suites_dir: Option<PathBuf>) -> Result<u8, SetupError> {
    let suites = load_suites(suites_dir, suite.as_deref())?;
    for s in suites
        .iter()
        .filter(|s| suite.as_deref().is_none_or(|n| s.name == n))
    {
        let header = say(format_args!(
            "# {} ({} v{}, {} cases)",
            s.name,
            s.header.title,
            s.header.version,
            s.cases.len()
        ));
        if !header {
            return Ok(0);
        }
        for c in &s.cases {
            let only = if c.get_only { " (with --get-only)" } else { "" };
            if !say(format_args!(
                "{:<16} {:<6} {}{only}",
                c.id,
                c.level.to_string(),
                c.title
            )) {
                return Ok(0);
            }
        }
    }
    Ok(0)
}

fn registry(args: fake_registry::cli::ServeArgs) -> Result<u8, SetupError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(fake_registry::cli::serve(args))
        .map_err(|e| SetupError(format!("registry: {e:#}")))?;
    Ok(0)
}

fn clean(helper: &str, env: Vec<(OsString, OsString)>) -> Result<u8, SetupError> {
    let mut target = HelperTarget::resolve(helper)?;
    target.env = env;
    let state_dir = run::ledger::file::state_dir();
    let outcome = run::ledger::clean_earlier_runs(&target, state_dir.as_deref());
    let report = &outcome.report;
    if let Some(e) = &report.list_error {
        return Err(SetupError(format!(
            "cannot list the helper's entries: {e} (erased {} entr{} named by ledgers first)",
            report.erased,
            if report.erased == 1 { "y" } else { "ies" }
        )));
    }
    let ledgers = match (outcome.ledgers, outcome.live) {
        (0, 0) => "no ledger of a killed run was found".to_string(),
        (n, 0) => format!("read {n} ledger(s) of killed runs"),
        (n, live) => {
            format!("read {n} ledger(s) of killed runs; left alone {live} run(s) still in progress")
        }
    };
    let erased = match outcome.erased.len() {
        0 => "nothing to erase: the store holds no entry of an earlier credconform run".into(),
        n => format!(
            "erased {n} entr{} left by earlier credconform runs: {}",
            if n == 1 { "y" } else { "ies" },
            credconform::check::visible(&outcome.erased.join(", "))
        ),
    };
    say(format_args!(
        "{ledgers}; {erased}; {}",
        run::ledger::describe_leftovers(report)
    ));
    Ok(u8::from(!report.leftovers.is_empty()))
}

fn certify(args: RunArgs) -> Result<u8, SetupError> {
    let suites = load_suites(args.suites_dir.clone(), args.suite.as_deref())?;
    // Ctrl-C/SIGTERM stop the run and still leave its reports; orphans of the programs under
    // test reparent to us, to be ended at the end of the run.
    if let Err(e) = run::interrupt::install() {
        eprintln!("credconform: cannot handle Ctrl-C ({e}); an interrupt will not clean up");
    }
    if let Err(e) = credconform::drive::strays::become_subreaper() {
        eprintln!(
            "credconform: cannot become a child subreaper ({e}); processes that leave a \
             helper's process group cannot be ended"
        );
    }
    // One set of options (one seed) for every run; no target: every suite against the bundled
    // reference programs. A run starts only when the selection leaves it some case.
    let options = run_options(&args);
    let gate = Gate::load(
        args.baseline.as_deref(),
        args.waivers.as_deref(),
        &suites,
        time::OffsetDateTime::now_utc().date(),
    )
    .map_err(|e| SetupError(format!("{:#}", anyhow::Error::new(e))))?;
    let has_cases = |kind: TargetKind| {
        let of_kind: Vec<&Suite> = suites.iter().filter(|s| s.header.target == kind).collect();
        match kind {
            TargetKind::Helper => {
                !run::helper_cases(&of_kind, &options.selection, args.get_only).is_empty()
            }
            TargetKind::LoginCli => !options.selection.select(&of_kind).is_empty(),
        }
    };
    let mut reports: Vec<RunReport> = [
        (args.login_cli.is_none() && has_cases(TargetKind::Helper))
            .then(|| certify_helper(&args, &suites, options.clone(), &gate)),
        (args.helper.is_none()
            && !args.get_only
            && has_cases(TargetKind::LoginCli)
            && !run::interrupt::interrupted())
        .then(|| certify_login_cli(&args, &suites, options.clone(), &gate)),
    ]
    .into_iter()
    .flatten()
    .collect::<Result<Vec<_>, _>>()?;
    if reports.is_empty() {
        return Err(SetupError(
            "no case matches the selection (--suite, --filter, --partition)".into(),
        ));
    }
    let mut code = 0;
    for (n, report) in reports.iter_mut().enumerate() {
        gate.apply(report);
        // With two reports (no target), the second one's files get a `-login` suffix.
        write_reports(&args, report, if n == 0 { "" } else { "-login" })?;
        code = code.max(report.summary.exit_code(args.strict) as u8);
    }
    if run::interrupt::interrupted() {
        return Ok(run::interrupt::EXIT_CODE as u8);
    }
    Ok(code)
}

fn run_options(args: &RunArgs) -> RunOptions {
    RunOptions {
        selection: Selection {
            suite: args.suite.clone(),
            filter: args.filter.clone(),
            partition: args.partition,
        },
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        strict: args.strict,
        seed: args.seed.unwrap_or_else(rand::random),
        prop_cases: args.prop_cases,
        max_duration: Some(
            args.max_duration
                .unwrap_or(run::limits::DEFAULT_MAX_DURATION),
        ),
    }
}

fn certify_login_cli(
    args: &RunArgs,
    suites: &[Suite],
    options: RunOptions,
    gate: &Gate,
) -> Result<RunReport, SetupError> {
    let profiles = credconform::target::profile::default_profiles_dir();
    let _bundled;
    let mut target = match &args.login_cli {
        Some(name) => LoginCliTarget::resolve(name, args.profile.as_deref(), &profiles)?,
        None => {
            let programs = BundledPrograms::create()?;
            say(format_args!(
                "No target given: certifying the bundled reference login client. \
                 Use --login-cli PATH to certify yours."
            ));
            let path = programs.login_path(LoginVariant::Reference);
            _bundled = programs;
            LoginCliTarget::resolve(&path.to_string_lossy(), Some("reference"), &profiles)?
        }
    };
    target.timeout = args.timeout;
    let login = LoginOptions {
        update_snapshots: args.update_snapshots,
        ..LoginOptions::default()
    };
    let mut terminal = Terminal::new();
    terminal.verbose = args.verbose;
    Ok(run::certify_login_cli(
        suites,
        target,
        options,
        login,
        &mut gate.reporter(&mut terminal),
    )?)
}

fn certify_helper(
    args: &RunArgs,
    suites: &[Suite],
    options: RunOptions,
    gate: &Gate,
) -> Result<RunReport, SetupError> {
    // Kept alive for the whole run: the bundled programs and the reference helper's store.
    let mut _bundled = None;
    let mut _store = None;
    let mut target = match &args.helper {
        Some(name) => HelperTarget::resolve(name)?,
        None => {
            let programs = BundledPrograms::create()?;
            let store = tempfile::Builder::new()
                .prefix("credconform-store-")
                .tempdir()?;
            let (variant, what) = if args.get_only {
                (Variant::GetOnly, "get-only helper")
            } else {
                (Variant::Reference, "helper")
            };
            say(format_args!(
                "No target given: certifying the bundled reference {what}. \
                 Use --helper PATH to certify yours."
            ));
            let mut t = HelperTarget::resolve(&programs.path(variant).to_string_lossy())?;
            t.env.push((
                "CREDCONFORM_REF_STORE".into(),
                store.path().join("store.json").into(),
            ));
            _bundled = Some(programs);
            _store = Some(store);
            t
        }
    };
    target.env.extend(args.env.iter().cloned());
    target.timeout = args.timeout;
    target.get_only = args.get_only;
    let mut terminal = Terminal::new();
    terminal.verbose = args.verbose;
    Ok(run::certify_helper(
        suites,
        target,
        options,
        &mut gate.reporter(&mut terminal) as &mut dyn Reporter,
    ))
}

fn write_reports(args: &RunArgs, report: &RunReport, suffix: &str) -> Result<(), SetupError> {
    let outputs: [(&Option<PathBuf>, &dyn Format); 5] = [
        (&args.junit, &Junit),
        (&args.json, &Json),
        (&args.markdown, &Markdown),
        (&args.html, &Html),
        (&args.badge, &Badge),
    ];
    for (path, format) in outputs {
        if let Some(path) = path {
            report::write(format, report, &with_suffix(path, suffix))?;
        }
    }
    Ok(())
}

/// `report.json` with suffix `-login` is `report-login.json`.
fn with_suffix(path: &std::path::Path, suffix: &str) -> PathBuf {
    if suffix.is_empty() {
        return path.to_path_buf();
    }
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}{suffix}.{}", ext.to_string_lossy()),
        None => format!("{stem}{suffix}"),
    };
    path.with_file_name(name)
}

fn diff(args: DiffArgs) -> Result<u8, SetupError> {
    let old = ReadReport::load(&args.old)?;
    let new = ReadReport::load(&args.new)?;
    let diff = Diff::of(&old, &new);
    print!("{}", diff.render_text());
    for (path, text) in [
        (&args.markdown, diff.render_markdown()),
        (&args.json, diff.render_json()),
    ] {
        if let Some(path) = path {
            std::fs::write(path, text)
                .map_err(|e| SetupError(format!("cannot write {}: {e}", path.display())))?;
        }
    }
    Ok(diff.exit_code())
}

fn verify(args: VerifyArgs) -> Result<u8, SetupError> {
    let report = ReadReport::load(&args.report)?;
    let suites = load_suites(args.suites_dir, None)?;
    let (mut info, path) = match (&args.helper, &args.login_cli) {
        (Some(name), _) => {
            let target = HelperTarget::resolve(name)?;
            (target.describe(), target.path)
        }
        (None, Some(name)) => {
            let profiles = credconform::target::profile::default_profiles_dir();
            let target = LoginCliTarget::resolve(name, args.profile.as_deref(), &profiles)?;
            (target.describe(), target.path)
        }
        (None, None) => return Err(SetupError("give --helper PATH or --login-cli PATH".into())),
    };
    info.sha256 = credconform::target::sha256_file(&path)
        .map_err(|e| SetupError(format!("cannot read {}: {e}", path.display())))?;
    let differences = verify::differences(
        &report,
        &verify::AtHand {
            target: &info,
            suites: &suites,
        },
    );
    if differences.is_empty() {
        println!(
            "matches: {} (sha256 {}) and the loaded suites are the ones {} certified",
            info.path,
            info.sha256,
            args.report.display()
        );
        return Ok(0);
    }
    println!(
        "does not match {}: {} difference{}",
        args.report.display(),
        differences.len(),
        report::text::plural(differences.len())
    );
    for d in &differences {
        println!("  {d}");
    }
    Ok(1)
}
