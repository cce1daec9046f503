//! End-to-end tests against real programs: the `fake-registry` binary itself, the docker CLI,
//! distribution 2.8 (`docker-registry`), skopeo and the OCI distribution-spec conformance suite.
//! A missing program skips its test with a message, except under CI (`CI` set), where it fails.

#[path = "../support/mod.rs"]
mod support;

mod binary;
mod distribution;
mod docker_cli;
mod oci_conformance;
mod skopeo;
