//! The `credconform` command line: parses flags, calls the library, maps the outcome to an exit
//! code (0 conformant, 1 a case failed, 2 usage or setup error).

use std::{ffi::OsString, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use credconform::{
    assets::{self, Folder},
    bundled::{BundledPrograms, LoginVariant, Variant},
    cli_args,
    gate::{Gate, diff::Diff, read::ReadReport, verify},
    report::{
        self, Format, badge::Badge, html::Html, json::Json, junit::Junit, markdown::Markdown,
        terminal::Terminal,
    },
    run::{
        self, LoginOptions, Partition, Plan, RunOptions, RunReport, Selection, plan::suite_exists,
    },
    scenario::{Suite, SuiteSources, TargetKind},
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
    /// List the cases: ID, level, title, and where each suite comes from.
    List {
        /// Only this suite.
        #[arg(long)]
        suite: Option<String>,
        #[command(flatten)]
        suites: SuiteArgs,
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
    #[command(flatten)]
    suites: SuiteArgs,
}

/// Where the suites come from: built in, replaced, or with vendor suites beside them.
#[derive(Debug, Args)]
struct SuiteArgs {
    /// A folder of suite folders replacing the built-in suites.
    #[arg(long, value_name = "DIR")]
    suites_dir: Option<PathBuf>,
    /// A vendor suite folder (or a folder of them) loaded beside the built-in suites; case IDs
    /// must not clash with theirs (repeatable).
    #[arg(long = "add-suite", value_name = "DIR")]
    add_suite: Vec<PathBuf>,
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
    /// The login CLI's profile (built in from fixtures/profiles) [default: guessed from the
    /// file name].
    #[arg(long, value_name = "NAME", requires = "login_cli")]
    profile: Option<String>,
    /// Accept the config files login cases produce as the new snapshots, written into
    /// --snapshots-dir (the built-in snapshots cannot change; the project's own are
    /// `--snapshots-dir fixtures/snapshots`).
    #[arg(long, requires = "snapshots_dir")]
    update_snapshots: bool,
    /// The login snapshots to compare with (a folder per profile) instead of the built-in ones,
    /// and where --update-snapshots writes.
    #[arg(long, value_name = "DIR")]
    snapshots_dir: Option<PathBuf>,
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
    #[command(flatten)]
    suites: SuiteArgs,
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

fn main() -> ExitCode {
    if let Some(code) = credconform::bundled::dispatch_from_argv0() {
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::List { suite, suites }) => list(suite, &suites),
        Some(Command::Clean { helper, env }) => clean(&helper, env),
        Some(Command::Registry(args)) => registry(args),
        Some(Command::Diff(args)) => diff(args),
        Some(Command::Verify(args)) => verify(args),
        None => certify(cli.run),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        // A setup problem: printed with its causes, exit 2.
        Err(e) => {
            eprintln!("credconform: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load_suites(args: &SuiteArgs, only: Option<&str>) -> anyhow::Result<Vec<Suite>> {
    let sources = SuiteSources {
        replace: args.suites_dir.clone(),
        add: args.add_suite.clone(),
    };
    let suites = sources.load()?;
    if let Some(name) = only
        && !suite_exists(&suites, name)
    {
        let known: Vec<&str> = suites.iter().map(|s| s.name.as_str()).collect();
        bail!("no suite `{name}` (known: {})", known.join(", "));
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

fn list(suite: Option<String>, args: &SuiteArgs) -> anyhow::Result<u8> {
    let suites = load_suites(args, suite.as_deref())?;
    for s in suites
        .iter()
        .filter(|s| suite.as_deref().is_none_or(|n| s.name == n))
    {
        if !say(format_args!(
            "# {} ({} v{}, {} cases, {})",
            s.name,
            s.header.title,
            s.header.version,
            s.cases.len(),
            origin(s)
        )) {
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

/// Where a suite's cases come from: `built-in`, or the folder on disk.
fn origin(suite: &Suite) -> String {
    match suite.cases.first().map(|c| &c.source.file) {
        Some(file) if !assets::is_built_in(file) => {
            let folder = file.parent().unwrap_or(file);
            format!("from {}", folder.display())
        }
        _ => "built-in".into(),
    }
}

fn registry(args: fake_registry::cli::ServeArgs) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime
        .block_on(fake_registry::cli::serve(args))
        .context("registry")?;
    Ok(0)
}

fn clean(helper: &str, env: Vec<(OsString, OsString)>) -> anyhow::Result<u8> {
    let mut target = HelperTarget::resolve(helper)?;
    target.env = env;
    let state_dir = run::ledger::file::state_dir();
    let outcome = run::ledger::clean_earlier_runs(&target, state_dir.as_deref());
    let report = &outcome.report;
    if let Some(e) = &report.list_error {
        bail!(
            "cannot list the helper's entries: {e} (erased {} named by ledgers first)",
            entries(report.erased)
        );
    }
    let ledgers = match (outcome.ledgers, outcome.live) {
        (0, 0) => "no ledger of a killed run was found".to_string(),
        (n, 0) => format!("read {n} ledger(s) of killed runs"),
        (n, live) => {
            format!("read {n} ledger(s) of killed runs; left alone {live} run(s) still in progress")
        }
    };
    let erased = match (outcome.erased.len(), report.leftovers.is_empty()) {
        (0, true) => {
            "nothing to erase: the store holds no entry of an earlier credconform run".into()
        }
        (0, false) => "erased nothing".into(),
        (n, _) => format!(
            "erased {} left by earlier credconform runs: {}",
            entries(n),
            credconform::check::visible(&outcome.erased.join(", "))
        ),
    };
    let left = match report.leftovers.len() {
        0 => String::new(),
        n => format!(
            "; {} found could not be erased: {}",
            entries(n),
            credconform::check::visible(&report.leftovers.join(", "))
        ),
    };
    say(format_args!("{ledgers}; {erased}{left}"));
    Ok(u8::from(!report.leftovers.is_empty()))
}

/// `1 entry`, `2 entries`.
fn entries(n: usize) -> String {
    format!("{n} entr{}", if n == 1 { "y" } else { "ies" })
}

fn certify(args: RunArgs) -> anyhow::Result<u8> {
    let suites = load_suites(&args.suites, args.suite.as_deref())?;
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
    // reference programs. A run starts only when its plan holds some case.
    let options = run_options(&args);
    let gate = Gate::load(
        args.baseline.as_deref(),
        args.waivers.as_deref(),
        &suites,
        time::OffsetDateTime::now_utc().date(),
    )?;
    let helper = args.login_cli.is_none().then_some(TargetKind::Helper);
    let login_cli = (args.helper.is_none() && !args.get_only).then_some(TargetKind::LoginCli);
    let kinds: Vec<TargetKind> = helper.into_iter().chain(login_cli).collect();
    let selection = Selection {
        suite: args.suite.clone(),
        filter: args.filter.clone(),
        partition: args.partition,
    };
    let plans = run::plan::plans(&suites, &selection, &kinds, args.get_only)?;
    let mut reports = Vec::with_capacity(plans.len());
    for plan in &plans {
        reports.push(match plan.kind {
            TargetKind::Helper => certify_helper(&args, plan, options.clone(), &gate)?,
            TargetKind::LoginCli if run::interrupt::interrupted() => continue,
            TargetKind::LoginCli => certify_login_cli(&args, plan, options.clone(), &gate)?,
        });
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

/// The terminal reporter behind the gate.
fn terminal(args: &RunArgs) -> Terminal {
    let mut terminal = Terminal::new();
    terminal.verbose = args.verbose;
    terminal
}

fn certify_login_cli(
    args: &RunArgs,
    plan: &Plan<'_>,
    options: RunOptions,
    gate: &Gate,
) -> anyhow::Result<RunReport> {
    let _bundled;
    let mut target = match &args.login_cli {
        Some(name) => LoginCliTarget::resolve(name, args.profile.as_deref())?,
        None => {
            let programs = BundledPrograms::create()?;
            say(format_args!(
                "No target given: certifying the bundled reference login client. \
                 Use --login-cli PATH to certify yours."
            ));
            let path = programs.login_path(LoginVariant::Reference);
            _bundled = programs;
            LoginCliTarget::resolve(&path.to_string_lossy(), Some("reference"))?
        }
    };
    target.timeout = args.timeout;
    let login = LoginOptions {
        snapshots: args
            .snapshots_dir
            .as_deref()
            .map_or_else(Folder::snapshots, Folder::on_disk),
        update_snapshots: args.update_snapshots,
    };
    let mut terminal = terminal(args);
    let mut reporter = gate.reporter(&mut terminal);
    Ok(run::certify_login_cli(
        plan,
        target,
        options,
        login,
        &mut reporter,
    )?)
}

fn certify_helper(
    args: &RunArgs,
    plan: &Plan<'_>,
    options: RunOptions,
    gate: &Gate,
) -> anyhow::Result<RunReport> {
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
    let mut terminal = terminal(args);
    let mut reporter = gate.reporter(&mut terminal);
    Ok(run::certify_helper(plan, target, options, &mut reporter))
}

/// Writes the requested report files, naming each one written.
fn write_reports(args: &RunArgs, report: &RunReport, suffix: &str) -> anyhow::Result<()> {
    let outputs: [(&Option<PathBuf>, &dyn Format); 5] = [
        (&args.junit, &Junit),
        (&args.json, &Json),
        (&args.markdown, &Markdown),
        (&args.html, &Html),
        (&args.badge, &Badge),
    ];
    for (path, format) in outputs {
        if let Some(path) = path {
            let path = with_suffix(path, suffix);
            report::write(format, report, &path)?;
            say(format_args!("{} report: {}", format.name(), path.display()));
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

fn diff(args: DiffArgs) -> anyhow::Result<u8> {
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
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(diff.exit_code())
}

fn verify(args: VerifyArgs) -> anyhow::Result<u8> {
    let report = ReadReport::load(&args.report)?;
    let suites = load_suites(&args.suites, None)?;
    let (mut info, path) = match (&args.helper, &args.login_cli) {
        (Some(name), _) => {
            let target = HelperTarget::resolve(name)?;
            (target.describe(), target.path)
        }
        (None, Some(name)) => {
            let target = LoginCliTarget::resolve(name, args.profile.as_deref())?;
            (target.describe(), target.path)
        }
        (None, None) => bail!("give --helper PATH or --login-cli PATH"),
    };
    info.sha256 = credconform::target::sha256_file(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
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
        report::view::plural(differences.len())
    );
    for d in &differences {
        println!("  {d}");
    }
    Ok(1)
}
