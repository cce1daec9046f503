//! Running the program under test: one process at a time, bounded in time and output.

pub mod process;

pub use process::{
    Ending, Invocation, Outcome, SpawnError, kill_group, run, run_ungated, start_trace, stop_all,
    take_trace,
};
