//! Where the runner's data comes from: the suites, the login-CLI profiles, the login snapshots
//! and the fake registry's seed are built into the binary (so a copied or `cargo install`ed
//! binary works anywhere), and a user may name folders on disk instead or besides
//! (`--suites-dir`, `--add-suite`, `--snapshots-dir`).
//!
//! A built-in file is named by its path in the project (`suites/login/01-login.toml`), which is
//! relative; a file on disk by its absolute path. [`read_suite_file`] tells them apart that way.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use include_dir::{Dir, include_dir};

static SUITES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../suites");
static PROFILES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../fixtures/profiles");
static SNAPSHOTS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../fixtures/snapshots");

/// The seed every login case's fake registry starts from (`fixtures/registry/default.toml`).
pub const REGISTRY_SEED: &str = include_str!("../../fixtures/registry/default.toml");

/// The path shown for the built-in registry seed.
pub const REGISTRY_SEED_PATH: &str = "fixtures/registry/default.toml";

/// A folder of data files, named by its path: relative (the project path, `suites/login`) when
/// it is built into the binary, absolute when it is on disk.
#[derive(Debug, Clone)]
pub struct Folder(PathBuf);

/// One text file of a folder.
#[derive(Debug, Clone)]
pub struct TextFile {
    /// The path shown for it: project-relative when built in, absolute on disk.
    pub path: PathBuf,
    /// Its content.
    pub text: String,
}

impl Folder {
    /// The built-in suites (`suites/`).
    pub fn suites() -> Folder {
        Folder("suites".into())
    }

    /// The built-in login-CLI profiles (`fixtures/profiles/`).
    pub fn profiles() -> Folder {
        Folder("fixtures/profiles".into())
    }

    /// The built-in login snapshots (`fixtures/snapshots/`, a folder per profile).
    pub fn snapshots() -> Folder {
        Folder("fixtures/snapshots".into())
    }

    /// The folder `path` on disk, made absolute against the current directory.
    pub fn on_disk(path: &Path) -> Folder {
        Folder(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
    }

    /// The path shown for the folder: project-relative when built in, absolute on disk.
    pub fn path(&self) -> PathBuf {
        self.0.clone()
    }

    /// The folder's own name (its last path component).
    pub fn name(&self) -> String {
        self.0
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The sub-folder `name` (which need not exist: it then holds no file).
    pub fn join(&self, name: &str) -> Folder {
        Folder(self.0.join(name))
    }

    /// The sub-folders, sorted by name.
    pub fn subfolders(&self) -> io::Result<Vec<Folder>> {
        let entries = self.entries()?.into_iter();
        Ok(entries
            .filter(|(_, dir)| *dir)
            .map(|(n, _)| self.join(&n))
            .collect())
    }

    /// The files whose names end in `.EXT`, sorted by name.
    pub fn files(&self, ext: &str) -> io::Result<Vec<TextFile>> {
        let entries = self.entries()?.into_iter();
        entries
            .filter(|(n, dir)| !dir && Path::new(n).extension().is_some_and(|x| x == ext))
            .map(|(n, _)| {
                let path = self.0.join(n);
                let text = read_file(&path)?.ok_or_else(|| not_found(&path))?;
                Ok(TextFile { path, text })
            })
            .collect()
    }

    /// The folder's entries, sorted by name, each with whether it is a folder.
    fn entries(&self) -> io::Result<Vec<(String, bool)>> {
        let name = |n: &std::ffi::OsStr| n.to_string_lossy().into_owned();
        let mut entries: Vec<(String, bool)> = match self.0.is_absolute() {
            true => fs::read_dir(&self.0)?
                .filter_map(Result::ok)
                .map(|e| (name(&e.file_name()), e.path().is_dir()))
                .collect(),
            false => built_in_dir(&self.0)
                .ok_or_else(|| not_found(&self.0))?
                .entries()
                .iter()
                .filter_map(|e| Some((name(e.path().file_name()?), e.as_dir().is_some())))
                .collect(),
        };
        entries.sort();
        Ok(entries)
    }

    /// The text of the file `name` of this folder, `None` when there is none.
    pub fn read(&self, name: &str) -> io::Result<Option<String>> {
        read_file(&self.0.join(name))
    }

    /// Writes the file `name` (creating the folder); a built-in folder cannot be written.
    pub fn write(&self, name: &str, text: &str) -> io::Result<PathBuf> {
        if self.0.is_relative() {
            return Err(io::Error::new(
                io::ErrorKind::ReadOnlyFilesystem,
                format!(
                    "{} is built into the binary: name a folder to write to",
                    self.0.display()
                ),
            ));
        }
        fs::create_dir_all(&self.0)?;
        let file = self.0.join(name);
        fs::write(&file, text)?;
        Ok(file)
    }
}

/// The built-in tree holding the project path `path`, and the path inside that tree.
fn built_in(path: &Path) -> Option<(&'static Dir<'static>, &Path)> {
    [
        (&SUITES, "suites"),
        (&PROFILES, "fixtures/profiles"),
        (&SNAPSHOTS, "fixtures/snapshots"),
    ]
    .into_iter()
    .find_map(|(tree, shown)| Some((tree, path.strip_prefix(shown).ok()?)))
}

/// The built-in folder at the project path `path`.
fn built_in_dir(path: &Path) -> Option<&'static Dir<'static>> {
    let (tree, inner) = built_in(path)?;
    match inner.as_os_str().is_empty() {
        true => Some(tree),
        false => tree.get_dir(inner),
    }
}

/// The text of the file `path`, `None` when there is none: built in when the path is relative,
/// on disk when it is absolute.
fn read_file(path: &Path) -> io::Result<Option<String>> {
    if path.is_absolute() {
        return match fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
    }
    let file = built_in(path).and_then(|(tree, inner)| tree.get_file(inner));
    file.map(|f| {
        f.contents_utf8()
            .map(str::to_string)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))
    })
    .transpose()
}

/// The text of a suite file named by a case's source: built in when the path is relative
/// (`suites/login/01-login.toml`), read from disk when it is absolute.
pub fn read_suite_file(path: &Path) -> io::Result<String> {
    match path.is_absolute() {
        true => fs::read_to_string(path),
        false => read_file(path)?.ok_or_else(|| not_found(path)),
    }
}

/// Whether a case's source file is one of the built-in suites.
pub fn is_built_in(path: &Path) -> bool {
    path.is_relative()
}

fn not_found(path: &Path) -> io::Error {
    let what = path.display();
    io::Error::new(io::ErrorKind::NotFound, format!("no built-in file {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_folders_list_read_and_name_project_paths() {
        let suites = Folder::suites().subfolders().unwrap();
        let login = suites.iter().find(|f| f.name() == "login").unwrap();
        assert_eq!(login.path(), Path::new("suites/login"));
        let files = login.files("toml").unwrap();
        assert!(
            files
                .iter()
                .any(|f| f.path == Path::new("suites/login/suite.toml"))
        );
        let first = &files[0];
        assert_eq!(read_suite_file(&first.path).unwrap(), first.text);
        assert!(
            Folder::snapshots()
                .join("no-such")
                .read("x.snap")
                .unwrap()
                .is_none()
        );
        assert!(Folder::profiles().files("toml").unwrap().len() >= 7);
        assert!(Folder::suites().write("x", "y").is_err());
        assert!(fake_registry::Seed::from_toml(REGISTRY_SEED).is_ok());
    }

    #[test]
    fn disk_folders_are_absolute_and_writable() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::on_disk(dir.path()).join("docker");
        assert!(folder.read("a.snap").unwrap().is_none());
        let written = folder.write("a.snap", "text").unwrap();
        assert!(written.is_absolute());
        assert_eq!(folder.read("a.snap").unwrap().as_deref(), Some("text"));
        assert_eq!(folder.files("snap").unwrap()[0].path, written);
        assert_eq!(read_suite_file(&written).unwrap(), "text");
        assert!(Folder::on_disk(Path::new("rel")).path().is_absolute());
    }
}
