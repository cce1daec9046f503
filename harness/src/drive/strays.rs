//! Processes a target leaves behind, found and ended: members of an invocation's process group
//! still running when its leader exits ([`end_group`]), and, once the runner is a child
//! subreaper ([`become_subreaper`]), every orphan that reparented to it, such as daemons that
//! left the group with `setsid` ([`end_orphans`]). Each ended process's command line is recorded
//! for the report ([`take_ended`]); nothing here reads a process's environment.

use std::{
    collections::BTreeMap,
    fs,
    os::{fd::BorrowedFd, unix::fs::FileExt},
    sync::{
        Mutex, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use rustix::process::{Pid, Signal, WaitOptions, waitpid};
use serde::Serialize;

use super::process::{gate, pause_starts};
use crate::check::visible::shorten;

/// A process found holding one of an invocation's pipes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its pid.
    pub pid: i32,
    /// Its command line (arguments joined by spaces, shortened).
    pub command: String,
}

/// Processes a target left running that the runner ended, counted by command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftRunning {
    /// The command line (arguments joined by spaces, shortened; no environment).
    pub command: String,
    /// How many processes ran it.
    pub count: usize,
}

/// The longest command line kept, in characters.
const COMMAND_CHARS: usize = 200;
/// Distinct command lines kept; the rest are counted under one entry.
const DISTINCT_COMMANDS: usize = 32;
/// Rounds of [`end_orphans`]: each ends one generation (their children reparent to us).
const ORPHAN_ROUNDS: usize = 20;
/// A range of at most this many handed-out pids is walked pid by pid.
const WALK_LIMIT: i32 = 64;
/// How long [`end_orphans`] waits for the processes it killed to be reaped, over all rounds.
const REAP_WAIT: Duration = Duration::from_secs(2);

static SUBREAPER: AtomicBool = AtomicBool::new(false);
static ENDED: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

/// Makes this process a child subreaper (Linux): orphans of the programs it runs reparent to it
/// instead of to PID 1, so [`end_orphans`] can find and end them. For the `credconform` binary
/// only: a library caller keeps its own children's fate.
pub fn become_subreaper() -> std::io::Result<()> {
    rustix::process::set_child_subreaper(Some(Pid::INIT))?;
    SUBREAPER.store(true, Ordering::SeqCst);
    Ok(())
}

/// One line of `/proc/PID/stat`, the fields used here.
struct Stat {
    pid: i32,
    state: char,
    ppid: i32,
    pgrp: i32,
}

fn stat(pid: i32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain them: split at the last one.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some(Stat {
        pid,
        state,
        ppid,
        pgrp,
    })
}

/// The pids under /proc.
fn pids() -> impl Iterator<Item = i32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
}

/// The pids handed out after `after`, up to the last one handed out: the system counts pids up
/// and wraps at its maximum, so a process created since `after` has one of these.
#[derive(Debug, Clone, Copy)]
struct HandedOutSince {
    after: i32,
    /// The last pid handed out; `i32::MAX` when unknown (every pid above `after` then counts).
    last: i32,
}

impl HandedOutSince {
    fn now(after: i32) -> Self {
        // Opened once and read from its start each time: one system call per invocation.
        static LAST_PID: OnceLock<Option<fs::File>> = OnceLock::new();
        let file = LAST_PID.get_or_init(|| fs::File::open("/proc/sys/kernel/ns_last_pid").ok());
        let mut buf = [0u8; 16];
        let last = file
            .as_ref()
            .and_then(|f| f.read_at(&mut buf, 0).ok())
            .and_then(|n| std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok());
        HandedOutSince {
            after,
            last: last.unwrap_or(i32::MAX),
        }
    }

    fn is_empty(self) -> bool {
        self.last == self.after
    }

    fn contains(self, pid: i32) -> bool {
        match self.last >= self.after {
            true => pid > self.after && pid <= self.last,
            false => pid > self.after || pid <= self.last,
        }
    }

    /// The pids to look at: each one of the range when it is short (trying a few pids is
    /// cheaper than listing every process), else the live processes inside it.
    fn candidates(self) -> Box<dyn Iterator<Item = i32>> {
        match self.last - self.after {
            1..=WALK_LIMIT => Box::new(self.after + 1..=self.last),
            _ => Box::new(pids().filter(move |&pid| self.contains(pid))),
        }
    }
}

/// A process's command line, shortened; its name in brackets when it has none (a zombie).
fn command_line(pid: i32) -> Option<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let joined = raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(" ");
    let line = if joined.is_empty() {
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        format!("[{}]", comm.trim())
    } else {
        joined
    };
    Some(shorten(&line, COMMAND_CHARS))
}

fn record(command: String) {
    let mut ended = ENDED.lock().unwrap_or_else(|p| p.into_inner());
    let distinct = ended.len();
    let key = if ended.contains_key(&command) || distinct < DISTINCT_COMMANDS {
        command
    } else {
        "(other command lines)".to_string()
    };
    *ended.entry(key).or_default() += 1;
}

/// Sends SIGKILL to process `pid` (already gone: nothing to do).
fn kill(pid: i32) {
    if let Some(pid) = Pid::from_raw(pid) {
        let _ = rustix::process::kill_process(pid, Signal::KILL);
    }
}

/// Records and kills whatever still runs in process group `pgid` once its leader has exited
/// (the leader, a zombie, still holds the group's ID, so the ID names no one else, and the kill
/// is sent whatever the search finds). A member is a descendant of the leader, so its pid was
/// handed out after the leader's: only those pids are looked at, and none at all when no pid
/// was handed out since (the common case of a helper that starts nothing). The runner's own
/// children (other invocations, each leading its own group) are passed over unread.
pub(super) fn end_group(pgid: i32) {
    let since = HandedOutSince::now(pgid);
    if since.is_empty() {
        return;
    }
    let ours = gate().owned.clone();
    for pid in since.candidates().filter(|pid| !ours.contains(pid)) {
        if let Some(s) = stat(pid)
            && s.pgrp == pgid
            && s.state != 'Z'
            && let Some(command) = command_line(pid)
        {
            record(command);
        }
    }
    super::kill_group(pgid);
}

/// Ends every process that reparented to this (subreaper) process and that the runner did not
/// start itself: records its command line (zombies only get reaped), kills it, and reaps it.
/// Runs in rounds, since the children of a killed orphan reparent here in turn. Does nothing
/// unless [`become_subreaper`] succeeded.
pub fn end_orphans() {
    if !SUBREAPER.load(Ordering::SeqCst) {
        return;
    }
    let me = std::process::id() as i32;
    let until = Instant::now() + REAP_WAIT;
    for _ in 0..ORPHAN_ROUNDS {
        // With starts paused no child can be spawned (and registered as owned) meanwhile.
        let strays: Vec<Stat> = {
            let _paused = pause_starts();
            let gate = gate();
            pids()
                .filter_map(stat)
                .filter(|s| s.ppid == me && !gate.owned.contains(&s.pid))
                .collect()
        };
        if strays.is_empty() {
            return;
        }
        for s in &strays {
            if s.state != 'Z'
                && let Some(command) = command_line(s.pid)
            {
                record(command);
            }
            kill(s.pid);
        }
        for s in &strays {
            reap(s.pid, until);
        }
    }
}

/// Reaps `pid` (a child this module killed, never one the runner waits for) by `until`.
fn reap(pid: i32, until: Instant) {
    let Some(pid) = Pid::from_raw(pid) else {
        return;
    };
    loop {
        // Reaped (`Some`) or no such child (an error): done.
        if !matches!(waitpid(Some(pid), WaitOptions::NOHANG), Ok(None)) || Instant::now() >= until {
            return;
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// The processes ended since the last call, by command line (most frequent first).
pub fn take_ended() -> Vec<LeftRunning> {
    let ended = std::mem::take(&mut *ENDED.lock().unwrap_or_else(|p| p.into_inner()));
    let mut list: Vec<LeftRunning> = ended
        .into_iter()
        .map(|(command, count)| LeftRunning { command, count })
        .collect();
    // A stable sort: equal counts keep the map's order, by command line.
    list.sort_by_key(|l| std::cmp::Reverse(l.count));
    list
}

/// Records and kills a process found holding an invocation's pipe (it is a descendant of the
/// invocation: nothing else was handed the pipe).
pub(super) fn end_holder(holder: &Holder) {
    record(holder.command.clone());
    kill(holder.pid);
}

/// The process (other than this one) that has the pipe behind `fd` open, found by the pipe's
/// inode in `/proc/*/fd`.
pub(super) fn holder_of(fd: BorrowedFd<'_>) -> Option<Holder> {
    let inode = rustix::fs::fstat(fd).ok()?.st_ino;
    let wanted = format!("pipe:[{inode}]");
    let me = std::process::id() as i32;
    pids().filter(|&pid| pid != me).find_map(|pid| {
        let fds = fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        fds.flatten()
            .any(|e| fs::read_link(e.path()).is_ok_and(|l| l.as_os_str() == wanted.as_str()))
            .then(|| Holder {
                pid,
                command: command_line(pid).unwrap_or_else(|| "?".into()),
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_command_lines_are_shortened() {
        let long = "x".repeat(500);
        let short = shorten(&long, COMMAND_CHARS);
        assert_eq!(short.chars().count(), COMMAND_CHARS + 1);
        assert!(short.ends_with('…'));
        assert_eq!(shorten("sleep 5", COMMAND_CHARS), "sleep 5");
    }

    #[test]
    fn pids_handed_out_since_wrap_at_the_maximum() {
        let since = HandedOutSince {
            after: 100,
            last: 105,
        };
        assert!(since.contains(101) && since.contains(105));
        assert!(!since.contains(100) && !since.contains(106) && !since.contains(5));
        let wrapped = HandedOutSince {
            after: 32000,
            last: 40,
        };
        assert!(wrapped.contains(32767) && wrapped.contains(1) && wrapped.contains(40));
        assert!(!wrapped.contains(41) && !wrapped.contains(32000) && !wrapped.contains(15000));
        let unknown = HandedOutSince {
            after: 100,
            last: i32::MAX,
        };
        assert!(unknown.contains(101) && !unknown.contains(99) && !unknown.is_empty());
        assert!(HandedOutSince { after: 7, last: 7 }.is_empty());
    }

    #[test]
    fn a_pid_handed_out_later_is_seen() {
        let me = std::process::id() as i32;
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let since = HandedOutSince::now(me);
        let _ = child.wait();
        assert!(since.contains(child.id() as i32) || since.last == i32::MAX);
    }

    #[test]
    fn this_process_is_read_from_proc() {
        let me = std::process::id() as i32;
        let s = stat(me).unwrap();
        assert_eq!((s.pid, s.state == 'Z'), (me, false));
        assert!(command_line(me).is_some());
    }
}
