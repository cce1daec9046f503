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
pub mod view;

use std::path::{Path, PathBuf};

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

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The report could not be rendered in its format.
    #[error("cannot render the {format} report")]
    Render {
        /// The format's name.
        format: &'static str,
        /// Why.
        #[source]
        source: anyhow::Error,
    },
    /// The folder to write into could not be created.
    #[error("cannot create {}", .path.display())]
    CreateFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write the {format} report to {}", .path.display())]
    Write {
        /// The format's name.
        format: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Renders `report` in `format` and writes it to `path`, creating parent folders.
pub fn write(format: &dyn Format, report: &RunReport, path: &Path) -> Result<(), WriteError> {
    let text = format.render(report).map_err(|source| WriteError::Render {
        format: format.name(),
        source,
    })?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| WriteError::CreateFolder {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| WriteError::Write {
        format: format.name(),
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_error_keeps_its_io_cause() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let err = write(
            &json::Json,
            &sample::failing_report(),
            &blocker.join("report.json"),
        )
        .unwrap_err();
        assert!(matches!(err, WriteError::CreateFolder { .. }), "{err:?}");
        let shown = format!("{:#}", anyhow::Error::new(err));
        assert!(
            shown.starts_with(&format!("cannot create {}: ", blocker.display())),
            "{shown}"
        );
        assert!(shown.len() > format!("cannot create {}: ", blocker.display()).len());
    }
}
