//! Hostile helpers cannot hang or outlive the run: pipes held open by a process that left the
//! group, background children, helpers that hang on every call, shrinking a failure, and an
//! interrupted run. Each test runs the real binary against a small misbehaving script; every
//! time bound is generous (it proves "does not hang", speed is measured by hand or in benches).

mod support;

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use support::*;

/// Command lines of live processes that mention `marker` (a unique temporary path).
fn processes_mentioning(marker: &Path) -> Vec<String> {
    let marker = marker.to_string_lossy().into_owned();
    let me = std::process::id().to_string();
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok() && n != me)
        })
        .filter_map(|e| {
            let raw = fs::read(e.path().join("cmdline")).ok()?;
            let line = String::from_utf8_lossy(&raw).replace('\0', " ");
            line.contains(&marker).then_some(line)
        })
        .collect()
}

/// Waits (bounded) until no process mentions `marker`; returns those still there.
fn left_after(marker: &Path) -> Vec<String> {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_mentioning(marker);
        if left.is_empty() || Instant::now() >= until {
            return left;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// A copy of `sleep` under `dir`, so its command line names the test's own folder.
fn marked_sleep(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("marked-sleep");
    fs::copy("/bin/sleep", &path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn notes(report: &serde_json::Value) -> Vec<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["note"].as_str().map(str::to_string))
        .collect()
}

fn endings(report: &serde_json::Value) -> Vec<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["steps"].as_array().unwrap().iter())
        .filter_map(|s| s["ending"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_pipe_held_open_by_a_process_that_left_the_group_fails_the_step_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let sleep = marked_sleep(dir.path());
    // Reads nothing, starts a child in a new session that keeps stdin and stdout, exits 0.
    let helper = script_helper(
        dir.path(),
        "holder",
        &format!("setsid {} 1000 &\nexit 0", sleep.display()),
    );
    let mut cmd = credconform();
    cmd.arg("--helper")
        .arg(&helper)
        .args(["--filter", "HP-IN-014", "--timeout", "30", "--strict"]);
    let started = Instant::now();
    let (code, report) = run_with_report(cmd);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(code, Some(1));
    let endings = endings(&report);
    assert!(
        endings
            .iter()
            .any(|e| e.contains("stayed open, held by pid")
                && e.contains("marked-sleep 1000")
                && e.contains("docker")),
        "{endings:?}"
    );
    assert!(
        left_after(dir.path()).is_empty(),
        "{:?}",
        left_after(dir.path())
    );
}

#[test]
fn quiet_background_children_are_ended_and_reported_and_the_helper_still_passes() {
    let b = Bundled::new();
    let dir = tempfile::tempdir().unwrap();
    let sleep = marked_sleep(dir.path());
    let quiet = "</dev/null >/dev/null 2>&1";
    let helper = script_helper(
        dir.path(),
        "daemons",
        &format!(
            "{s} 1000 {quiet} &\nsetsid {s} 999 {quiet} &\nexec {} \"$@\"",
            b.path(credconform::bundled::Variant::Reference).display(),
            s = sleep.display(),
        ),
    );
    let mut cmd = b.certify(&helper);
    cmd.args(["--filter", "HP-RT-00"]);
    let (code, report) = run_with_report(cmd);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(schema_errors(&report), Vec::<String>::new());
    let left = report["cleanup"]["left_running"].as_array().unwrap();
    let commands: Vec<&str> = left
        .iter()
        .map(|l| l["command"].as_str().unwrap())
        .collect();
    assert!(
        commands.iter().any(|c| c.ends_with("marked-sleep 1000"))
            && commands.iter().any(|c| c.ends_with("marked-sleep 999")),
        "{commands:?}"
    );
    assert!(
        left_after(dir.path()).is_empty(),
        "{:?}",
        left_after(dir.path())
    );
}

/// A helper that hangs on every call.
fn hanging(dir: &Path) -> std::path::PathBuf {
    let sleep = marked_sleep(dir);
    script_helper(dir, "hang", &format!("exec {} 1000", sleep.display()))
}

/// Runs credconform with `args` against a helper that hangs on every call, asserting that it
/// ends within `bound` and leaves none of the helper's processes; the exit code and report.
fn against_hanging(args: &[&str], bound: Duration) -> (Option<i32>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = credconform();
    cmd.arg("--helper").arg(hanging(dir.path())).args(args);
    let started = Instant::now();
    let (code, report) = run_with_report(cmd);
    let took = started.elapsed();
    assert!(took < bound, "{args:?} took {took:?}");
    assert!(
        left_after(dir.path()).is_empty(),
        "{:?}",
        left_after(dir.path())
    );
    (code, report)
}

#[test]
fn a_hanging_helper_is_done_with_in_bounded_time_and_timeouts_are_not_shrunk() {
    let (code, report) = against_hanging(
        &["--filter", "HP-GEN", "--timeout", "1", "--jobs", "2"],
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(1));
    assert_eq!(failed_ids(&report).len(), 2, "{report}");
    let notes = notes(&report);
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.contains("a timeout is not shrunk"))
            .count(),
        2,
        "{notes:?}"
    );
}

#[test]
fn a_case_stops_after_its_budget_of_timeouts() {
    // HP-CON-001 gets 16 times in a row after its stores: without a budget, 16 timeouts.
    let (code, report) = against_hanging(
        &["--filter", "HP-CON-001", "--timeout", "1"],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1));
    assert!(
        notes(&report)
            .iter()
            .any(|n| n.contains("the helper timed out")),
        "{report}"
    );
    let cleanup = report["cleanup"]["list_error"].as_str().unwrap_or_default();
    assert!(
        cleanup.contains("cleanup stopped after the helper timed out 3 times"),
        "{cleanup}"
    );
}

#[test]
fn the_whole_suite_against_a_hanging_helper_ends_within_two_minutes_at_timeout_1() {
    let (code, report) =
        against_hanging(&["--timeout", "1", "--jobs", "2"], Duration::from_secs(150));
    assert_eq!(code, Some(1));
    assert_eq!(report["summary"]["verdict"], "not-conformant");
}

#[test]
fn cases_not_started_by_max_duration_are_not_run_and_the_run_fails() {
    let (code, report) = against_hanging(
        &["--timeout", "1", "--jobs", "1", "--max-duration", "3s"],
        Duration::from_secs(40),
    );
    assert_eq!(code, Some(1));
    assert_eq!(report["max_duration_reached"], true);
    assert_eq!(schema_errors(&report), Vec::<String>::new());
    assert_eq!(report["summary"]["incomplete"], true);
    let not_run = notes(&report)
        .iter()
        .filter(|n| n.starts_with("not run: the run reached --max-duration (3s)"))
        .count();
    assert!(not_run > 10, "{not_run}");
}

#[test]
fn a_bad_max_duration_is_a_usage_error_naming_the_option() {
    for bad in ["0", "ten", "5d"] {
        credconform()
            .args(["--helper", "sh", "--max-duration", bad])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("--max-duration"))
            .stderr(predicates::str::contains(format!("`{bad}`")));
    }
}

/// A file-backed helper in Python; with `truncate`, secrets longer than 100 bytes are cut.
fn python_helper(dir: &Path, name: &str, truncate: bool) -> std::path::PathBuf {
    let cut = if truncate { "s = s[:100]" } else { "pass" };
    let body = format!(
        r#"import json, os, sys, fcntl
path = os.environ["PYHELPER_STORE"]
action = sys.argv[1] if len(sys.argv) > 1 else ""
data = sys.stdin.read()
with open(path + ".lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        with open(path) as f:
            store = json.load(f)
    except FileNotFoundError:
        store = {{}}
    def save():
        with open(path + ".tmp", "w") as f:
            json.dump(store, f)
        os.replace(path + ".tmp", path)
    if action == "store":
        try:
            c = json.loads(data)
            url, user, s = c["ServerURL"], c["Username"], c["Secret"]
        except Exception:
            print("bad payload"); sys.exit(1)
        if not url.strip():
            print("no server URL"); sys.exit(1)
        {cut}
        store[url] = [user, s]; save()
    elif action == "get":
        url = data.strip()
        if not url:
            print("no server URL"); sys.exit(1)
        if url not in store:
            print("credentials not found in native keychain"); sys.exit(1)
        u, s = store[url]
        print(json.dumps({{"ServerURL": url, "Username": u, "Secret": s}}))
    elif action == "erase":
        url = data.strip()
        if url not in store:
            print("credentials not found in native keychain"); sys.exit(1)
        del store[url]; save()
    elif action == "list":
        print(json.dumps({{k: v[0] for k, v in store.items()}}))
    elif action == "version":
        print("pyhelper 1")
    else:
        print("unknown action"); sys.exit(1)
"#
    );
    let script = dir.join(format!("{name}.py"));
    fs::write(&script, body).unwrap();
    script_helper(
        dir,
        name,
        &format!("exec python3 {} \"$@\"", script.display()),
    )
}

#[test]
fn shrinking_a_generative_failure_is_bounded() {
    if !require_program("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let helper = python_helper(dir.path(), "truncating", true);
    let mut cmd = credconform();
    cmd.arg("--helper").arg(&helper).args([
        "--filter",
        "HP-GEN",
        "--seed",
        "7",
        "--prop-cases",
        "64",
        "--env",
        &format!("PYHELPER_STORE={}", dir.path().join("store.json").display()),
    ]);
    let started = Instant::now();
    let (code, report) = run_with_report(cmd);
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(code, Some(1), "{report}");
    let notes = notes(&report);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("smallest failing input so far")
                || n.contains("minimal failing input")),
        "{notes:?}"
    );
}

/// Runs credconform on `helper` with three report files, sends SIGTERM once `flag` exists,
/// and returns its output, how long it took to exit after the signal, and the reports' folder.
fn interrupt_once(
    helper: &Path,
    flag: &Path,
    dir: &Path,
) -> (std::process::Output, Duration, std::path::PathBuf) {
    let out = dir.join("out");
    let child = Command::new(credconform_bin())
        .arg("--helper")
        .arg(helper)
        .args(["--jobs", "2", "--timeout", "60"])
        .arg("--json")
        .arg(out.join("r.json"))
        .arg("--junit")
        .arg(out.join("r.xml"))
        .arg("--markdown")
        .arg(out.join("r.md"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    while !flag.exists() {
        assert!(Instant::now() < until, "the helper was never called");
        thread::sleep(Duration::from_millis(20));
    }
    thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let output = child.wait_with_output().unwrap();
    (output, signalled.elapsed(), out)
}

#[test]
fn an_interrupted_run_writes_its_reports_marked_interrupted_and_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let sleep = marked_sleep(dir.path());
    let started_flag = dir.path().join("started");
    // `version` and `list` answer at once, so cases start; every other call hangs, with a child
    // that leaves the group.
    let helper = script_helper(
        dir.path(),
        "hang-later",
        &format!(
            "case \"$1\" in version) echo v1; exit 0;; list) echo '{{}}'; exit 0;; esac\n\
             touch '{}'\nsetsid {s} 1000 </dev/null >/dev/null 2>&1 &\nexec {s} 1001",
            started_flag.display(),
            s = sleep.display()
        ),
    );
    let (output, took, out) = interrupt_once(&helper, &started_flag, dir.path());
    assert_eq!(output.status.code(), Some(130));
    assert!(took < Duration::from_secs(30), "{took:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("verdict: Not conformant (interrupted)"),
        "{stdout}"
    );
    let report = read_report(&out.join("r.json"));
    assert_eq!(report["interrupted"], true);
    assert_eq!(schema_errors(&report), Vec::<String>::new());
    assert!(
        notes(&report)
            .iter()
            .any(|n| n == "not run: the run was interrupted"),
        "{report}"
    );
    let junit = fs::read_to_string(out.join("r.xml")).unwrap();
    assert!(junit.contains("The run was interrupted"), "{junit}");
    let md = fs::read_to_string(out.join("r.md")).unwrap();
    assert!(md.contains("(interrupted)"), "{md}");
    assert!(
        left_after(dir.path()).is_empty(),
        "{:?}",
        left_after(dir.path())
    );
}

#[test]
fn a_sigterm_during_the_first_list_still_leaves_reports() {
    let dir = tempfile::tempdir().unwrap();
    let sleep = marked_sleep(dir.path());
    let listing = dir.path().join("listing");
    let helper = script_helper(
        dir.path(),
        "slow-list",
        &format!(
            "case \"$1\" in version) echo v1; exit 0;; list) touch '{}';; esac\nexec {} 1000",
            listing.display(),
            sleep.display()
        ),
    );
    let (output, took, out) = interrupt_once(&helper, &listing, dir.path());
    assert_eq!(output.status.code(), Some(130));
    assert!(took < Duration::from_secs(30), "{took:?}");
    let report = read_report(&out.join("r.json"));
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["summary"]["verdict"], "not-conformant");
    assert!(out.join("r.xml").exists() && out.join("r.md").exists());
    assert!(
        left_after(dir.path()).is_empty(),
        "{:?}",
        left_after(dir.path())
    );
}
