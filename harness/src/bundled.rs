//! Programs bundled inside the `credconform` binary: the reference credential helper and its
//! mutants. The binary runs as one of them when it is invoked under that program's name
//! (through a symlink), so they need no separate build or install.

use std::{
    io,
    path::{Path, PathBuf},
};

pub use reference_helper::{Mutant, Variant};

/// Runs the bundled program named by argv[0], if argv[0] names one; returns its exit code.
pub fn dispatch_from_argv0() -> Option<i32> {
    let argv0 = std::env::args_os().next()?;
    let name = Path::new(&argv0).file_name()?.to_str()?.to_string();
    let variant = Variant::from_program_name(&name)?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = reference_helper::run(
        variant,
        &args,
        &mut io::stdin().lock(),
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
    );
    Some(code)
}

/// A folder of symlinks to this binary, one per bundled program, removed when dropped.
pub struct BundledPrograms {
    dir: tempfile::TempDir,
}

impl BundledPrograms {
    /// Creates links to this binary for the reference helper and every mutant.
    pub fn create() -> io::Result<Self> {
        Self::linking(&std::env::current_exe()?)
    }

    /// Creates the links to `exe`, a `credconform` binary (tests link the built binary).
    pub fn linking(exe: &Path) -> io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("credconform-bin-")
            .tempdir()?;
        let variants = std::iter::once(Variant::Reference)
            .chain(Mutant::ALL.iter().copied().map(Variant::Mutant));
        for v in variants {
            std::os::unix::fs::symlink(exe, dir.path().join(v.program_name()))?;
        }
        Ok(BundledPrograms { dir })
    }

    /// The folder, to put on PATH.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The path of one program.
    pub fn path(&self, variant: Variant) -> PathBuf {
        self.dir.path().join(variant.program_name())
    }
}
