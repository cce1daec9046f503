//! Injected faults: for requests under a path prefix, delay, answer with a fixed status and
//! body, or close the connection, a given number of times.

use parking_lot::Mutex;

use serde::{Deserialize, Serialize};

use super::error::{StateError, StateResult};

/// A fault as tests declare it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Requests whose path starts with this are affected.
    pub path_prefix: String,
    /// Answer with this status instead of handling the request.
    pub status: Option<u16>,
    /// Wait this long before answering (or handling).
    pub delay_ms: Option<u64>,
    /// Body for `status` (default: a JSON error naming the fault).
    pub body: Option<String>,
    /// Close the connection without an answer.
    #[serde(default)]
    pub close: bool,
    /// How many requests the fault applies to.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// Longest delay a fault may ask for.
pub const MAX_DELAY_MS: u64 = 120_000;

impl FaultSpec {
    /// Checks that the fault makes sense.
    pub fn validate(&self) -> StateResult<()> {
        let bad = |m: &str| Err(StateError::BadRequest(m.to_string()));
        if !self.path_prefix.starts_with('/') {
            return bad("path_prefix must start with '/'");
        }
        if self.times == 0 {
            return bad("times must be at least 1");
        }
        if self.status.is_some_and(|s| !(100..=599).contains(&s)) {
            return bad("status must be between 100 and 599");
        }
        if self.close && (self.status.is_some() || self.body.is_some()) {
            return bad("close cannot be combined with status or body");
        }
        if self.body.is_some() && self.status.is_none() {
            return bad("body needs a status");
        }
        if self.delay_ms.is_some_and(|d| d > MAX_DELAY_MS) {
            return bad("delay_ms must be at most 120000");
        }
        if self.status.is_none() && !self.close && self.delay_ms.is_none() {
            return bad("a fault needs status, delay_ms or close");
        }
        Ok(())
    }

    /// A short description for the journal.
    pub fn describe(&self) -> String {
        let parts = [
            self.delay_ms.map(|delay| format!("delay {delay}ms")),
            self.status.map(|status| format!("status {status}")),
            self.close.then(|| "close".to_string()),
        ];
        parts.into_iter().flatten().collect::<Vec<_>>().join(", ")
    }
}

/// The active faults, applied first-declared first.
#[derive(Debug, Default)]
pub struct Faults {
    active: Mutex<Vec<(FaultSpec, u32)>>,
}

impl Faults {
    /// Adds a fault after validating it.
    pub fn add(&self, spec: FaultSpec) -> StateResult<()> {
        spec.validate()?;
        let times = spec.times;
        self.active.lock().push((spec, times));
        Ok(())
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.active.lock().clear();
    }

    /// The fault for a request to `path`, if one is left; uses up one of its times.
    pub fn take(&self, path: &str) -> Option<FaultSpec> {
        let mut active = self.active.lock();
        let index = active
            .iter()
            .position(|(spec, _)| path.starts_with(&spec.path_prefix))?;
        let spec = active[index].0.clone();
        active[index].1 -= 1;
        if active[index].1 == 0 {
            active.remove(index);
        }
        Some(spec)
    }

    /// The remaining faults with how many times each still applies.
    pub fn list(&self) -> Vec<FaultSpec> {
        self.active
            .lock()
            .iter()
            .map(|(spec, left)| FaultSpec {
                times: *left,
                ..spec.clone()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_fault(prefix: &str, times: u32) -> FaultSpec {
        FaultSpec {
            path_prefix: prefix.into(),
            status: Some(503),
            delay_ms: None,
            body: None,
            close: false,
            times,
        }
    }

    #[test]
    fn fault_applies_the_given_number_of_times() {
        let faults = Faults::default();
        faults.add(status_fault("/token", 2)).unwrap();
        assert!(faults.take("/v2/").is_none());
        assert!(faults.take("/token").is_some());
        assert_eq!(faults.list()[0].times, 1);
        assert!(faults.take("/token?x").is_some());
        assert!(faults.take("/token").is_none());
    }

    #[test]
    fn invalid_faults_are_refused() {
        let faults = Faults::default();
        for spec in [
            status_fault("token", 1),
            status_fault("/t", 0),
            FaultSpec {
                status: Some(99),
                ..status_fault("/t", 1)
            },
            FaultSpec {
                close: true,
                ..status_fault("/t", 1)
            },
            FaultSpec {
                status: None,
                ..status_fault("/t", 1)
            },
        ] {
            assert!(faults.add(spec).is_err());
        }
        assert!(faults.list().is_empty());
    }

    #[test]
    fn describe_names_the_parts() {
        let spec = FaultSpec {
            delay_ms: Some(5),
            ..status_fault("/", 1)
        };
        assert_eq!(spec.describe(), "delay 5ms, status 503");
    }
}
