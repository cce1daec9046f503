//! Expectations: exit status, stdout/stderr matchers, JSON answers, list answers, and the
//! redaction that keeps secrets out of everything a failure shows; for login cases, config
//! files (structure and snapshots), credential helper calls and the registry journal.

pub mod diff;
pub mod expect;
pub mod login;
pub mod redact;
pub mod snapshot;
pub mod visible;

pub use expect::{CheckContext, Mismatch, check, quote};
pub use redact::Redactor;
pub use visible::visible;
