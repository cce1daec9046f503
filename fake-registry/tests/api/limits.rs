//! Bodies and upload sessions are bounded: a declared length over the limit is refused before
//! reading, a stalled body times out, and upload sessions expire when idle and are capped in
//! number and bytes, with their memory returned after expiry.

use std::process::Stdio;
use std::time::{Duration, Instant};

use fake_registry::{AuthMode, RunningRegistry, UploadLimits};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::process::{FakeRegistryProcess, memory_kib};
use crate::support::{self, basic, client, parse_raw_answer, raw_exchange, seed, send};

const REPO: &str = "alice/app";

fn alice() -> String {
    basic("alice", seed::ALICE_PASSWORD)
}

async fn start_with(limits: UploadLimits, read_timeout: Duration) -> RunningRegistry {
    support::builder()
        .auth_mode(AuthMode::Basic)
        .upload_limits(limits)
        .body_read_timeout(read_timeout)
        .start()
        .await
        .expect("registry starts")
}

/// Opens an upload session; returns its status, body and location path.
async fn open_upload(url: &str) -> (StatusCode, Value, Option<String>) {
    let response = support::fetch(
        client()
            .post(format!("{url}/v2/{REPO}/blobs/uploads/"))
            .header("authorization", alice()),
    )
    .await;
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, body) = support::json(response).await;
    (status, body, location)
}

/// Raw request head for `method path` with Basic credentials and `extra` header lines.
fn head(method: &str, path: &str, extra: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: registry\r\nAuthorization: {}\r\n{extra}\r\n",
        alice()
    )
    .into_bytes()
}

#[tokio::test]
async fn a_declared_length_over_the_limit_gets_413_at_once() {
    let registry = start_with(UploadLimits::default(), Duration::from_secs(60)).await;
    let (status, _, location) = open_upload(&registry.url()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mut request = head(
        "PATCH",
        &location.unwrap(),
        "Content-Type: application/octet-stream\r\nContent-Length: 2147483648\r\n",
    );
    request.extend_from_slice(&[7; 100]);
    let started = Instant::now();
    let answer = raw_exchange(registry.addr(), &request, false, Duration::from_secs(20)).await;
    let (status, body) = parse_raw_answer(&answer.bytes).expect("an HTTP answer");
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["errors"][0]["code"], "SIZE_INVALID");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "answered at once"
    );
    // The same on a JSON endpoint, whose limit is much smaller.
    let mut request = head("POST", "/v2/users/login", "Content-Length: 1000000\r\n");
    request.extend_from_slice(b"{\"username\":");
    let answer = raw_exchange(registry.addr(), &request, false, Duration::from_secs(20)).await;
    let (status, body) = parse_raw_answer(&answer.bytes).expect("an HTTP answer");
    assert_eq!(status, 413, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("1000000"),
        "{body}"
    );
}

#[tokio::test]
async fn a_stalled_body_times_out_with_408() {
    let registry = start_with(UploadLimits::default(), Duration::from_secs(1)).await;
    let (_, _, location) = open_upload(&registry.url()).await;
    for (path, message) in [
        (location.unwrap(), "/errors/0/message"),
        ("/v2/users/login".to_string(), "/detail"),
        ("/token".to_string(), "/details"),
        ("/_admin/users".to_string(), "/error"),
    ] {
        let method = if path.contains("uploads") {
            "PATCH"
        } else {
            "POST"
        };
        let mut request = head(method, &path, "Content-Length: 100\r\n");
        request.extend_from_slice(b"0123456789");
        let started = Instant::now();
        let answer = raw_exchange(registry.addr(), &request, false, Duration::from_secs(30)).await;
        let (status, body) = parse_raw_answer(&answer.bytes).expect("an HTTP answer");
        assert_eq!(status, 408, "{path}: {body}");
        let text = body
            .pointer(message)
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert!(text.contains("no data"), "{path}: {body}");
        assert!(started.elapsed() < Duration::from_secs(25));
    }
}

#[tokio::test]
async fn upload_sessions_are_capped_in_number_and_bytes() {
    let limits = UploadLimits {
        max_sessions: 2,
        max_bytes: 1000,
        ..UploadLimits::default()
    };
    let registry = start_with(limits, Duration::from_secs(30)).await;
    let url = registry.url();
    let (_, _, first) = open_upload(&url).await;
    let (_, _, second) = open_upload(&url).await;
    let (status, body, _) = open_upload(&url).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["errors"][0]["code"], "TOOMANYREQUESTS");
    let patch = |path: &str, bytes: usize| {
        client()
            .patch(format!("{url}{path}"))
            .header("authorization", alice())
            .body(vec![1_u8; bytes])
    };
    let first = first.unwrap();
    assert_eq!(send(patch(&first, 600)).await.0, StatusCode::ACCEPTED);
    let (status, body) = send(patch(&second.clone().unwrap(), 600)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("1000 bytes") && message.contains("600 held"),
        "{message}"
    );
    let cancel = client()
        .delete(format!("{url}{first}"))
        .header("authorization", alice());
    assert_eq!(send(cancel).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        send(patch(&second.unwrap(), 600)).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(open_upload(&url).await.0, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn idle_upload_sessions_expire() {
    let limits = UploadLimits {
        idle_timeout: Duration::from_secs(1),
        ..UploadLimits::default()
    };
    let registry = start_with(limits, Duration::from_secs(30)).await;
    let url = registry.url();
    let (_, _, location) = open_upload(&url).await;
    let location = location.unwrap();
    let status_of = || {
        client()
            .get(format!("{url}{location}"))
            .header("authorization", alice())
    };
    assert_eq!(send(status_of()).await.0, StatusCode::NO_CONTENT);
    // Idle for three times the timeout: the background sweep has dropped it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(registry.state().content(|c| c.upload_bytes()), 0);
    let (status, body) = send(status_of()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errors"][0]["code"], "BLOB_UPLOAD_UNKNOWN");
}

#[tokio::test]
async fn memory_of_unfinished_uploads_returns_after_expiry() {
    let seed = support::default_seed();
    let server = FakeRegistryProcess::spawn(
        [
            "--seed",
            seed.to_str().unwrap(),
            "--auth",
            "basic",
            "--upload-idle-timeout",
            "8",
        ],
        Stdio::null(),
    );
    let pid = server.pid();
    let rss = || memory_kib(pid, "VmRSS").expect("VmRSS is readable") / 1024;
    let baseline = rss();
    const CHUNK: usize = 100 * 1024 * 1024;
    let mut sessions = Vec::new();
    for _ in 0..4 {
        let (status, body, location) = open_upload(&server.url).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let location = format!("{}{}", server.url, location.unwrap());
        let request = client()
            .patch(&location)
            .header("authorization", alice())
            .body(vec![3_u8; CHUNK]);
        let (status, body) = send(request).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        sessions.push(location);
        // Keep the earlier sessions from going idle while a loaded machine uploads the rest.
        for session in &sessions {
            let touch = client().get(session).header("authorization", alice());
            assert_eq!(
                send(touch).await.0,
                StatusCode::NO_CONTENT,
                "{session} is open"
            );
        }
    }
    let loaded = rss();
    assert!(
        loaded >= baseline + 300,
        "four 100 MiB sessions should be resident: {baseline} MiB -> {loaded} MiB"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut now = loaded;
    while now > baseline + 100 {
        assert!(
            Instant::now() < deadline,
            "memory did not return after expiry: {baseline} MiB at start, {loaded} MiB \
             loaded, {now} MiB after"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        now = rss();
    }
    println!(
        "upload memory: {baseline} MiB idle, {loaded} MiB with 4 x 100 MiB, {now} MiB after expiry"
    );
    let (status, _) = send(
        client()
            .get(format!("{}/v2/", server.url))
            .header("authorization", alice()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
