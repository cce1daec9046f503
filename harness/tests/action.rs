//! The GitHub Action's step (action/certify.sh, with action/summary.py) run as CI runs it, with
//! the built binary: a mutant gated by the reference helper's report, a waiver, and a login CLI.

mod support;

use std::{collections::HashMap, fs, path::Path};

use credconform::bundled::{LoginVariant, Mutant, Variant};
use support::*;

/// What one action run left: exit code, outputs, job summary, and its working folder.
struct ActionRun {
    code: Option<i32>,
    outputs: HashMap<String, String>,
    summary: String,
}

fn action(work: &Path, inputs: &[(&str, &str)]) -> ActionRun {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (outputs, summary) = (work.join("outputs.txt"), work.join("summary.md"));
    let _ = fs::remove_file(&outputs);
    let _ = fs::remove_file(&summary);
    let mut cmd = assert_cmd::Command::new("bash");
    cmd.arg(root.join("action/certify.sh"))
        .current_dir(work)
        .env("ACTION_PATH", &root)
        .env("CREDCONFORM_BIN", credconform_bin())
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary);
    for (k, v) in inputs {
        cmd.env(format!("INPUT_{k}"), v);
    }
    let out = cmd.output().unwrap();
    let text = |p: &Path| fs::read_to_string(p).unwrap_or_default();
    ActionRun {
        code: out.status.code(),
        outputs: text(&outputs)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        summary: text(&summary),
    }
}

#[test]
fn the_action_gates_a_release_on_a_baseline_and_waivers_and_certifies_login_clis() {
    if !require_program("python3") {
        return;
    }
    let b = Bundled::new();
    let work = tempfile::tempdir().unwrap();
    let store = format!("--env {} --filter HP-OUT", b.store_env());
    let reference = b.path(Variant::Reference);
    let mutant = b.path(Variant::Mutant(Mutant::SecretOnStderr));

    let base = action(
        work.path(),
        &[("HELPER", reference.to_str().unwrap()), ("ARGS", &store)],
    );
    assert_eq!(base.code, Some(0), "{}", base.summary);
    assert!(
        base.summary.contains("### ✅ No failures"),
        "{}",
        base.summary
    );
    let baseline = work.path().join("baseline.json");
    fs::rename(
        work.path().join("credconform-report/report.json"),
        &baseline,
    )
    .unwrap();

    let gated = [
        ("HELPER", mutant.to_str().unwrap()),
        ("SUITES", "helper-protocol"),
        ("BASELINE", baseline.to_str().unwrap()),
        ("ARGS", &store),
    ];
    let candidate = action(work.path(), &gated);
    assert_eq!(candidate.code, Some(1), "{}", candidate.summary);
    assert_eq!(candidate.outputs["regressed"], "1");
    assert_eq!(candidate.outputs["verdict"], "not-conformant");
    let first_table = candidate.summary.find("| target | case |").unwrap();
    assert!(
        candidate.summary.starts_with(
            "## credconform gate\n\n### ❌ Regressions: 1 failing case(s) not in the baseline"
        ) && first_table
            < candidate
                .summary
                .find("credconform: docker-credential")
                .unwrap(),
        "{}",
        candidate.summary
    );
    assert!(
        candidate
            .summary
            .contains("| `HP-OUT-002` | MUST | failed |")
    );
    assert!(
        work.path()
            .join("credconform-report/helper-protocol/report.html")
            .exists()
    );

    let waivers = work.path().join("waivers.toml");
    fs::write(
        &waivers,
        "[[waiver]]\ncase = \"HP-OUT-002\"\nreason = \"debug line, fixed next release\"\nexpires = 2999-01-01\n",
    )
    .unwrap();
    let mut with_waiver = gated.to_vec();
    with_waiver.push(("WAIVERS", waivers.to_str().unwrap()));
    let waived = action(work.path(), &with_waiver);
    assert_eq!(waived.code, Some(0), "{}", waived.summary);
    assert_eq!(waived.outputs["waived"], "1");
    assert_eq!(waived.outputs["regressed"], "0");

    let login = b.programs.login_path(LoginVariant::Reference);
    let cli = action(
        work.path(),
        &[
            ("LOGIN_CLI", login.to_str().unwrap()),
            ("PROFILE", "reference"),
            ("ARGS", "--filter LC-PW-001"),
        ],
    );
    assert_eq!(cli.code, Some(0), "{}", cli.summary);
    assert_eq!(cli.outputs["passed"], "1");

    let both = action(work.path(), &[("HELPER", "x"), ("LOGIN_CLI", "y")]);
    assert_eq!(both.code, Some(2));
}
