//! The case model: what suite files under `suites/` deserialize into.

use std::{fmt, path::PathBuf};

use serde::{Deserialize, Serialize};

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

/// One case file: a requirement area and its cases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The requirement area the cases belong to (a report groups cases by it).
    pub area: String,
    /// The cases.
    #[serde(rename = "case", default)]
    pub cases: Vec<Case>,
}

/// One conformance case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Stable identifier such as `HP-RT-001`; never reused with another meaning.
    pub id: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// One line saying what is required.
    pub title: String,
    /// The protocol text the case enforces.
    pub cites: String,
    /// Steps run one after another; the case stops at the first failing step.
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
    /// A generative property checked over random inputs, instead of steps.
    #[serde(default)]
    pub property: Option<Property>,
    /// Run alone, after the other cases, so that no other case's calls run at the same time
    /// (see [`Case::runs_alone`]).
    #[serde(default)]
    pub exclusive: bool,
    /// A case about get-only helpers (ecr-login, gcr...): selected only when the helper is
    /// declared get-only (`--get-only`).
    #[serde(default)]
    pub get_only: bool,
    /// The requirement area, copied from the case file.
    #[serde(skip)]
    pub area: String,
    /// The suite the case belongs to, filled in by the loader.
    #[serde(skip)]
    pub suite: String,
    /// Where the case is declared, for error messages.
    #[serde(skip)]
    pub source: Source,
    /// The login-CLI part of a case of a `login-cli` suite (whose `steps` are then empty).
    #[serde(skip)]
    pub login: Option<std::sync::Arc<super::login::LoginCase>>,
}

impl Case {
    /// True when the case must run with no other case at the same time: it says so. A `list`
    /// step does not need that: it reads only the entries of its own case's namespace.
    pub fn runs_alone(&self) -> bool {
        self.exclusive
    }

    /// True when the case needs a helper that writes: it is generative (every property stores)
    /// or a step calls `store` or `erase` without expecting it to fail. A helper declared
    /// get-only skips such cases; the cases that expect a refusal (bad input, get-only) apply.
    pub fn needs_writing_helper(&self) -> bool {
        self.property.is_some()
            || self.steps.iter().any(|s| {
                matches!(s.action.as_deref(), Some("store" | "erase"))
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

/// One invocation of the helper (or several, with `repeat`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The action passed as the only argument (`store`, `get`, ...). Leave out to pass none.
    #[serde(default)]
    pub action: Option<String>,
    /// Extra arguments after the action (to test argument handling).
    #[serde(default)]
    pub extra_args: Vec<String>,
    /// What is written to the helper's standard input.
    #[serde(default)]
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
    /// Marks the step as a precondition and says what it establishes (e.g. "get must return
    /// the entry stored in step 1"). When its expectations do not hold, the requirement was not
    /// tested: the case ends blocked, not passed, and counts against the verdict.
    #[serde(default)]
    pub precondition: Option<String>,
}

impl Step {
    /// True when the step is a precondition of its case rather than the requirement itself.
    pub fn is_precondition(&self) -> bool {
        self.precondition.is_some()
    }
}

fn one() -> usize {
    1
}

/// Standard input of a step.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Stdin {
    /// Bytes written as they are (after placeholder expansion).
    Text(String),
    /// A credentials payload: the fields are serialized as one JSON object.
    Credentials {
        /// The JSON object's fields.
        json: serde_json::Map<String, serde_json::Value>,
    },
}

/// Expectations on one invocation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The exit status.
    #[serde(default)]
    pub exit: Option<ExitExpect>,
    /// Matchers on standard output.
    #[serde(default)]
    pub stdout: Option<TextMatch>,
    /// Matchers on standard error.
    #[serde(default)]
    pub stderr: Option<TextMatch>,
    /// Standard output is exactly one JSON object whose fields include these, equal.
    #[serde(default)]
    pub json: Option<serde_json::Map<String, serde_json::Value>>,
    /// Standard output is a `list` answer with these entries present and absent.
    #[serde(default)]
    pub list: Option<ListExpect>,
    /// Alternatives, at least one of which must hold entirely (besides the fields above), e.g.
    /// "exit 0 and nothing on stdout, or a non-zero exit with the canonical message".
    #[serde(default)]
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

/// Matchers on a text stream; every one given must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextMatch {
    /// The stream is empty (true) or not (false).
    #[serde(default)]
    pub empty: Option<bool>,
    /// The stream, with surrounding whitespace trimmed, equals this.
    #[serde(default)]
    pub trimmed: Option<String>,
    /// The stream, trimmed, equals one of these.
    #[serde(default)]
    pub one_of: Vec<String>,
    /// The stream contains each of these.
    #[serde(default)]
    pub contains: Vec<String>,
    /// The stream contains none of these.
    #[serde(default)]
    pub not_contains: Vec<String>,
    /// The stream contains no secret of the case.
    #[serde(default)]
    pub no_secrets: bool,
}

/// Expectations on a `list` answer, looked at only inside the run namespace.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListExpect {
    /// Entries that must be listed, server URL -> username.
    #[serde(default)]
    pub includes: serde_json::Map<String, serde_json::Value>,
    /// Server URLs that must not be listed.
    #[serde(default)]
    pub excludes: Vec<String>,
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
        let file: CaseFile = toml::from_str(&format!(
            "area = \"A\"\n[[case]]\nid = \"HP-X-001\"\nlevel = \"MUST\"\ntitle = \"t\"\n\
             cites = \"c\"\n{toml_text}"
        ))
        .unwrap();
        file.cases.into_iter().next().unwrap()
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
