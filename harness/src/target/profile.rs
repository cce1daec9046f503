//! Login CLI profiles (`fixtures/profiles/*.toml`): how a CLI logs in and out, where its config
//! file lives, which variables move it, and what it declares it supports. Profiles are data; no
//! code knows a CLI by name.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::assets::Folder;

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
    pub file: String,
    /// Variables that point the CLI at the sandbox's file.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// Argument templates of a login, one per way of handing over the secret. Placeholders:
/// `${registry}`, `${user}`, `${secret}`, `${config_dir}`, `${auth_file}`, `${home}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSpec {
    /// The secret is written to standard input (`--password-stdin`).
    pub stdin: Vec<String>,
    /// The secret is an argument (`--password`).
    #[serde(default)]
    pub flag: Option<Vec<String>>,
    /// The CLI prompts for `Username:` and `Password:` on its terminal.
    #[serde(default)]
    pub prompt: Option<Vec<String>>,
}

/// Argument template of a logout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutSpec {
    /// Arguments.
    pub args: Vec<String>,
}

/// Declared capabilities.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Honours `credsStore`.
    #[serde(default)]
    pub creds_store: bool,
    /// Honours `credHelpers`.
    #[serde(default)]
    pub cred_helpers: bool,
    /// Stores OAuth refresh tokens as `identitytoken`.
    #[serde(default)]
    pub identity_token: bool,
    /// Prompts for username and password on a terminal.
    #[serde(default)]
    pub prompt: bool,
    /// Takes the password as an argument.
    #[serde(default)]
    pub password_flag: bool,
}

/// A capability a case can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// See [`Capabilities::creds_store`].
    CredsStore,
    /// See [`Capabilities::cred_helpers`].
    CredHelpers,
    /// See [`Capabilities::identity_token`].
    IdentityToken,
    /// See [`Capabilities::prompt`].
    Prompt,
    /// See [`Capabilities::password_flag`].
    PasswordFlag,
}

impl Capabilities {
    /// Whether the profile declares `c`.
    pub fn has(&self, c: Capability) -> bool {
        match c {
            Capability::CredsStore => self.creds_store,
            Capability::CredHelpers => self.cred_helpers,
            Capability::IdentityToken => self.identity_token,
            Capability::Prompt => self.prompt,
            Capability::PasswordFlag => self.password_flag,
        }
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
    /// The file is not valid.
    #[error("{file}: {message}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
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
    let dir = Folder::profiles();
    let files = dir.files("toml").map_err(|e| ProfileError::Invalid {
        file: dir.path(),
        message: format!("cannot read the profiles folder: {e}"),
    })?;
    files
        .iter()
        .map(|f| {
            toml::from_str::<Profile>(&f.text).map_err(|e| ProfileError::Invalid {
                file: f.path.clone(),
                message: e.message().trim().into(),
            })
        })
        .collect()
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
    let file = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
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

/// Expands the profile placeholders `${name}` with `vars`; an unknown one is an error.
pub fn expand(template: &str, vars: &[(&str, &str)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find("${") {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos + 2..];
        let close = tail
            .find('}')
            .ok_or_else(|| format!("unclosed placeholder in `{template}`"))?;
        let key = &tail[..close];
        let value = vars
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("unknown placeholder `${{{key}}}` in `{template}`"))?;
        out.push_str(value);
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
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
    fn placeholders_expand_and_unknown_ones_are_refused() {
        let vars = [("registry", "127.0.0.1:5000"), ("user", "alice")];
        assert_eq!(
            expand("-u=${user} ${registry}", &vars).unwrap(),
            "-u=alice 127.0.0.1:5000"
        );
        assert!(expand("${nope}", &vars).unwrap_err().contains("nope"));
        assert!(expand("${user", &vars).is_err());
    }
}
