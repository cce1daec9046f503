//! What a report certifies besides the binary: a digest of the suites as loaded (every case's
//! content), the platform, and the command line (secrets redacted).

use std::{collections::BTreeMap, ffi::OsString, fmt::Write as _, path::Path};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::scenario::Suite;

/// The certificate part of a report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Certificate {
    /// SHA-256 (hex) over a canonical form of the suites run and every one of their cases
    /// (see [`suites_digest`]).
    pub suites_sha256: String,
    /// The operating system credconform ran on (`std::env::consts::OS`).
    pub os: String,
    /// The CPU architecture (`std::env::consts::ARCH`).
    pub arch: String,
    /// The command line of the run, with `--env` values and secret-looking arguments redacted.
    pub command_line: Vec<String>,
}

impl Certificate {
    /// The certificate of a run of `suites` by this process.
    pub fn of(suites: &[&Suite]) -> Self {
        Certificate {
            suites_sha256: suites_digest(suites),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            command_line: redacted_command_line(std::env::args_os()),
        }
    }
}

/// SHA-256 (hex) over the suites' names and headers and every case's content, each case as a
/// canonical rendering of its TOML table (keys sorted, comments and layout dropped), sorted by
/// suite name and case ID. An edited case changes it even when the suite version stays the same;
/// reformatting a file does not. The files are read again (built in, or as they are on disk now).
pub fn suites_digest(suites: &[&Suite]) -> String {
    let mut sorted: Vec<&Suite> = suites.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut hasher = Sha256::new();
    for suite in sorted {
        hasher.update(suite_canonical(suite));
    }
    hex::encode(hasher.finalize())
}

/// One suite's canonical text: its name, header, then each case (by ID) with its area.
fn suite_canonical(suite: &Suite) -> String {
    let mut out = format!("suite {}\n", suite.name);
    let header = toml::Value::try_from(&suite.header)
        .map(|v| canonical(&v))
        .unwrap_or_default();
    let _ = writeln!(out, "header {header}");
    let files: std::collections::BTreeSet<&Path> = suite
        .cases
        .iter()
        .map(|c| c.source.file.as_path())
        .collect();
    let mut cases: BTreeMap<String, String> = files.into_iter().flat_map(file_cases).collect();
    // A case the loader knows but the file no longer holds still counts, by its ID alone.
    for case in &suite.cases {
        cases
            .entry(case.id.clone())
            .or_insert_with(|| "(missing from its file)".into());
    }
    for (id, text) in cases {
        let _ = writeln!(out, "case {id} {text}");
    }
    out
}

/// The cases of one case file: ID and canonical text (the file's area included).
fn file_cases(file: &Path) -> Vec<(String, String)> {
    let text = crate::assets::read_suite_file(file).unwrap_or_default();
    let table: toml::Table = text.parse().unwrap_or_default();
    let area = table.get("area").map(canonical).unwrap_or_default();
    let cases = table.get("case").and_then(toml::Value::as_array);
    cases
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let id = c.get("id")?.as_str()?.to_string();
            Some((id, format!("area={area} {}", canonical(c))))
        })
        .collect()
}

/// A TOML value as one line: tables with sorted keys, strings JSON-quoted.
fn canonical(value: &toml::Value) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    match value {
        toml::Value::String(s) => quote(s),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => format!("{f:?}"),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", inner.join(","))
        }
        toml::Value::Table(t) => {
            let sorted: BTreeMap<&String, &toml::Value> = t.iter().collect();
            let inner: Vec<String> = sorted
                .into_iter()
                .map(|(k, v)| format!("{}={}", quote(k), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
    }
}

/// Words in a flag or variable name that mark its value as secret.
const SECRET_WORDS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "token",
    "key",
    "auth",
    "credential",
];

/// The command line as shown in a report: the program's file name, every `--env K=V` value
/// replaced by `<redacted>`, and so are the values of flags whose name looks secret
/// (`--password`, `--token=...`).
pub fn redacted_command_line(args: impl IntoIterator<Item = OsString>) -> Vec<String> {
    let mut out = Vec::new();
    let mut redact_next = false;
    for (i, arg) in args.into_iter().enumerate() {
        let arg = arg.to_string_lossy().into_owned();
        let shown = if i == 0 {
            Path::new(&arg)
                .file_name()
                .map_or(arg.clone(), |n| n.to_string_lossy().into_owned())
        } else if std::mem::take(&mut redact_next) {
            redact_assignment(&arg)
        } else if let Some((flag, value)) = arg.split_once('=').filter(|(f, _)| f.starts_with("--"))
        {
            let value = if flag == "--env" {
                redact_assignment(value)
            } else if looks_secret(flag) {
                "<redacted>".into()
            } else {
                value.to_string()
            };
            format!("{flag}={value}")
        } else {
            redact_next = arg == "--env" || (arg.starts_with("--") && looks_secret(&arg));
            arg
        };
        out.push(shown);
    }
    out
}

/// `K=V` as `K=<redacted>`; anything else as `<redacted>`.
fn redact_assignment(value: &str) -> String {
    match value.split_once('=') {
        Some((k, _)) => format!("{k}=<redacted>"),
        None => "<redacted>".into(),
    }
}

fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn line(args: &[&str]) -> Vec<String> {
        redacted_command_line(args.iter().map(OsString::from))
    }

    #[test]
    fn env_values_and_secret_flags_are_redacted() {
        assert_eq!(
            line(&[
                "/usr/bin/credconform",
                "--helper",
                "docker-credential-pass",
                "--env",
                "PASS_KEY=hunter2",
                "--env=GNUPGHOME=/tmp/g",
                "--token",
                "abc",
                "--password=xyz",
                "--seed",
                "1",
            ]),
            [
                "credconform",
                "--helper",
                "docker-credential-pass",
                "--env",
                "PASS_KEY=<redacted>",
                "--env=GNUPGHOME=<redacted>",
                "--token",
                "<redacted>",
                "--password=<redacted>",
                "--seed",
                "1",
            ]
        );
    }

    #[test]
    fn the_digest_sees_an_edited_case_but_not_a_reformatted_file() {
        let src =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites/helper-protocol");
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("helper-protocol");
        fs::create_dir(&copy).unwrap();
        for entry in fs::read_dir(&src).unwrap() {
            let p = entry.unwrap().path();
            fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
        }
        let digest = || {
            let suite = crate::scenario::load_suite(&copy).unwrap();
            suites_digest(&[&suite])
        };
        let original = digest();
        assert_eq!(original.len(), 64);
        let file = copy.join("erase.toml");
        let text = fs::read_to_string(&file).unwrap();
        fs::write(&file, format!("# a comment\n\n{text}")).unwrap();
        assert_eq!(digest(), original, "a comment changed the digest");
        let edited = text.replacen(
            "erase answers with exit 0 and nothing on stdout",
            "erase answers with exit 0",
            1,
        );
        assert_ne!(edited, text);
        fs::write(&file, edited).unwrap();
        assert_ne!(
            digest(),
            original,
            "an edited title did not change the digest"
        );
    }
}
