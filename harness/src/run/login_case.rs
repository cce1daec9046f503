//! Certifying a login CLI: every case gets a fresh fake registry on port 0 and a sandbox; its
//! steps log in, log out or steer the registry; each step is checked for exit and output, the
//! config file (structure and snapshot), the spy helpers' calls and the registry journal.

use std::{
    fs,
    os::unix::fs::{DirBuilderExt, PermissionsExt},
    path::{Path, PathBuf},
    time::Instant,
};

use fake_registry::{AuthMode, FakeRegistry, RunningRegistry, Seed};
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
        Case, Expect,
        login::{self as model, LoginCase, LoginStep, LoginVars, RegistryAuth, SecretVia},
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

fn run(case: &Case, cx: &LoginRun) -> CaseResult {
    let started = Instant::now();
    let Some(spec) = case.login.as_deref() else {
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
        Err(e) => return CaseResult::new(case, Status::Error).with_note(cx.redactor.redact(&e)),
    };
    let mut result = run_steps(case, spec, cx, &live);
    drop(live.sandbox);
    cx.runtime.block_on(live.registry.shutdown());
    result.duration_ms = millis(started.elapsed());
    result
}

fn setup(spec: &LoginCase, cx: &LoginRun) -> Result<Live, String> {
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
        .map_err(|e| format!("cannot start the fake registry: {e:#}"))?;
    let mut sandbox = Sandbox::new(&cx.target.path, cx.programs.dir())
        .map_err(|e| format!("cannot make the sandbox: {e}"))?;
    let sb_vars = sandbox.profile_vars();
    let vars: Vec<(&str, &str)> = sb_vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let profile = &cx.target.profile;
    let config_file = PathBuf::from(profile::expand(&profile.config.file, &vars)?);
    for (k, v) in &profile.config.env {
        sandbox.set_env(k, profile::expand(v, &vars)?);
    }
    if !spec.spy.fail.is_empty() {
        sandbox.set_env(spy::FAIL_ENV, spec.spy.fail.join(","));
    }
    let host = registry.host();
    let url = registry.url();
    let port = registry.addr().port();
    let login_vars = LoginVars {
        host: &host,
        url: &url,
        port,
    };
    if spec.config_dir_exists || spec.config.is_some() {
        let dir = config_file.parent().unwrap_or(sandbox.root());
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    if let Some(config) = &spec.config {
        let json = model::expand_json(&Value::Object(config.clone()), &login_vars)?;
        let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n";
        fs::write(&config_file, text).map_err(|e| e.to_string())?;
        fs::set_permissions(&config_file, fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
    }
    Ok(Live {
        registry,
        sandbox,
        config_file,
        host,
        url,
        port,
    })
}

fn run_steps(case: &Case, spec: &LoginCase, cx: &LoginRun, live: &Live) -> CaseResult {
    let mut result = CaseResult::new(case, Status::Passed);
    let vars = LoginVars {
        host: &live.host,
        url: &live.url,
        port: live.port,
    };
    let initial = spec
        .config
        .as_ref()
        .and_then(|c| model::expand_json(&Value::Object(c.clone()), &vars).ok());
    let dir_existed = spec.config_dir_exists || spec.config.is_some();
    let snapshot_steps = spec
        .steps
        .iter()
        .filter(|s| s.expect.config.as_ref().is_some_and(|c| c.snapshot))
        .count();
    let mut case_secrets: Vec<String> = Vec::new();
    for (n, step) in spec.steps.iter().enumerate() {
        let before = ConfigState::read(&live.config_file);
        let spy_before = spy::read_calls(&live.sandbox.spy_dir).len();
        let journal_before = live.registry.state().journal().entries().len();
        let done = match run_step(step, n + 1, cx, live, &vars, &mut case_secrets) {
            Ok(d) => d,
            Err(e) => {
                result.status = Status::Error;
                result.note = Some(cx.redactor.redact(&e));
                break;
            }
        };
        let mut mismatches = Vec::new();
        if let Some(outcome) = &done.outcome {
            mismatches.extend(check_process(
                &step.expect,
                outcome,
                cx,
                &vars,
                &case_secrets,
            ));
        }
        let after = ConfigState::read(&live.config_file);
        let ex = |t: &str| model::expand(t, &vars).unwrap_or_else(|_| t.to_string());
        if let Some(c) = &step.expect.config {
            let mut c = c.clone();
            c.auths = c.auths.into_iter().map(|(k, v)| (ex(&k), v)).collect();
            c.no_auths = c.no_auths.iter().map(|s| ex(s)).collect();
            c.keep = c.keep.iter().map(|s| ex(s)).collect();
            c.lacks = c.lacks.iter().map(|s| ex(s)).collect();
            let ccx = ConfigCheck {
                before: &before,
                after: &after,
                initial: initial.as_ref(),
                secrets: &case_secrets,
                redactor: &cx.redactor,
                dir_created_by_cli: !dir_existed,
            };
            mismatches.extend(check::login::check_config(&c, &ccx));
            if c.snapshot {
                let name = if snapshot_steps > 1 {
                    format!("{}.step{}", case.id, n + 1)
                } else {
                    case.id.clone()
                };
                let content =
                    normalizer(cx, live, &case_secrets).config(after.bytes.as_deref(), after.mode);
                let source = case.source.file.display().to_string();
                let expression = format!(
                    "config file after step {} of {}: {}",
                    n + 1,
                    case.id,
                    case.title
                );
                mismatches.extend(cx.snapshots.check(&name, &source, &expression, &content));
            }
        }
        if let Some(e) = &step.expect.spy {
            let mut e = e.clone();
            for m in e.calls.iter_mut().chain(e.no_calls.iter_mut()) {
                m.server_url = m.server_url.as_deref().map(ex);
            }
            let calls = spy::read_calls(&live.sandbox.spy_dir);
            mismatches.extend(check::login::check_spy(
                &e,
                &calls[spy_before.min(calls.len())..],
                &cx.redactor,
            ));
        }
        if let Some(e) = &step.expect.journal {
            let entries = live.registry.state().journal().entries();
            mismatches.extend(check::login::check_journal(
                e,
                &entries[journal_before.min(entries.len())..],
                &cx.redactor,
            ));
        }
        if !mismatches.is_empty() {
            match &step.precondition {
                None => result.status = Status::Failed,
                Some(needed) => result.block(n + 1, step.kind(), needed),
            }
        }
        result.steps.push(StepRecord {
            step: n + 1,
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
        });
        if result.status != Status::Passed {
            break;
        }
    }
    result
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
) -> Result<Done, String> {
    let ex = |t: &str| model::expand(t, vars).map_err(|e| format!("step {n}: {e}"));
    let profile = &cx.target.profile;
    let sb_vars = live.sandbox.profile_vars();
    let args_of = |template: &[String], extra: &[(&str, &str)]| -> Result<Vec<String>, String> {
        let mut all: Vec<(&str, &str)> = sb_vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        all.extend_from_slice(extra);
        template.iter().map(|t| profile::expand(t, &all)).collect()
    };
    if let Some(admin) = &step.admin {
        let state = live.registry.state();
        let what = if let Some(fault) = &admin.fault {
            state
                .faults()
                .add(fault.clone())
                .map_err(|e| format!("step {n}: fault: {e}"))?;
            format!("fault {}", fault.describe())
        } else {
            let spec = admin.delete_token.as_deref().unwrap_or_default();
            let (user, uuid) = spec
                .split_once('/')
                .ok_or_else(|| format!("step {n}: delete_token `{spec}` is not user/uuid"))?;
            let uuid = uuid.parse().map_err(|e| format!("step {n}: {e}"))?;
            state
                .delete_token(user, uuid)
                .map_err(|e| format!("step {n}: delete_token: {e}"))?;
            format!("deleted PAT {uuid} of {user}")
        };
        return Ok(Done {
            args: vec!["admin".into(), what],
            stdin: String::new(),
            outcome: None,
        });
    }
    let timeout = cx.target.timeout;
    if let Some(logout) = &step.logout {
        let registry = ex(&logout.registry)?;
        let args = args_of(&profile.logout.args, &[("registry", &registry)])?;
        let mut inv = live.sandbox.invocation(args.clone(), Vec::new());
        inv.timeout = timeout;
        let outcome = drive::run(&inv).map_err(|e| e.to_string())?;
        return Ok(Done {
            args,
            stdin: String::new(),
            outcome: Some(outcome),
        });
    }
    let login = step.login.as_ref().ok_or("empty step")?;
    let (user, secret, registry) = (ex(&login.user)?, ex(&login.secret)?, ex(&login.registry)?);
    cx.redactor.register(&secret);
    case_secrets.push(secret.clone());
    let fill = [
        ("registry", registry.as_str()),
        ("user", user.as_str()),
        ("secret", secret.as_str()),
    ];
    let missing = |what: &str| {
        format!(
            "step {n}: the {} profile has no `login.{what}` template",
            profile.name
        )
    };
    let (args, stdin, outcome) = match login.via {
        SecretVia::Stdin => {
            let args = args_of(&profile.login.stdin, &fill)?;
            let stdin = if login.newline {
                format!("{secret}\n")
            } else {
                secret.clone()
            };
            let mut inv = live
                .sandbox
                .invocation(args.clone(), stdin.clone().into_bytes());
            inv.timeout = timeout;
            let outcome = drive::run(&inv).map_err(|e| e.to_string())?;
            (args, stdin, outcome)
        }
        SecretVia::Flag => {
            let template = profile.login.flag.as_ref().ok_or_else(|| missing("flag"))?;
            let args = args_of(template, &fill)?;
            let mut inv = live.sandbox.invocation(args.clone(), Vec::new());
            inv.timeout = timeout;
            let outcome = drive::run(&inv).map_err(|e| e.to_string())?;
            (args, String::new(), outcome)
        }
        SecretVia::Prompt => {
            let template = profile
                .login
                .prompt
                .as_ref()
                .ok_or_else(|| missing("prompt"))?;
            let args = args_of(template, &fill)?;
            let inv = PtyInvocation {
                program: live.sandbox.program.clone(),
                args: args.iter().map(Into::into).collect(),
                env: live.sandbox.env().to_vec(),
                cwd: Some(live.sandbox.home.clone()),
                answers: vec![
                    Answer {
                        prompt: "Username:".into(),
                        reply: user.clone(),
                        secret: false,
                    },
                    Answer {
                        prompt: "Password:".into(),
                        reply: secret.clone(),
                        secret: true,
                    },
                ],
                timeout,
            };
            let outcome = pty::run(&inv).map_err(|e| e.to_string())?;
            (
                args,
                format!("(typed at the prompts: {user}, then the secret)"),
                outcome,
            )
        }
    };
    Ok(Done {
        args,
        stdin,
        outcome: Some(outcome),
    })
}

/// Exit, stdout, stderr and the two streams together (`output`).
fn check_process(
    e: &model::LoginExpect,
    outcome: &Outcome,
    cx: &LoginRun,
    vars: &LoginVars<'_>,
    case_secrets: &[String],
) -> Vec<Mismatch> {
    let ex = |m: &Option<crate::scenario::TextMatch>| {
        m.clone().map(|mut m| {
            let x = |s: &str| model::expand(s, vars).unwrap_or_else(|_| s.to_string());
            m.trimmed = m.trimmed.as_deref().map(x);
            for s in m
                .contains
                .iter_mut()
                .chain(&mut m.not_contains)
                .chain(&mut m.one_of)
            {
                *s = x(s);
            }
            m
        })
    };
    let owns = |_: &str| true;
    let ccx = CheckContext {
        redactor: &cx.redactor,
        case_secrets,
        owns: &owns,
    };
    let streams = Expect {
        exit: e.exit,
        stdout: ex(&e.stdout),
        stderr: ex(&e.stderr),
        ..Default::default()
    };
    let mut out = check::check(&streams, outcome, &ccx);
    if let Some(m) = ex(&e.output) {
        let mut both = outcome.stdout.clone();
        both.extend_from_slice(&outcome.stderr);
        let merged = Outcome {
            ending: outcome.ending.clone(),
            stdout: both,
            stderr: Vec::new(),
            elapsed: outcome.elapsed,
        };
        // The exit status was checked above; only the text matters here.
        let only_output = Expect {
            stdout: Some(m),
            ..Default::default()
        };
        out.extend(
            check::check(&only_output, &merged, &ccx)
                .into_iter()
                .filter(|m| m.what != "exit status")
                .map(|mut m| {
                    m.what = m.what.replacen("stdout", "output", 1);
                    m
                }),
        );
    }
    out
}
