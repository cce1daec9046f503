//! The `fake-registry` binary: first stdout line, seed flag, TLS flag, clean shutdown.

use std::process::{Command, Stdio};

use reqwest::StatusCode;

use crate::support::process::FakeRegistryProcess;
use crate::support::{self, client};

/// Starts the binary with `extra` flags, its stderr captured (and discarded).
fn spawn(extra: &[&str]) -> FakeRegistryProcess {
    FakeRegistryProcess::spawn(extra, Stdio::piped())
}

#[tokio::test]
async fn prints_its_url_serves_the_seed_and_stops_on_sigterm() {
    let seed = support::default_seed();
    let server = spawn(&[
        "--seed",
        seed.to_str().unwrap(),
        "--service",
        "svc.test",
        "--token-ttl",
        "42",
    ]);
    assert!(server.url.starts_with("http://127.0.0.1:"));
    let (status, body) = support::send(support::get_with_basic(
        format!("{}/token?service=svc.test", server.url),
        "alice",
        support::seed::ALICE_PASSWORD,
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 42);
    let exit = server.terminate("-TERM");
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
}

#[tokio::test]
async fn stops_on_sigint_and_honours_admin_flags() {
    let server = spawn(&["--admin-token", "t0k", "--auth", "basic"]);
    let (status, _) = support::send(client().get(format!("{}/_admin/journal", server.url))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let challenge = support::fetch(client().get(format!("{}/v2/", server.url))).await;
    assert_eq!(
        challenge.headers()["www-authenticate"],
        "Basic realm=\"fake-registry\""
    );
    assert!(server.terminate("-INT").success());
    let server = spawn(&["--no-admin"]);
    let (status, _) = support::send(client().get(format!("{}/_admin/journal", server.url))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(server.terminate("-TERM").success());
}

#[tokio::test]
async fn tls_self_signed_writes_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    let server = spawn(&["--tls-self-signed", ca_path.to_str().unwrap()]);
    assert!(server.url.starts_with("https://127.0.0.1:"));
    let client = support::client_trusting(&std::fs::read(&ca_path).unwrap());
    let status = support::status(client.get(format!("{}/v2/", server.url))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(server.terminate("-TERM").success());
}

#[test]
fn bad_flags_and_bad_seed_fail_with_a_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_fake-registry"))
        .args(["--auth", "digest"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("digest"));
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.toml");
    std::fs::write(&seed, "[[tokens]]\nuser = \"ghost\"\nsecret = \"fkr_pat_ghost_0000000000\"\nscopes = [\"repo:read\"]\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_fake-registry"))
        .args(["--listen", "127.0.0.1:0", "--seed", seed.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no user ghost"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
