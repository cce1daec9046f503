//! The case model: what suite files under `suites/` deserialize into.

use std::{fmt, path::PathBuf};

use serde::{Deserialize, Serialize};

use super::template::{Helper, HelperTemplate, ObjectTemplate, Scope, Template, TemplateError};

/// A requirement level in the RFC 2119 sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// An absolute requirement: a failure makes the target non-conformant.
    Must,
    /// A recommendation: a failure is a warning unless `--strict` is given.
    Should,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        })
    }
}

/// What kind of program a suite certifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// A `docker-credential-*` helper.
    Helper,
    /// A registry login CLI.
    LoginCli,
}

/// A suite: one folder under `suites/` with a `suite.toml` and case files.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The folder name, e.g. `helper-protocol`.
    pub name: String,
    /// What the suite's header file says about it.
    pub header: SuiteHeader,
    /// Every case of every case file, in file then declaration order.
    pub cases: Vec<Case>,
}

/// The contents of a suite's `suite.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteHeader {
    /// A human title.
    pub title: String,
    /// The suite's version; bumped whenever a case is added, changed or retired.
    pub version: String,
    /// What the suite certifies.
    pub target: TargetKind,
    /// A paragraph for reports.
    #[serde(default)]
    pub description: String,
}

/// One case file: a requirement area and its cases, as written (a [`CaseDecl`] in a helper
/// suite, a [`super::login::LoginCase`] in a login suite).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile<D> {
    /// The requirement area the cases belong to (a report groups cases by it).
    pub area: String,
    /// The cases.
    #[serde(rename = "case", default = "Vec::new")]
    pub cases: Vec<D>,
}

/// A helper case as written in a case file; the loader turns it into a [`Case`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseDecl {
    /// See [`Case::id`].
    pub id: String,
    /// See [`Case::level`].
    pub level: Level,
    /// See [`Case::title`].
    pub title: String,
    /// See [`Case::cites`].
    pub cites: String,
    /// Steps run one after another; the case stops at the first failing step.
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
    /// A generative property checked over random inputs, instead of steps.
    pub property: Option<Property>,
    /// See [`Case::exclusive`].
    #[serde(default)]
    pub exclusive: bool,
    /// See [`Case::get_only`].
    #[serde(default)]
    pub get_only: bool,
}

/// One conformance case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Stable identifier such as `HP-RT-001`; never reused with another meaning.
    pub id: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// One line saying what is required.
    pub title: String,
    /// The protocol text the case enforces.
    pub cites: String,
    /// What the case does.
    pub body: CaseBody,
    /// Run alone, after the other cases, so that no other case's calls run at the same time
    /// (see [`Case::runs_alone`]).
    pub exclusive: bool,
    /// A case about get-only helpers (ecr-login, gcr...): selected only when the helper is
    /// declared get-only (`--get-only`).
    pub get_only: bool,
    /// The requirement area, copied from the case file.
    pub area: String,
    /// The suite the case belongs to.
    pub suite: String,
    /// Where the case is declared, for error messages.
    pub source: Source,
}

/// What a case does: exactly one of these.
#[derive(Debug, Clone)]
pub enum CaseBody {
    /// Helper steps, run one after another; the case stops at the first failing step.
    Steps(Vec<Step>),
    /// A generative helper property checked over random inputs.
    Property(Property),
    /// A login-CLI case.
    Login(std::sync::Arc<super::login::LoginCase>),
}

impl Case {
    /// The helper steps of the case (none for a property or a login case).
    pub fn steps(&self) -> &[Step] {
        match &self.body {
            CaseBody::Steps(steps) => steps,
            CaseBody::Property(_) | CaseBody::Login(_) => &[],
        }
    }

    /// True when the case must run with no other case at the same time: it says so. A `list`
    /// step does not need that: it reads only the entries of its own case's namespace.
    pub fn runs_alone(&self) -> bool {
        self.exclusive
    }

    /// True when the case needs a helper that writes: it is generative (every property stores)
    /// or a step calls `store` or `erase` without expecting it to fail. A helper declared
    /// get-only skips such cases; the cases that expect a refusal (bad input, get-only) apply.
    pub fn needs_writing_helper(&self) -> bool {
        matches!(self.body, CaseBody::Property(_))
            || self.steps().iter().any(|s| {
                matches!(s.action, Some(Action::Store | Action::Erase))
                    && !s.expect.expects_failure()
            })
    }

    /// True when the case applies to a helper that is (`get_only`) or is not declared get-only:
    /// the get-only cases apply only to the former.
    pub fn applies_to_helper(&self, get_only: bool) -> bool {
        !self.get_only || get_only
    }
}

/// A place in a suite file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The file.
    pub file: PathBuf,
    /// The 1-based line of the case's `id`.
    pub line: usize,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// The action a step passes to the helper as its only argument.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum Action {
    /// `store`: save the credentials on standard input.
    Store,
    /// `get`: answer the credentials of the server URL on standard input.
    Get,
    /// `erase`: forget the server URL on standard input.
    Erase,
    /// `list`: answer every server URL with its username.
    List,
    /// `version`: print the helper's version.
    Version,
    /// Any other word, passed as it is (to test how a helper refuses it).
    Other(String),
}

impl Action {
    /// The word passed to the helper.
    pub fn as_str(&self) -> &str {
        match self {
            Action::Store => "store",
            Action::Get => "get",
            Action::Erase => "erase",
            Action::List => "list",
            Action::Version => "version",
            Action::Other(word) => word,
        }
    }
}

impl From<String> for Action {
    fn from(word: String) -> Self {
        use Action::*;
        [Store, Get, Erase, List, Version]
            .into_iter()
            .find(|a| a.as_str() == word)
            .unwrap_or(Other(word))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step's precondition: what the step establishes (e.g. "get must return the entry stored
/// in step 1"). When the step's expectations do not hold, the requirement was not tested: the
/// case ends blocked, not passed, and counts against the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Precondition(String);

impl Precondition {
    /// What the step establishes.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Precondition {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, &'static str> {
        match text.trim().is_empty() {
            true => Err(
                "a precondition must say what the step establishes, e.g. \"get must \
                         return the entry stored in step 1\"",
            ),
            false => Ok(Precondition(text)),
        }
    }
}

/// One invocation of the helper (or several, with `repeat`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The action passed as the only argument. Left out, none is passed.
    pub action: Option<Action>,
    /// Extra arguments after the action (to test argument handling).
    #[serde(default)]
    pub extra_args: Vec<HelperTemplate>,
    /// What is written to the helper's standard input.
    pub stdin: Option<Stdin>,
    /// Run the step this many times with `${i}` = 0, 1, ...
    #[serde(default = "one")]
    pub repeat: usize,
    /// Run the repetitions at the same time instead of one after another.
    #[serde(default)]
    pub parallel: bool,
    /// What the invocation must do.
    #[serde(default)]
    pub expect: Expect,
    /// Marks the step as a precondition of its case rather than the requirement itself.
    pub precondition: Option<Precondition>,
}

impl Step {
    /// True when the step is a precondition of its case rather than the requirement itself.
    pub fn is_precondition(&self) -> bool {
        self.precondition.is_some()
    }

    /// The action's word for records, `no action` when the step passes none.
    pub fn action_name(&self) -> &str {
        self.action.as_ref().map_or("no action", Action::as_str)
    }

    /// The server URL the step's standard input names: a payload's `ServerURL`, or the text a
    /// step other than `store` writes.
    pub fn server_url(&self) -> Option<&HelperTemplate> {
        match &self.stdin {
            Some(Stdin::Credentials { json }) => json.text("ServerURL"),
            Some(Stdin::Text(t)) if self.action != Some(Action::Store) => Some(t),
            _ => None,
        }
    }
}

fn one() -> usize {
    1
}

/// Standard input of a step.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawStdin")]
pub enum Stdin {
    /// Bytes written as they are (after placeholder expansion).
    Text(HelperTemplate),
    /// A credentials payload: the fields are serialized as one JSON object.
    Credentials {
        /// The JSON object's fields.
        json: ObjectTemplate<Helper>,
    },
}

/// Standard input as written, before its templates are read (an untagged enum would hide why
/// a template is refused).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawStdin {
    Text(String),
    Credentials {
        json: serde_json::Map<String, serde_json::Value>,
    },
}

impl TryFrom<RawStdin> for Stdin {
    type Error = TemplateError;
    fn try_from(raw: RawStdin) -> Result<Self, TemplateError> {
        Ok(match raw {
            RawStdin::Text(t) => Stdin::Text(Template::parse(t)?),
            RawStdin::Credentials { json } => Stdin::Credentials {
                json: ObjectTemplate::parse(json)?,
            },
        })
    }
}

/// Expectations on one invocation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Expect {
    /// The exit status.
    pub exit: Option<ExitExpect>,
    /// Matchers on standard output.
    pub stdout: Option<TextMatch<Helper>>,
    /// Matchers on standard error.
    pub stderr: Option<TextMatch<Helper>>,
    /// Standard output is exactly one JSON object whose fields include these, equal.
    pub json: Option<ObjectTemplate<Helper>>,
    /// Standard output is a `list` answer with these entries present and absent.
    pub list: Option<ListExpect>,
    /// Alternatives, at least one of which must hold entirely (besides the fields above), e.g.
    /// "exit 0 and nothing on stdout, or a non-zero exit with the canonical message".
    pub any_of: Vec<Expect>,
}

impl Expect {
    /// True when the expected exit status is a failure (`"nonzero"` or a code other than 0),
    /// or when every alternative of `any_of` expects one.
    pub fn expects_failure(&self) -> bool {
        match self.exit {
            Some(ExitExpect::Word(ExitWord::Nonzero)) => true,
            Some(ExitExpect::Code(code)) => code != 0,
            None => !self.any_of.is_empty() && self.any_of.iter().all(Expect::expects_failure),
        }
    }

    /// True when nothing at all is expected (any normal exit passes).
    pub fn is_empty(&self) -> bool {
        self.exit.is_none()
            && self.stdout.is_none()
            && self.stderr.is_none()
            && self.json.is_none()
            && self.list.is_none()
            && self.any_of.is_empty()
    }
}

/// An expected exit status: a number, or `"nonzero"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ExitExpect {
    /// Exactly this code.
    Code(i32),
    /// Any failure code (a normal exit other than 0).
    Word(ExitWord),
}

/// Words accepted for `exit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitWord {
    /// A normal exit with a code other than 0.
    Nonzero,
}

/// Matchers on a text stream, with placeholders of scope `S`; every one given must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default, bound = "")]
pub struct TextMatch<S: Scope> {
    /// The stream is empty (true) or not (false).
    pub empty: Option<bool>,
    /// The stream, with surrounding whitespace trimmed, equals this.
    pub trimmed: Option<Template<S>>,
    /// The stream, trimmed, equals one of these.
    pub one_of: Vec<Template<S>>,
    /// The stream contains each of these.
    pub contains: Vec<Template<S>>,
    /// The stream contains none of these.
    pub not_contains: Vec<Template<S>>,
    /// The stream contains no secret of the case.
    pub no_secrets: bool,
}

/// Expectations on a `list` answer, looked at only inside the run namespace.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListExpect {
    /// Entries that must be listed, server URL -> username.
    pub includes: ObjectTemplate<Helper>,
    /// Server URLs that must not be listed.
    pub excludes: Vec<HelperTemplate>,
}

/// A property checked over generated inputs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Property {
    /// Which property.
    pub kind: PropertyKind,
    /// How many random inputs to try (before shrinking); `--prop-cases` overrides.
    #[serde(default = "default_prop_cases")]
    pub cases: u32,
}

fn default_prop_cases() -> u32 {
    32
}

/// The generative properties the runner knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PropertyKind {
    /// store, get (same credentials back), erase, get (not found).
    RoundTrip,
    /// Two distinct URLs with different credentials never see each other's.
    Isolation,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(toml_text: &str) -> Case {
        let text = format!(
            "area = \"A\"\n[[case]]\nid = \"HP-X-001\"\nlevel = \"MUST\"\ntitle = \"t\"\n\
             cites = \"c\"\n{toml_text}"
        );
        let file: CaseFile<CaseDecl> = toml::from_str(&text).unwrap();
        let decl = file.cases.into_iter().next().unwrap();
        Case {
            id: decl.id,
            level: decl.level,
            title: decl.title,
            cites: decl.cites,
            body: match decl.property {
                Some(p) => CaseBody::Property(p),
                None => CaseBody::Steps(decl.steps),
            },
            exclusive: decl.exclusive,
            get_only: decl.get_only,
            area: file.area,
            suite: "s".into(),
            source: Source::default(),
        }
    }

    #[test]
    fn a_case_needs_a_writing_helper_when_a_store_or_erase_may_succeed() {
        let store_ok = case("[[case.step]]\naction = \"store\"\nexpect = { exit = 0 }");
        let erase_any = case("[[case.step]]\naction = \"erase\"");
        let property = case("property = { kind = \"round-trip\" }");
        for c in [&store_ok, &erase_any, &property] {
            assert!(c.needs_writing_helper(), "{c:?}");
        }
        let refused = case(
            "[[case.step]]\naction = \"store\"\nexpect = { exit = \"nonzero\" }\n\
             [[case.step]]\naction = \"erase\"\nexpect = { exit = 1 }\n\
             [[case.step]]\naction = \"get\"",
        );
        assert!(!refused.needs_writing_helper());
    }

    #[test]
    fn get_only_cases_apply_only_to_get_only_helpers() {
        let plain = case("[[case.step]]\naction = \"get\"");
        let get_only = case("get_only = true\n[[case.step]]\naction = \"get\"");
        assert!(plain.applies_to_helper(false) && plain.applies_to_helper(true));
        assert!(!get_only.applies_to_helper(false) && get_only.applies_to_helper(true));
    }
}
