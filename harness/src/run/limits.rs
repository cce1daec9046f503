//! When a run stops starting cases: after an interrupt, or once `--max-duration` has passed.
//! Cases not started then are reported as not run, and the run fails.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use super::interrupt;

/// The default `--max-duration`: long enough for any real helper, short enough for CI.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(30 * 60);
/// The longest `--max-duration` accepted.
pub const LONGEST_MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The note of a case the run did not start because it was interrupted.
pub const INTERRUPTED_NOTE: &str = "not run: the run was interrupted";

/// The run's stopping rules, shared by its workers.
#[derive(Debug)]
pub struct Limits {
    deadline: Option<Instant>,
    max: Option<Duration>,
    reached: AtomicBool,
}

impl Limits {
    /// Limits of a run that started at `started` and may last `max`.
    pub fn new(started: Instant, max: Option<Duration>) -> Self {
        Limits {
            deadline: max.and_then(|m| started.checked_add(m)),
            max,
            reached: AtomicBool::new(false),
        }
    }

    /// Why no case may start now, as the note of a case not run; `None` while cases may start.
    pub fn refusal(&self) -> Option<String> {
        if interrupt::interrupted() {
            return Some(INTERRUPTED_NOTE.to_string());
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.reached.store(true, Ordering::SeqCst);
            return Some(format!(
                "not run: the run reached --max-duration ({})",
                show(self.max.unwrap_or_default())
            ));
        }
        None
    }

    /// True when some case was not run because the run reached its maximum duration.
    pub fn max_duration_reached(&self) -> bool {
        self.reached.load(Ordering::SeqCst)
    }
}

/// A duration as `--max-duration` takes it: `90s`, `30m`, `2h`.
pub fn show(d: Duration) -> String {
    match d.as_secs() {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        _ => format!("{}s", d.as_secs_f64()),
    }
}

/// A `--max-duration` that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The unit is not `s`, `m` or `h`.
    #[error("unknown unit `{unit}` in `{text}` (use s, m or h, e.g. 30m)")]
    UnknownUnit {
        /// The unit given.
        unit: char,
        /// The whole value.
        text: String,
    },
    /// No number.
    #[error("`{0}` is not a duration (e.g. 1800, 90s, 30m, 2h)")]
    NotANumber(String),
    /// Zero, negative, or longer than [`LONGEST_MAX_DURATION`].
    #[error("`{0}` is out of range: more than 0 and at most {longest}", longest = show(LONGEST_MAX_DURATION))]
    OutOfRange(String),
}

/// Parses `--max-duration`: a number of seconds, or a number with a unit `s`, `m` or `h`;
/// more than zero and at most a week.
pub fn parse_max_duration(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c),
        _ => (t, 's'),
    };
    let scale = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        unit => {
            return Err(DurationError::UnknownUnit {
                unit,
                text: text.to_string(),
            });
        }
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| DurationError::NotANumber(text.to_string()))?;
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 || secs > LONGEST_MAX_DURATION.as_secs_f64() {
        return Err(DurationError::OutOfRange(text.to_string()));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_out_of_range_ones_are_refused() {
        assert_eq!(parse_max_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_max_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_max_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_max_duration("2s"), Ok(Duration::from_secs(2)));
        for bad in ["0", "-5", "abc", "10d", "", "9999h", "nan"] {
            let err = parse_max_duration(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{bad}: {err}");
        }
        assert_eq!(show(DEFAULT_MAX_DURATION), "30m");
    }

    #[test]
    fn cases_are_refused_once_the_deadline_passed() {
        let open = Limits::new(Instant::now(), Some(Duration::from_secs(3600)));
        assert_eq!(open.refusal(), None);
        assert!(!open.max_duration_reached());
        let past = Limits::new(
            Instant::now() - Duration::from_secs(2),
            Some(Duration::from_secs(1)),
        );
        assert!(past.refusal().unwrap().contains("--max-duration (1s)"));
        assert!(past.max_duration_reached());
        assert_eq!(Limits::new(Instant::now(), None).refusal(), None);
    }
}
