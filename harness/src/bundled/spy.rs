//! The spy credential helper: a working file-backed helper that records every call it receives
//! (helper name, action, ServerURL, Username and a hash of the secret, never the secret) so
//! login cases can assert what a CLI sent to its credential helpers. It can be told to fail.
//!
//! It runs as `docker-credential-ccspy-<label>`; a config names it `"credsStore": "ccspy-<label>"`.
//! Environment: `CREDCONFORM_SPY_DIR` (its store and `calls.jsonl` log),
//! `CREDCONFORM_SPY_FAIL` (comma-separated actions that fail with exit 1).

use std::{
    collections::BTreeMap,
    fs,
    io::{Read, Write},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Program names start with this; the rest is the label.
pub const PREFIX: &str = "docker-credential-ccspy-";
/// Variable naming the spy's folder.
pub const DIR_ENV: &str = "CREDCONFORM_SPY_DIR";
/// Variable naming the actions that fail.
pub const FAIL_ENV: &str = "CREDCONFORM_SPY_FAIL";
/// The labels the runner links into every sandbox.
pub const LABELS: [&str; 2] = ["a", "b"];
/// The log file inside the spy folder.
pub const LOG_FILE: &str = "calls.jsonl";

/// One recorded call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpyCall {
    /// The helper's suffix, as a config names it (`ccspy-a`).
    pub helper: String,
    /// The action.
    pub action: String,
    /// The ServerURL (store) or the URL read from stdin (get, erase).
    pub server_url: Option<String>,
    /// The Username of a store.
    pub username: Option<String>,
    /// The SHA-256 (hex) of the Secret of a store.
    pub secret_sha256: Option<String>,
    /// The exit code the spy answered with.
    pub exit: i32,
}

/// The hash recorded for a secret.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Reads the calls recorded in `dir` (an empty list when there are none).
pub fn read_calls(dir: &Path) -> Vec<SpyCall> {
    fs::read_to_string(dir.join(LOG_FILE))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[derive(Deserialize)]
struct StorePayload {
    #[serde(rename = "ServerURL")]
    server_url: String,
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

type Entries = BTreeMap<String, (String, String)>;

/// Runs the spy named `label` for one invocation; returns the exit code.
pub fn run(label: &str, args: &[String], stdin: &mut dyn Read, stdout: &mut dyn Write) -> i32 {
    let dir = std::env::var_os(DIR_ENV).map_or_else(std::env::temp_dir, PathBuf::from);
    let action = args.first().cloned().unwrap_or_default();
    let mut input = String::new();
    let _ = stdin.read_to_string(&mut input);
    let helper = format!("ccspy-{label}");
    let mut call = SpyCall {
        helper: helper.clone(),
        action: action.clone(),
        ..SpyCall::default()
    };
    let store_file = dir.join(format!("{helper}.json"));
    let mut entries: Entries = fs::read(&store_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let failing = std::env::var(FAIL_ENV).unwrap_or_default();
    let fails = failing.split(',').any(|a| a.trim() == action);
    let (code, answer) = match action.as_str() {
        "store" => match serde_json::from_str::<StorePayload>(&input) {
            Ok(p) => {
                call.server_url = Some(p.server_url.clone());
                call.username = Some(p.username.clone());
                call.secret_sha256 = Some(secret_hash(&p.secret));
                if fails {
                    (1, "spy: store refused as the case asked".to_string())
                } else {
                    entries.insert(p.server_url, (p.username, p.secret));
                    (0, String::new())
                }
            }
            Err(e) => (1, format!("spy: bad store payload: {e}")),
        },
        "get" | "erase" => {
            let url = input.trim().to_string();
            call.server_url = Some(url.clone());
            if fails {
                (1, format!("spy: {action} refused as the case asked"))
            } else if action == "erase" {
                entries.remove(&url);
                (0, String::new())
            } else {
                match entries.get(&url) {
                    Some((u, s)) => (
                        0,
                        serde_json::json!({"ServerURL": url, "Username": u, "Secret": s})
                            .to_string(),
                    ),
                    None => (1, reference_helper::NOT_FOUND.to_string()),
                }
            }
        }
        "list" => {
            let map: BTreeMap<&String, &String> =
                entries.iter().map(|(k, (u, _))| (k, u)).collect();
            (0, serde_json::to_string(&map).unwrap_or_default())
        }
        "version" => (0, "credconform spy helper".to_string()),
        _ => (1, format!("spy: unknown action `{action}`")),
    };
    call.exit = code;
    if code == 0 && matches!(action.as_str(), "store" | "erase") {
        let _ = fs::write(
            &store_file,
            serde_json::to_vec(&entries).unwrap_or_default(),
        );
    }
    let line = serde_json::to_string(&call).unwrap_or_default() + "\n";
    if let Ok(mut log) = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(LOG_FILE))
    {
        let _ = log.write_all(line.as_bytes());
    }
    let _ = write!(stdout, "{answer}");
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(dir: &Path, args: &[&str], stdin: &str) -> (i32, String) {
        // The spy reads its folder from the environment; tests of one process share it, so
        // every test uses its own folder through a scoped variable write.
        let _guard = ENV_LOCK.lock().unwrap();
        // SAFETY: serialized by ENV_LOCK; no other thread of this test reads the variable.
        unsafe { std::env::set_var(DIR_ENV, dir) };
        let mut out = Vec::new();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let code = run("a", &args, &mut stdin.as_bytes(), &mut out);
        (code, String::from_utf8(out).unwrap())
    }

    static ENV_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn records_calls_with_hashed_secrets_and_answers_like_a_helper() {
        let dir = tempfile::tempdir().unwrap();
        let payload = r#"{"ServerURL":"127.0.0.1:5","Username":"alice","Secret":"pw-123"}"#;
        assert_eq!(call(dir.path(), &["store"], payload).0, 0);
        let (code, out) = call(dir.path(), &["get"], "127.0.0.1:5\n");
        assert_eq!(code, 0);
        assert!(out.contains("pw-123"));
        assert_eq!(call(dir.path(), &["erase"], "127.0.0.1:5").0, 0);
        assert_eq!(call(dir.path(), &["get"], "127.0.0.1:5").0, 1);
        let calls = read_calls(dir.path());
        assert_eq!(calls.len(), 4);
        assert_eq!(calls[0].helper, "ccspy-a");
        assert_eq!(
            calls[0].secret_sha256.as_deref(),
            Some(&*secret_hash("pw-123"))
        );
        let log = fs::read_to_string(dir.path().join(LOG_FILE)).unwrap();
        assert!(!log.contains("pw-123"), "the log holds the secret: {log}");
    }
}
