//! `--waivers FILE`: accepted deviations, one `[[waiver]]` table each (`case`, `reason`,
//! `expires` as a TOML date, optionally `versions`). Every problem with the file (malformed,
//! an expired waiver, an unknown case, two waivers for one case) is a setup error: the run
//! stops before any case runs, exit 2, with a sentence naming the file and line.

use std::{
    collections::{BTreeSet, HashMap},
    path::{Path, PathBuf},
};

use serde::Deserialize;
use toml::{Spanned, value::Datetime};

use crate::run::{CaseResult, result::Disposition};

/// A waiver file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct WaiverError {
    /// The file at fault.
    pub file: PathBuf,
    /// The line at fault, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// One accepted failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// The case ID.
    pub case: String,
    /// Why it is accepted.
    pub reason: String,
    /// The last day it applies.
    pub expires: time::Date,
    /// The target versions it applies to (all when empty).
    pub versions: Vec<String>,
    /// The line of its `[[waiver]]` table.
    pub line: usize,
}

impl Waiver {
    /// True when the waiver applies to a target whose version output is `version`: it names no
    /// versions, or one of them is the whole output or one of its words (a leading `v` aside).
    pub fn applies_to(&self, version: Option<&str>) -> bool {
        if self.versions.is_empty() {
            return true;
        }
        let Some(output) = version.map(str::trim) else {
            return false;
        };
        let bare = |s: &str| s.trim().trim_start_matches('v').to_string();
        self.versions.iter().any(|want| {
            want.trim() == output || output.split_whitespace().any(|w| bare(w) == bare(want))
        })
    }
}

/// The waivers of one file, checked.
#[derive(Debug, Clone)]
pub struct Waivers {
    /// The file, as given.
    pub file: PathBuf,
    /// The waivers, in file order.
    pub waivers: Vec<Waiver>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    waiver: Vec<Spanned<RawWaiver>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    case: String,
    reason: String,
    expires: Datetime,
    #[serde(default)]
    versions: Vec<String>,
}

impl Waivers {
    /// Reads `path` and checks every waiver against the IDs of the loaded cases and `today`.
    pub fn load(
        path: &Path,
        known_cases: &BTreeSet<&str>,
        today: time::Date,
    ) -> Result<Waivers, WaiverError> {
        let text = std::fs::read_to_string(path).map_err(|e| WaiverError {
            file: path.to_path_buf(),
            line: None,
            message: format!("cannot read the waiver file: {e}"),
        })?;
        Self::parse(path, &text, known_cases, today)
    }

    /// Parses and checks the text of a waiver file.
    pub fn parse(
        path: &Path,
        text: &str,
        known_cases: &BTreeSet<&str>,
        today: time::Date,
    ) -> Result<Waivers, WaiverError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let fail = |line: Option<usize>, message: String| WaiverError {
            file: path.to_path_buf(),
            line,
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            fail(
                e.span().map(|s| line_of(s.start)),
                e.message().trim().to_string(),
            )
        })?;
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut waivers = Vec::with_capacity(raw.waiver.len());
        for spanned in raw.waiver {
            let line = line_of(spanned.span().start);
            let w = spanned.into_inner();
            let fail =
                |message: String| fail(Some(line), format!("waiver for {}: {message}", w.case));
            if !known_cases.contains(w.case.as_str()) {
                return Err(fail(
                    "no loaded suite has this case (check the ID with `credconform list`)".into(),
                ));
            }
            if w.reason.trim().is_empty() {
                return Err(fail("`reason` must say why the failure is accepted".into()));
            }
            let expires = date_of(&w.expires).map_err(|e| fail(e.to_string()))?;
            if expires < today {
                return Err(fail(format!(
                    "expired on {expires} (today is {today}): renew it with a new date, or fix \
                     the failure and remove the waiver"
                )));
            }
            if let Some(first) = seen.insert(w.case.clone(), line) {
                return Err(fail(format!(
                    "the case already has a waiver on line {first}"
                )));
            }
            waivers.push(Waiver {
                case: w.case,
                reason: w.reason.trim().to_string(),
                expires,
                versions: w.versions,
                line,
            });
        }
        Ok(Waivers {
            file: path.to_path_buf(),
            waivers,
        })
    }

    /// Marks the failures a waiver accepts for a target whose version output is `version`;
    /// returns the IDs of the waived cases.
    pub fn apply(&self, results: &mut [CaseResult], version: Option<&str>) -> Vec<String> {
        let mut waived = Vec::new();
        for r in results.iter_mut().filter(|r| r.is_failure()) {
            if let Some(w) = self
                .waivers
                .iter()
                .find(|w| w.case == r.id && w.applies_to(version))
            {
                r.disposition = Some(Disposition::Waived {
                    reason: w.reason.clone(),
                    expires: w.expires.to_string(),
                });
                waived.push(r.id.clone());
            }
        }
        waived
    }
}

/// Why an `expires` value is not a usable date.
#[derive(Debug, thiserror::Error)]
enum DateError {
    /// A time or an offset came with it, or it has no date.
    #[error("`expires` must be a date such as 2027-06-30, not `{0}`")]
    NotADate(Datetime),
    /// No such day.
    #[error("`expires` = {0} is not a calendar date")]
    NoSuchDay(Datetime),
}

/// The calendar date of a TOML date (a date with a time is refused).
fn date_of(d: &Datetime) -> Result<time::Date, DateError> {
    let (Some(date), None) = (d.date, d.time) else {
        return Err(DateError::NotADate(*d));
    };
    time::Month::try_from(date.month)
        .ok()
        .and_then(|m| time::Date::from_calendar_date(i32::from(date.year), m, date.day).ok())
        .ok_or(DateError::NoSuchDay(*d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{report::sample, scenario::Level};

    const TODAY: time::Date = time::macros::date!(2026 - 12 - 02);

    fn parse(text: &str) -> Result<Waivers, WaiverError> {
        let known: BTreeSet<&str> = ["HP-ACT-002", "HP-NF-001"].into();
        Waivers::parse(Path::new("waivers.toml"), text, &known, TODAY)
    }

    #[test]
    fn a_valid_file_waives_the_named_failure_for_the_named_versions() {
        let w = parse(
            "[[waiver]]\ncase = \"HP-NF-001\"\nreason = \"upstream bug 12\"\n\
             expires = 2026-12-02\nversions = [\"0.6.4\"]\n",
        )
        .unwrap();
        assert_eq!(w.waivers[0].line, 1);
        let mut results = vec![
            sample::failed("HP-NF-001", "a", Level::Must),
            sample::failed("HP-ACT-002", "a", Level::Must),
        ];
        assert!(
            w.apply(&mut results, Some("1.0.0")).is_empty(),
            "wrong version"
        );
        assert_eq!(
            w.apply(&mut results, Some("docker-credential-pass v0.6.4")),
            ["HP-NF-001"]
        );
        assert!(matches!(
            &results[0].disposition,
            Some(Disposition::Waived { reason, expires }) if reason == "upstream bug 12" && expires == "2026-12-02"
        ));
        assert!(results[1].fails_the_run());
    }

    #[test]
    fn expired_unknown_duplicate_and_malformed_waivers_name_file_and_line() {
        let expired = parse(
            "# accepted deviations\n\n[[waiver]]\ncase = \"HP-NF-001\"\nreason = \"r\"\nexpires = 2026-12-01\n",
        )
        .unwrap_err();
        assert_eq!(expired.line, Some(3));
        let text = expired.to_string();
        assert!(
            text.starts_with("waivers.toml:3: waiver for HP-NF-001: expired on 2026-12-01"),
            "{text}"
        );

        let unknown =
            parse("[[waiver]]\ncase = \"HP-XX-999\"\nreason = \"r\"\nexpires = 2027-01-01\n")
                .unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("waivers.toml:1: waiver for HP-XX-999: no loaded suite"),
            "{unknown}"
        );

        let twice = "[[waiver]]\ncase = \"HP-NF-001\"\nreason = \"r\"\nexpires = 2027-01-01\n";
        let dup = parse(&format!("{twice}\n{twice}")).unwrap_err();
        assert_eq!(dup.line, Some(6));
        assert!(
            dup.to_string().contains("already has a waiver on line 1"),
            "{dup}"
        );

        let no_reason =
            parse("[[waiver]]\ncase = \"HP-NF-001\"\nexpires = 2027-01-01\n").unwrap_err();
        assert!(no_reason.to_string().contains("reason"), "{no_reason}");
        let string_date =
            parse("[[waiver]]\ncase = \"HP-NF-001\"\nreason = \"r\"\nexpires = \"2027-01-01\"\n")
                .unwrap_err();
        assert_eq!(string_date.line, Some(4), "{string_date}");
        let with_time = parse(
            "[[waiver]]\ncase = \"HP-NF-001\"\nreason = \"r\"\nexpires = 2027-01-01T10:00:00Z\n",
        )
        .unwrap_err();
        assert!(
            with_time.to_string().contains("must be a date"),
            "{with_time}"
        );
        let empty_reason =
            parse("[[waiver]]\ncase = \"HP-NF-001\"\nreason = \" \"\nexpires = 2027-01-01\n")
                .unwrap_err();
        assert!(
            empty_reason.to_string().contains("must say why"),
            "{empty_reason}"
        );
    }
}
