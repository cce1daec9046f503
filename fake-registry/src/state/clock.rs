//! The registry's clock: real time shifted by an offset that tests can move.

use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// A clock that follows real time plus an adjustable offset. Every expiry decision reads it.
#[derive(Debug, Default)]
pub struct Clock {
    offset: Mutex<Duration>,
}

impl Clock {
    /// The current time of the registry, truncated to whole seconds.
    pub fn now(&self) -> OffsetDateTime {
        let offset = *self.offset.lock().expect("clock lock");
        let now = OffsetDateTime::now_utc() + offset;
        now.replace_nanosecond(0)
            .expect("zero nanoseconds is valid")
    }

    /// Moves the clock forward (or backward, when negative) by `by`.
    pub fn advance(&self, by: Duration) -> OffsetDateTime {
        *self.offset.lock().expect("clock lock") += by;
        self.now()
    }

    /// Makes the clock read `at` now and keep running from there.
    pub fn set(&self, at: OffsetDateTime) -> OffsetDateTime {
        *self.offset.lock().expect("clock lock") = at - OffsetDateTime::now_utc();
        self.now()
    }

    /// Goes back to real time.
    pub fn reset(&self) {
        *self.offset.lock().expect("clock lock") = Duration::ZERO;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn advance_moves_now_forward() {
        let clock = Clock::default();
        let before = clock.now();
        let after = clock.advance(Duration::days(3));
        assert!(after - before >= Duration::days(3));
        assert!(after - before < Duration::days(3) + Duration::seconds(5));
    }

    #[test]
    fn set_then_reset() {
        let clock = Clock::default();
        let at = datetime!(2030-01-01 00:00 UTC);
        let now = clock.set(at);
        assert!((now - at).abs() < Duration::seconds(2));
        clock.reset();
        assert!((clock.now() - OffsetDateTime::now_utc()).abs() < Duration::seconds(2));
    }
}
