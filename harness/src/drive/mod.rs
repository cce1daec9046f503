//! Running the program under test: one process at a time, bounded in time and output; a
//! sandbox per login case and a pty for prompts.

pub mod process;
pub mod pty;
pub mod sandbox;

pub use process::{
    Ending, Invocation, Outcome, SpawnError, kill_group, run, run_ungated, start_trace, stop_all,
    take_trace,
};
