//! Handing a login's secret to a credential helper (`docker-credential-<name>`) and erasing it.

use std::{
    io::Write,
    process::{Command, Stdio},
};

/// Runs `docker-credential-<name> <action>` with `input` on stdin; the helper's message on
/// failure.
fn call(name: &str, action: &str, input: &str) -> Result<(), String> {
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {action}: {}",
            String::from_utf8_lossy(&out.stdout).trim()
        ))
    }
}

/// Stores credentials for `server` in the helper.
pub fn store(name: &str, server: &str, user: &str, secret: &str) -> Result<(), String> {
    let payload = serde_json::json!({"ServerURL": server, "Username": user, "Secret": secret});
    call(name, "store", &payload.to_string())
}

/// Erases the helper's credentials for `server`.
pub fn erase(name: &str, server: &str) -> Result<(), String> {
    call(name, "erase", server)
}
