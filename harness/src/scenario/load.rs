//! Loading suites from disk, with errors that name the file, the line and the field.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::de::DeserializeOwned;

use super::{
    login::LoginCase,
    model::{
        Case, CaseBody, CaseDecl, CaseFile, Expect, Level, Source, Step, Suite, SuiteHeader,
        TargetKind,
    },
};
use crate::assets::{Folder, TextFile};

/// A suite file that could not be read or is not a valid suite.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct LoadError {
    /// The file at fault.
    pub file: PathBuf,
    /// The line at fault, when known.
    pub line: Option<usize>,
    /// What is wrong, naming the field.
    pub message: String,
}

impl LoadError {
    /// The error `message` about `file`, at `line` when it is known.
    pub(crate) fn new(file: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        LoadError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

/// Loads every suite folder below `root` on disk (a folder holding `suite.toml`), sorted by name.
pub fn load_all(root: &Path) -> Result<Vec<Suite>, LoadError> {
    load_set(&Folder::on_disk(root))
}

/// Loads the suites built into the binary.
pub fn load_builtin() -> Result<Vec<Suite>, LoadError> {
    load_set(&Folder::suites())
}

/// Where a run's suites come from: the built-in set (or `replace`, a folder of suites that
/// takes its place), plus vendor folders, each a suite folder or a folder of suite folders.
#[derive(Debug, Clone, Default)]
pub struct SuiteSources {
    /// A folder of suites replacing the built-in ones (`--suites-dir`).
    pub replace: Option<PathBuf>,
    /// Vendor suite folders loaded beside them (`--add-suite`).
    pub add: Vec<PathBuf>,
}

impl SuiteSources {
    /// Loads every suite; suite names and case IDs must be unique across all of them.
    pub fn load(&self) -> Result<Vec<Suite>, LoadError> {
        let mut suites = match &self.replace {
            Some(dir) => load_all(dir)?,
            None => load_builtin()?,
        };
        for dir in &self.add {
            let folder = Folder::on_disk(dir);
            let added = match folder.read("suite.toml") {
                Ok(Some(_)) => vec![load_folder(&folder)?],
                _ => load_set(&folder)?,
            };
            for suite in added {
                if let Some(same) = suites.iter().find(|s| s.name == suite.name) {
                    return Err(LoadError::new(
                        &folder.path(),
                        None,
                        format!(
                            "suite `{}` is already loaded from {}: give the folder another name",
                            suite.name,
                            suite_place(same).display()
                        ),
                    ));
                }
                suites.push(suite);
            }
        }
        check_unique_ids(&suites)?;
        Ok(suites)
    }
}

/// The folder a loaded suite came from.
fn suite_place(suite: &Suite) -> PathBuf {
    suite
        .cases
        .first()
        .and_then(|c| c.source.file.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(&suite.name))
}

/// Loads every suite folder of `root`, sorted by name.
fn load_set(root: &Folder) -> Result<Vec<Suite>, LoadError> {
    let dirs = root.subfolders().map_err(|e| {
        LoadError::new(
            &root.path(),
            None,
            format!("cannot read the suites folder: {e} (use --suites-dir)"),
        )
    })?;
    let suites = dirs
        .iter()
        .filter(|d| matches!(d.read("suite.toml"), Ok(Some(_))))
        .map(load_folder)
        .collect::<Result<Vec<_>, _>>()?;
    check_unique_ids(&suites)?;
    Ok(suites)
}

/// Loads one suite folder on disk.
pub fn load_suite(dir: &Path) -> Result<Suite, LoadError> {
    load_folder(&Folder::on_disk(dir))
}

/// Loads one suite folder: `suite.toml` and its case files.
fn load_folder(dir: &Folder) -> Result<Suite, LoadError> {
    let name = dir.name();
    let header_path = dir.path().join("suite.toml");
    let cannot_read =
        |e: std::io::Error| LoadError::new(&dir.path(), None, format!("cannot read: {e}"));
    let files = dir.files("toml").map_err(cannot_read)?;
    let header_text = files
        .iter()
        .find(|f| f.path == header_path)
        .map_or("", |f| f.text.as_str());
    let header: SuiteHeader =
        toml::from_str(header_text).map_err(|e| toml_error(&header_path, header_text, &e))?;
    let mut cases = Vec::new();
    for TextFile { path, text } in files.iter().filter(|f| f.path != header_path) {
        cases.extend(match header.target {
            TargetKind::Helper => load_file::<CaseDecl>(path, text, &name)?,
            TargetKind::LoginCli => load_file::<LoginCase>(path, text, &name)?,
        });
    }
    if cases.is_empty() {
        return Err(LoadError::new(&dir.path(), None, "the suite has no cases"));
    }
    Ok(Suite {
        name,
        header,
        cases,
    })
}

/// What is wrong with a case: the field at fault and the message.
type Fault = (String, String);

fn fault(field: impl Into<String>, message: impl Into<String>) -> Fault {
    (field.into(), message.into())
}

/// A case as written in a case file of one kind of suite (helper or login CLI).
trait Decl: DeserializeOwned {
    /// What an ID of such a case looks like.
    const EXAMPLE_ID: &str;
    /// The case's ID, level, title and cites.
    fn head(&self) -> (&str, Level, &str, &str);
    /// The case's body, `exclusive` and `get_only`, checking what the types cannot.
    fn body(self) -> Result<(CaseBody, bool, bool), Fault>;
}

impl Decl for CaseDecl {
    const EXAMPLE_ID: &str = "HP-AREA-001";
    fn head(&self) -> (&str, Level, &str, &str) {
        (&self.id, self.level, &self.title, &self.cites)
    }
    fn body(self) -> Result<(CaseBody, bool, bool), Fault> {
        let body = match (self.steps.is_empty(), self.property) {
            (true, None) => return Err(fault("step", "a case needs steps or a property")),
            (false, Some(_)) => {
                return Err(fault("property", "give steps or a property, not both"));
            }
            (true, Some(property)) => CaseBody::Property(property),
            (false, None) => {
                check_steps(&self.steps)?;
                CaseBody::Steps(self.steps)
            }
        };
        Ok((body, self.exclusive, self.get_only))
    }
}

impl Decl for LoginCase {
    const EXAMPLE_ID: &str = "LC-AREA-001";
    fn head(&self) -> (&str, Level, &str, &str) {
        (&self.id, self.level, &self.title, &self.cites)
    }
    fn body(self) -> Result<(CaseBody, bool, bool), Fault> {
        if !self.id.starts_with("LC-") {
            return Err(fault("id", "login cases are named `LC-AREA-001`"));
        }
        if self.steps.is_empty() {
            return Err(fault("step", "a login case needs steps"));
        }
        Ok((CaseBody::Login(Arc::new(self)), false, false))
    }
}

/// Reads the cases of one case file, checking what the types cannot; an error names the
/// file, the case's line and the field.
fn load_file<D: Decl>(file: &Path, text: &str, suite: &str) -> Result<Vec<Case>, LoadError> {
    let parsed: CaseFile<D> = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
    let area = parsed.area;
    let case = |decl: D| {
        let (id, level, title, cites) = decl.head();
        let (id, title, cites) = (id.to_string(), title.to_string(), cites.to_string());
        let line = line_of_id(text, &id);
        let fail = |(field, message): Fault| {
            let message = format!("case {id}: field `{field}`: {message}");
            LoadError::new(file, Some(line), message)
        };
        check_head::<D>(&id, &title, &cites).map_err(fail)?;
        let (body, exclusive, get_only) = decl.body().map_err(fail)?;
        let source = Source {
            file: file.to_path_buf(),
            line,
        };
        let (area, suite) = (area.clone(), suite.to_string());
        Ok(Case {
            id,
            level,
            title,
            cites,
            body,
            exclusive,
            get_only,
            area,
            suite,
            source,
        })
    };
    parsed.cases.into_iter().map(case).collect()
}

/// The ID has the project's form, and the title and the citation are given.
fn check_head<D: Decl>(id: &str, title: &str, cites: &str) -> Result<(), Fault> {
    if !is_valid_id(id) {
        let form = "two capital letters, then dash-separated capitals/digits";
        return Err(fault(
            "id",
            format!("must look like `{}` ({form})", D::EXAMPLE_ID),
        ));
    }
    if title.trim().is_empty() {
        return Err(fault("title", "must not be empty"));
    }
    if cites.trim().is_empty() {
        return Err(fault(
            "cites",
            "must quote the protocol text the case enforces",
        ));
    }
    Ok(())
}

/// A TOML error of `file` as a load error naming the line and, when the parser knows it, the
/// field (the dotted key path, e.g. `case.step.stdin`).
pub(crate) fn toml_error(file: &Path, text: &str, e: &toml::de::Error) -> LoadError {
    let line = e
        .span()
        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let message = e.message().trim();
    let message = match toml_field(e) {
        Some(field) => format!("field `{field}`: {message}"),
        None => message.to_string(),
    };
    LoadError::new(file, line, message)
}

/// The key path of a TOML error: the parser shows it only in an error without its input.
fn toml_field(e: &toml::de::Error) -> Option<String> {
    let mut bare = e.clone();
    bare.set_input(None);
    let shown = bare.to_string();
    let path = shown
        .lines()
        .last()?
        .strip_prefix("in `")?
        .strip_suffix('`')?;
    Some(path.to_string())
}

/// The line on which `id = "<id>"` is written (1 when it cannot be found).
fn line_of_id(text: &str, id: &str) -> usize {
    let quoted = format!("\"{id}\"");
    text.lines()
        .position(|l| l.trim_start().starts_with("id") && l.contains(&quoted))
        .map_or(1, |i| i + 1)
}

fn is_valid_id(id: &str) -> bool {
    let Some((prefix, rest)) = id.split_once('-') else {
        return false;
    };
    prefix.len() == 2
        && prefix.bytes().all(|b| b.is_ascii_uppercase())
        && rest.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
}

/// Checks what the step types cannot; the error names the field.
fn check_steps(steps: &[Step]) -> Result<(), Fault> {
    for (n, step) in steps.iter().enumerate() {
        let field = format!("step[{n}]");
        if step.repeat == 0 {
            return Err(fault(field, "`repeat` must be at least 1"));
        }
        check_namespaced(step).map_err(|message| fault(&field, message))?;
        check_expect(&step.expect, 0)
            .map_err(|(what, message)| fault(format!("{field}.expect{what}"), message))?;
        if step.is_precondition() && step.expect.is_empty() {
            let message = "a precondition step needs an `expect` that can fail";
            return Err(fault(format!("{field}.precondition"), message));
        }
    }
    if !steps
        .iter()
        .any(|s| !s.is_precondition() && !s.expect.is_empty())
    {
        let message =
            "every step is a precondition or expects nothing: the case checks no requirement";
        return Err(fault("step", message));
    }
    Ok(())
}

/// Alternatives of `any_of` must each expect something, and hold no `any_of` of their own.
fn check_expect(e: &Expect, depth: usize) -> Result<(), Fault> {
    if depth > 0 && !e.any_of.is_empty() {
        return Err(fault(
            ".any_of",
            "an alternative may not hold another `any_of`",
        ));
    }
    for (n, alternative) in e.any_of.iter().enumerate() {
        if alternative.is_empty() {
            let message = "an empty alternative always holds, which makes `any_of` check nothing";
            return Err(fault(format!(".any_of[{n}]"), message));
        }
        check_expect(alternative, depth + 1)?;
    }
    Ok(())
}

/// A suite may only name server URLs inside the run namespace: a `ServerURL` field or a get /
/// erase payload must use `${ns}` or `${run}` (or be blank, to test the empty-URL error).
fn check_namespaced(step: &Step) -> Result<(), String> {
    match step.server_url() {
        Some(u) if !u.as_str().trim().is_empty() && !u.names_namespace() => Err(format!(
            "server URL `{}` is outside the run namespace: write it with ${{ns}} or ${{run}}",
            u.as_str()
        )),
        _ => Ok(()),
    }
}

fn check_unique_ids(suites: &[Suite]) -> Result<(), LoadError> {
    let mut seen: HashMap<&str, &Case> = HashMap::new();
    for case in suites.iter().flat_map(|s| &s.cases) {
        if let Some(first) = seen.insert(&case.id, case) {
            return Err(LoadError::new(
                &case.source.file,
                Some(case.source.line),
                format!(
                    "case {}: field `id`: already used at {}",
                    case.id, first.source
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn suite_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let suite = dir.path().join("demo");
        fs::create_dir(&suite).unwrap();
        fs::write(
            suite.join("suite.toml"),
            "title = \"Demo\"\nversion = \"1\"\ntarget = \"helper\"\n",
        )
        .unwrap();
        for (name, text) in files {
            fs::write(suite.join(name), text).unwrap();
        }
        dir
    }

    const GOOD: &str = r#"
area = "Round trip"

[[case]]
id = "HP-RT-001"
level = "MUST"
title = "store then get"
cites = "get returns what store stored"

[[case.step]]
action = "store"
stdin = { json = { ServerURL = "https://${ns}", Username = "u", Secret = "s" } }
expect = { exit = 0, stdout = { empty = true } }

[[case.step]]
action = "get"
stdin = "https://${ns}"
expect = { exit = "nonzero" }
"#;

    #[test]
    fn loads_a_valid_suite_with_areas_and_sources() {
        let dir = suite_dir(&[("a.toml", GOOD)]);
        let suites = load_all(dir.path()).unwrap();
        let case = &suites[0].cases[0];
        assert_eq!(suites[0].name, "demo");
        assert_eq!(case.area, "Round trip");
        assert_eq!(case.source.line, 5);
        assert_eq!(case.steps().len(), 2);
    }

    #[test]
    fn only_exclusive_cases_run_alone() {
        let exclusive = GOOD.replace("level = \"MUST\"", "level = \"MUST\"\nexclusive = true");
        let dir = suite_dir(&[("a.toml", &exclusive)]);
        assert!(load_all(dir.path()).unwrap()[0].cases[0].runs_alone());
        let listing = GOOD.replace("action = \"get\"", "action = \"list\"");
        let dir = suite_dir(&[("a.toml", &listing)]);
        assert!(!load_all(dir.path()).unwrap()[0].cases[0].runs_alone());
    }

    #[test]
    fn a_missing_field_names_file_line_and_field() {
        let dir = suite_dir(&[("a.toml", &GOOD.replace("title = \"store then get\"\n", ""))]);
        let err = load_all(dir.path()).unwrap_err().to_string();
        assert!(err.contains("a.toml:4"), "{err}");
        assert!(err.contains("missing field `title`"), "{err}");
    }

    #[test]
    fn an_unknown_field_is_an_error() {
        let dir = suite_dir(&[(
            "a.toml",
            &GOOD.replace("level = ", "levle = \"x\"\nlevel = "),
        )]);
        let err = load_all(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unknown field `levle`"), "{err}");
    }

    #[test]
    fn a_url_outside_the_namespace_is_refused() {
        let bad = GOOD.replace(
            "https://${ns}\", Username",
            "https://index.docker.io/v1/\", Username",
        );
        let dir = suite_dir(&[("a.toml", &bad)]);
        let err = load_all(dir.path()).unwrap_err().to_string();
        assert!(err.contains("outside the run namespace"), "{err}");
        assert!(err.contains("step[0]"), "{err}");
    }

    #[test]
    fn duplicate_ids_are_refused_with_both_places() {
        let dir = suite_dir(&[("a.toml", GOOD), ("b.toml", GOOD)]);
        let err = load_all(dir.path()).unwrap_err().to_string();
        assert!(err.contains("b.toml:5"), "{err}");
        assert!(err.contains("already used at"), "{err}");
    }

    #[test]
    fn bad_ids_and_placeholders_are_refused() {
        let dir = suite_dir(&[("a.toml", &GOOD.replace("HP-RT-001", "hp_rt_1"))]);
        assert!(
            load_all(dir.path())
                .unwrap_err()
                .to_string()
                .contains("field `id`")
        );
        let dir = suite_dir(&[(
            "a.toml",
            &GOOD.replace("Secret = \"s\"", "Secret = \"${nope}\""),
        )]);
        let err = load_all(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unknown placeholder"), "{err}");
    }

    const STORE_EXPECT: &str = "expect = { exit = 0, stdout = { empty = true } }";
    const GET_EXPECT: &str = "expect = { exit = \"nonzero\" }";

    #[test]
    fn preconditions_are_marked_per_step() {
        let marked = GOOD.replace(
            STORE_EXPECT,
            &format!("{STORE_EXPECT}\nprecondition = \"store must take\""),
        );
        let dir = suite_dir(&[("a.toml", &marked)]);
        let suites = load_all(dir.path()).unwrap();
        let steps = suites[0].cases[0].steps();
        assert!(steps[0].is_precondition() && !steps[1].is_precondition());
    }

    #[test]
    fn bad_preconditions_and_alternatives_name_file_line_and_field() {
        let store_pre = format!("{STORE_EXPECT}\nprecondition = \"store must take\"");
        let get_pre = format!("{GET_EXPECT}\nprecondition = \"get must fail\"");
        // (what replaces the store's and the get's expectations, what the error must say)
        let bad: &[(&str, &str, &[&str])] = &[
            (
                "expect = { exit = 0 }\nprecondition = \" \"",
                GET_EXPECT,
                &[
                    "a.toml:14",
                    "field `case.step.precondition`",
                    "what the step establishes",
                ],
            ),
            (&store_pre, &get_pre, &["checks no requirement"]),
            (
                STORE_EXPECT,
                "precondition = \"get must answer\"",
                &["field `step[1].precondition`", "needs an `expect`"],
            ),
            (
                STORE_EXPECT,
                "expect = { any_of = [{ exit = 0 }, {}] }",
                &["field `step[1].expect.any_of[1]`", "always holds"],
            ),
            (
                STORE_EXPECT,
                "expect = { any_of = [{ any_of = [{ exit = 0 }] }] }",
                &["another `any_of`"],
            ),
            (
                STORE_EXPECT,
                "expect = { any_of = [{ stdout = { trimmed = \"${nope}\" } }] }",
                &["unknown placeholder", "a.toml:18"],
            ),
        ];
        for (store, get, words) in bad {
            let text = GOOD.replace(STORE_EXPECT, store).replace(GET_EXPECT, get);
            let dir = suite_dir(&[("a.toml", &text)]);
            let err = load_all(dir.path()).unwrap_err().to_string();
            for w in *words {
                assert!(err.contains(w), "{w:?} not in {err}");
            }
        }
    }

    #[test]
    fn a_bad_action_names_file_line_and_field() {
        let dir = suite_dir(&[("a.toml", &GOOD.replace("action = \"get\"", "action = 3"))]);
        let err = load_all(dir.path()).unwrap_err().to_string();
        for w in ["a.toml:16", "field `case.step.action`", "expected a string"] {
            assert!(err.contains(w), "{w:?} not in {err}");
        }
        let dir = suite_dir(&[("a.toml", &GOOD.replace("\"get\"", "\"frobnicate\""))]);
        let case = &load_all(dir.path()).unwrap()[0].cases[0];
        assert_eq!(case.steps()[1].action_name(), "frobnicate");
    }

    #[test]
    fn bad_login_steps_name_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let suite = dir.path().join("login");
        fs::create_dir(&suite).unwrap();
        fs::write(
            suite.join("suite.toml"),
            "title = \"L\"\nversion = \"1\"\ntarget = \"login-cli\"\n",
        )
        .unwrap();
        let case = "area = \"a\"\n[[case]]\nid = \"LC-X-001\"\nlevel = \"MUST\"\ntitle = \"t\"\n\
                    cites = \"c\"\n[[case.step]]\n";
        let bad = [
            (
                "login = { user = \"u\", secret = \"s\" }\nlogout = {}",
                "exactly one of",
            ),
            (
                "logout = {}\nexpect = { config = { mode = \"0x600\" } }",
                "not an octal mode",
            ),
            ("admin = { delete_token = \"bob/nope\" }", "not user/uuid"),
        ];
        for (step, says) in bad {
            fs::write(suite.join("a.toml"), format!("{case}{step}\n")).unwrap();
            let err = load_all(dir.path()).unwrap_err().to_string();
            assert!(err.contains("a.toml:"), "{err}");
            assert!(err.contains("field `case.step"), "{err}");
            assert!(err.contains(says), "{says:?} not in {err}");
        }
    }

    #[test]
    fn ids_follow_the_pattern() {
        assert!(is_valid_id("HP-RT-001"));
        assert!(is_valid_id("LC-2FA-PAT-01"));
        assert!(!is_valid_id("HP-"));
        assert!(!is_valid_id("HPX-1"));
        assert!(!is_valid_id("HP-rt-1"));
    }

    #[test]
    fn vendor_suites_load_beside_the_built_in_ones_and_may_not_clash() {
        let vendor = suite_dir(&[("a.toml", &GOOD.replace("HP-RT-001", "AC-RT-001"))]);
        let sources = |add: PathBuf| SuiteSources {
            replace: None,
            add: vec![add],
        };
        // A folder of suites, or one suite folder itself.
        for add in [vendor.path().to_path_buf(), vendor.path().join("demo")] {
            let suites = sources(add).load().unwrap();
            let demo = suites.iter().find(|s| s.name == "demo").unwrap();
            assert_eq!(demo.cases[0].source.file, vendor.path().join("demo/a.toml"));
            assert!(suites.iter().any(|s| s.name == "helper-protocol"));
        }
        let clash = suite_dir(&[("a.toml", GOOD)]);
        let err = sources(clash.path().into()).load().unwrap_err().to_string();
        assert!(
            err.contains("already used at suites/helper-protocol/"),
            "{err}"
        );
        assert!(err.contains(&format!("{}:5", clash.path().join("demo/a.toml").display())));
        let renamed = tempfile::tempdir().unwrap();
        fs::rename(vendor.path().join("demo"), renamed.path().join("login")).unwrap();
        let err = sources(renamed.path().into())
            .load()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("suite `login` is already loaded from suites/login"),
            "{err}"
        );
    }

    #[test]
    fn the_built_in_suites_load_with_project_paths() {
        let suites = load_builtin().unwrap();
        let helper = suites.iter().find(|s| s.name == "helper-protocol").unwrap();
        assert!(
            helper.cases[0]
                .source
                .file
                .starts_with("suites/helper-protocol")
        );
    }
}
