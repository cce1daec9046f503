//! Running one process: piped stdin, capped stdout/stderr, a timeout, and its own process
//! group that is killed whole when the timeout or the output cap is hit. Output is read with
//! poll(2) in the calling thread, so an invocation costs no thread of its own.

use std::{
    ffi::OsString,
    io::{self, Read, Write},
    os::{
        fd::{AsFd, BorrowedFd, OwnedFd},
        unix::process::{CommandExt, ExitStatusExt},
    },
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{Mutex, MutexGuard},
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

/// Process groups started through [`run`], [`run_ungated`] or [`RunningGroup::spawn`] (the pty
/// driver) whose leader has not been reaped yet, and whether new starts are still allowed. One
/// lock, so that no start can slip between [`stop_all`] closing the gate and killing what runs.
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

/// A running process group registered with the gate: [`stop_all`] kills it until its leader is
/// reaped. Made by [`RunningGroup::spawn`]; [`RunningGroup::reap`] (or dropping it) unregisters
/// the group.
#[derive(Debug)]
pub struct RunningGroup {
    pgid: i32,
}

impl RunningGroup {
    /// Spawns `cmd` unless [`stop_all`] was called (then the error is of kind `Interrupted`), and
    /// registers the child's process group. `cmd` must make the child a process group leader,
    /// with `process_group(0)` or with `setsid` in `pre_exec` (a session leader leads its
    /// group), so that the child's pid names the group that is killed.
    pub fn spawn(cmd: &mut Command) -> io::Result<(Child, RunningGroup)> {
        Self::spawn_inner(cmd, true)
    }

    fn spawn_inner(cmd: &mut Command, gated: bool) -> io::Result<(Child, RunningGroup)> {
        let mut gate = gate();
        if gated && gate.closed {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "the run was interrupted",
            ));
        }
        let child = cmd.spawn()?;
        let pgid = child.id() as i32;
        gate.groups.push(pgid);
        Ok((child, RunningGroup { pgid }))
    }

    /// The process group ID (the leader's pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// Sends SIGKILL to the whole group.
    pub fn kill(&self) {
        kill_group(self.pgid);
    }

    /// Waits for `child` (the group leader) to end, unregisters the group while the ended child
    /// still holds its pid, then reaps it: [`stop_all`] never signals an ID the system may
    /// already have handed to someone else.
    pub fn reap(self, child: &mut Child) -> Option<std::process::ExitStatus> {
        use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
        if let Some(pid) = Pid::from_raw(self.pgid) {
            // Retried on EINTR; any other error (none expected) only loses the ordering.
            let exited = || {
                waitid(
                    WaitId::Pid(pid),
                    WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
                )
            };
            while let Err(rustix::io::Errno::INTR) = exited() {}
        }
        drop(self);
        wait(child)
    }
}

impl Drop for RunningGroup {
    fn drop(&mut self) {
        let mut gate = gate();
        if let Some(i) = gate.groups.iter().position(|&g| g == self.pgid) {
            gate.groups.swap_remove(i);
        }
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
    let (mut child, group) = RunningGroup::spawn_inner(&mut cmd, gated).map_err(spawn_error)?;

    let stdin_writer = feed_stdin(child.stdin.take(), &inv.stdin);
    let pumped = pump(&mut child, started + inv.timeout, inv.output_cap);
    if pumped.forced.is_some() {
        group.kill();
    }
    if let Some(writer) = stdin_writer {
        let _ = writer.join();
    }
    let status = group.reap(&mut child);

    let ending = match (pumped.forced, status) {
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
        stdout: pumped.stdout,
        stderr: pumped.stderr,
        elapsed: started.elapsed(),
    })
}

/// What [`pump`] collected, and why it gave up early if it did.
struct Pumped {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    forced: Option<Ending>,
}

/// Reads stdout and stderr until both are closed and the child has exited, in one thread with
/// poll(2): no helper threads per invocation. Stops at the deadline (`TimedOut`) or when a
/// stream passes the cap (`OutputCapExceeded`); the caller then kills the process group.
fn pump(child: &mut Child, deadline: Instant, cap: usize) -> Pumped {
    let mut pipes: [Option<Box<dyn ReadFd>>; 2] = [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn ReadFd>),
        child.stderr.take().map(|p| Box::new(p) as Box<dyn ReadFd>),
    ];
    for pipe in pipes.iter().flatten() {
        let _ = set_nonblocking(pipe.as_fd());
    }
    // A pidfd makes the child's exit pollable; without one (old kernels) we poll try_wait.
    let pidfd = rustix::process::pidfd_open(
        rustix::process::Pid::from_child(child),
        rustix::process::PidfdFlags::empty(),
    )
    .ok();
    let mut out = [Vec::new(), Vec::new()];
    let mut exited = false;
    let give_up = |out: [Vec<u8>; 2], why| {
        let [stdout, stderr] = out;
        Pumped {
            stdout,
            stderr,
            forced: Some(why),
        }
    };
    loop {
        let streams_open = pipes.iter().any(Option::is_some);
        if !streams_open && exited {
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            return give_up(out, Ending::TimedOut);
        }
        if !streams_open && pidfd.is_none() {
            if matches!(child.try_wait(), Ok(Some(_)) | Err(_)) {
                break;
            }
            thread::sleep(Duration::from_millis(1).min(deadline - now));
            continue;
        }
        let (ready, child_done) =
            match wait_ready(&pipes, pidfd.as_ref().filter(|_| !exited), deadline - now) {
                Ok(r) => r,
                Err(_) => continue, // EINTR
            };
        exited |= child_done;
        for (k, slot) in pipes.iter_mut().enumerate() {
            if !ready[k] {
                continue;
            }
            let Some(pipe) = slot else { continue };
            match drain(pipe.as_mut(), &mut out[k], cap) {
                Drained::Open => {}
                Drained::Closed => *slot = None,
                Drained::OverCap => return give_up(out, Ending::OutputCapExceeded),
            }
        }
    }
    let [stdout, stderr] = out;
    Pumped {
        stdout,
        stderr,
        forced: None,
    }
}

/// A readable pipe end that can be polled.
trait ReadFd: Read + AsFd {}
impl<T: Read + AsFd> ReadFd for T {}

fn set_nonblocking(fd: BorrowedFd<'_>) -> rustix::io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    rustix::fs::fcntl_setfl(fd, flags | rustix::fs::OFlags::NONBLOCK)
}

/// Polls the open pipes (and the pidfd) until something is ready or `timeout` passes; returns
/// which pipes are readable and whether the child exited.
fn wait_ready(
    pipes: &[Option<Box<dyn ReadFd>>; 2],
    pidfd: Option<&OwnedFd>,
    timeout: Duration,
) -> rustix::io::Result<([bool; 2], bool)> {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let mut fds = Vec::with_capacity(3);
    let mut owners = Vec::with_capacity(3);
    for (k, pipe) in pipes.iter().enumerate() {
        if let Some(pipe) = pipe {
            fds.push(PollFd::from_borrowed_fd(pipe.as_fd(), PollFlags::IN));
            owners.push(Some(k));
        }
    }
    if let Some(fd) = pidfd {
        fds.push(PollFd::new(fd, PollFlags::IN));
        owners.push(None);
    }
    let timeout = Timespec::try_from(timeout).unwrap_or(Timespec {
        tv_sec: i64::MAX,
        tv_nsec: 0,
    });
    rustix::event::poll(&mut fds, Some(&timeout))?;
    let mut ready = [false; 2];
    let mut exited = false;
    for (fd, owner) in fds.iter().zip(owners) {
        if fd.revents().is_empty() {
            continue;
        }
        match owner {
            Some(k) => ready[k] = true,
            None => exited = true,
        }
    }
    Ok((ready, exited))
}

/// What reading a ready pipe found.
enum Drained {
    Open,
    Closed,
    OverCap,
}

/// Reads what a non-blocking pipe has, keeping at most `cap` bytes in `into`.
fn drain(pipe: &mut dyn ReadFd, into: &mut Vec<u8>, cap: usize) -> Drained {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => return Drained::Closed,
            Ok(n) => {
                let room = cap.saturating_sub(into.len());
                into.extend_from_slice(&buf[..n.min(room)]);
                if n > room {
                    return Drained::OverCap;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Drained::Open,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Drained::Closed,
        }
    }
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
    fn a_child_that_closes_its_output_but_keeps_running_is_timed_out() {
        let mut inv = sh("echo early; exec >&- 2>&-; sleep 30");
        inv.timeout = Duration::from_millis(300);
        let out = run(&inv).unwrap();
        assert_eq!(out.ending, Ending::TimedOut);
        assert_eq!(out.stdout, b"early\n");
    }

    #[test]
    fn output_on_both_streams_is_kept_in_full() {
        let out = run(&sh(
            "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2",
        ))
        .unwrap();
        assert_eq!((out.stdout.len(), out.stderr.len()), (300000, 200000));
        assert_eq!(out.ending, Ending::Exited(0));
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
    fn a_running_group_is_registered_until_it_is_reaped() {
        let registered = |pgid| gate().groups.contains(&pgid);
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "exit 4"]).process_group(0);
        let (mut child, group) = RunningGroup::spawn(&mut cmd).unwrap();
        let pgid = group.pgid();
        assert_eq!(pgid, child.id() as i32);
        assert!(registered(pgid));
        assert_eq!(group.reap(&mut child).and_then(|s| s.code()), Some(4));
        assert!(!registered(pgid));

        let mut cmd = Command::new("/bin/sleep");
        cmd.arg("30").process_group(0);
        let (mut child, group) = RunningGroup::spawn(&mut cmd).unwrap();
        let pgid = group.pgid();
        group.kill();
        drop(group);
        assert!(!registered(pgid));
        assert_eq!(
            wait(&mut child).and_then(|s| s.signal()),
            Some(libc::SIGKILL)
        );
    }

    #[test]
    fn environment_is_added_and_removed() {
        let mut inv = sh("printf '%s|%s' \"$CC_ADDED\" \"${HOME:-unset}\"");
        inv.env.push(("CC_ADDED".into(), "yes".into()));
        inv.env_remove.push("HOME".into());
        assert_eq!(run(&inv).unwrap().stdout, b"yes|unset");
    }
}
