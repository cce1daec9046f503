//! credconform: decides, with evidence, whether a Docker credential helper (and, with the login
//! suites, a registry login CLI) handles a user's credentials correctly.
//!
//! The flow of one case: a suite file ([`scenario`]) is expanded inside the run namespace
//! ([`run::namespace`]), the target ([`target`]) is driven one process at a time ([`drive`]),
//! each invocation is held against the case's expectations ([`check`]), and the results go to
//! the reporters ([`report`]).

pub mod assets;
pub mod bundled;
pub mod check;
pub mod cli_args;
pub mod drive;
pub mod gate;
pub mod report;
pub mod run;
pub mod scenario;
pub mod target;
