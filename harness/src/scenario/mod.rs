//! The case model, loading suites from `suites/`, and placeholders in case data.

mod load;
mod model;
pub mod template;

pub use load::{LoadError, load_all, load_suite};
pub use model::*;
