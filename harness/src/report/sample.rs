//! Hand-built run reports for the reporters' unit tests.

use crate::{
    check::Mismatch,
    run::{
        CaseResult, CleanupReport, RunReport, Status, Summary,
        result::{StepEnding, StepRecord},
    },
    scenario::Level,
    target::TargetInfo,
};

/// One invocation that ended with `ending` and showed `mismatches`.
pub fn step(step: usize, action: &str, ending: &str, mismatches: Vec<Mismatch>) -> StepRecord {
    StepRecord {
        step,
        repetition: 0,
        args: vec![action.to_string()],
        stdin: format!("https://{}.cc0run.credconform.test", action),
        ending: match ending {
            "not started" => StepEnding::NotStarted,
            "registry changed" => StepEnding::RegistryChanged,
            words => StepEnding::Ran(words.to_string()),
        },
        elapsed_ms: 1.5,
        mismatches,
    }
}

/// A mismatch without a diff.
pub fn mismatch(what: &str, expected: &str, actual: &str) -> Mismatch {
    Mismatch {
        what: what.to_string(),
        expected: expected.to_string(),
        actual: actual.to_string(),
        diff: None,
    }
}

/// A case result with the given steps.
pub fn case(
    id: &str,
    area: &str,
    level: Level,
    status: Status,
    steps: Vec<StepRecord>,
) -> CaseResult {
    CaseResult {
        id: id.to_string(),
        suite: "helper-protocol".to_string(),
        area: area.to_string(),
        level,
        title: format!("title of {id}"),
        cites: format!("protocol text of {id}"),
        status,
        duration_ms: 3.0,
        note: None,
        steps,
        disposition: None,
        not_run: false,
    }
}

/// A passing round-trip case: store then get, both exit 0.
pub fn passed(id: &str, area: &str, level: Level) -> CaseResult {
    case(
        id,
        area,
        level,
        Status::Passed,
        vec![
            step(1, "store", "exit 0", vec![]),
            step(2, "get", "exit 0", vec![]),
        ],
    )
}

/// A failing case whose `get` exited 0 and printed the wrong text (with a diff).
pub fn failed(id: &str, area: &str, level: Level) -> CaseResult {
    let mut wrong_text = mismatch(
        "stdout (trimmed)",
        "\"credentials not found in native keychain\"",
        "\"{\\\"Username\\\":\\\"\\\",\\\"Secret\\\":\\\"\\\"}\"",
    );
    wrong_text.diff = Some(
        "--- expected\n+++ actual\n@@ -1 +1 @@\n-credentials not found in native keychain\n\
         +{\"Username\":\"\",\"Secret\":\"\"}\n"
            .to_string(),
    );
    case(
        id,
        area,
        level,
        Status::Failed,
        vec![step(
            1,
            "get",
            "exit 0",
            vec![
                mismatch("exit status", "a non-zero exit", "exit 0"),
                wrong_text,
            ],
        )],
    )
}

/// A case blocked at its precondition step 2 (the get after the store found nothing).
pub fn blocked(id: &str, area: &str, level: Level) -> CaseResult {
    let mut c = case(
        id,
        area,
        level,
        Status::Blocked,
        vec![
            step(1, "store", "exit 0", vec![]),
            step(
                2,
                "get",
                "exit 1",
                vec![mismatch("exit status", "exit 0", "exit 1")],
            ),
        ],
    );
    c.note = Some(
        "precondition step 2 (get) did not hold: get must return the entry stored in step 1; \
         the requirement was not tested"
            .to_string(),
    );
    c
}

/// A report whose only failure is a MUST case blocked at its precondition.
pub fn blocked_report() -> RunReport {
    report(vec![
        passed("HP-RT-001", "Round trip", Level::Must),
        blocked("HP-ER-004", "Erase", Level::Must),
    ])
}

/// A report of `cases` against a demo helper, with the summary counted from the cases.
pub fn report(cases: Vec<CaseResult>) -> RunReport {
    RunReport {
        schema_version: crate::run::result::SCHEMA_VERSION,
        tool_version: "0.1.0".to_string(),
        target: TargetInfo {
            kind: crate::scenario::TargetKind::Helper,
            name: "docker-credential-demo".to_string(),
            path: "/opt/demo/docker-credential-demo".to_string(),
            sha256: "ab".repeat(32),
            version: Some("docker-credential-demo (demo) 1.2.3".to_string()),
            get_only: false,
        },
        suites: vec![crate::run::result::SuiteInfo {
            name: "helper-protocol".to_string(),
            version: "1.0.0".to_string(),
            title: "Docker credential helper protocol".to_string(),
        }],
        run_id: "cc0run".to_string(),
        seed: 42,
        started_at: "2026-01-02T03:04:05.123456789Z".to_string(),
        duration_ms: 1234.5,
        strict: false,
        summary: Summary::of(&cases),
        cases,
        cleanup: CleanupReport::default(),
        certificate: crate::gate::Certificate {
            suites_sha256: "cd".repeat(32),
            os: "linux".to_string(),
            arch: "x86_64".to_string(),
            command_line: vec![
                "credconform".to_string(),
                "--helper".to_string(),
                "docker-credential-demo".to_string(),
            ],
        },
        gate: None,
        interrupted: false,
        max_duration_reached: false,
    }
}

/// A non-conformant report: one MUST pass, one MUST failure, one SHOULD pass, one skip.
pub fn failing_report() -> RunReport {
    let mut skipped = case("HP-KEY-006", "Keying", Level::Must, Status::Skipped, vec![]);
    skipped.note = Some("you already have entries for localhost".to_string());
    report(vec![
        passed("HP-RT-001", "Round trip", Level::Must),
        failed("HP-NF-001", "Unknown entries", Level::Must),
        passed("HP-OUT-001", "Output discipline", Level::Should),
        skipped,
    ])
}

/// A passing report: every case passed, one with a repeated step and a note.
pub fn conformant_report() -> RunReport {
    let mut steps = vec![step(1, "store", "exit 0", vec![])];
    for r in 0..3 {
        let mut s = step(2, "get", if r == 2 { "exit 1" } else { "exit 0" }, vec![]);
        s.repetition = r;
        steps.push(s);
    }
    let mut repeated = case(
        "HP-CON-002",
        "Concurrency",
        Level::Should,
        Status::Passed,
        steps,
    );
    repeated.note = Some("the minimal input was `a&b`".to_string());
    report(vec![
        passed("HP-RT-001", "Round trip", Level::Must),
        repeated,
    ])
}

/// A report gated with a baseline and waivers: one known failure, one waived failure, and a
/// baseline case that now passes.
pub fn gated_report() -> RunReport {
    use crate::{
        gate::{BaselineUse, GateUse, WaiverUse},
        run::result::Disposition,
    };
    let mut known = failed("HP-NF-001", "Unknown entries", Level::Must);
    known.disposition = Some(Disposition::KnownFailure);
    let mut waived = failed("HP-OUT-002", "Output discipline", Level::Should);
    waived.disposition = Some(Disposition::Waived {
        reason: "upstream <bug> #12".to_string(),
        expires: "2027-06-30".to_string(),
    });
    let mut r = report(vec![
        passed("HP-RT-001", "Round trip", Level::Must),
        known,
        waived,
    ]);
    r.gate = Some(GateUse {
        baseline: Some(BaselineUse {
            file: "old.json".to_string(),
            now_passing: vec!["HP-RT-001".to_string()],
        }),
        waivers: Some(WaiverUse {
            file: "waivers.toml".to_string(),
            waived: vec!["HP-OUT-002".to_string()],
        }),
    });
    r
}

/// A run interrupted after its first case: the others are marked not run.
pub fn interrupted_report() -> RunReport {
    let not_run = |id: &str| {
        let mut c = case(id, "Erase", Level::Must, Status::Skipped, vec![]);
        c.note = Some(crate::run::limits::INTERRUPTED_NOTE.to_string());
        c.not_run = true;
        c
    };
    let mut r = report(vec![
        passed("HP-RT-001", "Round trip", Level::Must),
        not_run("HP-ER-001"),
        not_run("HP-ER-002"),
    ]);
    r.mark_ended_early(true, false);
    r
}

/// A get-only certification: the cases that need store or erase were skipped.
pub fn get_only_report() -> RunReport {
    let mut skipped = case(
        "HP-RT-001",
        "Round trip",
        Level::Must,
        Status::Skipped,
        vec![],
    );
    skipped.note = Some(
        "needs store or erase to succeed, and the helper is declared get-only (--get-only)"
            .to_string(),
    );
    let mut r = report(vec![skipped, passed("HP-GO-001", "Get-only", Level::Must)]);
    r.target.get_only = true;
    r.target.name = "docker-credential-getonly".to_string();
    r
}

/// A helper that damaged its own store and left processes running, with an entry it could
/// not erase.
pub fn damaged_report() -> RunReport {
    let mut r = report(vec![passed("HP-RT-001", "Round trip", Level::Must)]);
    r.cleanup.erased = 3;
    r.cleanup.leftovers = vec!["https://left.cc0run.credconform.test".to_string()];
    r.cleanup.foreign_changed = vec!["https://index.docker.io/v1/: gone".to_string()];
    r.cleanup.left_running = vec![
        crate::drive::LeftRunning {
            command: "sleep 1000".to_string(),
            count: 2,
        },
        crate::drive::LeftRunning {
            command: "gpg-agent --daemon".to_string(),
            count: 1,
        },
    ];
    r.summary = r.summary.with_store_damage(true);
    r
}

/// A login CLI run over two suites: a step the registry changed under, a target that could
/// not be started, and a registry case that passed.
pub fn login_report() -> RunReport {
    let mut changed = case(
        "LC-LOGIN-003",
        "Login",
        Level::Must,
        Status::Failed,
        vec![
            step(1, "login", "exit 0", vec![]),
            step(
                2,
                "admin",
                "registry changed",
                vec![mismatch("registry journal", "a token request", "none")],
            ),
        ],
    );
    changed.suite = "login-cli".to_string();
    let mut error = case(
        "LC-LOGIN-004",
        "Login",
        Level::Should,
        Status::Error,
        vec![step(1, "login", "not started", vec![])],
    );
    error.suite = "login-cli".to_string();
    error.note = Some("cannot start docker: No such file or directory".to_string());
    let mut registry = passed("RG-TOK-001", "Tokens", Level::Must);
    registry.suite = "registry".to_string();
    let mut r = report(vec![changed, error, registry]);
    r.target.kind = crate::scenario::TargetKind::LoginCli;
    r.target.name = "docker".to_string();
    r.target.path = "/usr/bin/docker".to_string();
    r.target.version = None;
    r.suites = vec![
        crate::run::result::SuiteInfo {
            name: "login-cli".to_string(),
            version: "1.1.0".to_string(),
            title: "Registry login CLIs".to_string(),
        },
        crate::run::result::SuiteInfo {
            name: "registry".to_string(),
            version: "1.0.0".to_string(),
            title: "Registry behaviour".to_string(),
        },
    ];
    r
}

/// A strict run whose only failure is a SHOULD case.
pub fn strict_warning_report() -> RunReport {
    let mut r = report(vec![
        passed("HP-RT-001", "Round trip", Level::Must),
        failed("HP-OUT-001", "Output discipline", Level::Should),
    ]);
    r.strict = true;
    r
}
