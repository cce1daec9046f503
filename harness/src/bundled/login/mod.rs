//! The reference login client, docker-compatible: `login [-u USER] [--password-stdin |
//! -p PASS] SERVER` and `logout SERVER`, with the config file in `$DOCKER_CONFIG/config.json`.
//! It pings the registry, follows its challenge (Basic or Bearer with an offline token),
//! stores an identity token instead of the password when the realm returns one, delegates to
//! `credHelpers` / `credsStore`, and writes the file atomically with mode 0600 keeping every
//! key. Its mutants each break one of those rules, to prove the login suite catches it.

mod config;
mod helper;
mod prompt;
mod registry;

use std::io::{Read, Write};

use config::{Config, Stored};
use registry::Refused;

/// The program name of the reference client.
pub const REFERENCE_NAME: &str = "credconform-login-ref";
const MUTANT_PREFIX: &str = "credconform-login-mutant-";

/// Declares [`LoginMutant`]: each variant with its doc, the name in its program name and the
/// rule it breaks.
macro_rules! login_mutants {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal: $rule:literal,)*) => {
        /// A client with one deliberate fault.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum LoginMutant {
            $($(#[doc = $doc])* $variant,)*
        }

        impl LoginMutant {
            /// Every mutant.
            pub const ALL: &'static [LoginMutant] = &[$(LoginMutant::$variant,)*];

            /// The mutant's name in its program name.
            pub fn name(self) -> &'static str {
                match self { $(LoginMutant::$variant => $name,)* }
            }

            /// The rule it breaks, for test output.
            pub fn rule_broken(self) -> &'static str {
                match self { $(LoginMutant::$variant => $rule,)* }
            }
        }
    };
}

login_mutants! {
    /// Exits 0 when the registry refuses the login.
    ExitZeroOnRefusal = "exit-zero-on-refusal": "a refused login exits non-zero",
    /// Writes the config file world-readable (0644) and a new folder 0755.
    WorldReadable = "world-readable": "the config file is 0600, a new folder 0700",
    /// Writes the secret into the file even when a credential helper stores it.
    SecretInFile = "secret-in-file": "with a credential helper the secret is not in the file",
    /// Keeps only `auths`, `credsStore` and `credHelpers`, dropping every other setting.
    DropsSettings = "drops-settings": "a login keeps every other setting",
    /// Truncates the config file before logging in, leaving it empty when the login fails.
    PartialFileOnFailure = "partial-file-on-failure": "a failed login leaves the file unchanged",
    /// Uses `credsStore` even for registries that have a `credHelpers` entry.
    IgnoresCredHelpers = "ignores-cred-helpers": "credHelpers wins over credsStore",
    /// Stores the password although the registry returned an identity token.
    PasswordOverIdentityToken = "password-over-identity-token":
        "a refresh token is stored, not the password",
    /// Logs out without asking the credential helper to erase the secret.
    NoEraseOnLogout = "no-erase-on-logout": "logout erases the secret from the helper",
    /// Logs out of every registry at once.
    LogoutRemovesAll = "logout-removes-all": "logout removes only that registry's entry",
    /// Keeps the trailing newline of `--password-stdin` input as part of the secret.
    KeepsNewline = "keeps-newline": "--password-stdin drops the trailing newline",
    /// Stores the entry under the registry argument as typed (`http://host:port/`).
    KeyAsTyped = "key-as-typed": "entries are keyed host:port",
    /// Takes `--password` without warning that it is insecure.
    SilentPasswordFlag = "silent-password-flag": "--password warns that it is insecure",
}

/// The reference client or one of its mutants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginVariant {
    /// The conforming client.
    Reference,
    /// A client with one fault.
    Mutant(LoginMutant),
}

impl LoginVariant {
    /// The variant a program name stands for.
    pub fn from_program_name(name: &str) -> Option<LoginVariant> {
        LoginVariant::all().find(|v| v.program_name() == name)
    }

    /// Its program name.
    pub fn program_name(self) -> String {
        match self {
            LoginVariant::Reference => REFERENCE_NAME.into(),
            LoginVariant::Mutant(m) => format!("{MUTANT_PREFIX}{}", m.name()),
        }
    }

    /// Every variant: the reference first.
    pub fn all() -> impl Iterator<Item = LoginVariant> {
        std::iter::once(LoginVariant::Reference)
            .chain(LoginMutant::ALL.iter().copied().map(LoginVariant::Mutant))
    }
}

struct Client<'a> {
    mutant: Option<LoginMutant>,
    stdin: &'a mut dyn Read,
    stdout: &'a mut dyn Write,
    stderr: &'a mut dyn Write,
}

/// Runs one invocation; returns the exit code.
pub fn run(
    variant: LoginVariant,
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let mut client = Client {
        mutant: match variant {
            LoginVariant::Reference => None,
            LoginVariant::Mutant(m) => Some(m),
        },
        stdin,
        stdout,
        stderr,
    };
    let result = match args.first().map(String::as_str) {
        Some("login") => client.login(&args[1..]),
        Some("logout") => client.logout(&args[1..]),
        Some("--version" | "version") => {
            let _ = writeln!(
                client.stdout,
                "credconform reference login client {}",
                env!("CARGO_PKG_VERSION")
            );
            Ok(())
        }
        _ => Err(Failure::Usage(
            "usage: login [-u USER] [--password-stdin | -p PASSWORD] SERVER | logout SERVER".into(),
        )),
    };
    match result {
        Ok(()) => 0,
        Err(f) => {
            let _ = writeln!(client.stderr, "Error: {}", f.message());
            match f {
                Failure::Refused(_) if client.is(LoginMutant::ExitZeroOnRefusal) => 0,
                Failure::Usage(_) => 2,
                _ => 1,
            }
        }
    }
}

enum Failure {
    Usage(String),
    Refused(String),
    Other(String),
}

impl Failure {
    fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Refused(m) | Failure::Other(m) => m,
        }
    }
}

#[derive(Default)]
struct LoginArgs {
    user: Option<String>,
    password: Option<String>,
    password_stdin: bool,
    server: String,
}

fn parse_login(args: &[String]) -> Result<LoginArgs, Failure> {
    let mut parsed = LoginArgs::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| Failure::Usage(format!("{flag} needs a value")))
        };
        match a.as_str() {
            "-u" | "--username" => parsed.user = Some(value(a)?),
            "-p" | "--password" => parsed.password = Some(value(a)?),
            "--password-stdin" => parsed.password_stdin = true,
            s if s.starts_with("--username=") => parsed.user = Some(s[11..].into()),
            s if s.starts_with("--password=") => parsed.password = Some(s[11..].into()),
            s if s.starts_with('-') => return Err(Failure::Usage(format!("unknown flag {s}"))),
            s if parsed.server.is_empty() => parsed.server = s.into(),
            s => return Err(Failure::Usage(format!("unexpected argument {s}"))),
        }
    }
    if parsed.server.is_empty() {
        return Err(Failure::Usage("give the registry: login SERVER".into()));
    }
    if parsed.password_stdin && parsed.password.is_some() {
        return Err(Failure::Usage(
            "--password and --password-stdin are mutually exclusive".into(),
        ));
    }
    Ok(parsed)
}

/// `http://host:port/`, `https://host:port` and `host:port` all name the key `host:port`;
/// loopback registries are spoken to over plain HTTP, others over HTTPS.
fn normalize(server: &str) -> (String, String) {
    let (scheme, rest) = match server.split_once("://") {
        Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
        None => (None, server),
    };
    let key = rest.split('/').next().unwrap_or(rest).to_string();
    let host = key.rsplit_once(':').map_or(key.as_str(), |(h, _)| h);
    let loopback = host == "localhost" || host.starts_with("127.") || host == "[::1]";
    let scheme = scheme.unwrap_or_else(|| if loopback { "http" } else { "https" }.into());
    (key.clone(), format!("{scheme}://{key}"))
}

impl Client<'_> {
    fn is(&self, m: LoginMutant) -> bool {
        self.mutant == Some(m)
    }

    fn file_modes(&self) -> (u32, u32) {
        if self.is(LoginMutant::WorldReadable) {
            (0o644, 0o755)
        } else {
            (0o600, 0o700)
        }
    }

    fn login(&mut self, args: &[String]) -> Result<(), Failure> {
        let a = parse_login(args)?;
        let (normal_key, base) = normalize(&a.server);
        let key = if self.is(LoginMutant::KeyAsTyped) {
            a.server.clone()
        } else {
            normal_key
        };
        let mut cfg = Config::load(config::path()).map_err(Failure::Other)?;
        if self.is(LoginMutant::PartialFileOnFailure) && cfg.existed {
            let _ = std::fs::write(&cfg.path, b"");
        }
        let user = match a.user {
            Some(u) => u,
            None => prompt::ask("Username: ", false).map_err(Failure::Other)?,
        };
        let secret = if a.password_stdin {
            let mut text = String::new();
            self.stdin
                .read_to_string(&mut text)
                .map_err(|e| Failure::Other(format!("cannot read the password: {e}")))?;
            if !self.is(LoginMutant::KeepsNewline) {
                let trimmed = text.strip_suffix('\n').unwrap_or(&text);
                text = trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string();
            }
            text
        } else if let Some(p) = a.password {
            if !self.is(LoginMutant::SilentPasswordFlag) {
                let _ = writeln!(
                    self.stderr,
                    "WARNING! Using --password via the CLI is insecure. Use --password-stdin."
                );
            }
            p
        } else {
            prompt::ask("Password: ", true).map_err(Failure::Other)?
        };
        if user.trim().is_empty() || secret.is_empty() {
            return Err(Failure::Usage(
                "a username and a password are required".into(),
            ));
        }
        let granted = registry::authenticate(&base, &user, &secret).map_err(|r| match r {
            Refused::Unauthorized(m) => {
                Failure::Refused(format!("login to {key} refused: unauthorized: {m}"))
            }
            Refused::Unavailable(m) => Failure::Other(format!("login to {key} failed: {m}")),
        })?;
        let token = granted
            .identity_token
            .filter(|_| !self.is(LoginMutant::PasswordOverIdentityToken));
        let (user, secret) = (user.as_str(), secret.as_str());
        let (helper_user, helper_secret, in_file) = match &token {
            Some(token) => (
                "<token>",
                token.as_str(),
                Stored::IdentityToken { user, token },
            ),
            None => (user, secret, Stored::Password { user, secret }),
        };
        let helper = cfg.helper_for(&key, self.is(LoginMutant::IgnoresCredHelpers));
        if let Some(h) = &helper {
            helper::store(h, &key, helper_user, helper_secret)
                .map_err(|e| Failure::Other(format!("error saving credentials: {e}")))?;
        }
        let in_helper = helper.is_some() && !self.is(LoginMutant::SecretInFile);
        cfg.set_entry(&key, if in_helper { Stored::InHelper } else { in_file });
        if self.is(LoginMutant::DropsSettings) {
            cfg.drop_other_keys();
        }
        let (mode, dir_mode) = self.file_modes();
        cfg.save(mode, dir_mode).map_err(Failure::Other)?;
        let _ = writeln!(self.stdout, "Login Succeeded");
        Ok(())
    }

    fn logout(&mut self, args: &[String]) -> Result<(), Failure> {
        let [server] = args else {
            return Err(Failure::Usage("usage: logout SERVER".into()));
        };
        let (key, _) = normalize(server);
        let mut cfg = Config::load(config::path()).map_err(Failure::Other)?;
        let helper = cfg.helper_for(&key, false);
        if !cfg.has_entry(&key) && helper.is_none() {
            let _ = writeln!(self.stdout, "Not logged in to {key}");
            return Ok(());
        }
        let _ = writeln!(self.stdout, "Removing login credentials for {key}");
        if let Some(h) = &helper
            && !self.is(LoginMutant::NoEraseOnLogout)
            && let Err(e) = helper::erase(h, &key)
        {
            let _ = writeln!(self.stderr, "WARNING: could not erase credentials: {e}");
        }
        if self.is(LoginMutant::LogoutRemovesAll) {
            cfg.clear_entries();
        } else {
            cfg.remove_entry(&key);
        }
        if cfg.existed {
            let (mode, dir_mode) = self.file_modes();
            cfg.save(mode, dir_mode).map_err(Failure::Other)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_normalize_to_host_port_keys() {
        assert_eq!(
            normalize("http://127.0.0.1:5000/"),
            ("127.0.0.1:5000".into(), "http://127.0.0.1:5000".into())
        );
        assert_eq!(normalize("127.0.0.1:5000").1, "http://127.0.0.1:5000");
        assert_eq!(
            normalize("registry.example.com").1,
            "https://registry.example.com"
        );
    }

    #[test]
    fn program_names_round_trip() {
        for v in LoginVariant::all() {
            assert_eq!(LoginVariant::from_program_name(&v.program_name()), Some(v));
        }
        assert!(LoginMutant::ALL.len() >= 6);
        assert_eq!(LoginVariant::from_program_name("docker"), None);
    }

    #[test]
    fn login_arguments_parse_like_docker() {
        let args: Vec<String> = ["-u", "alice", "--password-stdin", "h:1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let a = parse_login(&args).ok().unwrap();
        assert_eq!(
            (a.user.as_deref(), a.password_stdin, a.server.as_str()),
            (Some("alice"), true, "h:1")
        );
        let bad: Vec<String> = vec![
            "--password-stdin".into(),
            "-p".into(),
            "x".into(),
            "h".into(),
        ];
        assert!(parse_login(&bad).is_err());
    }
}
