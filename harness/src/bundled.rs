//! Programs bundled inside the `credconform` binary: the reference credential helper and its
//! mutants, the reference login client and its mutants ([`login`]), and the spy credential
//! helper the login suite hands to CLIs ([`spy`]). The binary runs as one of them when it is invoked under that program's name
//! (through a symlink), so they need no separate build or install.

use std::{
    io,
    path::{Path, PathBuf},
};

pub mod login;
pub mod spy;

pub use login::{LoginMutant, LoginVariant};
pub use reference_helper::{Mutant, Variant};

/// Runs the bundled program named by argv[0], if argv[0] names one; returns its exit code.
pub fn dispatch_from_argv0() -> Option<i32> {
    let argv0 = std::env::args_os().next()?;
    let name = Path::new(&argv0).file_name()?.to_str()?.to_string();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (stdin, stdout, stderr) = (&mut io::stdin(), &mut io::stdout(), &mut io::stderr());
    if let Some(variant) = Variant::from_program_name(&name) {
        return Some(reference_helper::run(
            variant,
            &args,
            &mut stdin.lock(),
            &mut stdout.lock(),
            &mut stderr.lock(),
        ));
    }
    if let Some(variant) = LoginVariant::from_program_name(&name) {
        // Not locked: the client prompts on its terminal through stdin/stdout itself.
        return Some(login::run(variant, &args, stdin, stdout, stderr));
    }
    let label = name.strip_prefix(spy::PREFIX)?;
    Some(spy::run(
        label,
        &args,
        &mut stdin.lock(),
        &mut stdout.lock(),
    ))
}

/// A folder of symlinks to this binary, one per bundled program, removed when dropped.
pub struct BundledPrograms {
    dir: tempfile::TempDir,
}

impl BundledPrograms {
    /// Creates links to this binary for every bundled program.
    pub fn create() -> io::Result<Self> {
        Self::linking(&std::env::current_exe()?)
    }

    /// Creates the links to `exe`, a `credconform` binary (tests link the built binary).
    pub fn linking(exe: &Path) -> io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("credconform-bin-")
            .tempdir()?;
        let names = Variant::all()
            .map(|v| v.program_name())
            .chain(LoginVariant::all().map(LoginVariant::program_name))
            .chain(spy::LABELS.iter().map(|l| format!("{}{l}", spy::PREFIX)));
        for name in names {
            std::os::unix::fs::symlink(exe, dir.path().join(name))?;
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

    /// The path of the reference login client or one of its mutants.
    pub fn login_path(&self, variant: LoginVariant) -> PathBuf {
        self.dir.path().join(variant.program_name())
    }
}
