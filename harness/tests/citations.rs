//! Every case cites a source a reader can open: a section of `docs/protocol.md` that exists, or
//! an upstream document by URL; and no citation or suite description names a file that is not
//! in the tree.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use credconform::scenario;

/// The project's own protocol document, which the cases cite by section.
const PROTOCOL_DOC: &str = "docs/protocol.md";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits in the workspace root")
        .to_path_buf()
}

/// The section numbers of `docs/protocol.md`: `## 1. Title` gives `1`, `### 1.2 Title` `1.2`.
fn protocol_sections() -> BTreeSet<String> {
    let text = fs::read_to_string(repo_root().join(PROTOCOL_DOC)).expect("docs/protocol.md");
    text.lines()
        .filter_map(|line| line.strip_prefix("### ").or(line.strip_prefix("## ")))
        .filter_map(|heading| heading.split_whitespace().next())
        .map(|number| number.trim_end_matches('.').to_string())
        .filter(|number| number.starts_with(|c: char| c.is_ascii_digit()))
        .collect()
}

/// The `§N.M` references of a citation, in order (`§2-§4` is two references).
fn section_refs(cite: &str) -> Vec<String> {
    cite.split('§')
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect::<String>()
                .trim_end_matches('.')
                .to_string()
        })
        .collect()
}

/// Words of `text` that name a file of the tree: a path with an extension, or a bare document
/// name such as `NOTES.md` (URLs left out; a bare `config.json` is a client's file, not ours).
fn file_mentions(text: &str) -> Vec<String> {
    const EXTENSIONS: [&str; 6] = [".md", ".toml", ".rs", ".json", ".go", ".sh"];
    text.split(|c: char| c.is_whitespace() || "`'\"(),;[]".contains(c))
        .filter(|word| !word.contains("://"))
        .map(|word| word.trim_end_matches([':', '.']))
        .filter(|word| {
            word.ends_with(".md")
                || (word.contains('/') && EXTENSIONS.iter().any(|ext| word.ends_with(ext)))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn every_case_cites_a_section_of_the_protocol_document_or_a_url() {
    let sections = protocol_sections();
    assert!(
        sections.contains("1.1") && sections.contains("4.3"),
        "{sections:?}"
    );
    let suites = scenario::load_builtin().expect("the suites load");
    let mut problems = Vec::new();
    for case in suites.iter().flat_map(|s| &s.cases) {
        let cite = case.cites.as_str();
        if let Some(rest) = cite.strip_prefix(PROTOCOL_DOC) {
            let refs = section_refs(rest);
            if refs.is_empty() {
                problems.push(format!("{}: names {PROTOCOL_DOC} but no §section", case.id));
            }
            for r in refs.iter().filter(|r| !sections.contains(*r)) {
                problems.push(format!("{}: {PROTOCOL_DOC} has no §{r}", case.id));
            }
        } else if !cite.starts_with("https://") {
            problems.push(format!(
                "{}: cites no source (`{PROTOCOL_DOC} §N.M: ...` or a URL): {cite}",
                case.id
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_citation_or_suite_description_names_a_file_missing_from_the_tree() {
    let root = repo_root();
    let suites = scenario::load_builtin().expect("the suites load");
    let texts = suites
        .iter()
        .map(|s| (s.name.clone(), s.header.description.clone()))
        .chain(
            suites
                .iter()
                .flat_map(|s| &s.cases)
                .map(|c| (c.id.clone(), c.cites.clone())),
        );
    let mut missing = Vec::new();
    for (who, text) in texts {
        for file in file_mentions(&text) {
            if !root.join(&file).is_file() {
                missing.push(format!("{who}: {file}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in the tree:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_checks_themselves_see_references_and_file_names() {
    assert_eq!(section_refs(" §1.4, §2.1: text"), ["1.4", "2.1"]);
    assert_eq!(section_refs(" §2-§4 (docker)"), ["2", "4"]);
    assert_eq!(
        file_mentions("see `docs/protocol.md` and PROTOCOL.md, not https://x.example/a/b.md"),
        ["docs/protocol.md", "PROTOCOL.md"]
    );
    assert!(file_mentions("docker writes a new config.json").is_empty());
    assert_eq!(
        file_mentions("notes/PROTOCOL.md: gone"),
        ["notes/PROTOCOL.md"]
    );
}
