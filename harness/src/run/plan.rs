//! Which cases a run takes: `--suite`, `--filter` and `--partition I/N`.

use std::{fmt, str::FromStr};

use crate::scenario::{Case, Suite};

/// A slice of the cases for one CI job: partition `index` (from 1) of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// This job's partition, 1..=total.
    pub index: usize,
    /// How many partitions there are.
    pub total: usize,
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a partition: write I/N with 1 <= I <= N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, total) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || total == 0 || index > total {
            return Err(bad());
        }
        Ok(Partition { index, total })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

/// The selection flags.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only this suite.
    pub suite: Option<String>,
    /// Only cases whose ID or title contains this (case-insensitive).
    pub filter: Option<String>,
    /// Only this partition.
    pub partition: Option<Partition>,
}

impl Selection {
    /// The selected cases in suite order. Partitions deal the cases sorted by ID round-robin,
    /// so every case lands in exactly one partition whatever the file layout.
    pub fn select<'a>(&self, suites: &[&'a Suite]) -> Vec<&'a Case> {
        let needle = self.filter.as_deref().map(str::to_lowercase);
        let mut cases: Vec<&Case> = suites
            .iter()
            .filter(|s| self.suite.as_deref().is_none_or(|name| s.name == name))
            .flat_map(|s| &s.cases)
            .filter(|c| {
                needle.as_deref().is_none_or(|n| {
                    c.id.to_lowercase().contains(n) || c.title.to_lowercase().contains(n)
                })
            })
            .collect();
        if let Some(p) = self.partition {
            let mut ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
            ids.sort_unstable();
            let mine: std::collections::HashSet<&str> = ids
                .into_iter()
                .enumerate()
                .filter(|(k, _)| k % p.total == p.index - 1)
                .map(|(_, id)| id)
                .collect();
            cases.retain(|c| mine.contains(c.id.as_str()));
        }
        cases
    }
}

/// True when some suite is named `name`; for a clear error on a misspelt `--suite`.
pub fn suite_exists(suites: &[Suite], name: &str) -> bool {
    suites.iter().any(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Level, SuiteHeader, TargetKind};

    fn suite(name: &str, ids: &[&str]) -> Suite {
        Suite {
            name: name.into(),
            header: SuiteHeader {
                title: "t".into(),
                version: "1".into(),
                target: TargetKind::Helper,
                description: String::new(),
            },
            cases: ids
                .iter()
                .map(|id| Case {
                    id: id.to_string(),
                    level: Level::Must,
                    title: format!("title of {id}"),
                    cites: "c".into(),
                    body: crate::scenario::CaseBody::Steps(vec![]),
                    exclusive: false,
                    get_only: false,
                    area: "a".into(),
                    suite: name.into(),
                    source: Default::default(),
                })
                .collect(),
        }
    }

    #[test]
    fn partitions_parse_and_refuse_nonsense() {
        assert_eq!(
            "2/4".parse::<Partition>().unwrap(),
            Partition { index: 2, total: 4 }
        );
        for bad in ["0/3", "4/3", "x", "1/0", "1-2"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }

    #[test]
    fn partitions_cover_every_case_exactly_once() {
        let s = suite("s", &["HP-A-3", "HP-A-1", "HP-B-2", "HP-C-9", "HP-A-2"]);
        let mut seen = Vec::new();
        for index in 1..=3 {
            let sel = Selection {
                partition: Some(Partition { index, total: 3 }),
                ..Default::default()
            };
            seen.extend(sel.select(&[&s]).into_iter().map(|c| c.id.clone()));
        }
        seen.sort();
        assert_eq!(seen, ["HP-A-1", "HP-A-2", "HP-A-3", "HP-B-2", "HP-C-9"]);
    }

    #[test]
    fn filter_and_suite_narrow_the_selection() {
        let a = suite("a", &["HP-RT-1", "HP-ERR-1"]);
        let b = suite("b", &["HP-RT-2"]);
        let sel = Selection {
            filter: Some("rt".into()),
            ..Default::default()
        };
        assert_eq!(sel.select(&[&a, &b]).len(), 2);
        let sel = Selection {
            suite: Some("b".into()),
            ..Default::default()
        };
        assert_eq!(sel.select(&[&a, &b])[0].id, "HP-RT-2");
    }
}
