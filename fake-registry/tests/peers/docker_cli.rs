//! The real docker CLI (client only: it logs in without a daemon).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::{self, peer_program, seed};

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

#[tokio::test]
async fn docker_logs_in_with_a_pat_and_stores_an_identity_token() {
    let Some(docker) = peer_program("docker", &["/usr/local/bin/docker"]) else {
        return;
    };
    let registry = support::start().await;
    let config = tempfile::tempdir().unwrap();
    let host = registry.host();
    let docker = docker.clone();
    let config_path = config.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        docker_login(&docker, &config_path, &host, "bob", seed::BOB_WRITE)
    })
    .await
    .unwrap();
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
        token_request.token_uuid.unwrap().to_string(),
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
    let Some(docker) = peer_program("docker", &["/usr/local/bin/docker"]) else {
        return;
    };
    let registry = support::start().await;
    let config = tempfile::tempdir().unwrap();
    let host = registry.host();
    let config_path = config.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        docker_login(&docker, &config_path, &host, "bob", seed::BOB_PASSWORD)
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
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
    let Some(docker) = peer_program("docker", &["/usr/local/bin/docker"]) else {
        return;
    };
    let registry = support::start().await;
    let config = tempfile::tempdir().unwrap();
    let host = registry.host();
    let config_path = config.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        docker_login(&docker, &config_path, &host, "bob", seed::BOB_EXPIRED)
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unauthorized: personal access token expired at 2020-01-01T00:00:00Z"),
        "{stderr}"
    );
}
