//! Loading suites from disk, with errors that name the file, the line and the field.

use std::{
    collections::HashMap,
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

use super::{
    login::{self, LoginCaseFile},
    model::{Case, CaseFile, Expect, Source, Stdin, Step, Suite, SuiteHeader, TargetKind},
    template,
};

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
    fn new(file: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        LoadError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

/// Loads every suite folder below `root` (a folder holding `suite.toml`), sorted by name.
pub fn load_all(root: &Path) -> Result<Vec<Suite>, LoadError> {
    let entries = fs::read_dir(root).map_err(|e| {
        LoadError::new(
            root,
            None,
            format!("cannot read the suites folder: {e} (use --suites-dir)"),
        )
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("suite.toml").is_file())
        .collect();
    dirs.sort();
    let suites = dirs
        .iter()
        .map(|d| load_suite(d))
        .collect::<Result<Vec<_>, _>>()?;
    check_unique_ids(&suites)?;
    Ok(suites)
}

/// Loads one suite folder.
pub fn load_suite(dir: &Path) -> Result<Suite, LoadError> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let header_path = dir.join("suite.toml");
    let header: SuiteHeader = parse_toml(&header_path)?;
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| LoadError::new(dir, None, format!("cannot read: {e}")))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && *p != header_path)
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let text = read(&file)?;
        if header.target == TargetKind::LoginCli {
            cases.extend(load_login_file(&file, &text, &name)?);
            continue;
        }
        let parsed: CaseFile = toml::from_str(&text).map_err(|e| toml_error(&file, &text, &e))?;
        for mut case in parsed.cases {
            case.area = parsed.area.clone();
            case.suite = name.clone();
            case.source.file = file.clone();
            case.source.line = line_of_id(&text, &case.id);
            validate_case(&case)?;
            cases.push(case);
        }
    }
    if cases.is_empty() {
        return Err(LoadError::new(dir, None, "the suite has no cases"));
    }
    Ok(Suite {
        name,
        header,
        cases,
    })
}

/// Reads a case file of a login-CLI suite into cases that carry their login part.
fn load_login_file(file: &Path, text: &str, suite: &str) -> Result<Vec<Case>, LoadError> {
    let parsed: LoginCaseFile = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
    let mut cases = Vec::with_capacity(parsed.cases.len());
    for decl in parsed.cases {
        let line = line_of_id(text, &decl.id);
        let case = Case {
            id: decl.id.clone(),
            level: decl.level,
            title: decl.title.clone(),
            cites: decl.cites.clone(),
            steps: Vec::new(),
            property: None,
            exclusive: false,
            get_only: false,
            area: parsed.area.clone(),
            suite: suite.to_string(),
            source: Source {
                file: file.to_path_buf(),
                line,
            },
            login: Some(Arc::new(decl.spec())),
        };
        let fail = |field: &str, message: &str| {
            LoadError::new(
                file,
                Some(line),
                format!("case {}: field `{field}`: {message}", case.id),
            )
        };
        if !is_valid_id(&case.id) {
            return Err(fail("id", "must look like `LC-AREA-001`"));
        }
        if case.title.trim().is_empty() || case.cites.trim().is_empty() {
            return Err(fail("title", "title and cites must not be empty"));
        }
        login::validate(&decl).map_err(|(field, m)| fail(&field, &m))?;
        cases.push(case);
    }
    Ok(cases)
}

fn read(file: &Path) -> Result<String, LoadError> {
    fs::read_to_string(file).map_err(|e| LoadError::new(file, None, format!("cannot read: {e}")))
}

fn parse_toml<T: serde::de::DeserializeOwned>(file: &Path) -> Result<T, LoadError> {
    let text = read(file)?;
    toml::from_str(&text).map_err(|e| toml_error(file, &text, &e))
}

fn toml_error(file: &Path, text: &str, e: &toml::de::Error) -> LoadError {
    let line = e
        .span()
        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    LoadError::new(file, line, e.message().trim().to_string())
}

/// The line on which `id = "<id>"` is written (1 when it cannot be found).
fn line_of_id(text: &str, id: &str) -> usize {
    let quoted = format!("\"{id}\"");
    text.lines()
        .position(|l| l.trim_start().starts_with("id") && l.contains(&quoted))
        .map_or(1, |i| i + 1)
}

fn is_valid_id(id: &str) -> bool {
    let mut parts = id.split('-');
    let prefix_ok = parts
        .next()
        .is_some_and(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_uppercase()));
    let rest: Vec<&str> = parts.collect();
    prefix_ok
        && !rest.is_empty()
        && rest.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
}

fn validate_case(case: &Case) -> Result<(), LoadError> {
    let fail = |field: &str, message: String| {
        Err(LoadError::new(
            &case.source.file,
            Some(case.source.line),
            format!("case {}: field `{field}`: {message}", case.id),
        ))
    };
    if !is_valid_id(&case.id) {
        return fail(
            "id",
            "must look like `HP-AREA-001` (two capital letters, then dash-separated capitals/digits)"
                .into(),
        );
    }
    if case.title.trim().is_empty() {
        return fail("title", "must not be empty".into());
    }
    if case.cites.trim().is_empty() {
        return fail(
            "cites",
            "must quote the protocol text the case enforces".into(),
        );
    }
    match (case.steps.is_empty(), &case.property) {
        (true, None) => return fail("step", "a case needs steps or a property".into()),
        (false, Some(_)) => return fail("property", "give steps or a property, not both".into()),
        _ => {}
    }
    for (n, step) in case.steps.iter().enumerate() {
        let field = format!("step[{n}]");
        if step.repeat == 0 {
            return fail(&field, "`repeat` must be at least 1".into());
        }
        for text in step_templates(step) {
            if let Err(e) = template::validate(text) {
                return fail(&field, e.to_string());
            }
        }
        if let Err(message) = check_namespaced(step) {
            return fail(&field, message);
        }
        if let Err((what, message)) = check_expect(&step.expect, 0) {
            return fail(&format!("{field}.expect{what}"), message);
        }
        if let Some(text) = &step.precondition {
            if text.trim().is_empty() {
                return fail(
                    &format!("{field}.precondition"),
                    "must say what the step establishes, e.g. \"get must return the entry \
                     stored in step 1\""
                        .into(),
                );
            }
            if step.expect.is_empty() {
                return fail(
                    &format!("{field}.precondition"),
                    "a precondition step needs an `expect` that can fail".into(),
                );
            }
        }
    }
    if !case.steps.is_empty()
        && !case
            .steps
            .iter()
            .any(|s| !s.is_precondition() && !s.expect.is_empty())
    {
        return fail(
            "step",
            "every step is a precondition or expects nothing: the case checks no requirement"
                .into(),
        );
    }
    Ok(())
}

/// Alternatives of `any_of` must each expect something, and hold no `any_of` of their own.
fn check_expect(e: &Expect, depth: usize) -> Result<(), (String, String)> {
    if depth > 0 && !e.any_of.is_empty() {
        return Err((
            ".any_of".into(),
            "an alternative may not hold another `any_of`".into(),
        ));
    }
    for (n, alternative) in e.any_of.iter().enumerate() {
        if alternative.is_empty() {
            return Err((
                format!(".any_of[{n}]"),
                "an empty alternative always holds, which makes `any_of` check nothing".into(),
            ));
        }
        check_expect(alternative, depth + 1)?;
    }
    Ok(())
}

/// Every string of a step that goes through placeholder expansion.
fn step_templates(step: &Step) -> Vec<&str> {
    let mut out: Vec<&str> = step.extra_args.iter().map(String::as_str).collect();
    match &step.stdin {
        Some(Stdin::Text(t)) => out.push(t),
        Some(Stdin::Credentials { json }) => out.extend(json.values().filter_map(|v| v.as_str())),
        None => {}
    }
    expect_templates(&step.expect, &mut out);
    out
}

/// Every string of an expectation (and its alternatives) that goes through expansion.
fn expect_templates<'a>(e: &'a Expect, out: &mut Vec<&'a str>) {
    for m in [&e.stdout, &e.stderr].into_iter().flatten() {
        out.extend(m.trimmed.as_deref());
        out.extend(m.contains.iter().map(String::as_str));
        out.extend(m.one_of.iter().map(String::as_str));
        out.extend(m.not_contains.iter().map(String::as_str));
    }
    if let Some(json) = &e.json {
        out.extend(json.values().filter_map(|v| v.as_str()));
    }
    if let Some(list) = &e.list {
        out.extend(list.includes.keys().map(String::as_str));
        out.extend(list.includes.values().filter_map(|v| v.as_str()));
        out.extend(list.excludes.iter().map(String::as_str));
    }
    for alternative in &e.any_of {
        expect_templates(alternative, out);
    }
}

/// A suite may only name server URLs inside the run namespace: a `ServerURL` field or a get /
/// erase payload must use `${ns}` or `${run}` (or be blank, to test the empty-URL error).
fn check_namespaced(step: &Step) -> Result<(), String> {
    let url = match &step.stdin {
        Some(Stdin::Credentials { json }) => json.get("ServerURL").and_then(|v| v.as_str()),
        Some(Stdin::Text(t)) if step.action.as_deref() != Some("store") => Some(t.as_str()),
        _ => None,
    };
    match url {
        Some(u) if !u.trim().is_empty() && !template::names_namespace(u) => Err(format!(
            "server URL `{u}` is outside the run namespace: write it with ${{ns}} or ${{run}}"
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
        assert_eq!(case.steps.len(), 2);
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
        let steps = &suites[0].cases[0].steps;
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
                &["a.toml:5", "field `step[0].precondition`"],
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
                &["unknown placeholder"],
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
    fn ids_follow_the_pattern() {
        assert!(is_valid_id("HP-RT-001"));
        assert!(is_valid_id("LC-2FA-PAT-01"));
        assert!(!is_valid_id("HP-"));
        assert!(!is_valid_id("HPX-1"));
        assert!(!is_valid_id("HP-rt-1"));
    }

    #[test]
    fn the_shipped_suites_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites");
        let suites = load_all(&root).unwrap();
        assert!(suites.iter().any(|s| s.name == "helper-protocol"));
    }
}
