//! Running the `fake-registry` binary as a child process, as its own tests and the throughput
//! bench do.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};

/// A memory figure of process `pid` from `/proc/<pid>/status` in KiB: `VmRSS` (resident now)
/// or `VmHWM` (peak resident).
pub fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A running `fake-registry` binary; killed on drop.
pub struct FakeRegistryProcess {
    child: Child,
    /// The URL from its first stdout line, `listening on URL`.
    pub url: String,
}

impl FakeRegistryProcess {
    /// Starts the binary on a free loopback port (`--listen 127.0.0.1:0`) with the extra
    /// `args`, its stderr going to `stderr`, and waits for the `listening on URL` line.
    pub fn spawn<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>, stderr: Stdio) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fake-registry"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("fake-registry starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped"))
            .read_line(&mut line)
            .expect("first stdout line reads");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        FakeRegistryProcess { child, url }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (as `kill` takes it, e.g. `-TERM`) and waits for the process to exit.
    pub fn terminate(mut self, signal: &str) -> ExitStatus {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} failed: {status}");
        self.child.wait().expect("fake-registry is waited for")
    }
}

impl Drop for FakeRegistryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
