//! `credconform verify REPORT.json --helper PATH`: whether a binary and the suites this
//! credconform loads are the ones a report certified.

use super::{certificate::suites_digest, read::ReadReport};
use crate::{scenario::Suite, target::TargetInfo};

/// What is at hand now: the program (described, with its digest) and the loaded suites.
pub struct AtHand<'a> {
    /// The program, with `sha256` filled in.
    pub target: &'a TargetInfo,
    /// Every suite this credconform loads.
    pub suites: &'a [Suite],
}

/// Every way what is at hand differs from what `report` certified, one sentence each; empty
/// when it matches.
pub fn differences(report: &ReadReport, now: &AtHand<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let certified = &report.target;
    if certified.kind != now.target.kind.to_string() {
        out.push(format!(
            "kind: the report certified a {}, this is a {}",
            certified.kind, now.target.kind
        ));
    }
    if certified.sha256 != now.target.sha256 {
        out.push(format!(
            "binary digest: the report certified sha256 {}, {} has sha256 {}",
            certified.sha256, now.target.path, now.target.sha256
        ));
    }
    if certified.version != now.target.version {
        out.push(format!(
            "version: the report certified {}, the program now says {}",
            shown(certified.version.as_deref()),
            shown(now.target.version.as_deref())
        ));
    }
    let mut used: Vec<&Suite> = Vec::new();
    for s in &report.suites {
        match now.suites.iter().find(|l| l.name == s.name) {
            None => out.push(format!("suites: suite {} is not loaded here", s.name)),
            Some(l) if l.header.version != s.version => out.push(format!(
                "suites: the report ran {} {}, the loaded one is {}",
                s.name, s.version, l.header.version
            )),
            Some(l) => used.push(l),
        }
    }
    match &report.certificate {
        None => out.push(format!(
            "suite digest: the report (format {}) records none, so its suites cannot be \
             verified; certify again with this release",
            report.schema_version
        )),
        Some(c) if used.len() == report.suites.len() => {
            let digest = suites_digest(&used);
            if digest != c.suites_sha256 {
                out.push(format!(
                    "suite digest: the report certified suites with sha256 {}, the loaded \
                     suites have sha256 {digest} (a case was edited)",
                    c.suites_sha256
                ));
            }
        }
        Some(_) => {}
    }
    out
}

fn shown(version: Option<&str>) -> String {
    version.map_or("no version".into(), |v| format!("`{v}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::read::ReadReport;

    fn report(sha: &str, version: &str, digest: &str, suite_version: &str) -> ReadReport {
        ReadReport::parse(&format!(
            r#"{{"schema_version":2,"target":{{"kind":"helper","name":"x","sha256":"{sha}",
            "version":"{version}"}},"suites":[{{"name":"helper-protocol","version":"{suite_version}"}}],
            "cases":[],"certificate":{{"suites_sha256":"{digest}","os":"linux","arch":"x86_64"}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn each_difference_is_named_and_a_match_has_none() {
        let suites = crate::scenario::load_builtin().unwrap();
        let helper = suites.iter().find(|s| s.name == "helper-protocol").unwrap();
        let digest = suites_digest(&[helper]);
        let target = TargetInfo {
            kind: crate::scenario::TargetKind::Helper,
            name: "x".into(),
            path: "/bin/x".into(),
            sha256: "ab".into(),
            version: Some("1.0".into()),
            get_only: false,
        };
        let now = AtHand {
            target: &target,
            suites: &suites,
        };
        let v = &helper.header.version;
        assert!(differences(&report("ab", "1.0", &digest, v), &now).is_empty());
        let d = differences(&report("cd", "1.1", "ee", v), &now);
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].starts_with("binary digest:") && d[0].contains("/bin/x has sha256 ab"));
        assert!(d[1].contains("`1.1`"));
        assert!(d[2].starts_with("suite digest:"));
        let d = differences(&report("ab", "1.0", &digest, "0.0.1"), &now);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].contains("helper-protocol 0.0.1"));
    }
}
