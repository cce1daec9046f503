//! The suites, profiles, snapshots and registry seed are built into the binary
//! (`src/assets.rs`): an edited data file rebuilds it.

fn main() {
    for path in [
        "../suites",
        "../fixtures/profiles",
        "../fixtures/snapshots",
        "../fixtures/registry/default.toml",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
}
