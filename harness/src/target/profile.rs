//! Login CLI profiles (`fixtures/profiles/*.toml`): how a CLI logs in and out, where its config
//! file lives, which variables move it, and what it declares it supports. Profiles are data; no
//! code knows a CLI by name.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::assets::{Folder, TextFile};
use crate::scenario::{
    LoadError,
    template::{Scope, Template, TemplateError, Values},
    toml_error,
};

/// A CLI profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile name (`docker`, `podman`, ...): snapshots live under this name.
    pub name: String,
    /// One line for reports.
    #[serde(default)]
    pub description: String,
    /// Program file names this profile is guessed for; a trailing `*` matches a prefix.
    pub program_names: Vec<String>,
    /// Arguments that print the version.
    #[serde(default)]
    pub version_args: Vec<String>,
    /// The config file.
    pub config: ConfigSpec,
    /// Logging in.
    pub login: LoginSpec,
    /// Logging out.
    pub logout: LogoutSpec,
    /// What the CLI declares it supports; cases needing more are skipped.
    pub capabilities: Capabilities,
}

/// Where the CLI keeps its logins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// The file, with `${config_dir}`, `${auth_file}` or `${home}`.
    pub file: Template<SandboxPaths>,
    /// Variables that point the CLI at the sandbox's file.
    #[serde(default)]
    pub env: BTreeMap<String, Template<SandboxPaths>>,
}

/// Argument templates of a login, one per way of handing over the secret. Placeholders:
/// `${registry}`, `${user}`, `${secret}`, `${config_dir}`, `${auth_file}`, `${home}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSpec {
    /// The secret is written to standard input (`--password-stdin`).
    pub stdin: Vec<Template<LoginArgs>>,
    /// The secret is an argument (`--password`).
    pub flag: Option<Vec<Template<LoginArgs>>>,
    /// The CLI prompts for `Username:` and `Password:` on its terminal.
    pub prompt: Option<Vec<Template<LoginArgs>>>,
}

/// Argument template of a logout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutSpec {
    /// Arguments, with `${registry}` and the sandbox paths.
    pub args: Vec<Template<LogoutArgs>>,
}

/// Declared capabilities: the `[capabilities]` table, `name = true` for each one supported.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(from = "BTreeMap<Capability, bool>")]
pub struct Capabilities(u8);

/// A capability a case can require, and a profile declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Honours `credsStore`.
    CredsStore,
    /// Honours `credHelpers`.
    CredHelpers,
    /// Stores OAuth refresh tokens as `identitytoken`.
    IdentityToken,
    /// Prompts for username and password on a terminal.
    Prompt,
    /// Takes the password as an argument.
    PasswordFlag,
}

impl From<BTreeMap<Capability, bool>> for Capabilities {
    fn from(declared: BTreeMap<Capability, bool>) -> Self {
        let on = declared.into_iter().filter(|(_, on)| *on);
        Capabilities(on.fold(0, |bits, (c, _)| bits | 1 << c as u8))
    }
}

impl Capabilities {
    /// Whether the profile declares `c`.
    pub fn has(&self, c: Capability) -> bool {
        self.0 & 1 << c as u8 != 0
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Capability::CredsStore => "credsStore",
            Capability::CredHelpers => "credHelpers",
            Capability::IdentityToken => "identity tokens",
            Capability::Prompt => "interactive prompts",
            Capability::PasswordFlag => "a password flag",
        })
    }
}

/// Why a profile could not be found or read.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// A profile file or the profiles folder cannot be read or is not valid (the error names
    /// the file, and the line and field when they are known).
    #[error(transparent)]
    Load(LoadError),
    /// No profile has that name.
    #[error("no profile `{name}` in {dir} (known: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The folder searched.
        dir: PathBuf,
        /// The names there.
        known: String,
    },
    /// No profile claims the program's file name.
    #[error("cannot guess the profile of `{program}`: give --profile NAME (known: {known})")]
    NoGuess {
        /// The program's file name.
        program: String,
        /// The names there.
        known: String,
    },
}

/// Loads every built-in `*.toml` profile (`fixtures/profiles`), sorted by name.
pub fn load_all() -> Result<Vec<Profile>, ProfileError> {
    load_folder(&Folder::profiles())
}

/// Loads every `*.toml` profile of `dir`, sorted by name.
fn load_folder(dir: &Folder) -> Result<Vec<Profile>, ProfileError> {
    let files = dir.files("toml").map_err(|e| {
        let message = format!("cannot read the profiles folder: {e}");
        ProfileError::Load(LoadError::new(&dir.path(), None, message))
    })?;
    let load = |f: &TextFile| toml::from_str(&f.text).map_err(|e| toml_error(&f.path, &f.text, &e));
    files
        .iter()
        .map(load)
        .collect::<Result<_, _>>()
        .map_err(ProfileError::Load)
}

/// The profile named `name`, or the one whose `program_names` match `program`'s file name.
pub fn choose(name: Option<&str>, program: &Path) -> Result<Profile, ProfileError> {
    let all = load_all()?;
    let known = all
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(name) = name {
        return all
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| ProfileError::Unknown {
                name: name.into(),
                dir: Folder::profiles().path(),
                known,
            });
    }
    let file = super::file_name(program);
    all.into_iter()
        .find(|p| p.program_names.iter().any(|pat| name_matches(pat, &file)))
        .ok_or(ProfileError::NoGuess {
            program: file,
            known,
        })
}

fn name_matches(pattern: &str, file: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => file.starts_with(prefix),
        None => file == pattern,
    }
}

/// A placeholder of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProfileVar {
    /// `${config_dir}`: the sandbox's config folder.
    ConfigDir,
    /// `${auth_file}`: the sandbox's auth file.
    AuthFile,
    /// `${home}`: the sandbox's home.
    Home,
    /// `${registry}`: the registry argument.
    Registry,
    /// `${user}`: the username.
    User,
    /// `${secret}`: the password or PAT.
    Secret,
}

/// Every profile placeholder: its name, and the first [`ProfileScope`] level that knows it.
const PROFILE_VARS: [(&str, ProfileVar, u8); 6] = [
    ("config_dir", ProfileVar::ConfigDir, 0),
    ("auth_file", ProfileVar::AuthFile, 0),
    ("home", ProfileVar::Home, 0),
    ("registry", ProfileVar::Registry, 1),
    ("user", ProfileVar::User, 2),
    ("secret", ProfileVar::Secret, 2),
];

/// The placeholders of a profile template: at level 0 the sandbox's paths (the config file and
/// its variables), at 1 also `${registry}` (a logout), at 2 also `${user}` and `${secret}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProfileScope<const LEVEL: u8>;

/// The placeholders of the config file and its variables.
pub type SandboxPaths = ProfileScope<0>;
/// The placeholders of a logout's arguments.
pub type LogoutArgs = ProfileScope<1>;
/// The placeholders of a login's arguments.
pub type LoginArgs = ProfileScope<2>;

impl<const LEVEL: u8> Scope for ProfileScope<LEVEL> {
    type Name = ProfileVar;
    const KNOWN: &'static str = [
        "config_dir, auth_file, home",
        "registry, config_dir, auth_file, home",
        "registry, user, secret, config_dir, auth_file, home",
    ][LEVEL as usize];
    fn name(body: &str) -> Result<ProfileVar, TemplateError> {
        PROFILE_VARS
            .iter()
            .find(|(name, _, level)| *name == body && *level <= LEVEL)
            .map(|(_, var, _)| *var)
            .ok_or_else(|| TemplateError::unknown::<Self>(body))
    }
}

/// The values of the profile placeholders; those a scope does not know are left empty.
#[derive(Debug, Clone, Default)]
pub struct ProfileValues<'a> {
    /// `${config_dir}`.
    pub config_dir: &'a str,
    /// `${auth_file}`.
    pub auth_file: &'a str,
    /// `${home}`.
    pub home: &'a str,
    /// `${registry}`.
    pub registry: &'a str,
    /// `${user}`.
    pub user: &'a str,
    /// `${secret}`.
    pub secret: &'a str,
}

impl<S: Scope<Name = ProfileVar>> Values<S> for ProfileValues<'_> {
    fn write(&self, name: &ProfileVar, out: &mut String) {
        out.push_str(match name {
            ProfileVar::ConfigDir => self.config_dir,
            ProfileVar::AuthFile => self.auth_file,
            ProfileVar::Home => self.home,
            ProfileVar::Registry => self.registry,
            ProfileVar::User => self.user,
            ProfileVar::Secret => self.secret,
        });
    }
}

/// Expands every template of an argument list.
pub fn expand_args<S: Scope<Name = ProfileVar>>(
    templates: &[Template<S>],
    values: &ProfileValues<'_>,
) -> Vec<String> {
    templates.iter().map(|t| t.expand(values)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_profiles_load_and_are_guessed_from_file_names() {
        let all = load_all().unwrap();
        for name in [
            "docker",
            "podman",
            "skopeo",
            "buildah",
            "crane",
            "oras",
            "reference",
        ] {
            assert!(all.iter().any(|p| p.name == name), "{name}");
        }
        let guess = |p: &str| choose(None, Path::new(p)).map(|p| p.name);
        assert_eq!(guess("/usr/local/bin/docker").unwrap(), "docker");
        assert_eq!(guess("/usr/bin/skopeo").unwrap(), "skopeo");
        assert_eq!(
            guess("/tmp/x/credconform-login-mutant-world-readable").unwrap(),
            "reference"
        );
        let err = guess("/usr/bin/nerdctl").unwrap_err().to_string();
        assert!(err.contains("--profile"), "{err}");
        assert_eq!(
            choose(Some("podman"), Path::new("/x/y")).unwrap().name,
            "podman"
        );
        assert!(choose(Some("nope"), Path::new("/x/y")).is_err());
    }

    #[test]
    fn only_the_capabilities_declared_true_are_had() {
        let caps: Capabilities = toml::from_str("prompt = true\ncreds_store = false").unwrap();
        assert!(caps.has(Capability::Prompt));
        assert!(!caps.has(Capability::CredsStore) && !caps.has(Capability::PasswordFlag));
        let err = toml::from_str::<Capabilities>("promt = true").unwrap_err();
        assert!(err.message().contains("promt"), "{err}");
    }

    #[test]
    fn placeholders_expand_and_unknown_ones_are_refused() {
        let values = ProfileValues {
            registry: "127.0.0.1:5000",
            user: "alice",
            ..Default::default()
        };
        let t = Template::<LoginArgs>::parse("-u=${user} ${registry}").unwrap();
        assert_eq!(t.expand(&values), "-u=alice 127.0.0.1:5000");
        assert!(Template::<LoginArgs>::parse("${nope}").is_err());
        assert!(Template::<LoginArgs>::parse("${user").is_err());
        assert!(Template::<LogoutArgs>::parse("${secret}").is_err());
        assert!(Template::<SandboxPaths>::parse("${registry}/x").is_err());
    }

    #[test]
    fn a_bad_placeholder_in_a_profile_names_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let text = Folder::profiles()
            .read("docker.toml")
            .unwrap()
            .unwrap()
            .replace(
                "args = [\"logout\", \"${registry}\"]",
                "args = [\"logout\", \"${user}\"]",
            );
        std::fs::write(dir.path().join("docker.toml"), &text).unwrap();
        let line = text.lines().position(|l| l.contains("${user}\"]")).unwrap() + 1;
        let err = load_folder(&Folder::on_disk(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("docker.toml:{line}")), "{err}");
        assert!(err.contains("field `logout.args`"), "{err}");
        assert!(err.contains("unknown placeholder `${user}`"), "{err}");
    }
}
