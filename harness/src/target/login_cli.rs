//! A login CLI under test: the program, resolved and checked, and its profile.

use std::{fs, os::unix::fs::PermissionsExt, path::PathBuf, time::Duration};

use super::{
    TargetInfo, file_name, find_program,
    profile::{self, Profile},
};
use crate::drive::{self, Ending, Invocation};

/// Why a login CLI cannot be certified at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum LoginCliError {
    /// No such file, and no such program on PATH.
    #[error("login CLI `{0}` not found (give a path, or a program name on PATH)")]
    NotFound(String),
    /// The file's metadata cannot be read.
    #[error("{}: {reason}", path.display())]
    Unreadable {
        /// The program's path.
        path: PathBuf,
        /// The operating system's reason.
        reason: std::io::Error,
    },
    /// A directory, or a file without execute permission.
    #[error("login CLI `{}` is not an executable file", .0.display())]
    NotExecutable(PathBuf),
    /// A relative path cannot be made absolute.
    #[error("cannot read the current folder: {0}")]
    NoCurrentDir(std::io::Error),
    /// No profile fits, or the profile cannot be read.
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
}

/// A login CLI and the profile that says how to drive it.
#[derive(Debug, Clone)]
pub struct LoginCliTarget {
    /// The program, resolved to an absolute path.
    pub path: PathBuf,
    /// How it logs in and out and where its config file lives.
    pub profile: Profile,
    /// The timeout of each invocation.
    pub timeout: Duration,
}

impl LoginCliTarget {
    /// Resolves `name` (a path or a program on PATH) and picks its built-in profile: `profile`
    /// when given, else the one claiming the program's file name.
    pub fn resolve(name: &str, profile: Option<&str>) -> Result<Self, LoginCliError> {
        let path = find_program(name).ok_or_else(|| LoginCliError::NotFound(name.to_string()))?;
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(reason) => return Err(LoginCliError::Unreadable { path, reason }),
        };
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            return Err(LoginCliError::NotExecutable(path));
        }
        let path = if path.is_absolute() {
            path
        } else {
            std::env::current_dir()
                .map_err(LoginCliError::NoCurrentDir)?
                .join(path)
        };
        let profile = profile::choose(profile, &path)?;
        Ok(LoginCliTarget {
            path,
            profile,
            timeout: Duration::from_secs(10),
        })
    }

    /// Describes the target for reports (the digest is left empty, as for helpers).
    pub fn describe(&self) -> TargetInfo {
        let version = (!self.profile.version_args.is_empty())
            .then(|| {
                let mut inv = Invocation::new(&self.path, self.profile.version_args.clone());
                inv.timeout = self.timeout;
                drive::run(&inv).ok()
            })
            .flatten()
            .filter(|o| o.ending == Ending::Exited(0))
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout);
                text.lines().next().unwrap_or_default().trim().to_string()
            });
        TargetInfo {
            kind: crate::scenario::TargetKind::LoginCli,
            name: format!("{} (profile {})", file_name(&self.path), self.profile.name),
            path: self.path.display().to_string(),
            sha256: String::new(),
            version,
            get_only: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_programs_and_unknown_profiles_are_named() {
        let err = LoginCliTarget::resolve("/no/such/docker", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("/no/such/docker"), "{err}");
        let err = LoginCliTarget::resolve("sh", None).unwrap_err().to_string();
        assert!(err.contains("--profile"), "{err}");
        let t = LoginCliTarget::resolve("sh", Some("docker")).unwrap();
        assert_eq!(t.profile.name, "docker");
        assert!(t.path.is_absolute());
    }
}
