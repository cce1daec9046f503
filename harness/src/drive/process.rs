//! Running one process: piped stdin, capped stdout/stderr, a timeout, and its own process
//! group that is killed whole when the timeout or the output cap is hit.

use std::{
    ffi::OsString,
    io::{self, Read, Write},
    os::unix::process::{CommandExt, ExitStatusExt},
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{Mutex, MutexGuard, mpsc},
    thread,
    time::{Duration, Instant},
};

/// The default cap on each of stdout and stderr.
pub const DEFAULT_OUTPUT_CAP: usize = 1 << 20;

/// Stdin payloads up to this size are written before waiting, without a helper thread: the
/// pipe buffer takes them even when the child never reads.
const INLINE_STDIN: usize = 16 * 1024;

/// One process to run.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Written to its standard input, which is then closed.
    pub stdin: Vec<u8>,
    /// Variables set on top of the inherited environment.
    pub env: Vec<(OsString, OsString)>,
    /// Variables removed from the inherited environment.
    pub env_remove: Vec<OsString>,
    /// The working directory (inherited when `None`).
    pub cwd: Option<PathBuf>,
    /// How long it may run before its process group is killed.
    pub timeout: Duration,
    /// How many bytes of each of stdout and stderr are kept before the process is killed.
    pub output_cap: usize,
}

impl Invocation {
    /// An invocation of `program` with `args`, no stdin, a 10 s timeout and a 1 MiB cap.
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Invocation {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            stdin: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            cwd: None,
            timeout: Duration::from_secs(10),
            output_cap: DEFAULT_OUTPUT_CAP,
        }
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this code.
    Exited(i32),
    /// A signal it did not cause us to send ended it.
    Signalled(i32),
    /// It ran past the timeout and was killed.
    TimedOut,
    /// It wrote more than the cap and was killed.
    OutputCapExceeded,
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Exited(code) => write!(f, "exit {code}"),
            Ending::Signalled(sig) => write!(f, "killed by signal {sig} ({})", signal_name(*sig)),
            Ending::TimedOut => f.write_str("timed out and was killed"),
            Ending::OutputCapExceeded => f.write_str("exceeded the output cap and was killed"),
        }
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGBUS => "SIGBUS",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGINT => "SIGINT",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        _ => "signal",
    }
}

/// What a finished process did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How it ended.
    pub ending: Ending,
    /// Its standard output (at most the cap).
    pub stdout: Vec<u8>,
    /// Its standard error (at most the cap).
    pub stderr: Vec<u8>,
    /// Wall time from spawn to the end of its output.
    pub elapsed: Duration,
}

/// Why a process could not be started at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot run {program}: {source}")]
pub struct SpawnError {
    /// The program.
    pub program: String,
    /// The operating system's reason.
    #[source]
    pub source: io::Error,
}

/// Processes started through [`run`] that have not been reaped yet, and whether new starts are
/// still allowed. One lock, so that no start can slip between [`stop_all`] closing the gate and
/// killing what runs.
static RUNNING: Mutex<Gate> = Mutex::new(Gate {
    closed: false,
    groups: Vec::new(),
});

struct Gate {
    closed: bool,
    groups: Vec<i32>,
}

fn gate() -> MutexGuard<'static, Gate> {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Refuses every later [`run`] and kills the process groups of those still running (used on
/// Ctrl-C, before cleanup). Cleanup itself goes through [`run_ungated`].
pub fn stop_all() {
    let mut gate = gate();
    gate.closed = true;
    for pgid in gate.groups.drain(..) {
        kill_group(pgid);
    }
}

/// Runs one invocation to its end, unless [`stop_all`] was called.
pub fn run(inv: &Invocation) -> Result<Outcome, SpawnError> {
    run_inner(inv, true)
}

/// Runs one invocation even after [`stop_all`]: for cleanup only.
pub fn run_ungated(inv: &Invocation) -> Result<Outcome, SpawnError> {
    run_inner(inv, false)
}

/// When set, every invocation is copied here (benchmarks replay them as a baseline).
static TRACE: Mutex<Option<Vec<Invocation>>> = Mutex::new(None);

/// Starts recording every invocation made through [`run`].
pub fn start_trace() {
    *TRACE.lock().unwrap_or_else(|p| p.into_inner()) = Some(Vec::new());
}

/// Stops recording and returns what was recorded.
pub fn take_trace() -> Vec<Invocation> {
    TRACE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .unwrap_or_default()
}

fn run_inner(inv: &Invocation, gated: bool) -> Result<Outcome, SpawnError> {
    if let Some(trace) = TRACE.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
        trace.push(inv.clone());
    }
    let started = Instant::now();
    let mut cmd = Command::new(&inv.program);
    cmd.args(&inv.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for key in &inv.env_remove {
        cmd.env_remove(key);
    }
    cmd.envs(inv.env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &inv.cwd {
        cmd.current_dir(dir);
    }
    let spawn_error = |source| SpawnError {
        program: inv.program.display().to_string(),
        source,
    };
    let mut child = {
        let mut gate = gate();
        if gated && gate.closed {
            return Err(spawn_error(io::Error::new(
                io::ErrorKind::Interrupted,
                "the run was interrupted",
            )));
        }
        let child = cmd.spawn().map_err(spawn_error)?;
        gate.groups.push(child.id() as i32);
        child
    };
    let pgid = child.id() as i32;

    let (kill_tx, kill_rx) = mpsc::channel::<Ending>();
    let watchdog = spawn_watchdog(pgid, inv.timeout, kill_rx);

    let stdin_writer = feed_stdin(child.stdin.take(), &inv.stdin);
    let stderr_reader = {
        let pipe = child.stderr.take();
        let cap = inv.output_cap;
        let tx = kill_tx.clone();
        thread::spawn(move || read_capped(pipe, cap, &tx))
    };
    let stdout = read_capped(child.stdout.take(), inv.output_cap, &kill_tx);
    let stderr = stderr_reader.join().unwrap_or_default();
    if let Some(writer) = stdin_writer {
        let _ = writer.join();
    }
    let status = wait(&mut child);
    gate().groups.retain(|&g| g != pgid);
    let _ = kill_tx.send(Ending::Exited(0)); // wakes the watchdog: the run is over
    let forced = watchdog.join().ok().flatten();

    let ending = match (forced, status) {
        (Some(forced), _) => forced,
        (None, Some(s)) => match (s.code(), s.signal()) {
            (Some(code), _) => Ending::Exited(code),
            (None, Some(sig)) => Ending::Signalled(sig),
            (None, None) => Ending::Signalled(0),
        },
        (None, None) => Ending::Signalled(0),
    };
    Ok(Outcome {
        ending,
        stdout,
        stderr,
        elapsed: started.elapsed(),
    })
}

fn wait(child: &mut Child) -> Option<std::process::ExitStatus> {
    loop {
        match child.wait() {
            Ok(s) => return Some(s),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
}

/// Kills the process group when the timeout passes or when a reader reports the output cap,
/// and returns the reason it killed (None when the run ended by itself first).
/// Readers stop at the cap, so the watchdog is the one place that kills.
fn spawn_watchdog(
    pgid: i32,
    timeout: Duration,
    rx: mpsc::Receiver<Ending>,
) -> thread::JoinHandle<Option<Ending>> {
    thread::spawn(move || {
        let reason = match rx.recv_timeout(timeout) {
            Ok(Ending::OutputCapExceeded) => Ending::OutputCapExceeded,
            Ok(_) => return None,
            Err(mpsc::RecvTimeoutError::Timeout) => Ending::TimedOut,
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        };
        kill_group(pgid);
        Some(reason)
    })
}

/// Sends SIGKILL to a whole process group.
pub fn kill_group(pgid: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; it touches no memory.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Writes stdin: inline when small, from a thread when it might fill the pipe.
fn feed_stdin(pipe: Option<ChildStdin>, data: &[u8]) -> Option<thread::JoinHandle<()>> {
    let mut pipe = pipe?;
    if data.len() <= INLINE_STDIN {
        // A child that exits without reading gives EPIPE: that is its business, not an error.
        let _ = pipe.write_all(data);
        return None;
    }
    let data = data.to_vec();
    Some(thread::spawn(move || {
        let _ = pipe.write_all(&data);
    }))
}

/// Reads a pipe to its end, keeping at most `cap` bytes; past the cap it asks the watchdog to
/// kill the group and stops reading.
fn read_capped(pipe: Option<impl Read>, cap: usize, kill: &mpsc::Sender<Ending>) -> Vec<u8> {
    let Some(mut pipe) = pipe else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let room = cap.saturating_sub(out.len());
                out.extend_from_slice(&buf[..n.min(room)]);
                if n > room {
                    let _ = kill.send(Ending::OutputCapExceeded);
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Invocation {
        Invocation::new("/bin/sh", ["-c", script])
    }

    #[test]
    fn captures_exit_code_stdout_stderr_and_stdin() {
        let mut inv = sh("cat; echo err >&2; exit 3");
        inv.stdin = b"hello".to_vec();
        let out = run(&inv).unwrap();
        assert_eq!(out.ending, Ending::Exited(3));
        assert_eq!(out.stdout, b"hello");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn a_hanging_process_group_is_killed_at_the_timeout() {
        let mut inv = sh("sleep 30 & sleep 30");
        inv.timeout = Duration::from_millis(200);
        let out = run(&inv).unwrap();
        assert_eq!(out.ending, Ending::TimedOut);
        assert!(out.elapsed < Duration::from_secs(5));
    }

    #[test]
    fn a_flood_is_capped_and_killed() {
        let mut inv = sh("yes flood");
        inv.output_cap = 64 * 1024;
        let out = run(&inv).unwrap();
        assert_eq!(out.ending, Ending::OutputCapExceeded);
        assert_eq!(out.stdout.len(), 64 * 1024);
    }

    #[test]
    fn a_crash_on_a_signal_is_reported_as_such() {
        let out = run(&sh("kill -SEGV $$")).unwrap();
        assert_eq!(out.ending, Ending::Signalled(libc::SIGSEGV));
        assert!(out.ending.to_string().contains("SIGSEGV"));
    }

    #[test]
    fn large_stdin_to_a_child_that_never_reads_does_not_block() {
        let mut inv = sh("exit 0");
        inv.stdin = vec![b'x'; 4 << 20];
        assert_eq!(run(&inv).unwrap().ending, Ending::Exited(0));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let err = run(&Invocation::new("/nonexistent/prog", ["x"])).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/prog"));
    }

    #[test]
    fn environment_is_added_and_removed() {
        let mut inv = sh("printf '%s|%s' \"$CC_ADDED\" \"${HOME:-unset}\"");
        inv.env.push(("CC_ADDED".into(), "yes".into()));
        inv.env_remove.push("HOME".into());
        assert_eq!(run(&inv).unwrap().stdout, b"yes|unset");
    }
}
