//! Reading run reports back: a typed reader of the fields gating needs, for every report format
//! version this release reads (1 and 2), tolerant of fields it does not know.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use crate::{run::result::SCHEMA_VERSION, scenario::Level};

/// The oldest report format version this release reads.
pub const OLDEST_READABLE: u32 = 1;

/// A report that cannot be read: the file and what is wrong with it (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file cannot be read.
    #[error("{}: cannot read the report: {reason}", file.display())]
    Io {
        /// The file at fault.
        file: PathBuf,
        /// The operating system's reason.
        reason: std::io::Error,
    },
    /// Its text is not a report this release reads.
    #[error("{}: {reason}", file.display())]
    Parse {
        /// The file at fault.
        file: PathBuf,
        /// What is wrong with the text.
        reason: ParseError,
    },
}

/// What is wrong with a report's text.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or not an object.
    #[error("not a credconform JSON report: {0}")]
    NotJson(serde_json::Error),
    /// No format version.
    #[error("not a credconform JSON report: no `schema_version` field")]
    NoVersion,
    /// A format version this release does not read.
    #[error(
        "report format version {0} is not one this credconform reads \
         ({OLDEST_READABLE} to {SCHEMA_VERSION}){newer}",
        newer = if *.0 > SCHEMA_VERSION { ": it was written by a newer release" } else { "" }
    )]
    UnknownVersion(u32),
    /// A field of the version's format is missing or malformed.
    #[error("report format version {version}: {reason}")]
    Malformed {
        /// The format version the report claims.
        version: u32,
        /// What serde found.
        reason: serde_json::Error,
    },
    /// Two results for one case.
    #[error("case {0} appears twice")]
    DuplicateCase(String),
}

/// How a case ended, as a report says. A status this release does not know (a newer one, such
/// as `blocked`) is kept and counts as a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadStatus {
    /// Every expectation held.
    Passed,
    /// Not run.
    Skipped,
    /// Failed, errored, or any status this release does not know (named).
    Failing(String),
}

impl ReadStatus {
    /// True for anything but passed and skipped.
    pub fn is_failure(&self) -> bool {
        matches!(self, ReadStatus::Failing(_))
    }

    /// The word the report used.
    pub fn word(&self) -> &str {
        match self {
            ReadStatus::Passed => "passed",
            ReadStatus::Skipped => "skipped",
            ReadStatus::Failing(word) => word,
        }
    }
}

impl<'de> Deserialize<'de> for ReadStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let word = String::deserialize(d)?;
        Ok(match word.as_str() {
            "passed" => ReadStatus::Passed,
            "skipped" => ReadStatus::Skipped,
            _ => ReadStatus::Failing(word),
        })
    }
}

/// The program a report certified.
#[derive(Debug, Clone, Deserialize)]
pub struct ReadTarget {
    /// `helper` or `login-cli`.
    pub kind: String,
    /// Its file name (with the profile, for login CLIs).
    pub name: String,
    /// The SHA-256 of the file, hex.
    pub sha256: String,
    /// What its version action printed.
    pub version: Option<String>,
}

/// A suite a report names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReadSuite {
    /// The folder name.
    pub name: String,
    /// The suite version.
    pub version: String,
}

/// One case of a report.
#[derive(Debug, Clone, Deserialize)]
pub struct ReadCase {
    /// The case ID.
    pub id: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// The title.
    #[serde(default)]
    pub title: String,
    /// How it ended.
    pub status: ReadStatus,
    /// Set (format 2) when a baseline or waiver accepted the failure.
    pub disposition: Option<serde_json::Value>,
}

/// The certificate part (format 2).
#[derive(Debug, Clone, Deserialize)]
pub struct ReadCertificate {
    /// The suites' digest.
    pub suites_sha256: String,
    /// The operating system.
    #[serde(default)]
    pub os: String,
    /// The architecture.
    #[serde(default)]
    pub arch: String,
}

/// The fields of a report that diff, baseline and verify use.
#[derive(Debug, Clone, Deserialize)]
pub struct ReadReport {
    /// The report format version.
    pub schema_version: u32,
    /// The program certified.
    pub target: ReadTarget,
    /// The suites run.
    pub suites: Vec<ReadSuite>,
    /// Every case.
    pub cases: Vec<ReadCase>,
    /// What the report certifies (format 2; absent in format 1).
    pub certificate: Option<ReadCertificate>,
}

impl ReadReport {
    /// Reads and checks the report at `path`.
    pub fn load(path: &Path) -> Result<ReadReport, ReadError> {
        let file = path.to_path_buf();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).map_err(|reason| ReadError::Parse { file, reason }),
            Err(reason) => Err(ReadError::Io { file, reason }),
        }
    }

    /// Parses a report's JSON text; the error says what is wrong.
    pub fn parse(text: &str) -> Result<ReadReport, ParseError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: Option<u32>,
        }
        let version: Version = serde_json::from_str(text).map_err(ParseError::NotJson)?;
        let v = version.schema_version.ok_or(ParseError::NoVersion)?;
        if !(OLDEST_READABLE..=SCHEMA_VERSION).contains(&v) {
            return Err(ParseError::UnknownVersion(v));
        }
        let report: ReadReport = serde_json::from_str(text)
            .map_err(|reason| ParseError::Malformed { version: v, reason })?;
        let mut ids: Vec<&str> = report.cases.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(ParseError::DuplicateCase(w[0].to_string()));
        }
        Ok(report)
    }

    /// The case with `id`.
    pub fn case(&self, id: &str) -> Option<&ReadCase> {
        self.cases.iter().find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_format_1_reports_are_read() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/reports/format-1-docker-credential-pass.json");
        let report = ReadReport::load(&path).unwrap();
        assert_eq!(report.schema_version, 1);
        assert_eq!(report.target.name, "docker-credential-pass");
        assert!(report.certificate.is_none());
        let nf = report.case("HP-NF-001").unwrap();
        assert!(nf.status.is_failure());
        assert_eq!(report.case("HP-RT-001").unwrap().status, ReadStatus::Passed);
    }

    #[test]
    fn unknown_statuses_count_as_failures_and_unknown_fields_are_ignored() {
        let text = r#"{"schema_version":2,"future":1,"target":{"kind":"helper","name":"x",
            "sha256":"ab","version":null,"more":true},"suites":[{"name":"s","version":"1"}],
            "cases":[{"id":"HP-A-1","level":"MUST","status":"blocked","extra":[]}]}"#;
        let report = ReadReport::parse(text).unwrap();
        assert_eq!(
            report.cases[0].status,
            ReadStatus::Failing("blocked".into())
        );
        assert!(report.cases[0].status.is_failure());
    }

    #[test]
    fn bad_input_is_named() {
        let parse_err = |text: &str| ReadReport::parse(text).unwrap_err().to_string();
        let err = parse_err("{");
        assert!(err.contains("not a credconform JSON report"), "{err}");
        let err = parse_err("{}");
        assert!(err.contains("schema_version"), "{err}");
        let err = parse_err(r#"{"schema_version":99}"#);
        assert!(err.contains("newer release"), "{err}");
        let err = parse_err(r#"{"schema_version":1,"target":{}}"#);
        assert!(
            err.contains("format version 1") && err.contains("kind"),
            "{err}"
        );
        let dup = r#"{"schema_version":1,"target":{"kind":"helper","name":"x","sha256":""},
            "suites":[],"cases":[{"id":"A-1","level":"MUST","status":"passed"},
            {"id":"A-1","level":"MUST","status":"passed"}]}"#;
        assert!(parse_err(dup).contains("A-1 appears twice"));
        let err = ReadReport::load(Path::new("/no/such/report.json")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/no/such/report.json: cannot read"),
            "{err}"
        );
    }
}
