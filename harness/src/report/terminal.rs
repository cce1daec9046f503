//! The live terminal view: a progress bar and a line per failure on a TTY, plain lines
//! otherwise; failure details and the summary at the end.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{
    Reporter,
    text::{case_line, failure_details, summary},
    view::{failures, get_only_sentence},
};
use crate::{
    check::visible,
    run::{CaseResult, RunReport, Status},
    target::TargetInfo,
};

/// Writes to stdout; draws a progress bar only when stdout is a terminal.
pub struct Terminal {
    bar: Option<ProgressBar>,
    interactive: bool,
    /// Print a line for every case, not only failures (plain mode always does).
    pub verbose: bool,
}

impl Terminal {
    /// A reporter that detects whether stdout is a terminal.
    pub fn new() -> Self {
        Terminal {
            bar: None,
            interactive: std::io::stdout().is_terminal(),
            verbose: false,
        }
    }

    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => {
                let _ = writeln!(std::io::stdout().lock(), "{line}");
            }
        }
    }
}

impl Default for Terminal {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for Terminal {
    fn started(&mut self, target: &TargetInfo, cases: usize, seed: u64) {
        let version = target.version.as_deref();
        self.say(&format!(
            "credconform {}: certifying {} ({}), version: {}",
            env!("CARGO_PKG_VERSION"),
            visible(&target.name),
            visible(&target.path),
            visible(version.unwrap_or("(version action failed)"))
        ));
        if let Some(mode) = get_only_sentence(target) {
            self.say(mode);
        }
        self.say(&format!(
            "{cases} cases; seed {seed} (reproduce with --seed {seed})"
        ));
        if self.interactive {
            let bar =
                ProgressBar::with_draw_target(Some(cases as u64), ProgressDrawTarget::stdout());
            if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}")
            {
                bar.set_style(style);
            }
            self.bar = Some(bar);
        }
    }

    fn case_finished(&mut self, r: &CaseResult) {
        if !self.interactive || self.verbose || r.status != Status::Passed {
            let line = case_line(r);
            self.say(&if self.interactive {
                colour(r, &line)
            } else {
                line
            });
        }
        if let Some(bar) = &self.bar {
            bar.set_message(r.id.clone());
            bar.inc(1);
        }
    }

    fn finished(&mut self, report: &RunReport) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let closing = closing_text(report);
        self.say(&match self.interactive {
            true => colour_verdict(report, &closing),
            false => closing,
        });
    }
}

/// What the terminal shows when the run is over: each failure's details, then the summary.
pub fn closing_text(report: &RunReport) -> String {
    let mut out = String::new();
    let failed = failures(report);
    if !failed.is_empty() {
        out.push_str("\nFailures:\n\n");
        for r in failed {
            out.push_str(&failure_details(r));
            out.push('\n');
        }
    }
    out.push_str(&summary(report));
    out
}

/// Colours a case line by its status (terminals only).
fn colour(r: &CaseResult, line: &str) -> String {
    let styled = console::style(line);
    match r.status {
        _ if r.disposition.is_some() => styled.yellow(),
        Status::Passed => styled.green(),
        Status::Failed | Status::Error => styled.red(),
        Status::Skipped => styled.yellow(),
        Status::Blocked => styled.magenta(),
    }
    .to_string()
}

/// Colours the verdict line of the summary (terminals only).
fn colour_verdict(report: &RunReport, summary: &str) -> String {
    use crate::run::Verdict;
    summary
        .lines()
        .map(
            |line| match (line.starts_with("verdict:"), report.summary.verdict) {
                (false, _) => line.to_string(),
                (true, Verdict::Conformant) => console::style(line).green().bold().to_string(),
                (true, Verdict::ConformantWithWarnings) => {
                    console::style(line).yellow().bold().to_string()
                }
                (true, Verdict::NotConformant) => console::style(line).red().bold().to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}
