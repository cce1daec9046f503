//! The case models (helper and login CLI), loading suites from `suites/`, and placeholders in case data.

mod load;
pub mod login;
mod model;
pub mod template;

pub(crate) use load::toml_error;
pub use load::{LoadError, SuiteSources, load_all, load_builtin, load_suite};
pub use model::*;
