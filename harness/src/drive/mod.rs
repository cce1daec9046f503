//! Running the program under test: one process at a time, bounded in time and output; a
//! sandbox per login case, a pty for prompts, and the processes a target leaves behind.

pub mod process;
pub mod pty;
pub mod sandbox;
pub mod strays;

pub use process::{
    Ending, Invocation, Outcome, SpawnError, Stream, kill_group, run, run_ungated, start_trace,
    stop_all, take_trace,
};
pub use strays::{Holder, LeftRunning};
