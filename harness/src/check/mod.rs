//! Expectations: exit status, stdout/stderr matchers, JSON answers, list answers, and the
//! redaction that keeps secrets out of everything a failure shows.

pub mod diff;
pub mod expect;
pub mod redact;

pub use expect::{CheckContext, Mismatch, check, quote};
pub use redact::Redactor;
