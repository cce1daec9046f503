//! The login-CLI case model: what case files of a `target = "login-cli"` suite deserialize into.
//! A parallel model to the helper one ([`super::model`]): a login case drives a CLI through
//! login, logout and registry steering steps inside a sandbox, and checks the CLI's exit and
//! output, its config file, the calls its credential helpers received and the registry journal.
//!
//! Placeholders in case strings ([`Login`]): `${host}` (the case's registry as
//! `127.0.0.1:PORT`), `${url}` (`http://127.0.0.1:PORT`) and `${port}`; `$$` is a literal `$`.

use std::{collections::BTreeMap, fmt};

use fake_registry::state::faults::FaultSpec;
use serde::Deserialize;

use super::{
    model::{ExitExpect, Level, Precondition, TextMatch},
    template::{ObjectTemplate, Scope, Template, TemplateError, Values},
};
use crate::target::profile::Capability;

/// The placeholders of login suites.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Login;

/// A placeholder of the login suites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LoginVar {
    /// `${host}`: `127.0.0.1:PORT`.
    Host,
    /// `${url}`: `http://127.0.0.1:PORT`.
    Url,
    /// `${port}`: the registry's port.
    Port,
}

impl Scope for Login {
    type Name = LoginVar;
    const KNOWN: &'static str = "host, url, port";
    fn name(body: &str) -> Result<LoginVar, TemplateError> {
        match body {
            "host" => Ok(LoginVar::Host),
            "url" => Ok(LoginVar::Url),
            "port" => Ok(LoginVar::Port),
            _ => Err(TemplateError::unknown::<Login>(body)),
        }
    }
}

/// A template of a login suite.
pub type LoginTemplate = Template<Login>;

/// A login case as written in a case file; a [`super::Case`] carries it as its body. It
/// drives a CLI through its steps and checks each one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginCase {
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
    pub config: Option<ObjectTemplate<Login>>,
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

fn yes() -> bool {
    true
}

/// The fake registry of a case.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrySetup {
    /// `bearer` (token server, refresh tokens) or `basic` (credentials on every request).
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
#[serde(deny_unknown_fields, default)]
pub struct SpySetup {
    /// Actions that fail (exit 1 with a message on stdout).
    pub fail: Vec<String>,
}

/// One step: a login, a logout, or steering the registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawLoginStep")]
pub struct LoginStep {
    /// What the step does.
    pub kind: LoginStepKind,
    /// What the step must do.
    pub expect: LoginExpect,
    /// Marks the step as a precondition and says what it establishes (e.g. "login must save
    /// the entry"); when its expectations do not hold, the case ends blocked, not failed.
    pub precondition: Option<Precondition>,
}

/// What a login step does.
#[derive(Debug, Clone)]
pub enum LoginStepKind {
    /// Log in.
    Login(LoginAction),
    /// Log out.
    Logout(LogoutAction),
    /// Change the registry between steps (no CLI runs).
    Admin(AdminAction),
}

/// A step as written: exactly one of `login`, `logout`, `admin`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoginStep {
    login: Option<LoginAction>,
    logout: Option<LogoutAction>,
    admin: Option<AdminAction>,
    #[serde(default)]
    expect: LoginExpect,
    precondition: Option<Precondition>,
}

/// A login step that does not do exactly one thing.
#[derive(Debug, thiserror::Error)]
#[error("give exactly one of `login`, `logout`, `admin`")]
pub struct StepKindError;

impl TryFrom<RawLoginStep> for LoginStep {
    type Error = StepKindError;
    fn try_from(raw: RawLoginStep) -> Result<Self, StepKindError> {
        let kind = match (raw.login, raw.logout, raw.admin) {
            (Some(l), None, None) => LoginStepKind::Login(l),
            (None, Some(l), None) => LoginStepKind::Logout(l),
            (None, None, Some(a)) => LoginStepKind::Admin(a),
            _ => return Err(StepKindError),
        };
        Ok(LoginStep {
            kind,
            expect: raw.expect,
            precondition: raw.precondition,
        })
    }
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
    pub user: LoginTemplate,
    /// The password or PAT.
    pub secret: LoginTemplate,
    /// How the secret is handed over.
    #[serde(default)]
    pub via: SecretVia,
    /// The registry argument [default: `${host}`].
    #[serde(default = "default_registry")]
    pub registry: LoginTemplate,
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
    pub registry: LoginTemplate,
}

fn default_registry() -> LoginTemplate {
    Template::parse("${host}").unwrap_or_else(|e| unreachable!("a constant template: {e}"))
}

/// Steering the registry between steps: exactly one of `fault`, `delete_token`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawAdminAction")]
pub enum AdminAction {
    /// Inject a fault (see fake-registry's `/_admin/faults`).
    Fault(FaultSpec),
    /// Delete a PAT, written `user/uuid`.
    DeleteToken {
        /// The account.
        user: String,
        /// The PAT.
        uuid: uuid::Uuid,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdminAction {
    fault: Option<FaultSpec>,
    delete_token: Option<String>,
}

/// An `admin` step that cannot be carried out.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Not exactly one action.
    #[error("`admin` takes exactly one of `fault`, `delete_token`")]
    NotOne,
    /// A `delete_token` that is not `user/uuid`.
    #[error("delete_token `{0}` is not user/uuid")]
    BadToken(String),
}

impl TryFrom<RawAdminAction> for AdminAction {
    type Error = AdminError;
    fn try_from(raw: RawAdminAction) -> Result<Self, AdminError> {
        match (raw.fault, raw.delete_token) {
            (Some(fault), None) => Ok(AdminAction::Fault(fault)),
            (None, Some(spec)) => {
                let parsed = spec
                    .split_once('/')
                    .and_then(|(user, uuid)| Some((user.to_string(), uuid.parse().ok()?)));
                let (user, uuid) = parsed.ok_or(AdminError::BadToken(spec))?;
                Ok(AdminAction::DeleteToken { user, uuid })
            }
            _ => Err(AdminError::NotOne),
        }
    }
}

/// Permission bits, written in octal (`"0600"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMode(pub u32);

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        u32::from_str_radix(&text, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .map(FileMode)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not an octal mode")))
    }
}

impl fmt::Display for FileMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

/// Expectations on one step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginExpect {
    /// The exit status.
    pub exit: Option<ExitExpect>,
    /// Standard output.
    pub stdout: Option<TextMatch<Login>>,
    /// Standard error.
    pub stderr: Option<TextMatch<Login>>,
    /// Standard output and standard error together (where a CLI prints a message varies).
    pub output: Option<TextMatch<Login>>,
    /// The config file afterwards.
    pub config: Option<ConfigExpect>,
    /// The calls the spy helpers received during the step.
    pub spy: Option<SpyExpect>,
    /// The requests the registry saw during the step.
    pub journal: Option<JournalExpect>,
}

/// Expectations on the config file after a step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigExpect {
    /// There is no file (true) or there is one (false).
    pub absent: Option<bool>,
    /// The file is byte-identical to what it was before the step (or still absent).
    pub unchanged: bool,
    /// The file's permission bits, octal (e.g. `"0600"`).
    pub mode: Option<FileMode>,
    /// The permission bits of the file's folder, when the CLI created it.
    pub dir_mode: Option<FileMode>,
    /// `auths` entries, by key.
    pub auths: BTreeMap<LoginTemplate, AuthExpect>,
    /// `auths` keys that must not exist.
    pub no_auths: Vec<LoginTemplate>,
    /// JSON pointers whose value must equal the one in the starting config.
    pub keep: Vec<LoginTemplate>,
    /// JSON pointers that must not exist.
    pub lacks: Vec<LoginTemplate>,
    /// No secret of the case appears in the file, in clear or base64.
    pub no_secrets: bool,
    /// The normalized file equals the stored snapshot.
    pub snapshot: bool,
}

/// Expectations on one `auths` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthExpect {
    /// The entry holds no credentials at all (`{}`, as with a credential helper).
    pub empty: bool,
    /// The username decoded from `auth`.
    pub user: Option<String>,
    /// The secret decoded from `auth`.
    pub secret: Option<String>,
    /// An `identitytoken` is (true) or is not (false) present.
    pub identity_token: Option<bool>,
}

/// Expectations on the spy helpers' calls during a step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpyExpect {
    /// Each of these calls happened.
    pub calls: Vec<SpyCallMatch>,
    /// None of these calls happened.
    pub no_calls: Vec<SpyCallMatch>,
}

/// A pattern on one spy call; fields left out match anything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpyCallMatch {
    /// The helper's name suffix (`credsStore`/`credHelpers` value).
    pub helper: Option<String>,
    /// `store`, `get`, `erase`, `list`.
    pub action: Option<String>,
    /// The ServerURL sent.
    pub server_url: Option<LoginTemplate>,
    /// The Username sent.
    pub username: Option<String>,
    /// The Secret sent (compared by hash).
    pub secret: Option<String>,
}

/// Expectations on the registry journal during a step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalExpect {
    /// Each of these requests was made.
    pub requests: Vec<RequestMatch>,
}

/// A pattern on one journal entry; fields left out match anything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequestMatch {
    /// The method.
    pub method: Option<String>,
    /// The path.
    pub path: Option<String>,
    /// Substrings of the (redacted) query.
    pub query_contains: Vec<String>,
    /// The authorization scheme (`basic`, `bearer`).
    pub auth_scheme: Option<String>,
    /// The answer's status.
    pub status: Option<u16>,
}

impl LoginStep {
    /// What the step does, for records: `login`, `logout` or `admin`.
    pub fn kind(&self) -> &'static str {
        match self.kind {
            LoginStepKind::Login(_) => "login",
            LoginStepKind::Logout(_) => "logout",
            LoginStepKind::Admin(_) => "admin",
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

impl Values<Login> for LoginVars<'_> {
    fn write(&self, name: &LoginVar, out: &mut String) {
        match name {
            LoginVar::Host => out.push_str(self.host),
            LoginVar::Url => out.push_str(self.url),
            LoginVar::Port => out.push_str(&self.port.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(steps: &str) -> Result<super::super::CaseFile<LoginCase>, toml::de::Error> {
        toml::from_str(&format!(
            "area = \"a\"\n[[case]]\nid = \"LC-X-001\"\nlevel = \"MUST\"\ntitle = \"t\"\n\
             cites = \"c\"\n{steps}"
        ))
    }

    #[test]
    fn placeholders_expand_in_text_and_json_keys() {
        let vars = LoginVars {
            host: "127.0.0.1:5",
            url: "http://127.0.0.1:5",
            port: 5,
        };
        let t = LoginTemplate::parse("${url}/ $$x ${port}").unwrap();
        assert_eq!(t.expand(&vars), "http://127.0.0.1:5/ $x 5");
        let map = serde_json::from_value(serde_json::json!({"auths": {"${host}": {}}})).unwrap();
        let v = ObjectTemplate::<Login>::parse(map).unwrap().expand(&vars);
        assert!(v["auths"]["127.0.0.1:5"].is_object());
        assert!(LoginTemplate::parse("${ns}").is_err());
    }

    #[test]
    fn a_step_must_do_exactly_one_thing() {
        let err =
            file("[[case.step]]\nlogin = { user = \"alice\", secret = \"pw\" }\nlogout = {}\n")
                .unwrap_err();
        assert!(err.message().contains("exactly one"), "{err}");
        let err = file("[[case.step]]\nexpect = { exit = 0 }\n").unwrap_err();
        assert!(err.message().contains("exactly one"), "{err}");
        let ok = file("[[case.step]]\nlogout = {}\n").unwrap();
        assert_eq!(ok.cases[0].steps[0].kind(), "logout");
    }

    #[test]
    fn admin_actions_modes_and_preconditions_are_read_once() {
        let ok = file(
            "[[case.step]]\nadmin = { delete_token = \"bob/0b0b0000-0000-4000-8000-000000000003\" }\n\
             [[case.step]]\nlogout = {}\nexpect = { config = { mode = \"0600\" } }\n\
             precondition = \"logout must work\"\n",
        )
        .unwrap();
        let steps = &ok.cases[0].steps;
        assert!(matches!(
            &steps[0].kind,
            LoginStepKind::Admin(AdminAction::DeleteToken { user, .. }) if user == "bob"
        ));
        let mode = steps[1].expect.config.as_ref().and_then(|c| c.mode);
        assert_eq!(mode, Some(FileMode(0o600)));
        for (bad, says) in [
            ("admin = { delete_token = \"bob\" }", "not user/uuid"),
            ("admin = {}", "exactly one of `fault`"),
            (
                "logout = {}\nexpect = { config = { mode = \"rw\" } }",
                "not an octal mode",
            ),
            (
                "logout = {}\nprecondition = \"  \"",
                "what the step establishes",
            ),
            (
                "login = { user = \"${nope}\", secret = \"s\" }",
                "unknown placeholder",
            ),
        ] {
            let err = file(&format!("[[case.step]]\n{bad}\n")).unwrap_err();
            assert!(err.message().contains(says), "{says:?} not in {err}");
        }
    }
}
