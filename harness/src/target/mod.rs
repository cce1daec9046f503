//! What is under test: a credential helper, or a login CLI with its profile.

pub mod helper;
pub mod login_cli;
pub mod profile;

pub use helper::{
    HelperTarget, Listing, TargetError, TargetInfo, file_name, find_program, list_entries,
    sha256_file, sha256_in_background,
};
pub use login_cli::{LoginCliError, LoginCliTarget};
