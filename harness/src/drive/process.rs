//! Running one process: piped stdin, capped stdout/stderr, a timeout, and its own process
//! group that is killed whole when the timeout or the output cap is hit, and when the leader has
//! exited (members it left behind are recorded, see [`super::strays`]). Stdin is written and
//! output read with poll(2) in the calling thread, so every pipe operation is bounded by the
//! deadline and an invocation costs no thread of its own.

use std::{
    ffi::OsString,
    io::{self, Read, Write},
    os::{
        fd::{AsFd, BorrowedFd, OwnedFd},
        unix::process::{CommandExt, ExitStatusExt},
    },
    path::PathBuf,
    process::{Child, ChildStdin, Command, ExitStatus, Stdio},
    sync::{Mutex, MutexGuard, RwLock, RwLockWriteGuard},
    time::{Duration, Instant},
};

use rustix::process::{Pid, Signal};

use super::strays::{self, Holder};

/// The default cap on each of stdout and stderr.
pub const DEFAULT_OUTPUT_CAP: usize = 1 << 20;

/// How long the pipes may stay open after the leader exited before the invocation ends with
/// [`Ending::OutputHeldOpen`]: a well-behaved program's output ends with it.
pub const HOLD_GRACE: Duration = Duration::from_millis(500);

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

/// Which pipe of an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard input.
    Stdin,
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl std::fmt::Display for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stream::Stdin => "stdin",
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        })
    }
}

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this code.
    Exited(i32),
    /// A signal it did not cause us to send ended it.
    Signalled(i32),
    /// It ran past the timeout and was killed.
    TimedOut,
    /// It wrote more than the cap and was killed.
    OutputCapExceeded,
    /// It exited, but another process kept one of its pipes open past [`HOLD_GRACE`] (a
    /// client that reads the output to its end, as docker does, would hang); that process was
    /// then ended.
    OutputHeldOpen {
        /// The pipe left open.
        stream: Stream,
        /// The process found holding it, if it could be identified.
        holder: Option<Holder>,
    },
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Exited(code) => write!(f, "exit {code}"),
            Ending::Signalled(sig) => write!(f, "killed by signal {sig} ({})", signal_name(*sig)),
            Ending::TimedOut => f.write_str("timed out and was killed"),
            Ending::OutputCapExceeded => f.write_str("exceeded the output cap and was killed"),
            Ending::OutputHeldOpen { stream, holder } => {
                write!(f, "exited, but its {stream} stayed open, held by ")?;
                match holder {
                    Some(h) => write!(f, "pid {} (`{}`)", h.pid, h.command)?,
                    None => f.write_str("a process that could not be identified")?,
                }
                f.write_str(
                    "; a client that reads the helper's output to its end, as docker does, \
                     would hang",
                )
            }
        }
    }
}

/// The signals a crash or a kill usually comes from, by name.
const SIGNAL_NAMES: [(Signal, &str); 9] = [
    (Signal::SEGV, "SIGSEGV"),
    (Signal::ABORT, "SIGABRT"),
    (Signal::KILL, "SIGKILL"),
    (Signal::TERM, "SIGTERM"),
    (Signal::BUS, "SIGBUS"),
    (Signal::PIPE, "SIGPIPE"),
    (Signal::INT, "SIGINT"),
    (Signal::ILL, "SIGILL"),
    (Signal::FPE, "SIGFPE"),
];

fn signal_name(sig: i32) -> &'static str {
    SIGNAL_NAMES
        .iter()
        .find(|(s, _)| s.as_raw() == sig)
        .map_or("signal", |(_, name)| name)
}

/// How a process ended: `forced` when the runner ended it, else what its exit status says (a
/// status that cannot be read counts as signal 0).
pub(super) fn ending_of(forced: Option<Ending>, status: Option<ExitStatus>) -> Ending {
    match (forced, status) {
        (Some(forced), _) => forced,
        (None, Some(s)) => match (s.code(), s.signal()) {
            (Some(code), _) => Ending::Exited(code),
            (None, Some(sig)) => Ending::Signalled(sig),
            (None, None) => Ending::Signalled(0),
        },
        (None, None) => Ending::Signalled(0),
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

/// Held shared by every start, from the check of the gate to the registration of the child, and
/// exclusively by [`stop_all`] and [`strays::end_orphans`]: starts run in parallel, and no start
/// slips between [`stop_all`] closing the gate and killing what runs, nor is a child seen
/// unregistered by the orphan sweep. Always taken before [`RUNNING`].
static STARTS: RwLock<()> = RwLock::new(());

/// Holds every start off until the guard is dropped.
pub(super) fn pause_starts() -> RwLockWriteGuard<'static, ()> {
    STARTS.write().unwrap_or_else(|p| p.into_inner())
}

/// Process groups started through [`run`], [`run_ungated`] or [`RunningGroup::spawn`] (the pty
/// driver) whose leader has not been reaped yet, and whether new starts are still allowed.
static RUNNING: Mutex<Gate> = Mutex::new(Gate {
    closed: false,
    groups: Vec::new(),
    owned: Vec::new(),
});

pub(super) struct Gate {
    closed: bool,
    groups: Vec<i32>,
    /// Children spawned here and not yet waited for: never reaped by [`strays`].
    pub(super) owned: Vec<i32>,
}

pub(super) fn gate() -> MutexGuard<'static, Gate> {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Refuses every later [`run`] and kills the process groups of those still running (used on
/// Ctrl-C, before cleanup). Cleanup itself goes through [`run_ungated`].
pub fn stop_all() {
    let _paused = pause_starts();
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
    /// Set once [`RunningGroup::kill`] was called: what the kill ended did not outlive the call.
    killed: std::cell::Cell<bool>,
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
        let _starting = STARTS.read().unwrap_or_else(|p| p.into_inner());
        if gated && gate().closed {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "the run was interrupted",
            ));
        }
        let child = cmd.spawn()?;
        let pgid = child.id() as i32;
        let mut gate = gate();
        gate.groups.push(pgid);
        gate.owned.push(pgid);
        Ok((
            child,
            RunningGroup {
                pgid,
                killed: std::cell::Cell::new(false),
            },
        ))
    }

    /// The process group ID (the leader's pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// Sends SIGKILL to the whole group.
    pub fn kill(&self) {
        self.killed.set(true);
        kill_group(self.pgid);
    }

    /// Waits for `child` (the group leader) to end, ends what is left of its group (recorded by
    /// [`strays`], unless the group was killed already) and unregisters the group while the ended child still holds its pid, then
    /// reaps it: neither [`stop_all`] nor the group kill ever signals an ID the system may
    /// already have handed to someone else.
    pub fn reap(self, child: &mut Child) -> Option<ExitStatus> {
        use rustix::process::{WaitId, WaitIdOptions, waitid};
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
        if !self.killed.get() {
            strays::end_group(self.pgid);
        }
        remove(&mut gate().groups, self.pgid);
        let status = wait(child);
        drop(self);
        status
    }
}

fn remove(list: &mut Vec<i32>, pid: i32) {
    if let Some(i) = list.iter().position(|&g| g == pid) {
        list.swap_remove(i);
    }
}

impl Drop for RunningGroup {
    fn drop(&mut self) {
        let mut gate = gate();
        remove(&mut gate.groups, self.pgid);
        remove(&mut gate.owned, self.pgid);
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

    let pumped = pump(
        &mut child,
        &inv.stdin,
        started + inv.timeout,
        inv.output_cap,
    );
    if pumped.forced.is_some() {
        group.kill();
    }
    let status = group.reap(&mut child);
    Ok(Outcome {
        ending: ending_of(pumped.forced, status),
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

/// Writes `input` to stdin and reads stdout and stderr until every pipe is done and the child
/// has exited, in one thread with poll(2): no helper threads per invocation, and no pipe
/// operation outlives the deadline. Stops at the deadline (`TimedOut`), when a stream passes
/// the cap (`OutputCapExceeded`), or [`HOLD_GRACE`] after the child exited while a pipe is
/// still open (`OutputHeldOpen`); the caller then kills the process group.
fn pump(child: &mut Child, input: &[u8], deadline: Instant, cap: usize) -> Pumped {
    let mut pipes: [Option<Box<dyn ReadFd>>; 2] = [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn ReadFd>),
        child.stderr.take().map(|p| Box::new(p) as Box<dyn ReadFd>),
    ];
    for pipe in pipes.iter().flatten() {
        let _ = set_nonblocking(pipe.as_fd());
    }
    let mut stdin = Feed::new(child.stdin.take(), input);
    stdin.write_some(); // most payloads fit in the pipe: no poll is needed for them
    // A pidfd makes the child's exit pollable; without one (old kernels) its status is polled.
    let pid = Pid::from_child(child);
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok();
    let mut out = [Vec::new(), Vec::new()];
    // Set once the child has exited: the pipes then get a short grace to close.
    let mut exited_by: Option<Instant> = None;
    let give_up = |out: [Vec<u8>; 2], why| {
        let [stdout, stderr] = out;
        Pumped {
            stdout,
            stderr,
            forced: Some(why),
        }
    };
    loop {
        let streams_open = pipes.iter().any(Option::is_some) || stdin.is_open();
        if !streams_open && exited_by.is_some() {
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            return give_up(out, Ending::TimedOut);
        }
        if let Some(grace_end) = exited_by.map(|t| t + HOLD_GRACE)
            && now >= grace_end
        {
            return give_up(out, held_open(&pipes, &stdin));
        }
        let until = exited_by.map_or(deadline, |t| (t + HOLD_GRACE).min(deadline));
        if pidfd.is_none() && exited_by.is_none() && has_exited(pid) {
            exited_by = Some(now);
            continue;
        }
        let wait_for = if pidfd.is_none() && exited_by.is_none() {
            Duration::from_millis(1)
        } else {
            until - now
        };
        let ready = match wait_ready(
            &pipes,
            stdin.pipe(),
            pidfd.as_ref().filter(|_| exited_by.is_none()),
            wait_for,
        ) {
            Ok(r) => r,
            Err(_) => continue, // EINTR
        };
        if ready.exited && exited_by.is_none() {
            exited_by = Some(Instant::now());
        }
        if ready.stdin {
            stdin.write_some();
        }
        for (k, slot) in pipes.iter_mut().enumerate() {
            if !ready.output[k] {
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

/// True when `pid` has exited (or cannot be waited for), leaving it unreaped: its group ID
/// stays taken until [`RunningGroup::reap`].
fn has_exited(pid: Pid) -> bool {
    use rustix::process::{WaitId, WaitIdOptions, waitid};
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | WaitIdOptions::NOHANG;
    !matches!(waitid(WaitId::Pid(pid), options), Ok(None))
}

/// The ending for pipes still open after the child exited: the first open one, and the process
/// holding it.
fn held_open(pipes: &[Option<Box<dyn ReadFd>>; 2], stdin: &Feed<'_>) -> Ending {
    let open = [
        (Stream::Stdout, pipes[0].as_ref().map(|p| p.as_fd())),
        (Stream::Stderr, pipes[1].as_ref().map(|p| p.as_fd())),
        (Stream::Stdin, stdin.pipe()),
    ];
    let (stream, fd) = open
        .into_iter()
        .find_map(|(s, fd)| fd.map(|fd| (s, Some(fd))))
        .unwrap_or((Stream::Stdout, None));
    let holder = fd.and_then(strays::holder_of);
    if let Some(h) = &holder {
        strays::end_holder(h);
    }
    Ending::OutputHeldOpen { stream, holder }
}

/// Stdin being written without blocking: the rest of the payload and the open pipe.
struct Feed<'a> {
    pipe: Option<ChildStdin>,
    rest: &'a [u8],
}

impl<'a> Feed<'a> {
    /// An empty payload closes stdin at once.
    fn new(pipe: Option<ChildStdin>, input: &'a [u8]) -> Self {
        let pipe = pipe.filter(|p| !input.is_empty() && set_nonblocking(p.as_fd()).is_ok());
        Feed { pipe, rest: input }
    }

    fn is_open(&self) -> bool {
        self.pipe.is_some()
    }

    fn pipe(&self) -> Option<BorrowedFd<'_>> {
        self.pipe.as_ref().map(|p| p.as_fd())
    }

    /// Writes what the pipe takes now; closes it when all is written or the reader is gone (a
    /// child that exits without reading gives EPIPE: that is its business, not an error).
    fn write_some(&mut self) {
        let Some(pipe) = &mut self.pipe else { return };
        loop {
            match pipe.write(self.rest) {
                Ok(n) => {
                    self.rest = &self.rest[n..];
                    if self.rest.is_empty() || n == 0 {
                        self.pipe = None;
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.pipe = None;
                    return;
                }
            }
        }
    }
}

/// A readable pipe end that can be polled.
trait ReadFd: Read + AsFd {}
impl<T: Read + AsFd> ReadFd for T {}

/// A fresh pipe's status flags are all clear but its access mode, which `F_SETFL` ignores.
fn set_nonblocking(fd: BorrowedFd<'_>) -> rustix::io::Result<()> {
    rustix::fs::fcntl_setfl(fd, rustix::fs::OFlags::NONBLOCK)
}

/// Which of the polled descriptors were ready.
struct Ready {
    output: [bool; 2],
    stdin: bool,
    exited: bool,
}

/// Polls the open output pipes for reading, stdin for writing, and the pidfd, until something
/// is ready or `timeout` passes.
fn wait_ready(
    pipes: &[Option<Box<dyn ReadFd>>; 2],
    stdin: Option<BorrowedFd<'_>>,
    pidfd: Option<&OwnedFd>,
    timeout: Duration,
) -> rustix::io::Result<Ready> {
    use rustix::event::{PollFd, PollFlags, Timespec};
    #[derive(Clone, Copy)]
    enum Owner {
        Output(usize),
        Stdin,
        Exit,
    }
    let mut fds = Vec::with_capacity(4);
    let mut owners = Vec::with_capacity(4);
    for (k, pipe) in pipes.iter().enumerate() {
        if let Some(pipe) = pipe {
            fds.push(PollFd::from_borrowed_fd(pipe.as_fd(), PollFlags::IN));
            owners.push(Owner::Output(k));
        }
    }
    if let Some(fd) = stdin {
        fds.push(PollFd::from_borrowed_fd(fd, PollFlags::OUT));
        owners.push(Owner::Stdin);
    }
    if let Some(fd) = pidfd {
        fds.push(PollFd::new(fd, PollFlags::IN));
        owners.push(Owner::Exit);
    }
    let timeout = Timespec::try_from(timeout).unwrap_or(Timespec {
        tv_sec: i64::MAX,
        tv_nsec: 0,
    });
    rustix::event::poll(&mut fds, Some(&timeout))?;
    let mut ready = Ready {
        output: [false; 2],
        stdin: false,
        exited: false,
    };
    for (fd, owner) in fds.iter().zip(owners) {
        if fd.revents().is_empty() {
            continue;
        }
        match owner {
            Owner::Output(k) => ready.output[k] = true,
            Owner::Stdin => ready.stdin = true,
            Owner::Exit => ready.exited = true,
        }
    }
    Ok(ready)
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

fn wait(child: &mut Child) -> Option<ExitStatus> {
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
    // A group that is gone already needs no signal.
    if let Some(pgid) = Pid::from_raw(pgid) {
        let _ = rustix::process::kill_process_group(pgid, Signal::KILL);
    }
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
        assert_eq!(out.ending, Ending::Signalled(Signal::SEGV.as_raw()));
        assert!(out.ending.to_string().contains("SIGSEGV"));
    }

    #[test]
    fn large_stdin_to_a_child_that_never_reads_does_not_block() {
        let mut inv = sh("exit 0");
        inv.stdin = vec![b'x'; 4 << 20];
        assert_eq!(run(&inv).unwrap().ending, Ending::Exited(0));
    }

    #[test]
    fn a_pipe_held_open_after_exit_ends_the_call_and_names_the_holder() {
        // A child that leaves the group and keeps stdin and stdout, with a payload larger than
        // the pipe buffer: no write or read may outlive the deadline.
        let mut inv = sh("setsid sleep 30 & exit 0");
        inv.stdin = vec![b'x'; 4 << 20];
        inv.timeout = Duration::from_secs(20);
        let out = run(&inv).unwrap();
        assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
        let Ending::OutputHeldOpen { holder, .. } = &out.ending else {
            panic!("{:?}", out.ending);
        };
        assert!(holder.as_ref().unwrap().command.contains("sleep 30"));
        let text = out.ending.to_string();
        assert!(
            text.contains("stayed open") && text.contains("docker"),
            "{text}"
        );
    }

    #[test]
    fn background_members_of_the_group_are_ended_with_the_leader() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("alive");
        let script = format!(
            "(sleep 2; touch '{}') >/dev/null 2>&1 </dev/null & exit 0",
            marker.display()
        );
        let out = run(&sh(&script)).unwrap();
        assert_eq!(out.ending, Ending::Exited(0));
        std::thread::sleep(Duration::from_secs(3));
        assert!(
            !marker.exists(),
            "a background child outlived its invocation"
        );
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
            Some(Signal::KILL.as_raw())
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
