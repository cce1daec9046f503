//! Ctrl-C and SIGTERM. The first signal closes the gate and kills every running process group
//! ([`drive::stop_all`]); the run then stops starting cases, cleans up with short per-call
//! timeouts within a total bound, writes its reports marked interrupted and exits 130. A second
//! signal, or a run that has not exited [`EXIT_BOUND`] after the first, exits at once.

use std::{
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    thread,
    time::Duration,
};

use crate::drive;

/// Once interrupted, no cleanup call may run longer than this.
pub const CLEANUP_CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Once interrupted, the whole cleanup of one run ends within this.
pub const CLEANUP_TOTAL: Duration = Duration::from_secs(15);
/// The process exits at the latest this long after the first signal.
pub const EXIT_BOUND: Duration = Duration::from_secs(30);
/// The exit code of an interrupted run.
pub const EXIT_CODE: i32 = 130;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

/// Installs the SIGINT/SIGTERM handler (once; an error when another handler is installed).
pub fn install() -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(on_signal)
}

/// True once a signal arrived (or [`interrupt`] was called).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// What the first signal does: marks the run interrupted, stops every running process and
/// refuses new ones (cleanup still runs through [`drive::run_ungated`]).
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    drive::stop_all();
}

/// The timeout of a cleanup call: `normal`, or at most [`CLEANUP_CALL_TIMEOUT`] once
/// interrupted.
pub fn cleanup_timeout(normal: Duration) -> Duration {
    if interrupted() {
        normal.min(CLEANUP_CALL_TIMEOUT)
    } else {
        normal
    }
}

fn on_signal() {
    if SIGNALS.fetch_add(1, Ordering::SeqCst) > 0 {
        eprintln!("interrupted again: exiting now");
        exit_now();
    }
    eprintln!(
        "\ninterrupted: stopping the helper, erasing what this run stored and writing the \
         reports (again to exit at once)..."
    );
    interrupt();
    thread::spawn(|| {
        thread::sleep(EXIT_BOUND);
        eprintln!(
            "interrupted: cleanup did not finish within {} s, exiting",
            EXIT_BOUND.as_secs()
        );
        exit_now();
    });
}

/// Kills what runs, ends what the targets left, and exits 130.
fn exit_now() -> ! {
    drive::stop_all();
    drive::strays::end_orphans();
    std::process::exit(EXIT_CODE);
}
