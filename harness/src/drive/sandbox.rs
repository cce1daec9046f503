//! A sandbox per login case: a temporary HOME, XDG folders, config folder and auth file, a bin
//! folder with the spy credential helpers, a scrubbed environment and a controlled PATH.
//!
//! PATH holds the CLI's folder, the sandbox bin folder and the system folders, except any
//! folder that holds a `docker-credential-*` program or `pass`: docker silently switches to
//! `credsStore: pass` when `pass` and `docker-credential-pass` are on PATH (docs/protocol.md
//! §2.2), and a user's helpers must never be reached. When the CLI's own folder holds such a
//! program the CLI is reached through a link in the sandbox instead.

use std::{
    ffi::OsString,
    fs, io,
    os::unix::fs::{DirBuilderExt, PermissionsExt},
    path::{Path, PathBuf},
};

use super::Invocation;
use crate::bundled::spy;

/// System folders considered for PATH.
const SYSTEM_DIRS: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// One case's sandbox; removed when dropped.
#[derive(Debug)]
pub struct Sandbox {
    root: tempfile::TempDir,
    /// The temporary HOME.
    pub home: PathBuf,
    /// The docker-style config folder (`DOCKER_CONFIG`), not created by the sandbox.
    pub config_dir: PathBuf,
    /// The containers-style auth file (`--authfile`), its folder not created by the sandbox.
    pub auth_file: PathBuf,
    /// The spy helpers' folder (store and call log).
    pub spy_dir: PathBuf,
    /// The program to run: the CLI, or a link to it inside the sandbox.
    pub program: PathBuf,
    env: Vec<(OsString, OsString)>,
}

impl Sandbox {
    /// Makes a sandbox for `cli`, with spy helpers linked from `bundled_dir` (a folder holding
    /// `docker-credential-ccspy-*` links to the credconform binary).
    pub fn new(cli: &Path, bundled_dir: &Path) -> io::Result<Sandbox> {
        let root = tempfile::Builder::new().prefix("ccsb-").tempdir()?;
        let r = root.path();
        let dir = |name: &str, mode: u32| -> io::Result<PathBuf> {
            let p = r.join(name);
            fs::DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(&p)?;
            fs::set_permissions(&p, fs::Permissions::from_mode(mode))?;
            Ok(p)
        };
        let home = dir("home", 0o700)?;
        let bin = dir("bin", 0o755)?;
        let spy_dir = dir("spy", 0o700)?;
        let runtime = dir("run", 0o700)?;
        let config_home = dir("xdg/config", 0o700)?;
        let data = dir("xdg/data", 0o700)?;
        let cache = dir("xdg/cache", 0o700)?;
        let tmp = dir("tmp", 0o700)?;
        for label in spy::LABELS {
            let name = format!("{}{label}", spy::PREFIX);
            std::os::unix::fs::symlink(bundled_dir.join(&name), bin.join(&name))?;
        }
        let cli_dir = cli.parent().unwrap_or(Path::new("/"));
        let program = if holds_credential_programs(cli_dir) {
            let links = dir("cli", 0o755)?;
            let link = links.join(cli.file_name().unwrap_or_default());
            std::os::unix::fs::symlink(cli, &link)?;
            link
        } else {
            cli.to_path_buf()
        };
        let mut path_dirs = vec![
            program.parent().unwrap_or(Path::new("/")).to_path_buf(),
            bin,
        ];
        path_dirs.extend(
            SYSTEM_DIRS
                .iter()
                .map(PathBuf::from)
                .filter(|d| d.is_dir() && !holds_credential_programs(d)),
        );
        let path = std::env::join_paths(&path_dirs).map_err(io::Error::other)?;
        let user = std::env::var_os("USER").unwrap_or_else(|| "credconform".into());
        let env: Vec<(OsString, OsString)> = vec![
            ("HOME".into(), home.clone().into()),
            ("USER".into(), user.clone()),
            ("LOGNAME".into(), user),
            ("PATH".into(), path),
            ("XDG_CONFIG_HOME".into(), config_home.into()),
            ("XDG_DATA_HOME".into(), data.into()),
            ("XDG_CACHE_HOME".into(), cache.into()),
            ("XDG_RUNTIME_DIR".into(), runtime.into()),
            ("TMPDIR".into(), tmp.into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("TERM".into(), "dumb".into()),
            (spy::DIR_ENV.into(), spy_dir.clone().into()),
        ];
        Ok(Sandbox {
            config_dir: r.join("docker-config"),
            auth_file: r.join("containers").join("auth.json"),
            home,
            spy_dir,
            program,
            env,
            root,
        })
    }

    /// The sandbox folder.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Sets (or replaces) a variable of the sandbox environment.
    pub fn set_env(&mut self, key: impl Into<OsString>, value: impl Into<OsString>) {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
    }

    /// The whole environment the CLI gets (nothing is inherited).
    pub fn env(&self) -> &[(OsString, OsString)] {
        &self.env
    }

    /// An invocation of the CLI with `args` and `stdin`, in the sandbox environment only.
    pub fn invocation(&self, args: Vec<String>, stdin: Vec<u8>) -> Invocation {
        let mut inv = Invocation::new(&self.program, args);
        inv.stdin = stdin;
        inv.env_remove = std::env::vars_os().map(|(k, _)| k).collect();
        inv.env = self.env.clone();
        inv.cwd = Some(self.home.clone());
        inv
    }
}

/// True when `dir` holds a `docker-credential-*` program or `pass`.
fn holds_credential_programs(dir: &Path) -> bool {
    if dir.join("pass").exists() {
        return true;
    }
    fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("docker-credential-")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_leaves_out_folders_with_credential_programs_and_env_is_scrubbed() {
        let outside = tempfile::tempdir().unwrap();
        let cli_dir = outside.path().join("clidir");
        fs::create_dir(&cli_dir).unwrap();
        fs::write(cli_dir.join("docker-credential-pass"), "").unwrap();
        let cli = cli_dir.join("mycli");
        fs::write(&cli, "#!/bin/sh\n").unwrap();
        let bundled = outside.path().join("bundled");
        fs::create_dir(&bundled).unwrap();
        let sb = Sandbox::new(&cli, &bundled).unwrap();
        assert!(sb.program.starts_with(sb.root()), "{:?}", sb.program);
        let path = sb
            .env()
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone())
            .unwrap();
        for d in std::env::split_paths(&path) {
            assert!(
                !holds_credential_programs(&d) || d == sb.root().join("bin"),
                "{d:?}"
            );
        }
        assert!(sb.root().join("bin/docker-credential-ccspy-a").is_symlink());
        let inv = sb.invocation(vec!["x".into()], vec![]);
        assert!(inv.env_remove.iter().any(|k| k == "PATH"));
        let mode = fs::metadata(&sb.home).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(!sb.config_dir.exists() && !sb.auth_file.exists());
    }
}
