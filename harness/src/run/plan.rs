//! What a run will do, decided before it starts: which cases the selection takes (`--suite`,
//! `--filter`, `--partition I/N`), which of them apply to the target, which will be skipped
//! and why, and in what order they run.

use std::{fmt, str::FromStr};

use crate::scenario::{Case, Suite, TargetKind};

/// A slice of the cases for one CI job: partition `index` (from 1) of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// This job's partition, 1..=total.
    pub index: usize,
    /// How many partitions there are.
    pub total: usize,
}

/// A `--partition` value that is not I/N with 1 <= I <= N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a partition: write I/N with 1 <= I <= N, e.g. 2/4")]
pub struct PartitionError(String);

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PartitionError(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let number = |t: &str| t.trim().parse::<usize>().ok();
        match (number(i), number(n)) {
            (Some(index), Some(total)) if (1..=total).contains(&index) => {
                Ok(Partition { index, total })
            }
            _ => Err(bad()),
        }
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
            let rank = |c: &&Case| ids.binary_search(&c.id.as_str()).unwrap_or_default();
            cases.retain(|c| rank(c) % p.total == p.index - 1);
        }
        cases
    }
}

/// True when some suite is named `name`; for a clear error on a misspelt `--suite`.
pub fn suite_exists(suites: &[Suite], name: &str) -> bool {
    suites.iter().any(|s| s.name == name)
}

/// Why a planned case will not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The case stores or erases, and the helper is declared get-only.
    NeedsWritingHelper,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::NeedsWritingHelper => {
                "needs store or erase to succeed, and the helper is declared get-only (--get-only)"
            }
        })
    }
}

/// One case of a plan, with the reason it will be skipped when it will be.
#[derive(Debug, Clone, Copy)]
pub struct Planned<'a> {
    /// The case.
    pub case: &'a Case,
    /// Set when the case is reported as skipped instead of run.
    pub skip: Option<SkipReason>,
}

/// Cases that run together on the run's workers; a plan's batches run one after another.
#[derive(Debug)]
pub struct Batch<'p, 'a> {
    /// The cases, in the order they start.
    pub cases: Vec<&'p Planned<'a>>,
    /// The batch runs one case at a time, whatever `--jobs` says.
    pub one_at_a_time: bool,
}

/// Every case one run takes against one kind of target, in suite order.
#[derive(Debug)]
pub struct Plan<'a> {
    /// The kind of target the cases certify.
    pub kind: TargetKind,
    /// The suites of that kind.
    pub suites: Vec<&'a Suite>,
    /// The selected cases that apply to the target.
    pub cases: Vec<Planned<'a>>,
}

impl<'a> Plan<'a> {
    /// The cases of `kind` that `selection` takes. For a helper: those that apply to a helper
    /// that is, or is not, declared get-only (see [`Case::applies_to_helper`]); a get-only
    /// helper skips the cases that write.
    pub fn new(
        kind: TargetKind,
        suites: &'a [Suite],
        selection: &Selection,
        get_only: bool,
    ) -> Self {
        let helper = kind == TargetKind::Helper;
        let suites: Vec<&Suite> = suites.iter().filter(|s| s.header.target == kind).collect();
        let cases = selection
            .select(&suites)
            .into_iter()
            .filter(|case| !helper || case.applies_to_helper(get_only))
            .map(|case| Planned {
                case,
                skip: (helper && get_only && case.needs_writing_helper())
                    .then_some(SkipReason::NeedsWritingHelper),
            })
            .collect();
        Plan {
            kind,
            suites,
            cases,
        }
    }

    /// How many cases the plan holds (run or skipped).
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    /// True when the plan holds no case.
    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// The suites that have a case in the plan, in order.
    pub fn used_suites(&self) -> Vec<&'a Suite> {
        let used = |s: &&Suite| self.cases.iter().any(|p| p.case.suite == s.name);
        self.suites.iter().copied().filter(used).collect()
    }

    /// The order the cases run in: the cases that may share the target first, longest first
    /// (so no long case starts last and leaves the other workers idle), then the ones that
    /// run alone, one at a time.
    pub fn batches(&self) -> Vec<Batch<'_, 'a>> {
        let (alone, mut shared): (Vec<&Planned>, Vec<&Planned>) = self
            .cases
            .iter()
            .partition(|p| self.kind == TargetKind::Helper && p.case.runs_alone());
        shared.sort_by_key(|p| std::cmp::Reverse(estimated_invocations(p.case)));
        [(shared, false), (alone, true)]
            .into_iter()
            .filter(|(cases, _)| !cases.is_empty())
            .map(|(cases, one_at_a_time)| Batch {
                cases,
                one_at_a_time,
            })
            .collect()
    }
}

/// A rough count of the invocations a case makes, for scheduling.
fn estimated_invocations(case: &Case) -> usize {
    match &case.body {
        crate::scenario::CaseBody::Property(p) => p.cases as usize * 7,
        _ => case
            .steps()
            .iter()
            .map(|s| if s.parallel { 1 } else { s.repeat })
            .sum(),
    }
}

/// Why a command line leaves its runs no case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmptyPlan {
    /// The selected cases are all for the other kind of target.
    #[error("{}", needs_other_target(.suite.as_deref(), *.needs))]
    OtherTarget {
        /// The `--suite` given, if any.
        suite: Option<String>,
        /// The kind of target the selected cases certify.
        needs: TargetKind,
    },
    /// Nothing matches.
    #[error("no case matches the selection (--suite, --filter, --partition)")]
    NoMatch,
}

/// "the `login` suite certifies a login CLI: it needs --login-cli PATH".
fn needs_other_target(suite: Option<&str>, needs: TargetKind) -> String {
    let (what, certifies, need) = match suite {
        Some(name) => (format!("the `{name}` suite"), "certifies", "it needs"),
        None => ("the selected cases".to_string(), "certify", "they need"),
    };
    let (kind, flag) = match needs {
        TargetKind::Helper => ("a credential helper", "--helper"),
        TargetKind::LoginCli => ("a login CLI", "--login-cli"),
    };
    format!("{what} {certifies} {kind}: {need} {flag} PATH")
}

/// The plans of a command line that certifies the kinds of target in `kinds`: the ones that
/// hold some case. None holds a case: an error that says whether the selection took cases of
/// another kind of target (`--helper X --suite login`) or none at all.
pub fn plans<'a>(
    suites: &'a [Suite],
    selection: &Selection,
    kinds: &[TargetKind],
    get_only: bool,
) -> Result<Vec<Plan<'a>>, EmptyPlan> {
    let plan = |kind| Plan::new(kind, suites, selection, get_only);
    let plans: Vec<Plan> = kinds
        .iter()
        .map(|&k| plan(k))
        .filter(|p| !p.is_empty())
        .collect();
    if !plans.is_empty() {
        return Ok(plans);
    }
    let other = [TargetKind::Helper, TargetKind::LoginCli]
        .into_iter()
        .find(|k| !kinds.contains(k) && !plan(*k).is_empty());
    Err(match other {
        Some(needs) => EmptyPlan::OtherTarget {
            suite: selection.suite.clone(),
            needs,
        },
        None => EmptyPlan::NoMatch,
    })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    /// Suites loaded from TOML: a helper suite `a` (three cases, the second one storing and
    /// listing, exclusive), a helper suite `b`, and a login suite.
    fn suites() -> Vec<Suite> {
        let dir = tempfile::tempdir().unwrap();
        let write = |suite: &str, target: &str, cases: &str| {
            let d = dir.path().join(suite);
            fs::create_dir(&d).unwrap();
            let header = format!("title = \"t\"\nversion = \"1\"\ntarget = \"{target}\"\n");
            fs::write(d.join("suite.toml"), header).unwrap();
            fs::write(d.join("cases.toml"), format!("area = \"x\"\n{cases}")).unwrap();
        };
        let case = |id: &str, steps: &str| {
            format!(
                "[[case]]\nid = \"{id}\"\nlevel = \"MUST\"\ntitle = \"title of {id}\"\ncites = \"c\"\n{steps}"
            )
        };
        let get = "[[case.step]]\naction = \"get\"\nstdin = \"${ns}\"\nexpect = { exit = 1 }\n";
        let store_list = "[[case.step]]\naction = \"store\"\nstdin = \"${ns}\"\nexpect = { exit = 0 }\n\
                          [[case.step]]\naction = \"list\"\nexpect = { exit = 0 }\n";
        write(
            "a",
            "helper",
            &(case("HP-A-3", get)
                + &case("HP-A-1", &format!("exclusive = true\n{store_list}"))
                + &case("HP-C-9", get)),
        );
        write("b", "helper", &(case("HP-B-2", get) + &case("HP-A-2", get)));
        let login =
            "[[case.step]]\nlogin = { user = \"alice\", secret = \"pw\" }\nexpect = { exit = 0 }\n";
        write("login", "login-cli", &case("LC-X-001", login));
        crate::scenario::load_all(dir.path()).unwrap()
    }

    fn ids<'a>(plan: &Plan<'a>) -> Vec<&'a str> {
        plan.cases.iter().map(|p| p.case.id.as_str()).collect()
    }

    #[test]
    fn partitions_parse_and_refuse_nonsense() {
        assert_eq!(
            "2/4".parse::<Partition>().unwrap(),
            Partition { index: 2, total: 4 }
        );
        for bad in ["0/3", "4/3", "x", "1/0", "1-2"] {
            let err = bad.parse::<Partition>().unwrap_err();
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn partitions_cover_every_case_exactly_once() {
        let suites = suites();
        let mut seen = Vec::new();
        for index in 1..=3 {
            let sel = Selection {
                partition: Some(Partition { index, total: 3 }),
                ..Default::default()
            };
            let plan = Plan::new(TargetKind::Helper, &suites, &sel, false);
            seen.extend(ids(&plan).into_iter().map(String::from));
        }
        seen.sort();
        assert_eq!(seen, ["HP-A-1", "HP-A-2", "HP-A-3", "HP-B-2", "HP-C-9"]);
    }

    #[test]
    fn filter_and_suite_narrow_the_selection() {
        let suites = suites();
        let sel = Selection {
            filter: Some("a-".into()),
            ..Default::default()
        };
        assert_eq!(
            ids(&Plan::new(TargetKind::Helper, &suites, &sel, false)),
            ["HP-A-3", "HP-A-1", "HP-A-2"]
        );
        let sel = Selection {
            suite: Some("b".into()),
            ..Default::default()
        };
        assert_eq!(
            ids(&Plan::new(TargetKind::Helper, &suites, &sel, false)),
            ["HP-B-2", "HP-A-2"]
        );
        assert_eq!(
            ids(&Plan::new(TargetKind::LoginCli, &suites, &sel, false)),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn a_get_only_helper_skips_the_cases_that_write_with_the_reason() {
        let suites = suites();
        let plan = Plan::new(TargetKind::Helper, &suites, &Selection::default(), true);
        let skipped: Vec<(&str, SkipReason)> = plan
            .cases
            .iter()
            .filter_map(|p| Some((p.case.id.as_str(), p.skip?)))
            .collect();
        assert_eq!(skipped, [("HP-A-1", SkipReason::NeedsWritingHelper)]);
        assert!(
            SkipReason::NeedsWritingHelper
                .to_string()
                .contains("--get-only")
        );
        let writing = Plan::new(TargetKind::Helper, &suites, &Selection::default(), false);
        assert!(writing.cases.iter().all(|p| p.skip.is_none()));
    }

    /// Each batch's size and whether it runs one case at a time.
    fn shape(plan: &Plan<'_>) -> Vec<(usize, bool)> {
        let batches = plan.batches();
        batches
            .iter()
            .map(|b| (b.cases.len(), b.one_at_a_time))
            .collect()
    }

    #[test]
    fn exclusive_cases_run_alone_after_the_others() {
        let suites = suites();
        let plan = Plan::new(TargetKind::Helper, &suites, &Selection::default(), false);
        assert_eq!(shape(&plan), [(4, false), (1, true)]);
        assert_eq!(plan.batches()[1].cases[0].case.id, "HP-A-1");
        // A login CLI has no shared store: its cases all run on the workers.
        let login = Plan::new(TargetKind::LoginCli, &suites, &Selection::default(), false);
        assert_eq!(shape(&login), [(1, false)]);
    }

    #[test]
    fn a_selection_of_the_other_kind_of_target_says_which_flag_it_needs() {
        let suites = suites();
        let login = Selection {
            suite: Some("login".into()),
            ..Default::default()
        };
        let err = plans(&suites, &login, &[TargetKind::Helper], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the `login` suite certifies a login CLI: it needs --login-cli PATH"
        );
        let helper_cases = Selection {
            filter: Some("HP-".into()),
            ..Default::default()
        };
        let err = plans(&suites, &helper_cases, &[TargetKind::LoginCli], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the selected cases certify a credential helper: they need --helper PATH"
        );
        let nothing = Selection {
            filter: Some("no such case".into()),
            ..Default::default()
        };
        let both = [TargetKind::Helper, TargetKind::LoginCli];
        assert_eq!(
            plans(&suites, &nothing, &both, false).unwrap_err(),
            EmptyPlan::NoMatch
        );
        let kinds: Vec<TargetKind> = plans(&suites, &Selection::default(), &both, false)
            .unwrap()
            .iter()
            .map(|p| p.kind)
            .collect();
        assert_eq!(kinds, both);
    }
}
