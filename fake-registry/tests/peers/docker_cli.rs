//! The real docker CLI (client only: it logs in without a daemon).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use fake_registry::RunningRegistry;
use tempfile::TempDir;

use crate::support::{self, peer_program, seed};

/// Where the docker CLI is looked for besides `PATH`.
const DOCKER_CANDIDATES: [&str; 1] = ["/usr/local/bin/docker"];

/// Runs `docker login HOST -u USER --password-stdin` with an isolated config dir and a PATH
/// holding only docker (so no credential helper such as pass is picked up).
fn docker_login(docker: &Path, config: &Path, host: &str, user: &str, secret: &str) -> Output {
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(docker, bin.path().join("docker")).unwrap();
    let mut child = Command::new(bin.path().join("docker"))
        .args(["login", host, "-u", user, "--password-stdin"])
        .env_clear()
        .env("PATH", bin.path())
        .env("HOME", config)
        .env("DOCKER_CONFIG", config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(secret.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A `docker login` against a fresh default-seed registry.
struct DockerLogin {
    /// The registry docker logged in to (alive for journal checks).
    registry: RunningRegistry,
    /// The isolated docker config dir.
    config: TempDir,
    /// What `docker login` printed and how it exited.
    output: Output,
}

/// Runs `docker login` as `user` with `secret` against a fresh registry; `None` (the test is
/// skipped) when docker is missing outside CI.
async fn login_with_docker(user: &'static str, secret: &'static str) -> Option<DockerLogin> {
    let docker = peer_program("docker", &DOCKER_CANDIDATES)?;
    let registry = support::start().await;
    let config = tempfile::tempdir().unwrap();
    let host = registry.host();
    let config_path = config.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        docker_login(&docker, &config_path, &host, user, secret)
    })
    .await
    .unwrap();
    Some(DockerLogin {
        registry,
        config,
        output,
    })
}

/// A `docker login` expected to be refused: its exit code, its stderr and its config dir;
/// `None` when docker is missing outside CI.
async fn refused_docker_login(
    user: &'static str,
    secret: &'static str,
) -> Option<(Option<i32>, String, TempDir)> {
    let login = login_with_docker(user, secret).await?;
    let stderr = String::from_utf8_lossy(&login.output.stderr).into_owned();
    Some((login.output.status.code(), stderr, login.config))
}

#[tokio::test]
async fn docker_logs_in_with_a_pat_and_stores_an_identity_token() {
    let Some(DockerLogin {
        registry,
        config,
        output,
    }) = login_with_docker("bob", seed::BOB_WRITE).await
    else {
        return;
    };
    assert!(
        output.status.success(),
        "docker login failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Login Succeeded"));
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.path().join("config.json")).unwrap()).unwrap();
    let entry = &file["auths"][registry.host()];
    assert!(
        entry["identitytoken"]
            .as_str()
            .unwrap()
            .starts_with("fkr_idt_"),
        "{file}"
    );
    let journal = registry.state().journal().entries();
    let token_request = journal
        .iter()
        .find(|e| e.path == "/token")
        .expect("docker asked /token");
    assert_eq!(
        token_request.note.token_uuid.unwrap().to_string(),
        "0b0b0000-0000-4000-8000-000000000002"
    );
    assert!(
        token_request
            .query
            .as_deref()
            .unwrap()
            .contains("offline_token=true")
    );
}

#[tokio::test]
async fn docker_prints_the_refusal_of_a_two_factor_password() {
    let Some((code, stderr, config)) = refused_docker_login("bob", seed::BOB_PASSWORD).await else {
        return;
    };
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("unauthorized: please use personal access token to login"),
        "{stderr}"
    );
    assert!(
        !config.path().join("config.json").exists(),
        "a failed login writes no config"
    );
}

#[tokio::test]
async fn docker_prints_the_expiry_of_an_expired_pat() {
    let Some((code, stderr, _config)) = refused_docker_login("bob", seed::BOB_EXPIRED).await else {
        return;
    };
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("unauthorized: personal access token expired at 2020-01-01T00:00:00Z"),
        "{stderr}"
    );
}
