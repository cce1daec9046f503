//! Accounts, personal access tokens, repositories, content and the clock: plain data and every
//! rule of the protocol, with no HTTP. [`Registry`] is the entry point: the HTTP layer parses
//! a request, calls one of its operations and renders the answer.
//!
//! # Locks
//!
//! [`Registry`] holds two locks: the content store (blobs, uploads, manifests) and the accounts
//! (accounts, tokens, declared repositories, sessions). When an operation needs both (a push
//! creates its repository, a reset clears everything) it takes the content lock first, then
//! the accounts lock; nothing takes them the other way round. The clock, the journal and the
//! faults each have a lock of their own that is taken last and never held while taking another.
//!
//! The locks are `parking_lot` mutexes, which do not poison: a panic while one is held (the
//! server answers it with a 500) releases it. The state stays consistent because every
//! operation checks its rules before it changes anything, so a failed check leaves no half-made
//! change behind.

pub mod access;
pub mod accounts;
pub mod byte_range;
pub mod clock;
pub mod content;
pub mod digest;
pub mod error;
pub mod faults;
pub mod journal;
pub mod manifest_doc;
pub mod pats;
mod registry;
pub mod secret;
pub mod seed;
pub mod sessions;
pub mod totp;

pub use registry::{AccountAdmin, Grant, GrantCredentials, GrantRequest, HubLogin, Registry};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Formats a time as RFC 3339 (`2030-01-01T00:00:00Z`).
pub fn rfc3339(at: OffsetDateTime) -> String {
    // Only years outside 0..=9999 fail to format; the clock never reaches them.
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}
