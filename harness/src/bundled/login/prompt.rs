//! Asking for the username and the password on the terminal (echo off for the password).

use std::io::{self, BufRead, IsTerminal, Write};

use rustix::termios::{self, LocalModes, OptionalActions};

/// The message docker gives when it would have to prompt without a terminal.
pub const NO_TTY: &str = "cannot perform an interactive login from a non TTY device";

/// Prints `label` and reads one line from stdin, with echo off when `secret`.
pub fn ask(label: &str, secret: bool) -> Result<String, String> {
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        return Err(NO_TTY.into());
    }
    let mut out = io::stdout();
    let _ = write!(out, "{label}");
    let _ = out.flush();
    let saved = if secret {
        let fd = rustix::stdio::stdin();
        let saved = termios::tcgetattr(fd).map_err(|e| format!("terminal: {e}"))?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        termios::tcsetattr(fd, OptionalActions::Now, &quiet)
            .map_err(|e| format!("terminal: {e}"))?;
        Some(saved)
    } else {
        None
    };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(saved) = saved {
        let _ = termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, &saved);
        let _ = writeln!(out);
    }
    read.map_err(|e| format!("cannot read the answer: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
