//! `credconform clean` erases only what a run of credconform could have stored: a user's entries
//! whose paths merely look like run identifiers (`quay.io/ccproduction`) stay byte for byte,
//! ledger files of killed runs are preferred, and runs still in progress are left alone.

mod support;

use std::{fs, path::Path, process::Command};

use credconform::run::{Namespace, ledger::file::LedgerFile, namespace::is_run_id};
use serde_json::{Map, Value, json};
use support::*;

/// A file-backed helper: `$STORE` holds `{url: {"Username":..,"Secret":..}}`; with
/// `HIDE_LIST=1` its `list` answers `{}` (a helper whose list shows nothing).
const FILE_HELPER: &str = r#"if action == "store":
    c = json.loads(data)
    store[c["ServerURL"]] = {"Username": c["Username"], "Secret": c["Secret"]}
    save()
elif action == "get":
    url = data.strip()
    if url not in store:
        print("credentials not found in native keychain"); sys.exit(1)
    e = store[url]
    print(json.dumps({"ServerURL": url, "Username": e["Username"], "Secret": e["Secret"]}))
elif action == "erase":
    url = data.strip()
    if url not in store:
        print("credentials not found in native keychain"); sys.exit(1)
    del store[url]
    save()
elif action == "list":
    hide = os.environ.get("HIDE_LIST") == "1"
    print(json.dumps({} if hide else {u: e["Username"] for u, e in store.items()}))
elif action == "version":
    print("file-helper 1.0")
else:
    print("unknown action: " + action); sys.exit(1)
"#;

struct Setup {
    _dir: tempfile::TempDir,
    helper: std::path::PathBuf,
    store: std::path::PathBuf,
    state: std::path::PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let helper = python_helper(dir.path(), "file", FILE_HELPER);
    Setup {
        store: dir.path().join("store.json"),
        state: dir.path().join("state"),
        helper,
        _dir: dir,
    }
}

impl Setup {
    fn write_store(&self, entries: &[(String, &str)]) {
        let map: Map<String, Value> = entries
            .iter()
            .map(|(url, secret)| (url.clone(), json!({"Username": "u", "Secret": secret})))
            .collect();
        fs::write(&self.store, Value::Object(map).to_string()).unwrap();
    }

    fn read_store(&self) -> Map<String, Value> {
        serde_json::from_str(&fs::read_to_string(&self.store).unwrap()).unwrap()
    }

    fn clean(&self, hide_list: bool) -> (Option<i32>, String) {
        let out = credconform()
            .args(["clean", "--helper", self.helper.to_str().unwrap()])
            .args(["--env", &format!("STORE={}", self.store.display())])
            .args([
                "--env",
                if hide_list {
                    "HIDE_LIST=1"
                } else {
                    "HIDE_LIST=0"
                },
            ])
            .env("XDG_STATE_HOME", &self.state)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    }

    /// A ledger file as a run killed outright leaves it: written by a process that is gone.
    fn dead_ledger(&self, ns: &Namespace, urls: &[String]) -> std::path::PathBuf {
        let mut gone = Command::new("true").spawn().unwrap();
        let pid = gone.id();
        gone.wait().unwrap();
        let dir = self.state.join("credconform");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("ledger-{}.jsonl", ns.run_id()));
        let mut text = json!({
            "credconform_ledger": 1, "run_id": ns.run_id(), "helper": self.helper,
            "pid": pid, "started_at": "2026-01-01T00:00:00Z"
        })
        .to_string();
        for url in urls {
            text += &format!("\n{}", Value::String(url.clone()));
        }
        fs::write(&path, text + "\n").unwrap();
        path
    }
}

/// Entries a user really has, several with path segments that look like run identifiers.
fn real_entries() -> Vec<(String, &'static str)> {
    let lookalike = Namespace::random();
    let not_an_id = (0..)
        .map(|n| format!("cc{n:010}"))
        .find(|s| !is_run_id(s))
        .unwrap();
    vec![
        ("quay.io/ccproduction".into(), "real-quay"),
        (
            "https://registry.example.com/ccompanyrepo/app".into(),
            "real-company",
        ),
        ("registry.example.com/ccmainrepo01-team".into(), "real-team"),
        ("https://index.docker.io/v1/".into(), "real-hub"),
        ("localhost:5000".into(), "real-local"),
        (
            format!("localhost:5000/{not_an_id}-hp-rt-001"),
            "real-local-cc",
        ),
        (
            format!("ghcr.io/{}", lookalike.case_segment("HP-RT-001")),
            "real-ghcr",
        ),
        (
            format!("https://{}.example.com", lookalike.case_host("HP-RT-001")),
            "real-host",
        ),
        (
            format!(
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/{}",
                lookalike.run_id()
            ),
            "real-ecr",
        ),
    ]
}

fn assert_real_entries_unchanged(s: &Setup, real: &[(String, &str)]) {
    let store = s.read_store();
    for (url, secret) in real {
        assert_eq!(
            store.get(url),
            Some(&json!({"Username": "u", "Secret": secret})),
            "{url} changed or vanished"
        );
    }
}

#[test]
fn clean_erases_run_entries_and_leaves_lookalikes_byte_for_byte() {
    let s = setup();
    let real = real_entries();
    let (killed, unknown, running) = (
        Namespace::random(),
        Namespace::random(),
        Namespace::random(),
    );
    let killed_urls = vec![
        format!("https://{}", killed.case_host("HP-RT-001")),
        format!("[::1]:41234/{}", killed.case_segment("HP-KEY-006")),
    ];
    let unknown_url = format!("{}:5000/v2/", unknown.case_host("HP-KEY-003"));
    let running_url = format!("https://{}", running.case_host("HP-CON-001"));
    let mut entries = real.clone();
    entries.extend(killed_urls.iter().map(|u| (u.clone(), "run-secret")));
    entries.push((unknown_url.clone(), "run-secret"));
    entries.push((running_url.clone(), "run-secret"));
    s.write_store(&entries);
    let ledger = s.dead_ledger(&killed, &killed_urls);
    // A run still in progress (this test process) has its own ledger: it is left alone.
    let mut live =
        LedgerFile::create(&s.state.join("credconform"), running.run_id(), &s.helper).unwrap();
    live.append(&running_url).unwrap();

    let (code, text) = s.clean(false);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("erased 3 entries left by earlier credconform runs"),
        "{text}"
    );
    for url in killed_urls.iter().chain([&unknown_url]) {
        assert!(text.contains(url.as_str()), "{url} not named: {text}");
    }
    assert!(text.contains("still in progress"), "{text}");
    assert!(
        !text.contains("run-secret") && !text.contains("real-"),
        "{text}"
    );
    assert_real_entries_unchanged(&s, &real);
    let store = s.read_store();
    assert_eq!(store.len(), real.len() + 1, "{store:?}");
    assert!(
        store.contains_key(&running_url),
        "a live run's entry was erased"
    );
    assert!(!ledger.exists(), "the killed run's ledger was not removed");
    live.remove();
}

#[test]
fn ledgers_name_entries_that_list_does_not_show() {
    let s = setup();
    let real = real_entries();
    let killed = Namespace::random();
    let killed_url = format!("https://{}/v1/", killed.case_host("HP-KEY-004"));
    let mut entries = real.clone();
    entries.push((killed_url.clone(), "run-secret"));
    s.write_store(&entries);
    s.dead_ledger(&killed, std::slice::from_ref(&killed_url));

    let (code, text) = s.clean(true);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("read 1 ledger(s)"), "{text}");
    assert!(
        text.contains(&format!(
            "erased 1 entry left by earlier credconform runs: {killed_url}"
        )),
        "{text}"
    );
    assert_real_entries_unchanged(&s, &real);
    assert_eq!(s.read_store().len(), real.len());
    // Nothing left: a second clean finds no ledger and nothing to erase.
    let (code, text) = s.clean(false);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("no ledger") && text.contains("nothing to erase"),
        "{text}"
    );
    assert!(Path::new(&s.store).exists());
}

#[test]
fn a_run_killed_outright_leaves_a_ledger_that_clean_follows() {
    use std::time::Duration;
    let b = Bundled::new();
    let user =
        json!({"ServerURL": "quay.io/ccproduction", "Username": "me", "Secret": "real-quay"});
    assert!(b.reference("store", &user.to_string()).status.success());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let slow = b.slow_reference(dir.path());
    let mut child = b
        .run_command(&slow)
        .env("XDG_STATE_HOME", &state)
        .spawn()
        .unwrap();
    b.wait_until_a_run_stored(Duration::from_secs(60));
    child.kill().unwrap(); // SIGKILL: no cleanup runs
    child.wait().unwrap();
    let ledgers: Vec<_> = fs::read_dir(state.join("credconform")).unwrap().collect();
    assert_eq!(ledgers.len(), 1, "the killed run left no ledger");

    let out = credconform()
        .args([
            "clean",
            "--helper",
            slow.to_str().unwrap(),
            "--env",
            &b.store_env(),
        ])
        .env("XDG_STATE_HOME", &state)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("read 1 ledger(s) of killed runs"), "{text}");
    let list: Map<String, Value> = serde_json::from_slice(&b.reference("list", "").stdout).unwrap();
    assert_eq!(list.keys().collect::<Vec<_>>(), ["quay.io/ccproduction"]);
    let got: Value =
        serde_json::from_slice(&b.reference("get", "quay.io/ccproduction").stdout).unwrap();
    assert_eq!(got, user);
    assert_eq!(fs::read_dir(state.join("credconform")).unwrap().count(), 0);
}
