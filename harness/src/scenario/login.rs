//! The login-CLI case model: what case files of a `target = "login-cli"` suite deserialize into.
//! A parallel model to the helper one ([`super::model`]): a login case drives a CLI through
//! login, logout and registry steering steps inside a sandbox, and checks the CLI's exit and
//! output, its config file, the calls its credential helpers received and the registry journal.
//!
//! Placeholders in case strings: `${host}` (the case's registry as `127.0.0.1:PORT`), `${url}`
//! (`http://127.0.0.1:PORT`) and `${port}`; `$$` is a literal `$`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::model::{ExitExpect, Level, TextMatch};
use crate::target::profile::Capability;

/// One case file of a login suite.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginCaseFile {
    /// The requirement area.
    pub area: String,
    /// The cases.
    #[serde(rename = "case", default)]
    pub cases: Vec<LoginCaseDecl>,
}

/// A login case as written in a case file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginCaseDecl {
    /// Stable identifier, `LC-...`.
    pub id: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// One line saying what is required.
    pub title: String,
    /// The protocol text the case enforces.
    pub cites: String,
    /// Capabilities the profile must declare; otherwise the case is skipped.
    #[serde(default)]
    pub requires: Vec<Capability>,
    /// How the case's fake registry authenticates.
    #[serde(default)]
    pub registry: RegistrySetup,
    /// The config file before the first step (a JSON object); no file when left out.
    #[serde(default)]
    pub config: Option<Map<String, Value>>,
    /// Create the config file's folder (without a file) before the first step.
    #[serde(default = "yes")]
    pub config_dir_exists: bool,
    /// How the spy helpers behave.
    #[serde(default)]
    pub spy: SpySetup,
    /// The steps.
    #[serde(rename = "step", default)]
    pub steps: Vec<LoginStep>,
}

impl LoginCaseDecl {
    /// The login-specific part.
    pub fn spec(&self) -> LoginCase {
        LoginCase {
            requires: self.requires.clone(),
            registry: self.registry.clone(),
            config: self.config.clone(),
            config_dir_exists: self.config_dir_exists,
            spy: self.spy.clone(),
            steps: self.steps.clone(),
        }
    }
}

/// What a login case does and checks (the part of a [`super::Case`] that only login cases have).
#[derive(Debug, Clone)]
pub struct LoginCase {
    /// Capabilities the profile must declare; otherwise the case is skipped.
    pub requires: Vec<Capability>,
    /// How the case's fake registry authenticates.
    pub registry: RegistrySetup,
    /// The config file before the first step (a JSON object); no file when left out.
    pub config: Option<Map<String, Value>>,
    /// Create the config file's folder (without a file) before the first step.
    pub config_dir_exists: bool,
    /// How the spy credential helpers behave.
    pub spy: SpySetup,
    /// The steps, in order; the case stops at the first failing one.
    pub steps: Vec<LoginStep>,
}

fn yes() -> bool {
    true
}

/// The fake registry of a case.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrySetup {
    /// `bearer` (token server, refresh tokens) or `basic` (credentials on every request).
    #[serde(default)]
    pub auth: RegistryAuth,
}

/// The registry's authentication scheme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistryAuth {
    /// Token authentication (`/token`), with refresh tokens for offline requests.
    #[default]
    Bearer,
    /// Basic authentication on each request, as htpasswd registries do.
    Basic,
}

/// How the spy helpers answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpySetup {
    /// Actions that fail (exit 1 with a message on stdout).
    #[serde(default)]
    pub fail: Vec<String>,
}

/// One step: a login, a logout, or steering the registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginStep {
    /// Log in.
    #[serde(default)]
    pub login: Option<LoginAction>,
    /// Log out.
    #[serde(default)]
    pub logout: Option<LogoutAction>,
    /// Change the registry between steps (no CLI runs).
    #[serde(default)]
    pub admin: Option<AdminAction>,
    /// What the step must do.
    #[serde(default)]
    pub expect: LoginExpect,
    /// Marks the step as a precondition and says what it establishes (e.g. "login must save
    /// the entry"); when its expectations do not hold, the case ends blocked, not failed.
    #[serde(default)]
    pub precondition: Option<String>,
}

/// How the secret reaches the CLI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretVia {
    /// On standard input (`--password-stdin`).
    #[default]
    Stdin,
    /// As an argument (`--password`).
    Flag,
    /// Typed at the `Password:` prompt on a terminal (the username at `Username:`).
    Prompt,
}

/// A login.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginAction {
    /// The username.
    pub user: String,
    /// The password or PAT.
    pub secret: String,
    /// How the secret is handed over.
    #[serde(default)]
    pub via: SecretVia,
    /// The registry argument [default: `${host}`].
    #[serde(default = "default_registry")]
    pub registry: String,
    /// With `via = "stdin"`: end the input with a newline, as `echo` does [default: true].
    #[serde(default = "yes")]
    pub newline: bool,
}

/// A logout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutAction {
    /// The registry argument [default: `${host}`].
    #[serde(default = "default_registry")]
    pub registry: String,
}

fn default_registry() -> String {
    "${host}".into()
}

/// Steering the registry between steps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminAction {
    /// Inject a fault (see fake-registry's `/_admin/faults`).
    #[serde(default)]
    pub fault: Option<fake_registry::state::faults::FaultSpec>,
    /// Delete a PAT: `user/uuid`.
    #[serde(default)]
    pub delete_token: Option<String>,
}

/// Expectations on one step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginExpect {
    /// The exit status.
    #[serde(default)]
    pub exit: Option<ExitExpect>,
    /// Standard output.
    #[serde(default)]
    pub stdout: Option<TextMatch>,
    /// Standard error.
    #[serde(default)]
    pub stderr: Option<TextMatch>,
    /// Standard output and standard error together (where a CLI prints a message varies).
    #[serde(default)]
    pub output: Option<TextMatch>,
    /// The config file afterwards.
    #[serde(default)]
    pub config: Option<ConfigExpect>,
    /// The calls the spy helpers received during the step.
    #[serde(default)]
    pub spy: Option<SpyExpect>,
    /// The requests the registry saw during the step.
    #[serde(default)]
    pub journal: Option<JournalExpect>,
}

/// Expectations on the config file after a step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigExpect {
    /// There is no file (true) or there is one (false).
    #[serde(default)]
    pub absent: Option<bool>,
    /// The file is byte-identical to what it was before the step (or still absent).
    #[serde(default)]
    pub unchanged: bool,
    /// The file's permission bits, octal (e.g. `"0600"`).
    #[serde(default)]
    pub mode: Option<String>,
    /// The permission bits of the file's folder, when the CLI created it.
    #[serde(default)]
    pub dir_mode: Option<String>,
    /// `auths` entries, by key.
    #[serde(default)]
    pub auths: BTreeMap<String, AuthExpect>,
    /// `auths` keys that must not exist.
    #[serde(default)]
    pub no_auths: Vec<String>,
    /// JSON pointers whose value must equal the one in the starting config.
    #[serde(default)]
    pub keep: Vec<String>,
    /// JSON pointers that must not exist.
    #[serde(default)]
    pub lacks: Vec<String>,
    /// No secret of the case appears in the file, in clear or base64.
    #[serde(default)]
    pub no_secrets: bool,
    /// The normalized file equals the stored snapshot.
    #[serde(default)]
    pub snapshot: bool,
}

/// Expectations on one `auths` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthExpect {
    /// The entry holds no credentials at all (`{}`, as with a credential helper).
    #[serde(default)]
    pub empty: bool,
    /// The username decoded from `auth`.
    #[serde(default)]
    pub user: Option<String>,
    /// The secret decoded from `auth`.
    #[serde(default)]
    pub secret: Option<String>,
    /// An `identitytoken` is (true) or is not (false) present.
    #[serde(default)]
    pub identity_token: Option<bool>,
}

/// Expectations on the spy helpers' calls during a step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpyExpect {
    /// Each of these calls happened.
    #[serde(default)]
    pub calls: Vec<SpyCallMatch>,
    /// None of these calls happened.
    #[serde(default)]
    pub no_calls: Vec<SpyCallMatch>,
}

/// A pattern on one spy call; fields left out match anything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpyCallMatch {
    /// The helper's name suffix (`credsStore`/`credHelpers` value).
    #[serde(default)]
    pub helper: Option<String>,
    /// `store`, `get`, `erase`, `list`.
    #[serde(default)]
    pub action: Option<String>,
    /// The ServerURL sent.
    #[serde(default)]
    pub server_url: Option<String>,
    /// The Username sent.
    #[serde(default)]
    pub username: Option<String>,
    /// The Secret sent (compared by hash).
    #[serde(default)]
    pub secret: Option<String>,
}

/// Expectations on the registry journal during a step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalExpect {
    /// Each of these requests was made.
    #[serde(default)]
    pub requests: Vec<RequestMatch>,
}

/// A pattern on one journal entry; fields left out match anything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestMatch {
    /// The method.
    #[serde(default)]
    pub method: Option<String>,
    /// The path.
    #[serde(default)]
    pub path: Option<String>,
    /// Substrings of the (redacted) query.
    #[serde(default)]
    pub query_contains: Vec<String>,
    /// The authorization scheme (`basic`, `bearer`).
    #[serde(default)]
    pub auth_scheme: Option<String>,
    /// The answer's status.
    #[serde(default)]
    pub status: Option<u16>,
}

impl LoginStep {
    /// What the step does, for records: `login`, `logout` or `admin`.
    pub fn kind(&self) -> &'static str {
        match (&self.login, &self.logout) {
            (Some(_), _) => "login",
            (None, Some(_)) => "logout",
            _ => "admin",
        }
    }
}

/// Values of the login placeholders.
#[derive(Debug, Clone)]
pub struct LoginVars<'a> {
    /// `127.0.0.1:PORT`.
    pub host: &'a str,
    /// `http://127.0.0.1:PORT`.
    pub url: &'a str,
    /// The port.
    pub port: u16,
}

/// Expands `${host}`, `${url}`, `${port}` and `$$`.
pub fn expand(template: &str, vars: &LoginVars<'_>) -> Result<String, String> {
    let port = vars.port.to_string();
    let pairs = [
        ("host", vars.host),
        ("url", vars.url),
        ("port", port.as_str()),
    ];
    let mut out = String::with_capacity(template.len() + 16);
    for (k, piece) in template.split("$$").enumerate() {
        if k > 0 {
            out.push('$');
        }
        out.push_str(&crate::target::profile::expand(piece, &pairs)?);
    }
    Ok(out)
}

/// Expands placeholders in every string (and object key) of a JSON value.
pub fn expand_json(value: &Value, vars: &LoginVars<'_>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(expand(s, vars)?),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| expand_json(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| Ok((expand(k, vars)?, expand_json(v, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Checks a declared case; the message names the field.
pub fn validate(case: &LoginCaseDecl) -> Result<(), (String, String)> {
    let fail = |field: &str, m: &str| Err((field.to_string(), m.to_string()));
    if !case.id.starts_with("LC-") {
        return fail("id", "login cases are named `LC-AREA-001`");
    }
    if case.steps.is_empty() {
        return fail("step", "a login case needs steps");
    }
    let probe = LoginVars {
        host: "h:1",
        url: "http://h:1",
        port: 1,
    };
    for (n, step) in case.steps.iter().enumerate() {
        let field = format!("step[{n}]");
        let kinds = [
            step.login.is_some(),
            step.logout.is_some(),
            step.admin.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return fail(&field, "give exactly one of `login`, `logout`, `admin`");
        }
        if step
            .precondition
            .as_ref()
            .is_some_and(|t| t.trim().is_empty())
        {
            return fail(
                &format!("{field}.precondition"),
                "must say what the step establishes, e.g. \"login must save the entry\"",
            );
        }
        if let Some(a) = &step.admin
            && a.fault.is_some() == a.delete_token.is_some()
        {
            return fail(
                &field,
                "`admin` takes exactly one of `fault`, `delete_token`",
            );
        }
        for text in step_strings(step) {
            if let Err(e) = expand(text, &probe) {
                return fail(&field, &e);
            }
        }
        if let Some(c) = &step.expect.config {
            for mode in [&c.mode, &c.dir_mode].into_iter().flatten() {
                if u32::from_str_radix(mode, 8).is_err() {
                    return fail(&field, &format!("`{mode}` is not an octal mode"));
                }
            }
        }
    }
    if let Some(config) = &case.config
        && let Err(e) = expand_json(&Value::Object(config.clone()), &probe)
    {
        return fail("config", &e);
    }
    Ok(())
}

fn step_strings(step: &LoginStep) -> Vec<&str> {
    let mut out = Vec::new();
    if let Some(l) = &step.login {
        out.extend([l.user.as_str(), l.secret.as_str(), l.registry.as_str()]);
    }
    if let Some(l) = &step.logout {
        out.push(l.registry.as_str());
    }
    let e = &step.expect;
    for m in [&e.stdout, &e.stderr, &e.output].into_iter().flatten() {
        out.extend(m.trimmed.as_deref());
        out.extend(m.contains.iter().map(String::as_str));
        out.extend(m.not_contains.iter().map(String::as_str));
        out.extend(m.one_of.iter().map(String::as_str));
    }
    if let Some(c) = &e.config {
        out.extend(c.auths.keys().map(String::as_str));
        out.extend(c.no_auths.iter().map(String::as_str));
        out.extend(c.keep.iter().map(String::as_str));
        out.extend(c.lacks.iter().map(String::as_str));
    }
    if let Some(s) = &e.spy {
        for m in s.calls.iter().chain(&s.no_calls) {
            out.extend(m.server_url.as_deref());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_expand_in_text_and_json_keys() {
        let vars = LoginVars {
            host: "127.0.0.1:5",
            url: "http://127.0.0.1:5",
            port: 5,
        };
        assert_eq!(
            expand("${url}/ $$x ${port}", &vars).unwrap(),
            "http://127.0.0.1:5/ $x 5"
        );
        let v = expand_json(&serde_json::json!({"auths": {"${host}": {}}}), &vars).unwrap();
        assert!(v["auths"]["127.0.0.1:5"].is_object());
        assert!(expand("${ns}", &vars).is_err());
    }

    #[test]
    fn a_step_must_do_exactly_one_thing() {
        let text = r#"
area = "a"
[[case]]
id = "LC-X-001"
level = "MUST"
title = "t"
cites = "c"
[[case.step]]
login = { user = "alice", secret = "pw" }
logout = {}
"#;
        let file: LoginCaseFile = toml::from_str(text).unwrap();
        let (field, message) = validate(&file.cases[0]).unwrap_err();
        assert_eq!(field, "step[0]");
        assert!(message.contains("exactly one"), "{message}");
    }

    #[test]
    fn a_precondition_must_say_what_it_establishes() {
        let text = |pre: &str| {
            format!(
                "area = \"a\"\n[[case]]\nid = \"LC-X-001\"\nlevel = \"MUST\"\ntitle = \"t\"\n\
                 cites = \"c\"\n[[case.step]]\nlogin = {{ user = \"alice\", secret = \"pw\" }}\n\
                 precondition = \"{pre}\"\n[[case.step]]\nlogout = {{}}\n"
            )
        };
        let file: LoginCaseFile = toml::from_str(&text("login must save the entry")).unwrap();
        assert!(validate(&file.cases[0]).is_ok());
        let file: LoginCaseFile = toml::from_str(&text("  ")).unwrap();
        let (field, message) = validate(&file.cases[0]).unwrap_err();
        assert_eq!(field, "step[0].precondition");
        assert!(message.contains("what the step establishes"), "{message}");
    }
}
