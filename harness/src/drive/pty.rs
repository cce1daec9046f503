//! Running a program on a pseudo-terminal and answering its prompts (`Username:`,
//! `Password:`), as a person at a terminal would. The program is a session leader with the pty
//! as its controlling terminal, so it can turn echo off; its process group is killed at the
//! timeout, and goes through the same gate as piped processes ([`RunningGroup`]): no start after
//! [`stop_all`](super::stop_all), which kills it while it runs. Terminal output (stdout and stderr merged, as a terminal shows them) comes back as
//! `stdout`.

use std::{
    ffi::OsString,
    io::{self, Read, Write},
    os::{
        fd::{AsFd, OwnedFd},
        unix::process::CommandExt,
    },
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

use super::{
    Ending, Outcome, SpawnError,
    process::{RunningGroup, ending_of},
};

/// One prompt to wait for and the line to type when it appears.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Text the program shows (e.g. `Password:`).
    pub prompt: String,
    /// What is typed, without the newline.
    pub reply: String,
    /// Wait (up to a second) until the program has turned echo off before typing: a program
    /// prints its prompt before it silences the terminal, and typing in between would echo.
    pub secret: bool,
}

/// A program to run on a pty.
#[derive(Debug, Clone)]
pub struct PtyInvocation {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Its whole environment.
    pub env: Vec<(OsString, OsString)>,
    /// The working directory.
    pub cwd: Option<PathBuf>,
    /// Prompts answered in order.
    pub answers: Vec<Answer>,
    /// How long it may run.
    pub timeout: Duration,
}

/// Output kept at most (the rest is dropped).
const CAP: usize = 1 << 20;

fn open_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let name = ptsname(&master, Vec::new())?;
    let slave = rustix::fs::open(
        name.as_c_str(),
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY,
        rustix::fs::Mode::empty(),
    )?;
    Ok((master, slave))
}

/// Runs `inv` on a fresh pty, typing each answer once its prompt has appeared, unless
/// [`stop_all`](super::stop_all) was called (an error of kind `Interrupted`).
pub fn run(inv: &PtyInvocation) -> Result<Outcome, SpawnError> {
    let spawn_error = |source| SpawnError {
        program: inv.program.display().to_string(),
        source,
    };
    let started = Instant::now();
    let (master, slave) = open_pair().map_err(spawn_error)?;
    let (mut child, group) = spawn_on(inv, slave).map_err(spawn_error)?;
    let mut master = std::fs::File::from(master);
    let (output, forced) = converse(&mut master, &inv.answers, started + inv.timeout);
    if forced.is_some() {
        group.kill();
    }
    let status = group.reap(&mut child);
    Ok(Outcome {
        ending: ending_of(forced, status),
        stdout: output,
        stderr: Vec::new(),
        elapsed: started.elapsed(),
    })
}

/// Spawns `inv` as a session leader whose controlling terminal is `slave`, through the gate.
/// The parent's copies of the slave are closed on return, so EOF/EIO arrives on the master when
/// the child ends.
fn spawn_on(inv: &PtyInvocation, slave: OwnedFd) -> io::Result<(Child, RunningGroup)> {
    let mut cmd = Command::new(&inv.program);
    cmd.args(&inv.args)
        .env_clear()
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::from(slave.try_clone()?))
        .stdout(Stdio::from(slave.try_clone()?))
        .stderr(Stdio::from(slave));
    if let Some(dir) = &inv.cwd {
        cmd.current_dir(dir);
    }
    // SAFETY: setsid and the TIOCSCTTY ioctl are async-signal-safe and touch no memory of the
    // parent; they make the child a session leader whose controlling terminal is the pty.
    unsafe {
        cmd.pre_exec(|| {
            rustix::process::setsid()?;
            rustix::process::ioctl_tiocsctty(rustix::stdio::stdin())?;
            Ok(())
        });
    }
    // A session leader leads its own process group: the pid names the group to kill.
    RunningGroup::spawn(&mut cmd)
}

/// Reads the terminal until the program closes it or `deadline` passes (then the ending is
/// `TimedOut`), typing each answer once its prompt has appeared. Keeps at most [`CAP`] bytes.
fn converse(
    master: &mut std::fs::File,
    answers: &[Answer],
    deadline: Instant,
) -> (Vec<u8>, Option<Ending>) {
    let mut output = Vec::new();
    let mut next = 0;
    let mut searched_from = 0;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return (output, Some(Ending::TimedOut));
        }
        if !readable(master, deadline - now) {
            continue;
        }
        let mut buf = [0u8; 4096];
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => output.extend_from_slice(&buf[..n.min(CAP.saturating_sub(output.len()))]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break, // EIO: every slave descriptor is closed
        }
        let Some(answer) = answers.get(next) else {
            continue;
        };
        let text = String::from_utf8_lossy(&output[searched_from..]);
        if let Some(pos) = text.find(&answer.prompt) {
            searched_from += pos + answer.prompt.len();
            if answer.secret {
                wait_for_echo_off(master, Instant::now() + Duration::from_secs(1));
            }
            let _ = master.write_all(format!("{}\n", answer.reply).as_bytes());
            next += 1;
        }
    }
    (output, None)
}

/// Waits until the terminal's echo is off (the pty's settings read through the master).
fn wait_for_echo_off(master: &impl AsFd, until: Instant) {
    use rustix::termios::{LocalModes, tcgetattr};
    while Instant::now() < until {
        match tcgetattr(master) {
            Ok(t) if !t.local_modes.contains(LocalModes::ECHO) => return,
            Ok(_) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => return,
        }
    }
}

fn readable(fd: &impl AsFd, timeout: Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let mut fds = [PollFd::new(fd, PollFlags::IN)];
    let timeout = Timespec::try_from(timeout.min(Duration::from_secs(1))).unwrap_or(Timespec {
        tv_sec: 1,
        tv_nsec: 0,
    });
    matches!(rustix::event::poll(&mut fds, Some(&timeout)), Ok(n) if n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_answered_with_echo_off_and_output_is_merged() {
        let script = r#"printf 'Username: '; read u; stty -echo; printf 'Password: '; read p; stty echo; echo; echo "got $u/${#p}" >&2; [ -t 0 ] && echo tty"#;
        let inv = PtyInvocation {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            cwd: None,
            answers: vec![
                Answer {
                    prompt: "Username:".into(),
                    reply: "alice".into(),
                    secret: false,
                },
                Answer {
                    prompt: "Password:".into(),
                    reply: "s3cret-pw".into(),
                    secret: true,
                },
            ],
            timeout: Duration::from_secs(10),
        };
        let out = run(&inv).unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.ending, Ending::Exited(0), "{text}");
        assert!(text.contains("got alice/9"), "{text}");
        assert!(text.contains("tty"), "{text}");
        assert!(
            !text.contains("s3cret-pw"),
            "the password was echoed: {text}"
        );
    }

    #[test]
    fn a_program_waiting_forever_is_killed() {
        let inv = PtyInvocation {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "read x".into()],
            env: vec![],
            cwd: None,
            answers: vec![],
            timeout: Duration::from_millis(300),
        };
        assert_eq!(run(&inv).unwrap().ending, Ending::TimedOut);
    }
}
