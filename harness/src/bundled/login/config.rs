//! The reference client's config file (`$DOCKER_CONFIG/config.json`): read as a JSON object so
//! every key survives, changed only under `auths`, written atomically with mode 0600.

use std::{
    fs,
    io::{self, Write},
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value};

/// Where the config file is: `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
pub fn path() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("config.json"),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".docker")
            .join("config.json"),
    }
}

/// A loaded config file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file.
    pub path: PathBuf,
    /// Whether it existed when loaded.
    pub existed: bool,
    /// Every key of the file.
    pub root: Map<String, Value>,
}

impl Config {
    /// Reads the file; a missing file is an empty config.
    pub fn load(path: PathBuf) -> Result<Config, String> {
        let (existed, root) = match fs::read(&path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => (true, Map::new()),
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(root)) => (true, root),
                Ok(_) => return Err(format!("{}: not a JSON object", path.display())),
                Err(e) => return Err(format!("{}: {e}", path.display())),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => (false, Map::new()),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        Ok(Config {
            path,
            existed,
            root,
        })
    }

    /// The credential helper for `key`: its `credHelpers` entry, else `credsStore`.
    pub fn helper_for(&self, key: &str, ignore_cred_helpers: bool) -> Option<String> {
        let named = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let specific = self
            .root
            .get("credHelpers")
            .and_then(Value::as_object)
            .and_then(|m| named(m.get(key)));
        match specific {
            Some(h) if !ignore_cred_helpers => Some(h),
            _ => named(self.root.get("credsStore")),
        }
    }

    fn auths(&mut self) -> &mut Map<String, Value> {
        let entry = self.root.entry("auths").or_insert(Value::Null);
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        entry.as_object_mut().expect("just made an object")
    }

    /// Sets `auths[key]`: `{}` when a helper holds the secret, else `auth` (base64 of
    /// `user:secret`, or `user:` beside an `identitytoken`).
    pub fn set_entry(&mut self, key: &str, stored: Stored<'_>) {
        let mut entry = Map::new();
        match stored {
            Stored::InHelper => {}
            Stored::Password { user, secret } => {
                entry.insert("auth".into(), encode(user, secret).into());
            }
            Stored::IdentityToken { user, token } => {
                entry.insert("auth".into(), encode(user, "").into());
                entry.insert("identitytoken".into(), token.into());
            }
        }
        self.auths().insert(key.to_string(), Value::Object(entry));
    }

    /// Removes `auths[key]`; true when it was there.
    pub fn remove_entry(&mut self, key: &str) -> bool {
        self.auths().remove(key).is_some()
    }

    /// Removes every entry of `auths`.
    pub fn clear_entries(&mut self) {
        self.auths().clear();
    }

    /// True when `auths[key]` exists.
    pub fn has_entry(&self, key: &str) -> bool {
        self.root
            .get("auths")
            .and_then(Value::as_object)
            .is_some_and(|m| m.contains_key(key))
    }

    /// Keeps only `auths`, `credsStore` and `credHelpers` (a mutant's fault).
    pub fn drop_other_keys(&mut self) {
        self.root
            .retain(|k, _| matches!(k.as_str(), "auths" | "credsStore" | "credHelpers"));
    }

    /// Writes the file atomically: a temporary file in the same folder with `mode`, synced,
    /// then renamed over the old one. A missing folder is created with `dir_mode`.
    pub fn save(&self, mode: u32, dir_mode: u32) -> Result<(), String> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(dir_mode)
                .create(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(&Value::Object(self.root.clone()))
            .map_err(|e| e.to_string())?
            + "\n";
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let write = || -> io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&tmp)?;
            // The umask may have narrowed the mode: set it exactly.
            f.set_permissions(fs::Permissions::from_mode(mode))?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            format!("cannot write {}: {e}", self.path.display())
        })
    }
}

/// Where the secret of a login goes.
#[derive(Debug, Clone, Copy)]
pub enum Stored<'a> {
    /// A credential helper holds it.
    InHelper,
    /// In the file.
    Password {
        /// Username.
        user: &'a str,
        /// Password or PAT.
        secret: &'a str,
    },
    /// In the file, as an identity token.
    IdentityToken {
        /// Username.
        user: &'a str,
        /// The refresh token.
        token: &'a str,
    },
}

fn encode(user: &str, secret: &str) -> String {
    STANDARD.encode(format!("{user}:{secret}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_survive_and_the_write_is_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new").join("config.json");
        fs::create_dir(path.parent().unwrap()).unwrap();
        fs::write(
            &path,
            r#"{"psFormat":"x","zz-unknown":{"a":1},"auths":{"o":{"auth":"b"}}}"#,
        )
        .unwrap();
        let mut c = Config::load(path.clone()).unwrap();
        c.set_entry(
            "h:1",
            Stored::Password {
                user: "alice",
                secret: "pw",
            },
        );
        c.save(0o600, 0o700).unwrap();
        let back: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(back["zz-unknown"]["a"], 1);
        assert_eq!(back["auths"]["o"]["auth"], "b");
        assert_eq!(back["auths"]["h:1"]["auth"], "YWxpY2U6cHc=");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn cred_helpers_win_over_creds_store() {
        let mut c = Config::load(PathBuf::from("/nonexistent/config.json")).unwrap();
        assert!(!c.existed);
        c.root = serde_json::from_str(r#"{"credsStore":"a","credHelpers":{"h:1":"b"}}"#).unwrap();
        assert_eq!(c.helper_for("h:1", false).as_deref(), Some("b"));
        assert_eq!(c.helper_for("h:2", false).as_deref(), Some("a"));
        assert_eq!(c.helper_for("h:1", true).as_deref(), Some("a"));
    }
}
