//! The JSON report: the run report as it is, versioned by `schema_version`.

use super::Format;
use crate::run::RunReport;

/// Writes the run report as pretty-printed JSON.
pub struct Json;

impl Format for Json {
    fn name(&self) -> &'static str {
        "JSON"
    }

    fn render(&self, report: &RunReport) -> anyhow::Result<String> {
        Ok(serde_json::to_string_pretty(report)? + "\n")
    }
}
