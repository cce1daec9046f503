//! Ctrl-C during an interactive login: a program on a pty goes through the same gate as piped
//! ones, so `stop_all` kills it and refuses any later start. `stop_all` closes the gate of the
//! whole process for good, hence this binary of its own with a single test.

use std::{
    io::ErrorKind,
    path::PathBuf,
    thread,
    time::{Duration, Instant},
};

use credconform::drive::{
    self, Ending, Invocation,
    pty::{self, PtyInvocation},
};

fn pty_sh(script: &str, timeout: Duration) -> PtyInvocation {
    PtyInvocation {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        cwd: None,
        answers: vec![],
        timeout,
    }
}

#[test]
fn stop_all_kills_a_running_pty_program_and_refuses_later_starts() {
    let dir = tempfile::tempdir().unwrap();
    let ready: PathBuf = dir.path().join("ready");
    let running = {
        let script = format!("touch '{}'; exec sleep 30", ready.display());
        thread::spawn(move || pty::run(&pty_sh(&script, Duration::from_secs(60))))
    };
    let waited = Instant::now();
    while !ready.exists() {
        assert!(waited.elapsed() < Duration::from_secs(10), "never started");
        thread::sleep(Duration::from_millis(5));
    }
    // The program runs: it was spawned under the gate's lock, which is held until its group is
    // registered, so `stop_all` below finds the group.
    let stopped = Instant::now();
    drive::stop_all();
    let outcome = running.join().unwrap().expect("it was started");
    assert_eq!(
        outcome.ending,
        Ending::Signalled(rustix::process::Signal::KILL.as_raw())
    );
    assert!(stopped.elapsed() < Duration::from_secs(5), "not killed");

    let err = pty::run(&pty_sh("exit 0", Duration::from_secs(10))).unwrap_err();
    assert_eq!(err.source.kind(), ErrorKind::Interrupted, "{err}");
    assert!(err.to_string().contains("/bin/sh"), "{err}");

    let err = drive::run(&Invocation::new("/bin/sh", ["-c", "exit 0"])).unwrap_err();
    assert_eq!(err.source.kind(), ErrorKind::Interrupted, "{err}");
    // Cleanup still runs.
    let out = drive::run_ungated(&Invocation::new("/bin/sh", ["-c", "exit 0"])).unwrap();
    assert_eq!(out.ending, Ending::Exited(0));
}
