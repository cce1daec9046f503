//! Snapshots of the config files a login CLI leaves: normalized (sorted keys, the registry's
//! address and sandbox paths replaced, timestamps masked), redacted (`auth` values shown
//! decoded with the secret named, never shown; identity tokens masked) and compared with the
//! stored snapshot `<profile>/<CASE-ID>.snap`: built into the binary from `fixtures/snapshots`,
//! or in the folder given with `--snapshots-dir`.
//!
//! The files use insta's `.snap` format (a `---` header with `source` and `expression`, then
//! the content), so they read like every other insta snapshot and review tools show them; the
//! runner reads and writes them itself because snapshots are checked inside a certification
//! run, not inside `cargo test`, and accepted with `--update-snapshots` (into a folder on disk).

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::Value;

use super::{Mismatch, diff::unified};
use crate::assets::Folder;

/// What a snapshot must not contain, and what stands for it.
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    /// Text replaced everywhere, in order (e.g. the registry's `127.0.0.1:PORT`).
    pub replacements: Vec<(String, String)>,
    /// Known secrets and the names shown for them (e.g. `password of alice`).
    pub secrets: Vec<(String, String)>,
}

impl Normalizer {
    fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (from, to) in &self.replacements {
            out = out.replace(from.as_str(), to);
        }
        for (secret, name) in &self.secrets {
            out = out.replace(secret.as_str(), &format!("[{name}]"));
        }
        if looks_like_timestamp(&out) {
            return "[timestamp]".into();
        }
        out
    }

    fn secret_name(&self, secret: &str) -> String {
        if secret.is_empty() {
            return String::new();
        }
        match self.secrets.iter().find(|(s, _)| s == secret) {
            Some((_, name)) => format!("[{name}]"),
            None => format!("[unknown secret: {} bytes]", secret.len()),
        }
    }

    fn value(&self, key: Option<&str>, v: &Value) -> Value {
        match (key, v) {
            (Some("auth"), Value::String(s)) => Value::String(self.auth(s)),
            (Some("identitytoken" | "registrytoken"), Value::String(s)) if !s.is_empty() => {
                Value::String("[identity token]".into())
            }
            (_, Value::String(s)) => Value::String(self.text(s)),
            (_, Value::Array(items)) => {
                Value::Array(items.iter().map(|i| self.value(None, i)).collect())
            }
            // A `Map` keeps its keys sorted (serde_json without `preserve_order`).
            (_, Value::Object(map)) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.text(k), self.value(Some(k), v)))
                    .collect(),
            ),
            (_, other) => other.clone(),
        }
    }

    /// An `auth` value shown as `base64(user:[name of the secret])`.
    fn auth(&self, encoded: &str) -> String {
        let decoded = STANDARD.decode(encoded).ok();
        let Some(decoded) = decoded.and_then(|b| String::from_utf8(b).ok()) else {
            return format!("[not base64: {} bytes]", encoded.len());
        };
        match decoded.split_once(':') {
            Some((user, secret)) => {
                format!("base64({}:{})", self.text(user), self.secret_name(secret))
            }
            None => format!("base64({}) without a colon", self.secret_name(&decoded)),
        }
    }

    /// The snapshot text of a config file: its mode, then the normalized content.
    pub fn config(&self, content: Option<&[u8]>, mode: Option<u32>) -> String {
        let Some(bytes) = content else {
            return "(no file)\n".into();
        };
        let mode = mode.map(|m| format!("mode: {m:04o}\n"));
        let content = match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => serde_json::to_string_pretty(&self.value(None, &v)).unwrap_or_default(),
            Err(_) => format!("(not JSON)\n{}", self.text(&String::from_utf8_lossy(bytes))),
        };
        format!("{}{content}\n", mode.unwrap_or_default())
    }
}

/// Config text as it is (same bytes, same layout), with every credential value replaced: `auth`
/// values shown decoded with the secret described, identity and registry tokens masked. For
/// showing files whose exact bytes matter (an "unchanged" check) without showing secrets.
pub fn redact_config_text(raw: &str) -> String {
    fn collect(key: Option<&str>, v: &Value, out: &mut Vec<(String, String)>, n: &Normalizer) {
        match (key, v) {
            (Some("auth"), Value::String(s)) if !s.is_empty() => out.push((s.clone(), n.auth(s))),
            (Some("identitytoken" | "registrytoken" | "password"), Value::String(s))
                if !s.is_empty() =>
            {
                out.push((s.clone(), "[token]".into()))
            }
            (_, Value::Object(map)) => map.iter().for_each(|(k, v)| collect(Some(k), v, out, n)),
            (_, Value::Array(items)) => items.iter().for_each(|v| collect(None, v, out, n)),
            _ => {}
        }
    }
    let normalizer = &Normalizer::default();
    let Ok(value) = serde_json::from_str::<Value>(raw) else {
        return normalizer.text(raw);
    };
    let mut found = Vec::new();
    collect(None, &value, &mut found, normalizer);
    found.sort_by_key(|(secret, _)| std::cmp::Reverse(secret.len()));
    let mut out = raw.to_string();
    for (secret, shown) in found {
        out = out.replace(&format!("\"{secret}\""), &format!("\"{shown}\""));
    }
    normalizer.text(&out)
}

fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[..4].iter().all(u8::is_ascii_digit)
}

/// Where snapshots of one profile live, and whether mismatches are accepted.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    /// `<snapshots>/<profile>`, built in or on disk.
    pub dir: Folder,
    /// Write the actual content instead of failing (`--update-snapshots`).
    pub update: bool,
}

/// The content of an insta `.snap` file (after its header).
pub fn parse_snap(text: &str) -> &str {
    text.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(text, |(_, content)| content)
}

impl SnapshotStore {
    /// Compares `content` with snapshot `name`; writes it instead when updating or when the
    /// snapshot is new and updating. A missing snapshot without `--update-snapshots` fails.
    pub fn check(
        &self,
        name: &str,
        source: &str,
        expression: &str,
        content: &str,
    ) -> Option<Mismatch> {
        let file_name = format!("{name}.snap");
        let file = self.dir.path().join(&file_name);
        let stored = self.dir.read(&file_name).ok().flatten();
        let expected = stored.as_deref().map(parse_snap);
        if expected == Some(content) {
            return None;
        }
        if self.update {
            // An insta `.snap` file: its header, then the content.
            let snap = format!("---\nsource: {source}\nexpression: {expression}\n---\n{content}");
            let expected = format!("{} written", file.display());
            let write = self.dir.write(&file_name, &snap).err();
            return write.map(|e| Mismatch::new("snapshot", expected, e.to_string()));
        }
        Some(match expected {
            None => Mismatch {
                what: "config snapshot".into(),
                expected: format!("a stored snapshot {}", file.display()),
                actual: "none yet: run with --update-snapshots to accept it".into(),
                diff: unified("", content),
            },
            Some(expected) => Mismatch {
                what: "config snapshot".into(),
                expected: format!("{} (stored)", file.display()),
                actual: "a different file (rerun with --update-snapshots to accept it)".into(),
                diff: Some(
                    unified(expected, content)
                        .unwrap_or_else(|| format!("-{expected}\n+{content}\n")),
                ),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn credential_values_are_replaced_and_the_layout_kept() {
        let raw = "{\n\t\"auths\": {\"h\": {\"auth\": \"b3RoZXI6b3RoZXItc2VjcmV0\", \"identitytoken\": \"tok-123\"}},\n\t\"psFormat\": \"x\"\n}";
        let shown = redact_config_text(raw);
        assert!(
            !shown.contains("b3RoZXI6b3RoZXItc2VjcmV0") && !shown.contains("tok-123"),
            "{shown}"
        );
        assert!(
            shown.contains("base64(other:[unknown secret: 12 bytes])"),
            "{shown}"
        );
        assert!(shown.starts_with("{\n\t\"auths\""), "{shown}");
    }

    fn normalizer() -> Normalizer {
        Normalizer {
            replacements: vec![("127.0.0.1:41234".into(), "[registry]".into())],
            secrets: vec![("alice-password".into(), "password of alice".into())],
        }
    }

    #[test]
    fn config_files_are_normalized_and_redacted() {
        let file = br#"{"psFormat":"x","auths":{"127.0.0.1:41234":{"auth":"YWxpY2U6YWxpY2UtcGFzc3dvcmQ=","identitytoken":"fkr_idt_abc"},"o":{"auth":"Ym9iOnNlY3JldA=="}},"z":"2024-01-01T00:00:00Z"}"#;
        let text = normalizer().config(Some(file), Some(0o600));
        let expected = r#"mode: 0600
{
  "auths": {
    "[registry]": {
      "auth": "base64(alice:[password of alice])",
      "identitytoken": "[identity token]"
    },
    "o": {
      "auth": "base64(bob:[unknown secret: 6 bytes])"
    }
  },
  "psFormat": "x",
  "z": "[timestamp]"
}
"#;
        assert_eq!(text, expected);
        assert!(!text.contains("alice-password") && !text.contains("41234"));
        assert_eq!(normalizer().config(None, None), "(no file)\n");
    }

    #[test]
    fn snapshots_are_written_on_update_and_diffed_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SnapshotStore {
            dir: Folder::on_disk(&dir.path().join("docker")),
            update: false,
        };
        let missing = store.check("LC-X-001", "s.toml", "e", "a\nb\n").unwrap();
        assert!(missing.actual.contains("--update-snapshots"));
        store.update = true;
        assert!(store.check("LC-X-001", "s.toml", "e", "a\nb\n").is_none());
        let written = fs::read_to_string(dir.path().join("docker/LC-X-001.snap")).unwrap();
        assert!(written.starts_with("---\nsource: s.toml\n"));
        store.update = false;
        assert!(store.check("LC-X-001", "s.toml", "e", "a\nb\n").is_none());
        let diff = store
            .check("LC-X-001", "s.toml", "e", "a\nc\n")
            .unwrap()
            .diff
            .unwrap();
        assert!(diff.contains("-b") && diff.contains("+c"), "{diff}");
        let built_in = SnapshotStore {
            dir: Folder::snapshots().join("docker"),
            update: true,
        };
        let refused = built_in.check("LC-X-001", "s.toml", "e", "a\n").unwrap();
        assert!(
            refused.actual.contains("built into the binary"),
            "{refused:?}"
        );
    }
}
