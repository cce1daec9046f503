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
        let started = Instant::now();
        let CaseBody::Login(spec) = &case.body else {
            return CaseResult::new(case, Status::Error).with_note("not a login case");
        };
        let caps = self.target.profile.capabilities;
        if let Some(missing) = spec.requires.iter().find(|c| !caps.has(**c)) {
            return CaseResult::new(case, Status::Skipped).with_note(format!(
                "the {} profile declares no support for {missing}",
                self.target.profile.name
            ));
        }
        let mut run = match CaseRun::setup(case, spec, self) {
            Ok(run) => run,
            Err(e) => return CaseResult::new(case, Status::Error).with_note(e.to_string()),
        };
        let mut result = run.run_steps();
        drop(run.sandbox);
        self.runtime.block_on(run.registry.shutdown());
        result.duration_ms = millis(started.elapsed());
        result
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

/// One case's live pieces and what its steps share.
struct CaseRun<'a> {
    case: &'a Case,
    spec: &'a LoginCase,
    cx: &'a LoginRun,
    registry: RunningRegistry,
    sandbox: Sandbox,
    config_file: PathBuf,
    host: String,
    url: String,
    port: u16,
    /// The starting config, expanded (for `keep`).
    initial: Option<Value>,
    /// The secrets the steps so far handed over.
    secrets: Vec<String>,
}

/// The profile placeholders of the sandbox, with no login values.
fn sandbox_values(sandbox: &Sandbox) -> profile::ProfileValues<'_> {
    fn text(p: &Path) -> &str {
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

/// Writes the starting config file, readable by its owner only.
fn write_config(file: &Path, json: &Value) -> Result<(), CaseError> {
    let text = serde_json::to_string_pretty(json).unwrap_or_default() + "\n";
    let write = || {
        fs::write(file, text)?;
        fs::set_permissions(file, fs::Permissions::from_mode(0o600))
    };
    write().map_err(write_error(file))
}

/// The error of writing `path`.
fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> CaseError {
    let path = path.to_path_buf();
    move |source| CaseError::Write { path, source }
}

/// Where the sandbox stood before a step, so the step's effects can be told apart.
struct Before {
    config: ConfigState,
    spy_calls: usize,
    journal_entries: usize,
}

/// What a step ran.
struct Done {
    args: Vec<String>,
    stdin: String,
    outcome: Option<Outcome>,
}

impl Done {
    /// The record of step `n`.
    fn record(self, n: usize, mismatches: Vec<Mismatch>) -> StepRecord {
        StepRecord {
            step: n,
            repetition: 0,
            args: self.args,
            stdin: self.stdin,
            ending: self
                .outcome
                .as_ref()
                .map_or(StepEnding::RegistryChanged, |o| {
                    StepEnding::Ran(o.ending.to_string())
                }),
            elapsed_ms: self.outcome.as_ref().map_or(0.0, |o| millis(o.elapsed)),
            mismatches,
        }
    }
}

impl<'a> CaseRun<'a> {
    /// Starts the case's registry, makes its sandbox and writes its starting config.
    fn setup(case: &'a Case, spec: &'a LoginCase, cx: &'a LoginRun) -> Result<Self, CaseError> {
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
        let mut run = CaseRun {
            case,
            spec,
            cx,
            host: registry.host(),
            url: registry.url(),
            port: registry.addr().port(),
            registry,
            sandbox,
            config_file,
            initial: None,
            secrets: Vec::new(),
        };
        run.initial = spec
            .config
            .as_ref()
            .map(|c| Value::Object(c.expand(&run.vars())));
        if run.makes_config_dir() {
            let dir = run.config_file.parent().unwrap_or(run.sandbox.root());
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true).mode(0o700);
            builder.create(dir).map_err(write_error(dir))?;
        }
        if let Some(initial) = &run.initial {
            write_config(&run.config_file, initial)?;
        }
        Ok(run)
    }

    /// The case's placeholder values.
    fn vars(&self) -> LoginVars<'_> {
        LoginVars {
            host: &self.host,
            url: &self.url,
            port: self.port,
        }
    }

    /// True when the config folder exists before the first step (made by the runner).
    fn makes_config_dir(&self) -> bool {
        self.spec.config_dir_exists || self.spec.config.is_some()
    }

    /// Runs the steps until one does not pass.
    fn run_steps(&mut self) -> CaseResult {
        let mut result = CaseResult::new(self.case, Status::Passed);
        let spec = self.spec;
        for (n, step) in (1..).zip(&spec.steps) {
            let before = Before {
                config: ConfigState::read(&self.config_file),
                spy_calls: spy::read_calls(&self.sandbox.spy_dir).len(),
                journal_entries: self.registry.state().journal().entries().len(),
            };
            let done = match self.run_step(step, n) {
                Ok(d) => d,
                Err(e) => {
                    result.status = Status::Error;
                    result.note = Some(e.to_string());
                    break;
                }
            };
            let mismatches = self.check_step(step, n, &done, &before);
            if !mismatches.is_empty() {
                result.unmet(n, step.kind(), step.precondition.as_ref());
            }
            result.steps.push(done.record(n, mismatches));
            if result.status != Status::Passed {
                break;
            }
        }
        result
    }

    /// Every expectation of step `n` that did not hold.
    fn check_step(
        &self,
        step: &LoginStep,
        n: usize,
        done: &Done,
        before: &Before,
    ) -> Vec<Mismatch> {
        let redactor = &self.cx.redactor;
        let mut mismatches = Vec::new();
        if let Some(outcome) = &done.outcome {
            mismatches.extend(self.check_process(&step.expect, outcome));
        }
        if let Some(c) = &step.expect.config {
            mismatches.extend(self.check_config(c, n, &before.config));
        }
        if let Some(e) = &step.expect.spy {
            let calls = spy::read_calls(&self.sandbox.spy_dir);
            let new = &calls[before.spy_calls.min(calls.len())..];
            mismatches.extend(check::login::check_spy(e, &self.vars(), new, redactor));
        }
        if let Some(e) = &step.expect.journal {
            let entries = self.registry.state().journal().entries();
            let new = &entries[before.journal_entries.min(entries.len())..];
            mismatches.extend(check::login::check_journal(e, new, redactor));
        }
        mismatches
    }

    /// Exit, stdout, stderr and the two streams together (`output`).
    fn check_process(&self, e: &model::LoginExpect, outcome: &Outcome) -> Vec<Mismatch> {
        let owns = |_: &str| true;
        let ccx = CheckContext {
            redactor: &self.cx.redactor,
            case_secrets: &self.secrets,
            owns: &owns,
        };
        let vars = &self.vars();
        let mut out = Vec::new();
        check::expect::check_ending(e.exit, &outcome.ending, &mut out);
        let both = [outcome.stdout.as_slice(), &outcome.stderr].concat();
        let streams = [
            ("stdout", &e.stdout, &outcome.stdout),
            ("stderr", &e.stderr, &outcome.stderr),
            ("output", &e.output, &both),
        ];
        for (stream, m, bytes) in streams {
            if let Some(m) = m {
                let text = String::from_utf8_lossy(bytes);
                check::expect::check_text(stream, m, vars, &text, &ccx, &mut out);
            }
        }
        out
    }

    /// The config file after step `n`: its structure, then its snapshot.
    fn check_config(
        &self,
        c: &model::ConfigExpect,
        n: usize,
        before: &ConfigState,
    ) -> Vec<Mismatch> {
        let after = ConfigState::read(&self.config_file);
        let ccx = ConfigCheck {
            before,
            after: &after,
            initial: self.initial.as_ref(),
            secrets: &self.secrets,
            redactor: &self.cx.redactor,
            dir_created_by_cli: !self.makes_config_dir(),
            vars: &self.vars(),
        };
        let mut mismatches = check::login::check_config(c, &ccx);
        if c.snapshot {
            mismatches.extend(self.check_snapshot(n, &after));
        }
        mismatches
    }

    /// The normalized config file after step `n` against its stored snapshot; the name carries
    /// the step when more than one step takes a snapshot.
    fn check_snapshot(&self, n: usize, after: &ConfigState) -> Option<Mismatch> {
        let case = self.case;
        let snapshot_steps = self.spec.steps.iter();
        let snapshot_steps = snapshot_steps
            .filter(|s| s.expect.config.as_ref().is_some_and(|c| c.snapshot))
            .count();
        let name = if snapshot_steps > 1 {
            format!("{}.step{n}", case.id)
        } else {
            case.id.clone()
        };
        let content = self.normalizer().config(after.bytes.as_deref(), after.mode);
        let source = case.source.file.display().to_string();
        let expression = format!("config file after step {n} of {}: {}", case.id, case.title);
        self.cx
            .snapshots
            .check(&name, &source, &expression, &content)
    }

    /// Stands names for the sandbox, the registry's address and every known secret.
    fn normalizer(&self) -> Normalizer {
        let mut secrets = self.cx.named_secrets.clone();
        for s in &self.secrets {
            if !secrets.iter().any(|(k, _)| k == s) {
                secrets.push((s.clone(), format!("secret of the case: {} bytes", s.len())));
            }
        }
        Normalizer {
            replacements: vec![
                (
                    self.sandbox.root().display().to_string(),
                    "[sandbox]".into(),
                ),
                (self.host.clone(), "[registry]".into()),
                (format!(":{}", self.port), ":[port]".into()),
            ],
            secrets,
        }
    }

    /// Runs step `n`.
    fn run_step(&mut self, step: &LoginStep, n: usize) -> Result<Done, CaseError> {
        let profile = &self.cx.target.profile;
        match &step.kind {
            LoginStepKind::Admin(admin) => self.run_admin(admin, n),
            LoginStepKind::Logout(logout) => {
                let values = profile::ProfileValues {
                    registry: &logout.registry.expand(&self.vars()),
                    ..sandbox_values(&self.sandbox)
                };
                self.run_cli(profile::expand_args(&profile.logout.args, &values), "")
            }
            LoginStepKind::Login(login) => {
                let secret = login.secret.expand(&self.vars());
                self.cx.redactor.register(&secret);
                self.secrets.push(secret.clone());
                let vars = self.vars();
                let values = profile::ProfileValues {
                    registry: &login.registry.expand(&vars),
                    user: &login.user.expand(&vars),
                    secret: &secret,
                    ..sandbox_values(&self.sandbox)
                };
                self.run_login(login, n, &values)
            }
        }
    }

    /// Steers the registry; no CLI runs.
    fn run_admin(&self, admin: &AdminAction, n: usize) -> Result<Done, CaseError> {
        let state = self.registry.state();
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
            args: vec!["admin".into(), what],
            stdin: String::new(),
            outcome: None,
        })
    }

    /// Runs the CLI in the sandbox with `args` and `stdin`.
    fn run_cli(&self, args: Vec<String>, stdin: &str) -> Result<Done, CaseError> {
        let mut inv = self
            .sandbox
            .invocation(args.clone(), stdin.as_bytes().to_vec());
        inv.timeout = self.cx.target.timeout;
        Ok(Done {
            args,
            stdin: stdin.to_string(),
            outcome: Some(drive::run(&inv)?),
        })
    }

    /// Logs in, handing the secret over the way the step says.
    fn run_login(
        &self,
        login: &model::LoginAction,
        n: usize,
        values: &profile::ProfileValues<'_>,
    ) -> Result<Done, CaseError> {
        let profile = &self.cx.target.profile;
        let missing = |what| CaseError::NoTemplate {
            step: n,
            profile: profile.name.clone(),
            what,
        };
        match login.via {
            SecretVia::Stdin => {
                let newline = if login.newline { "\n" } else { "" };
                let stdin = format!("{}{newline}", values.secret);
                self.run_cli(profile::expand_args(&profile.login.stdin, values), &stdin)
            }
            SecretVia::Flag => {
                let flag = profile.login.flag.as_ref().ok_or_else(|| missing("flag"))?;
                self.run_cli(profile::expand_args(flag, values), "")
            }
            SecretVia::Prompt => {
                let prompt = profile.login.prompt.as_ref();
                let args = profile::expand_args(prompt.ok_or_else(|| missing("prompt"))?, values);
                let outcome = pty::run(&self.prompt_invocation(&args, values))?;
                Ok(Done {
                    args,
                    stdin: format!("(typed at the prompts: {}, then the secret)", values.user),
                    outcome: Some(outcome),
                })
            }
        }
    }

    /// A login on a terminal: the username at `Username:`, the secret at `Password:`.
    fn prompt_invocation(
        &self,
        args: &[String],
        values: &profile::ProfileValues<'_>,
    ) -> PtyInvocation {
        let answer = |prompt: &str, reply: &str, secret| Answer {
            prompt: prompt.into(),
            reply: reply.to_string(),
            secret,
        };
        PtyInvocation {
            program: self.sandbox.program.clone(),
            args: args.iter().map(Into::into).collect(),
            env: self.sandbox.env().to_vec(),
            cwd: Some(self.sandbox.home.clone()),
            answers: vec![
                answer("Username:", values.user, false),
                answer("Password:", values.secret, true),
            ],
            timeout: self.cx.target.timeout,
        }
    }
}
