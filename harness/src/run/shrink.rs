//! The budget of a generative case's trials: a timed-out input is never shrunk (the case fails
//! with it at once), and shrinking a failure stops after [`SHRINK_FACTOR`] times the helper
//! calls a passing run of the case makes, or after [`SHRINK_TIME`], keeping the smallest
//! failing input found so far. Trials past the budget answer "passed" without calling the helper, so proptest keeps the
//! input it has.

use std::{
    cell::{Cell, RefCell},
    time::{Duration, Instant},
};

use proptest::test_runner::TestCaseError;

/// The longest shrinking may take.
pub const SHRINK_TIME: Duration = Duration::from_secs(30);
/// Shrinking may make this many times the calls of a passing run of the case: the generative
/// cases are a small part of the suite, so a failing helper still costs well under twice a
/// correct one.
pub const SHRINK_FACTOR: usize = 4;

/// Helper calls made by a case's trials, and whether one timed out.
#[derive(Debug, Default)]
pub struct Calls {
    count: Cell<usize>,
    timed_out: Cell<bool>,
}

impl Calls {
    /// Counts one call; `timed_out` when the helper ran past the timeout.
    pub fn count(&self, timed_out: bool) {
        self.count.set(self.count.get() + 1);
        if timed_out {
            self.timed_out.set(true);
        }
    }

    /// True once a call timed out.
    pub fn timed_out(&self) -> bool {
        self.timed_out.get()
    }
}

/// Why the trials stopped before proptest was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A call timed out: the input that timed out is the answer, unshrunk.
    TimedOut,
    /// Shrinking ran out of its budget after this many steps.
    Budget {
        /// Shrinking steps run.
        steps: usize,
        /// What ran out.
        why: String,
    },
}

#[derive(Debug, Default)]
struct State {
    trials: usize,
    /// When the first failure happened and the calls made by then.
    failed: Option<(Instant, usize)>,
    shrink_steps: usize,
    stop: Option<Stop>,
}

/// Judges each trial of one generative case against the budget.
#[derive(Debug)]
pub struct Trials {
    /// The shrinking budget in calls.
    shrink_calls: usize,
    /// Every helper call of the case.
    pub calls: Calls,
    state: RefCell<State>,
}

impl Trials {
    /// The budget of a case of `cases` trials that make up to `calls_per_trial` calls each.
    pub fn new(cases: u32, calls_per_trial: usize) -> Self {
        Trials {
            shrink_calls: SHRINK_FACTOR * (cases as usize).max(1) * calls_per_trial,
            calls: Calls::default(),
            state: RefCell::new(State::default()),
        }
    }

    /// Runs `trial` unless the budget is spent (then it "passes" without calling anything).
    pub fn judge(
        &self,
        trial: impl FnOnce() -> Result<(), TestCaseError>,
    ) -> Result<(), TestCaseError> {
        if self.state.borrow().stop.is_some() {
            return Ok(());
        }
        let failed = self.state.borrow().failed;
        if let Some((since, calls_then)) = failed {
            let spent = self.calls.count.get() - calls_then;
            let why = if spent >= self.shrink_calls {
                Some(format!("{spent} helper calls"))
            } else if since.elapsed() >= SHRINK_TIME {
                Some(format!("{} s", SHRINK_TIME.as_secs()))
            } else {
                None
            };
            if let Some(why) = why {
                let mut state = self.state.borrow_mut();
                let steps = state.shrink_steps;
                state.stop = Some(Stop::Budget { steps, why });
                return Ok(());
            }
        }
        let result = trial();
        let mut state = self.state.borrow_mut();
        state.trials += 1;
        if state.failed.is_some() {
            state.shrink_steps += 1;
        } else if result.is_err() {
            state.failed = Some((Instant::now(), self.calls.count.get()));
        }
        if self.calls.timed_out() {
            state.stop = Some(Stop::TimedOut);
        }
        result
    }

    /// Trials that called the helper.
    pub fn trials(&self) -> usize {
        self.state.borrow().trials
    }

    /// Why the trials stopped early, if they did.
    pub fn stop(&self) -> Option<Stop> {
        self.state.borrow().stop.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(t: &Trials, calls: usize) -> Result<(), TestCaseError> {
        t.judge(|| {
            (0..calls).for_each(|_| t.calls.count(false));
            Err(TestCaseError::fail("wrong"))
        })
    }

    #[test]
    fn shrinking_stops_after_its_budget_of_calls() {
        let t = Trials::new(3, 1);
        assert!(t.judge(|| Ok(())).is_ok());
        assert!(failing(&t, 4).is_err());
        // 12 calls of shrinking are allowed (4 times 3 trials of 1 call): three more steps.
        for _ in 0..3 {
            assert!(failing(&t, 4).is_err());
        }
        assert!(
            failing(&t, 4).is_ok(),
            "past the budget a trial passes unrun"
        );
        assert_eq!(t.trials(), 5);
        assert_eq!(
            t.stop(),
            Some(Stop::Budget {
                steps: 3,
                why: "12 helper calls".into()
            })
        );
    }

    #[test]
    fn a_timeout_is_not_shrunk() {
        let t = Trials::new(10, 4);
        let timed_out = t.judge(|| {
            t.calls.count(true);
            Err(TestCaseError::fail("store timed out"))
        });
        assert!(timed_out.is_err());
        assert!(failing(&t, 1).is_ok());
        assert_eq!((t.trials(), t.stop()), (1, Some(Stop::TimedOut)));
    }
}
