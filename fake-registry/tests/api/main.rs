//! End-to-end tests of the registry's own APIs over real TCP with reqwest.

#[path = "../support/mod.rs"]
mod support;

mod admin;
mod bad_input;
mod content;
mod error_shape;
mod fuzz;
mod hub;
mod lifecycle;
mod limits;
mod oci_content;
mod pat_rules;
mod robustness;
mod soak;
mod token_auth;
