//! Reporters: the live terminal view, and file formats written from the finished report.

pub mod badge;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
#[cfg(test)]
pub(crate) mod sample;
#[cfg(test)]
mod snapshot_tests;
pub mod terminal;
pub mod text;

use std::path::Path;

use crate::{
    run::{CaseResult, RunReport},
    target::TargetInfo,
};

/// Follows a run as it happens.
pub trait Reporter {
    /// The run is about to start `cases` cases.
    fn started(&mut self, _target: &TargetInfo, _cases: usize, _seed: u64) {}
    /// One case finished (results arrive in completion order).
    fn case_finished(&mut self, _result: &CaseResult) {}
    /// The run finished and cleanup is done.
    fn finished(&mut self, _report: &RunReport) {}
}

/// A reporter that shows nothing (for library callers and tests).
pub struct Silent;

impl Reporter for Silent {}

/// A file format a finished report can be written in.
pub trait Format {
    /// A short name for messages, e.g. `JUnit`.
    fn name(&self) -> &'static str;
    /// The report rendered in this format.
    fn render(&self, report: &RunReport) -> anyhow::Result<String>;
}

/// Renders `report` in `format` and writes it to `path`, creating parent folders.
pub fn write(format: &dyn Format, report: &RunReport, path: &Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let text = format.render(report)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| {
        format!(
            "cannot write the {} report to {}",
            format.name(),
            path.display()
        )
    })
}
