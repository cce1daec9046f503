//! `credconform diff OLD NEW`: two reports compared case by case, and the diff rendered for a
//! terminal, a pull-request comment (Markdown) and machines (JSON).

use std::fmt::Write as _;

use serde::Serialize;

use super::read::{ReadCase, ReadReport};
use crate::scenario::Level;

/// One case that changed, or did not, between two reports.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CaseChange {
    /// The case ID.
    pub id: String,
    /// Its title (the new report's, when it has one).
    pub title: String,
    /// Its level in the new report (the old one's for a removed case).
    pub level: Level,
    /// The status in the old report, `None` for a new case.
    pub old: Option<String>,
    /// The status in the new report, `None` for a removed case.
    pub new: Option<String>,
}

/// A case whose level changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LevelChange {
    /// The case ID.
    pub id: String,
    /// The old level.
    pub old: Level,
    /// The new level.
    pub new: Level,
}

/// Which program and suites a report is about, for the header of a diff.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Side {
    /// The program's name.
    pub target: String,
    /// Its version output.
    pub version: Option<String>,
    /// `name version` of every suite.
    pub suites: Vec<String>,
}

/// Two reports compared case by case.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    /// The old report.
    pub old: Side,
    /// The new report.
    pub new: Side,
    /// Warnings: the reports are of different targets or suites.
    pub warnings: Vec<String>,
    /// Did not fail (passed or skipped) in the old report, fail now.
    pub regressed: Vec<CaseChange>,
    /// Failed in the old report, pass now.
    pub fixed: Vec<CaseChange>,
    /// Failed in both.
    pub still_failing: Vec<CaseChange>,
    /// Only in the new report.
    pub added: Vec<CaseChange>,
    /// Only in the old report.
    pub removed: Vec<CaseChange>,
    /// Skipped in one report and not the other (and neither regressed nor fixed).
    pub skip_changes: Vec<CaseChange>,
    /// The level changed.
    pub level_changes: Vec<LevelChange>,
    /// Cases in both reports with the same outcome (passed twice, or skipped twice).
    pub unchanged: usize,
}

impl Diff {
    /// Compares `old` with `new`.
    pub fn of(old: &ReadReport, new: &ReadReport) -> Diff {
        let mut d = Diff {
            old: side(old),
            new: side(new),
            warnings: warnings(old, new),
            ..Diff::default()
        };
        for n in &new.cases {
            let Some(o) = old.case(&n.id) else {
                d.added.push(change(None, Some(n)));
                continue;
            };
            if o.level != n.level {
                d.level_changes.push(LevelChange {
                    id: n.id.clone(),
                    old: o.level,
                    new: n.level,
                });
            }
            let list = match (o.status.is_failure(), n.status.is_failure()) {
                (false, true) => &mut d.regressed,
                (true, true) => &mut d.still_failing,
                (true, false) if n.status.word() == "passed" => &mut d.fixed,
                _ if o.status.word() != n.status.word() => &mut d.skip_changes,
                _ => {
                    d.unchanged += 1;
                    continue;
                }
            };
            list.push(change(Some(o), Some(n)));
        }
        for o in old.cases.iter().filter(|o| new.case(&o.id).is_none()) {
            d.removed.push(change(Some(o), None));
        }
        d
    }

    /// The exit code of `credconform diff`: 1 when a case regressed, 0 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.regressed.is_empty())
    }

    /// The sections that hold a case, in the order they are shown: regressions first.
    fn sections(&self) -> impl Iterator<Item = (&'static str, &[CaseChange])> {
        let all: [(&'static str, &[CaseChange]); 6] = [
            (
                "Regressed (did not fail before, fails now)",
                &self.regressed,
            ),
            ("Fixed (failed before, passes now)", &self.fixed),
            ("Still failing", &self.still_failing),
            ("New cases", &self.added),
            ("Removed cases", &self.removed),
            ("Skipped changes", &self.skip_changes),
        ];
        all.into_iter().filter(|(_, cases)| !cases.is_empty())
    }

    /// One line of counts.
    pub fn counts_line(&self) -> String {
        format!(
            "{} regressed, {} fixed, {} still failing, {} new, {} removed, {} skip changes, \
             {} level changes, {} unchanged",
            self.regressed.len(),
            self.fixed.len(),
            self.still_failing.len(),
            self.added.len(),
            self.removed.len(),
            self.skip_changes.len(),
            self.level_changes.len(),
            self.unchanged
        )
    }

    /// The diff for a terminal.
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "old: {}\nnew: {}\n",
            describe(&self.old),
            describe(&self.new)
        );
        for w in &self.warnings {
            let _ = writeln!(out, "WARNING: {w}");
        }
        for (title, cases) in self.sections() {
            let _ = writeln!(out, "\n{title}: {}", cases.len());
            for c in cases {
                let _ = writeln!(
                    out,
                    "  {:<16} {:<6} {:<18} {}",
                    c.id,
                    c.level.to_string(),
                    transition(c),
                    c.title
                );
            }
        }
        if !self.level_changes.is_empty() {
            let _ = writeln!(out, "\nLevel changes: {}", self.level_changes.len());
            for l in &self.level_changes {
                let _ = writeln!(out, "  {:<16} {} -> {}", l.id, l.old, l.new);
            }
        }
        let _ = writeln!(out, "\n{}", self.counts_line());
        out
    }

    /// The diff as a Markdown pull-request comment.
    pub fn render_markdown(&self) -> String {
        let mut out = String::from("## credconform: report diff\n\n");
        let verdict = if self.regressed.is_empty() {
            "✅ No case regressed.".to_string()
        } else {
            format!(
                "❌ {} case{} regressed.",
                self.regressed.len(),
                crate::report::view::plural(self.regressed.len())
            )
        };
        let _ = writeln!(out, "{verdict}\n");
        let _ = writeln!(out, "| | target | suites |\n|---|---|---|");
        for (name, s) in [("old", &self.old), ("new", &self.new)] {
            let _ = writeln!(
                out,
                "| {name} | {} | {} |",
                md(&target_words(s)),
                md(&s.suites.join(", "))
            );
        }
        for w in &self.warnings {
            let _ = writeln!(out, "\n> ⚠️ {}", md(w));
        }
        for (title, cases) in self.sections() {
            let _ = writeln!(out, "\n### {title}: {}\n", cases.len());
            let _ = writeln!(out, "| case | level | change | title |\n|---|---|---|---|");
            for c in cases {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    c.id,
                    c.level,
                    transition(c),
                    md(&c.title)
                );
            }
        }
        if !self.level_changes.is_empty() {
            let _ = writeln!(out, "\n### Level changes: {}\n", self.level_changes.len());
            for l in &self.level_changes {
                let _ = writeln!(out, "- `{}`: {} → {}", l.id, l.old, l.new);
            }
        }
        let _ = writeln!(out, "\n{}", self.counts_line());
        out
    }

    /// The diff as pretty-printed JSON.
    pub fn render_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

fn side(r: &ReadReport) -> Side {
    Side {
        target: r.target.name.clone(),
        version: r.target.version.clone(),
        suites: r
            .suites
            .iter()
            .map(|s| format!("{} {}", s.name, s.version))
            .collect(),
    }
}

fn warnings(old: &ReadReport, new: &ReadReport) -> Vec<String> {
    let mut out = Vec::new();
    if old.target.kind != new.target.kind || old.target.name != new.target.name {
        out.push(format!(
            "the reports certify different targets ({} {} and {} {}); compared anyway",
            old.target.kind, old.target.name, new.target.kind, new.target.name
        ));
    }
    if old.suites != new.suites {
        out.push(format!(
            "the reports ran different suites ({} and {}); compared anyway",
            side(old).suites.join(", "),
            side(new).suites.join(", ")
        ));
    }
    out
}

fn change(old: Option<&ReadCase>, new: Option<&ReadCase>) -> CaseChange {
    let any = new.or(old).expect("a change has at least one side");
    CaseChange {
        id: any.id.clone(),
        title: any.title.clone(),
        level: any.level,
        old: old.map(|c| c.status.word().to_string()),
        new: new.map(|c| c.status.word().to_string()),
    }
}

fn transition(c: &CaseChange) -> String {
    format!(
        "{} -> {}",
        c.old.as_deref().unwrap_or("(none)"),
        c.new.as_deref().unwrap_or("(none)")
    )
}

fn target_words(s: &Side) -> String {
    match &s.version {
        Some(v) => format!("{} ({v})", s.target),
        None => s.target.clone(),
    }
}

fn describe(s: &Side) -> String {
    format!("{}; suites {}", target_words(s), s.suites.join(", "))
}

/// Text safe in a Markdown table cell.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(name: &str, suite_version: &str, cases: &[(&str, &str, &str)]) -> ReadReport {
        let cases: Vec<String> = cases
            .iter()
            .map(|(id, level, status)| {
                format!(r#"{{"id":"{id}","level":"{level}","title":"t {id}","status":"{status}"}}"#)
            })
            .collect();
        ReadReport::parse(&format!(
            r#"{{"schema_version":2,"target":{{"kind":"helper","name":"{name}","sha256":"ab"}},
            "suites":[{{"name":"helper-protocol","version":"{suite_version}"}}],
            "cases":[{}]}}"#,
            cases.join(",")
        ))
        .unwrap()
    }

    fn ids(list: &[CaseChange]) -> Vec<&str> {
        list.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn every_kind_of_change_lands_in_its_section() {
        let old = report(
            "docker-credential-a",
            "1.0.0",
            &[
                ("HP-A-1", "MUST", "passed"),
                ("HP-A-2", "MUST", "failed"),
                ("HP-A-3", "MUST", "failed"),
                ("HP-A-4", "SHOULD", "passed"),
                ("HP-A-5", "MUST", "skipped"),
                ("HP-A-6", "MUST", "passed"),
                ("HP-A-7", "MUST", "passed"),
                ("HP-A-9", "MUST", "passed"),
            ],
        );
        let new = report(
            "docker-credential-a",
            "1.0.0",
            &[
                ("HP-A-1", "MUST", "failed"),
                ("HP-A-2", "MUST", "passed"),
                ("HP-A-3", "MUST", "error"),
                ("HP-A-4", "MUST", "passed"),
                ("HP-A-5", "MUST", "passed"),
                ("HP-A-6", "MUST", "blocked"),
                ("HP-A-7", "MUST", "passed"),
                ("HP-A-8", "MUST", "failed"),
            ],
        );
        let d = Diff::of(&old, &new);
        assert_eq!(ids(&d.regressed), ["HP-A-1", "HP-A-6"]);
        assert_eq!(ids(&d.fixed), ["HP-A-2"]);
        assert_eq!(ids(&d.still_failing), ["HP-A-3"]);
        assert_eq!(ids(&d.added), ["HP-A-8"]);
        assert_eq!(ids(&d.removed), ["HP-A-9"]);
        assert_eq!(ids(&d.skip_changes), ["HP-A-5"]);
        assert_eq!(d.level_changes.len(), 1);
        assert_eq!(d.level_changes[0].id, "HP-A-4");
        assert_eq!(d.unchanged, 2);
        assert!(d.warnings.is_empty());
        assert_eq!(d.exit_code(), 1);
        let text = d.render_text();
        assert!(
            text.find("Regressed").unwrap() < text.find("Fixed").unwrap(),
            "{text}"
        );
        assert!(
            text.contains("HP-A-6           MUST   passed -> blocked"),
            "{text}"
        );
        let md = d.render_markdown();
        assert!(md.contains("❌ 2 cases regressed."), "{md}");
        assert!(
            md.contains("| `HP-A-1` | MUST | passed -> failed | t HP-A-1 |"),
            "{md}"
        );
        let json: serde_json::Value = serde_json::from_str(&d.render_json()).unwrap();
        assert_eq!(json["regressed"][0]["id"], "HP-A-1");
        assert_eq!(json["removed"][0]["new"], serde_json::Value::Null);
    }

    #[test]
    fn different_targets_and_suites_are_compared_with_a_warning() {
        let old = report(
            "docker-credential-a",
            "1.0.0",
            &[("HP-A-1", "MUST", "passed")],
        );
        let new = report(
            "docker-credential-b",
            "1.1.0",
            &[("HP-A-1", "MUST", "passed")],
        );
        let d = Diff::of(&old, &new);
        assert_eq!(d.warnings.len(), 2, "{:?}", d.warnings);
        assert!(d.warnings[0].contains("different targets"));
        assert!(d.warnings[1].contains("helper-protocol 1.0.0"));
        assert_eq!(d.exit_code(), 0);
        assert!(
            d.render_text()
                .contains("WARNING: the reports ran different suites")
        );
        assert!(d.render_markdown().contains("No case regressed"));
    }
}
