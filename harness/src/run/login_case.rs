//! Certifying a login CLI: every case gets a fresh fake registry on port 0 and a sandbox; its
//! steps log in, log out or steer the registry; each step is checked for exit and output, the
//! config file (structure and snapshot), the spy helpers' calls and the registry journal.

use std::{
    fs,
    os::unix::fs::{DirBuilderExt, PermissionsExt},
    path::{Path, PathBuf},
    time::Instant,
};

use fake_registry::{AuthMode, FakeRegistry, RunningRegistry, Seed, state::error::StateError};
use serde_json::Value;

use super::{
    RunOptions,
    plan::Plan,
    result::{CaseResult, RunReport, Status, StepEnding, StepRecord, millis},
    skeleton,
};
use crate::{
    assets::{self, Folder},
    bundled::{BundledPrograms, spy},
    check::{
        self, CheckContext, Mismatch, Redactor,
        login::{ConfigCheck, ConfigState},
        snapshot::{Normalizer, SnapshotStore},
    },
    drive::{
        self, Outcome,
        pty::{self, Answer, PtyInvocation},
        sandbox::Sandbox,
    },
    report::Reporter,
    scenario::{
        Case, CaseBody,
        login::{
            self as model, AdminAction, LoginCase, LoginStep, LoginStepKind, LoginVars,
            RegistryAuth, SecretVia,
        },
    },
    target::{LoginCliTarget, TargetInfo, profile},
};

/// Where a login run finds its snapshots and whether it may write them.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// The snapshots, a folder per profile: built in, or a folder on disk (`--snapshots-dir`).
    pub snapshots: Folder,
    /// Accept the actual config files as the new snapshots (written into `snapshots`).
    pub update_snapshots: bool,
}

impl Default for LoginOptions {
    fn default() -> Self {
        LoginOptions {
            snapshots: Folder::snapshots(),
            update_snapshots: false,
        }
    }
}

/// A login run that could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum LoginSetupError {
    /// The registry seed cannot be read.
    #[error("{}: {cause:#}", file.display())]
    Seed {
        /// The seed file.
        file: PathBuf,
        /// Why it cannot be read.
        cause: anyhow::Error,
    },
    /// The bundled programs (spy helpers) cannot be linked.
    #[error("bundled programs")]
    Bundled(#[source] std::io::Error),
    /// The async runtime of the fake registries cannot start.
    #[error("runtime")]
    Runtime(#[source] std::io::Error),
}

/// What every case of a login run shares.
struct LoginRun {
    target: LoginCliTarget,
    programs: BundledPrograms,
    seed: Seed,
    /// Seed secrets and the names snapshots show for them.
    named_secrets: Vec<(String, String)>,
    redactor: Redactor,
    snapshots: SnapshotStore,
    runtime: tokio::runtime::Runtime,
    run_id: String,
}

/// Certifies a login CLI with the cases of `plan` (a login-CLI plan).
pub fn certify_login_cli(
    plan: &Plan<'_>,
    target: LoginCliTarget,
    options: RunOptions,
    login: LoginOptions,
    reporter: &mut dyn Reporter,
) -> Result<RunReport, LoginSetupError> {
    skeleton::run(plan, &options, reporter, || {
        LoginRun::prepare(target, login)
    })
}

impl LoginRun {
    /// The seed and its secrets, the snapshots, the spy helpers and the registries' runtime.
    fn prepare(target: LoginCliTarget, login: LoginOptions) -> Result<Self, LoginSetupError> {
        let seed =
            Seed::from_toml(assets::REGISTRY_SEED).map_err(|cause| LoginSetupError::Seed {
                file: assets::REGISTRY_SEED_PATH.into(),
                cause,
            })?;
        let named_secrets = seed_secrets(&seed);
        let redactor = Redactor::new();
        for (s, _) in &named_secrets {
            redactor.register(s);
        }
        Ok(LoginRun {
            snapshots: SnapshotStore {
                dir: login.snapshots.join(&target.profile.name),
                update: login.update_snapshots,
            },
            target,
            programs: BundledPrograms::create().map_err(LoginSetupError::Bundled)?,
            seed,
            named_secrets,
            redactor,
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(LoginSetupError::Runtime)?,
            run_id: format!("login-{:08x}", rand::random::<u32>()),
        })
    }
}

impl skeleton::TargetRun for LoginRun {
    fn describe(&self) -> TargetInfo {
        self.target.describe()
    }

    fn binary(&self) -> &Path {
        &self.target.path
    }

    fn run_id(&self) -> String {
        self.run_id.clone()
    }

    fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Every case has a registry and a sandbox of its own, shut down when it ends.
    fn run_case(&self, case: &Case) -> CaseResult {
        run(case, self)
    }
}

/// Every password and PAT secret of the seed, with the name a snapshot shows for it.
fn seed_secrets(seed: &Seed) -> Vec<(String, String)> {
    let users = seed
        .users
        .iter()
        .map(|u| (u.password.clone(), format!("password of {}", u.username)));
    let tokens = seed
        .tokens
        .iter()
        .map(|t| (t.secret.clone(), format!("PAT {}", t.label)));
    users.chain(tokens).collect()
}

/// One case's live pieces.
struct Live {
    registry: RunningRegistry,
    sandbox: Sandbox,
    config_file: PathBuf,
    host: String,
    url: String,
    port: u16,
}

impl Live {
    /// The case's placeholder values.
    fn vars(&self) -> LoginVars<'_> {
        LoginVars {
            host: &self.host,
            url: &self.url,
            port: self.port,
        }
    }

    /// The profile placeholders of the sandbox, with no login values.
    fn sandbox_values(&self) -> profile::ProfileValues<'_> {
        sandbox_values(&self.sandbox)
    }
}

fn sandbox_values(sandbox: &Sandbox) -> profile::ProfileValues<'_> {
    fn text(p: &std::path::Path) -> &str {
        p.to_str().unwrap_or_default()
    }
    profile::ProfileValues {
        config_dir: text(&sandbox.config_dir),
        auth_file: text(&sandbox.auth_file),
        home: text(&sandbox.home),
        ..Default::default()
    }
}

/// Why a login case could not be carried out: a fault of the run, not of the CLI.
#[derive(Debug, thiserror::Error)]
enum CaseError {
    /// The case's registry did not start.
    #[error("cannot start the fake registry: {0:#}")]
    Registry(anyhow::Error),
    /// The sandbox could not be made.
    #[error("cannot make the sandbox: {0}")]
    Sandbox(std::io::Error),
    /// The config folder or file could not be written.
    #[error("cannot create {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The CLI could not be started.
    #[error(transparent)]
    Spawn(#[from] drive::SpawnError),
    /// The registry refused an `admin` step.
    #[error("step {step}: {what}: {source}")]
    Admin {
        step: usize,
        what: &'static str,
        source: StateError,
    },
    /// The profile cannot hand the secret over the way the step asks.
    #[error("step {step}: the {profile} profile has no `login.{what}` template")]
    NoTemplate {
        step: usize,
        profile: String,
        what: &'static str,
    },
}

fn run(case: &Case, cx: &LoginRun) -> CaseResult {
    let started = Instant::now();
    let CaseBody::Login(spec) = &case.body else {
        return CaseResult::new(case, Status::Error).with_note("not a login case");
    };
    let caps = cx.target.profile.capabilities;
    if let Some(missing) = spec.requires.iter().find(|c| !caps.has(**c)) {
        return CaseResult::new(case, Status::Skipped).with_note(format!(
            "the {} profile declares no support for {missing}",
            cx.target.profile.name
        ));
    }
    let live = match setup(spec, cx) {
        Ok(l) => l,
        Err(e) => {
            return CaseResult::new(case, Status::Error)
                .with_note(cx.redactor.redact(&e.to_string()));
        }
    };
    let mut result = run_steps(case, spec, cx, &live);
    drop(live.sandbox);
    cx.runtime.block_on(live.registry.shutdown());
    result.duration_ms = millis(started.elapsed());
    result
}

fn setup(spec: &LoginCase, cx: &LoginRun) -> Result<Live, CaseError> {
    let mode = match spec.registry.auth {
        RegistryAuth::Bearer => AuthMode::Bearer,
        RegistryAuth::Basic => AuthMode::Basic,
    };
    let registry = cx
        .runtime
        .block_on(
            FakeRegistry::builder()
                .seed(cx.seed.clone())
                .auth_mode(mode)
                .start(),
        )
        .map_err(CaseError::Registry)?;
    let mut sandbox =
        Sandbox::new(&cx.target.path, cx.programs.dir()).map_err(CaseError::Sandbox)?;
    let profile = &cx.target.profile;
    let paths = sandbox_values(&sandbox);
    let config_file = PathBuf::from(profile.config.file.expand(&paths));
    let env: Vec<(String, String)> = profile
        .config
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.expand(&paths)))
        .collect();
    for (k, v) in env {
        sandbox.set_env(k, v);
    }
    if !spec.spy.fail.is_empty() {
        sandbox.set_env(spy::FAIL_ENV, spec.spy.fail.join(","));
    }
    let live = Live {
        host: registry.host(),
        url: registry.url(),
        port: registry.addr().port(),
        registry,
        sandbox,
        config_file,
    };
    if spec.config_dir_exists || spec.config.is_some() {
        let dir = live.config_file.parent().unwrap_or(live.sandbox.root());
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| CaseError::Write {
                path: dir.to_path_buf(),
                source,
            })?;
    }
    if let Some(config) = &spec.config {
        write_config(
            &live.config_file,
            &Value::Object(config.expand(&live.vars())),
        )?;
    }
    Ok(live)
}

/// Writes the starting config file, readable by its owner only.
fn write_config(file: &std::path::Path, json: &Value) -> Result<(), CaseError> {
    let text = serde_json::to_string_pretty(json).unwrap_or_default() + "\n";
    let write = || {
        fs::write(file, text)?;
        fs::set_permissions(file, fs::Permissions::from_mode(0o600))
    };
    write().map_err(|source| CaseError::Write {
        path: file.to_path_buf(),
        source,
    })
}

/// What the steps of one case share.
struct CaseRun<'a> {
    case: &'a Case,
    spec: &'a LoginCase,
    cx: &'a LoginRun,
    live: &'a Live,
    vars: LoginVars<'a>,
    /// The starting config, expanded (for `keep`).
    initial: Option<Value>,
    /// How many steps take a snapshot (their names then carry the step).
    snapshot_steps: usize,
}

/// Where the sandbox stood before a step, so the step's effects can be told apart.
struct Before {
    config: ConfigState,
    spy_calls: usize,
    journal_entries: usize,
}

fn run_steps(case: &Case, spec: &LoginCase, cx: &LoginRun, live: &Live) -> CaseResult {
    let vars = live.vars();
    let run = CaseRun {
        case,
        spec,
        cx,
        live,
        initial: spec.config.as_ref().map(|c| Value::Object(c.expand(&vars))),
        snapshot_steps: spec
            .steps
            .iter()
            .filter(|s| s.expect.config.as_ref().is_some_and(|c| c.snapshot))
            .count(),
        vars,
    };
    let mut result = CaseResult::new(case, Status::Passed);
    let mut case_secrets: Vec<String> = Vec::new();
    for (n, step) in spec.steps.iter().enumerate() {
        let before = Before {
            config: ConfigState::read(&live.config_file),
            spy_calls: spy::read_calls(&live.sandbox.spy_dir).len(),
            journal_entries: live.registry.state().journal().entries().len(),
        };
        let done = match run_step(step, n + 1, cx, live, &run.vars, &mut case_secrets) {
            Ok(d) => d,
            Err(e) => {
                result.status = Status::Error;
                result.note = Some(cx.redactor.redact(&e.to_string()));
                break;
            }
        };
        let mismatches = run.check_step(step, n + 1, &done, &before, &case_secrets);
        if !mismatches.is_empty() {
            match &step.precondition {
                None => result.status = Status::Failed,
                Some(needed) => result.block(n + 1, step.kind(), needed.as_str()),
            }
        }
        result.steps.push(record(&done, cx, mismatches));
        if result.status != Status::Passed {
            break;
        }
    }
    result
}

/// The record of a step that ran.
fn record(done: &Done, cx: &LoginRun, mismatches: Vec<Mismatch>) -> StepRecord {
    StepRecord {
        step: done.step,
        repetition: 0,
        args: done.args.iter().map(|a| cx.redactor.redact(a)).collect(),
        stdin: cx.redactor.redact(&done.stdin),
        ending: done
            .outcome
            .as_ref()
            .map_or(StepEnding::RegistryChanged, |o| {
                StepEnding::Ran(o.ending.to_string())
            }),
        elapsed_ms: done.outcome.as_ref().map_or(0.0, |o| millis(o.elapsed)),
        mismatches,
    }
}

impl CaseRun<'_> {
    /// Every expectation of step `n` that did not hold.
    fn check_step(
        &self,
        step: &LoginStep,
        n: usize,
        done: &Done,
        before: &Before,
        case_secrets: &[String],
    ) -> Vec<Mismatch> {
        let (cx, live) = (self.cx, self.live);
        let mut mismatches = Vec::new();
        if let Some(outcome) = &done.outcome {
            mismatches.extend(check_process(
                &step.expect,
                outcome,
                cx,
                &self.vars,
                case_secrets,
            ));
        }
        if let Some(c) = &step.expect.config {
            mismatches.extend(self.check_config(c, n, &before.config, case_secrets));
        }
        if let Some(e) = &step.expect.spy {
            let calls = spy::read_calls(&live.sandbox.spy_dir);
            mismatches.extend(check::login::check_spy(
                e,
                &self.vars,
                &calls[before.spy_calls.min(calls.len())..],
                &cx.redactor,
            ));
        }
        if let Some(e) = &step.expect.journal {
            let entries = live.registry.state().journal().entries();
            mismatches.extend(check::login::check_journal(
                e,
                &entries[before.journal_entries.min(entries.len())..],
                &cx.redactor,
            ));
        }
        mismatches
    }

    /// The config file after step `n`: its structure, then its snapshot.
    fn check_config(
        &self,
        c: &model::ConfigExpect,
        n: usize,
        before: &ConfigState,
        case_secrets: &[String],
    ) -> Vec<Mismatch> {
        let after = ConfigState::read(&self.live.config_file);
        let ccx = ConfigCheck {
            before,
            after: &after,
            initial: self.initial.as_ref(),
            secrets: case_secrets,
            redactor: &self.cx.redactor,
            dir_created_by_cli: !(self.spec.config_dir_exists || self.spec.config.is_some()),
            vars: &self.vars,
        };
        let mut mismatches = check::login::check_config(c, &ccx);
        if c.snapshot {
            mismatches.extend(self.check_snapshot(n, &after, case_secrets));
        }
        mismatches
    }

    /// The normalized config file after step `n` against its stored snapshot.
    fn check_snapshot(
        &self,
        n: usize,
        after: &ConfigState,
        case_secrets: &[String],
    ) -> Option<Mismatch> {
        let case = self.case;
        let name = if self.snapshot_steps > 1 {
            format!("{}.step{n}", case.id)
        } else {
            case.id.clone()
        };
        let content =
            normalizer(self.cx, self.live, case_secrets).config(after.bytes.as_deref(), after.mode);
        let source = case.source.file.display().to_string();
        let expression = format!("config file after step {n} of {}: {}", case.id, case.title);
        self.cx
            .snapshots
            .check(&name, &source, &expression, &content)
    }
}

fn normalizer(cx: &LoginRun, live: &Live, case_secrets: &[String]) -> Normalizer {
    let mut secrets = cx.named_secrets.clone();
    for s in case_secrets {
        if !secrets.iter().any(|(k, _)| k == s) {
            secrets.push((s.clone(), format!("secret of the case: {} bytes", s.len())));
        }
    }
    Normalizer {
        replacements: vec![
            (
                live.sandbox.root().display().to_string(),
                "[sandbox]".into(),
            ),
            (live.host.clone(), "[registry]".into()),
            (format!(":{}", live.port), ":[port]".into()),
        ],
        secrets,
    }
}

/// What a step ran.
struct Done {
    step: usize,
    args: Vec<String>,
    stdin: String,
    outcome: Option<Outcome>,
}

fn run_step(
    step: &LoginStep,
    n: usize,
    cx: &LoginRun,
    live: &Live,
    vars: &LoginVars<'_>,
    case_secrets: &mut Vec<String>,
) -> Result<Done, CaseError> {
    match &step.kind {
        LoginStepKind::Admin(admin) => run_admin(admin, n, live),
        LoginStepKind::Logout(logout) => {
            let values = profile::ProfileValues {
                registry: &logout.registry.expand(vars),
                ..live.sandbox_values()
            };
            let args = profile::expand_args(&cx.target.profile.logout.args, &values);
            let outcome = run_cli(cx, live, args.clone(), Vec::new())?;
            Ok(Done {
                step: n,
                args,
                stdin: String::new(),
                outcome: Some(outcome),
            })
        }
        LoginStepKind::Login(login) => {
            let secret = login.secret.expand(vars);
            cx.redactor.register(&secret);
            case_secrets.push(secret.clone());
            let user = login.user.expand(vars);
            let values = profile::ProfileValues {
                registry: &login.registry.expand(vars),
                user: &user,
                secret: &secret,
                ..live.sandbox_values()
            };
            run_login(login, n, cx, live, &values)
        }
    }
}

/// Steers the registry; no CLI runs.
fn run_admin(admin: &AdminAction, n: usize, live: &Live) -> Result<Done, CaseError> {
    let state = live.registry.state();
    let failed = |what| {
        move |source| CaseError::Admin {
            step: n,
            what,
            source,
        }
    };
    let what = match admin {
        AdminAction::Fault(fault) => {
            state.faults().add(fault.clone()).map_err(failed("fault"))?;
            format!("fault {}", fault.describe())
        }
        AdminAction::DeleteToken { user, uuid } => {
            state
                .delete_token(user, *uuid)
                .map_err(failed("delete_token"))?;
            format!("deleted PAT {uuid} of {user}")
        }
    };
    Ok(Done {
        step: n,
        args: vec!["admin".into(), what],
        stdin: String::new(),
        outcome: None,
    })
}

/// Runs the CLI in the sandbox with `args` and `stdin`.
fn run_cli(
    cx: &LoginRun,
    live: &Live,
    args: Vec<String>,
    stdin: Vec<u8>,
) -> Result<Outcome, CaseError> {
    let mut inv = live.sandbox.invocation(args, stdin);
    inv.timeout = cx.target.timeout;
    Ok(drive::run(&inv)?)
}

/// Logs in, handing the secret over the way the step says.
fn run_login(
    login: &model::LoginAction,
    n: usize,
    cx: &LoginRun,
    live: &Live,
    values: &profile::ProfileValues<'_>,
) -> Result<Done, CaseError> {
    let profile = &cx.target.profile;
    let missing = |what| CaseError::NoTemplate {
        step: n,
        profile: profile.name.clone(),
        what,
    };
    let (args, stdin, outcome) = match login.via {
        SecretVia::Stdin => {
            let args = profile::expand_args(&profile.login.stdin, values);
            let mut stdin = values.secret.to_string();
            if login.newline {
                stdin.push('\n');
            }
            let outcome = run_cli(cx, live, args.clone(), stdin.clone().into_bytes())?;
            (args, stdin, outcome)
        }
        SecretVia::Flag => {
            let flag = profile.login.flag.as_ref().ok_or_else(|| missing("flag"))?;
            let args = profile::expand_args(flag, values);
            let outcome = run_cli(cx, live, args.clone(), Vec::new())?;
            (args, String::new(), outcome)
        }
        SecretVia::Prompt => {
            let prompt = profile
                .login
                .prompt
                .as_ref()
                .ok_or_else(|| missing("prompt"))?;
            let args = profile::expand_args(prompt, values);
            let outcome = pty::run(&prompt_invocation(cx, live, &args, values))?;
            let typed = format!("(typed at the prompts: {}, then the secret)", values.user);
            (args, typed, outcome)
        }
    };
    Ok(Done {
        step: n,
        args,
        stdin,
        outcome: Some(outcome),
    })
}

/// A login on a terminal: the username at `Username:`, the secret at `Password:`.
fn prompt_invocation(
    cx: &LoginRun,
    live: &Live,
    args: &[String],
    values: &profile::ProfileValues<'_>,
) -> PtyInvocation {
    PtyInvocation {
        program: live.sandbox.program.clone(),
        args: args.iter().map(Into::into).collect(),
        env: live.sandbox.env().to_vec(),
        cwd: Some(live.sandbox.home.clone()),
        answers: vec![
            Answer {
                prompt: "Username:".into(),
                reply: values.user.to_string(),
                secret: false,
            },
            Answer {
                prompt: "Password:".into(),
                reply: values.secret.to_string(),
                secret: true,
            },
        ],
        timeout: cx.target.timeout,
    }
}

/// Exit, stdout, stderr and the two streams together (`output`).
fn check_process(
    e: &model::LoginExpect,
    outcome: &Outcome,
    cx: &LoginRun,
    vars: &LoginVars<'_>,
    case_secrets: &[String],
) -> Vec<Mismatch> {
    let owns = |_: &str| true;
    let ccx = CheckContext {
        redactor: &cx.redactor,
        case_secrets,
        owns: &owns,
    };
    let mut out = Vec::new();
    check::expect::check_ending(e.exit, &outcome.ending, &mut out);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    if let Some(m) = &e.stdout {
        check::expect::check_text("stdout", m, vars, &text(&outcome.stdout), &ccx, &mut out);
    }
    if let Some(m) = &e.stderr {
        check::expect::check_text("stderr", m, vars, &text(&outcome.stderr), &ccx, &mut out);
    }
    if let Some(m) = &e.output {
        let both = [outcome.stdout.as_slice(), &outcome.stderr].concat();
        check::expect::check_text("output", m, vars, &text(&both), &ccx, &mut out);
    }
    out
}
