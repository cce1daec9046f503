//! Reading run reports back: a typed reader of the fields gating needs, for every report format
//! version this release reads (1 and 2), tolerant of fields it does not know.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use crate::{run::result::SCHEMA_VERSION, scenario::Level};

/// The oldest report format version this release reads.
pub const OLDEST_READABLE: u32 = 1;

/// A report that cannot be read: the file and what is wrong with it (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", file.display())]
pub struct ReadError {
    /// The file at fault.
    pub file: PathBuf,
    /// What is wrong.
    pub message: String,
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
    #[serde(default)]
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
    #[serde(default)]
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
    #[serde(default)]
    pub certificate: Option<ReadCertificate>,
}

impl ReadReport {
    /// Reads and checks the report at `path`.
    pub fn load(path: &Path) -> Result<ReadReport, ReadError> {
        let fail = |message: String| ReadError {
            file: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail(format!("cannot read the report: {e}")))?;
        Self::parse(&text).map_err(fail)
    }

    /// Parses a report's JSON text; the error says what is wrong.
    pub fn parse(text: &str) -> Result<ReadReport, String> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: Option<u32>,
        }
        let version: Version = serde_json::from_str(text)
            .map_err(|e| format!("not a credconform JSON report: {e}"))?;
        let Some(v) = version.schema_version else {
            return Err("not a credconform JSON report: no `schema_version` field".into());
        };
        if !(OLDEST_READABLE..=SCHEMA_VERSION).contains(&v) {
            return Err(format!(
                "report format version {v} is not one this credconform reads \
                 ({OLDEST_READABLE} to {SCHEMA_VERSION}){}",
                if v > SCHEMA_VERSION {
                    ": it was written by a newer release"
                } else {
                    ""
                }
            ));
        }
        let report: ReadReport =
            serde_json::from_str(text).map_err(|e| format!("report format version {v}: {e}"))?;
        let mut ids: Vec<&str> = report.cases.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("case {} appears twice", w[0]));
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
        let err = ReadReport::parse("{").unwrap_err();
        assert!(err.contains("not a credconform JSON report"), "{err}");
        let err = ReadReport::parse("{}").unwrap_err();
        assert!(err.contains("schema_version"), "{err}");
        let err = ReadReport::parse(r#"{"schema_version":99}"#).unwrap_err();
        assert!(err.contains("newer release"), "{err}");
        let err = ReadReport::parse(r#"{"schema_version":1,"target":{}}"#).unwrap_err();
        assert!(
            err.contains("format version 1") && err.contains("kind"),
            "{err}"
        );
        let dup = r#"{"schema_version":1,"target":{"kind":"helper","name":"x","sha256":""},
            "suites":[],"cases":[{"id":"A-1","level":"MUST","status":"passed"},
            {"id":"A-1","level":"MUST","status":"passed"}]}"#;
        assert!(
            ReadReport::parse(dup)
                .unwrap_err()
                .contains("A-1 appears twice")
        );
        let err = ReadReport::load(Path::new("/no/such/report.json")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/no/such/report.json: cannot read"),
            "{err}"
        );
    }
}
