//! What is under test: a credential helper (and, later, a login CLI with its profile).

pub mod helper;

pub use helper::{HelperTarget, TargetError, TargetInfo, find_program, sha256_file};
