//! The registry's clock: real time shifted by an offset that tests can move, kept inside a
//! documented range so that no expiry computation can overflow.

use parking_lot::Mutex;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::error::{StateError, StateResult};
use super::rfc3339;

/// Earliest time the clock can read: the Unix epoch.
pub const EARLIEST: OffsetDateTime = datetime!(1970-01-01 00:00:00 UTC);
/// Latest time the clock can read. Dates up to 9999-12-31 are representable; the margin left
/// (about 999 years) is far longer than any lifetime the registry adds to the clock (tokens at
/// most [`MAX_TOKEN_TTL`], sessions one hour), so expiry arithmetic never overflows.
pub const LATEST: OffsetDateTime = datetime!(9000-12-31 23:59:59 UTC);
/// Longest lifetime of the tokens `/token` issues.
pub const MAX_TOKEN_TTL: Duration = Duration::days(3650);

/// `at + by`, saturating at the largest representable time instead of overflowing.
pub fn after(at: OffsetDateTime, by: Duration) -> OffsetDateTime {
    at.checked_add(by)
        .unwrap_or_else(|| time::PrimitiveDateTime::MAX.assume_utc())
}

fn out_of_range(what: String) -> StateError {
    StateError::BadRequest(format!(
        "{what}: the registry clock must stay between {} and {}",
        rfc3339(EARLIEST),
        rfc3339(LATEST)
    ))
}

/// A clock that follows real time plus an adjustable offset. Every expiry decision reads it.
#[derive(Debug, Default)]
pub struct Clock {
    offset: Mutex<Duration>,
}

impl Clock {
    /// The current time of the registry, truncated to whole seconds and kept within
    /// [`EARLIEST`] ..= [`LATEST`] (real time moving on cannot push it past either end).
    pub fn now(&self) -> OffsetDateTime {
        Self::shifted(*self.offset.lock())
    }

    fn shifted(offset: Duration) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc()
            .checked_add(offset)
            .unwrap_or(if offset.is_negative() {
                EARLIEST
            } else {
                LATEST
            })
            .clamp(EARLIEST, LATEST);
        now.replace_nanosecond(0).unwrap_or(now)
    }

    /// Moves the clock forward (or backward, when negative) by `by`; refuses (400) a move
    /// that would leave the clock's range, leaving the clock as it was.
    pub fn advance(&self, by: Duration) -> StateResult<OffsetDateTime> {
        let mut offset = self.offset.lock();
        let moved = offset
            .checked_add(by)
            .filter(|moved| {
                OffsetDateTime::now_utc()
                    .checked_add(*moved)
                    .is_some_and(|at| (EARLIEST..=LATEST).contains(&at))
            })
            .ok_or_else(|| {
                out_of_range(format!(
                    "advancing the clock by {} seconds is out of range",
                    by.whole_seconds()
                ))
            })?;
        *offset = moved;
        Ok(Self::shifted(moved))
    }

    /// Makes the clock read `at` now and keep running from there; refuses (400) a time
    /// outside the clock's range.
    pub fn set(&self, at: OffsetDateTime) -> StateResult<OffsetDateTime> {
        if !(EARLIEST..=LATEST).contains(&at) {
            return Err(out_of_range(format!("{at} is out of range")));
        }
        let offset = at - OffsetDateTime::now_utc();
        *self.offset.lock() = offset;
        Ok(Self::shifted(offset))
    }

    /// Goes back to real time.
    pub fn reset(&self) {
        *self.offset.lock() = Duration::ZERO;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn advance_moves_now_forward() {
        let clock = Clock::default();
        let before = clock.now();
        let after = clock.advance(Duration::days(3)).unwrap();
        assert!(after - before >= Duration::days(3));
        assert!(after - before < Duration::days(3) + Duration::seconds(5));
    }

    #[test]
    fn set_then_reset() {
        let clock = Clock::default();
        let at = datetime!(2030-01-01 00:00 UTC);
        let now = clock.set(at).unwrap();
        assert!((now - at).abs() < Duration::seconds(2));
        clock.reset();
        assert!((clock.now() - OffsetDateTime::now_utc()).abs() < Duration::seconds(2));
    }

    #[test]
    fn out_of_range_moves_are_refused_and_name_the_limits() {
        let clock = Clock::default();
        let before = clock.now();
        for by in [Duration::MAX, Duration::MIN, Duration::seconds(i64::MAX)] {
            let error = clock.advance(by).unwrap_err();
            assert_eq!(error.status_code(), 400);
            assert!(error.message().contains("9000-12-31T23:59:59Z"), "{error}");
            assert!(error.message().contains("1970-01-01T00:00:00Z"), "{error}");
        }
        let error = clock.set(datetime!(9999-12-31 00:00 UTC)).unwrap_err();
        assert!(error.message().contains("out of range"), "{error}");
        assert!(clock.set(datetime!(1969-12-31 23:59:59 UTC)).is_err());
        assert!((clock.now() - before).abs() < Duration::seconds(5));
    }

    #[test]
    fn both_ends_of_the_range_are_reachable() {
        let clock = Clock::default();
        assert_eq!(clock.set(LATEST).unwrap(), LATEST);
        assert!(clock.now() <= LATEST);
        assert!(clock.set(EARLIEST).unwrap() >= EARLIEST);
    }

    #[test]
    fn after_saturates() {
        let max = time::PrimitiveDateTime::MAX.assume_utc();
        assert_eq!(after(LATEST, Duration::MAX), max);
        assert_eq!(
            after(EARLIEST, Duration::hours(1)),
            datetime!(1970-01-01 01:00 UTC)
        );
    }

    proptest! {
        #[test]
        fn any_move_keeps_the_clock_in_range(secs in any::<i64>(), step in any::<i64>()) {
            let clock = Clock::default();
            let _ = clock.advance(Duration::seconds(secs));
            let _ = clock.advance(Duration::seconds(step));
            let now = clock.now();
            prop_assert!((EARLIEST..=LATEST).contains(&now));
        }
    }
}
