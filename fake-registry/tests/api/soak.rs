//! Soak: concurrent clients log in (Hub-style and at `/token`), push (monolithic and chunked
//! uploads, manifest) and pull against the `fake-registry` binary on loopback for a bounded
//! time. No request fails, none gets a 5xx, and the server's peak resident memory stays
//! bounded. Prints the figures (requests, failures, peak RSS).
//!
//! `FR_SOAK_SECS` (default 10, at most 600) and `FR_SOAK_CLIENTS` (default 16, at most 256)
//! change the load.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::json;

use crate::support::process::{FakeRegistryProcess, memory_kib};
use crate::support::{self, OCI_MANIFEST, digest, oci_manifest, seed};

/// Peak resident memory the server may reach under the soak, in MiB (generous: content pushed
/// during the run stays in memory).
const MAX_PEAK_RSS_MIB: u64 = 512;

fn setting(name: &str, default: u64, max: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .clamp(1, max)
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    failures: AtomicU64,
    server_errors: AtomicU64,
}

impl Tally {
    /// Sends `request`, counts it, and returns the status and body when it is `expected`.
    async fn send(
        &self,
        what: &str,
        request: RequestBuilder,
        expected: StatusCode,
    ) -> Option<(reqwest::header::HeaderMap, Vec<u8>)> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                if status.is_server_error() {
                    self.server_errors.fetch_add(1, Ordering::Relaxed);
                }
                let headers = response.headers().clone();
                match response.bytes().await {
                    Ok(body) if status == expected => Some((headers, body.to_vec())),
                    Ok(body) => {
                        eprintln!("{what}: {status} {}", String::from_utf8_lossy(&body));
                        None
                    }
                    Err(e) => {
                        eprintln!("{what}: body: {e}");
                        None
                    }
                }
            }
            Err(e) => {
                eprintln!("{what}: {e}");
                None
            }
        };
        if outcome.is_none() {
            self.fail();
        }
        outcome
    }

    fn fail(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }
}

/// One round of a client: logins, a monolithic layer, a chunked config, a manifest, pulls.
async fn round(client: &Client, url: &str, tally: &Tally, id: usize, n: u64) -> Option<()> {
    let repo = format!("alice/soak-{id}");
    let login = client
        .post(format!("{url}/v2/users/login"))
        .json(&json!({"username": "alice", "password": seed::ALICE_PASSWORD}));
    tally.send("hub login", login, StatusCode::OK).await?;
    let token = client
        .get(format!("{url}/token"))
        .basic_auth("alice", Some(seed::ALICE_PASSWORD))
        .query(&[
            ("service", "fake-registry"),
            ("scope", &format!("repository:{repo}:pull,push")),
        ]);
    let (_, body) = tally.send("token", token, StatusCode::OK).await?;
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(token) = answer["token"].as_str().map(str::to_string) else {
        eprintln!("token: no token in {answer}");
        tally.fail();
        return None;
    };
    let auth = |request: RequestBuilder| request.bearer_auth(&token);

    let layer = format!("layer {id} {n} ")
        .repeat(64 + (n as usize % 64))
        .into_bytes();
    let layer_digest = digest(&layer);
    let push = client
        .post(format!("{url}/v2/{repo}/blobs/uploads/"))
        .query(&[("digest", &layer_digest)])
        .body(layer.clone());
    tally
        .send("monolithic push", auth(push), StatusCode::CREATED)
        .await?;

    let config = format!("{{\"client\":{id},\"round\":{n}}}").into_bytes();
    let open = client.post(format!("{url}/v2/{repo}/blobs/uploads/"));
    let (headers, _) = tally
        .send("open upload", auth(open), StatusCode::ACCEPTED)
        .await?;
    let Some(location) = headers.get("location").and_then(|v| v.to_str().ok()) else {
        eprintln!("open upload: no Location header");
        tally.fail();
        return None;
    };
    let location = format!("{url}{location}");
    let (head, tail) = config.split_at(config.len() / 2);
    let patch = client
        .patch(&location)
        .header("content-range", format!("0-{}", head.len() - 1))
        .body(head.to_vec());
    tally
        .send("patch chunk", auth(patch), StatusCode::ACCEPTED)
        .await?;
    let finish = client
        .put(&location)
        .query(&[("digest", digest(&config))])
        .body(tail.to_vec());
    tally
        .send("finish upload", auth(finish), StatusCode::CREATED)
        .await?;

    let tag = format!("v{}", n % 4);
    let manifest = serde_json::to_vec(&oci_manifest(&config, &layer)).expect("JSON encodes");
    let put = client
        .put(format!("{url}/v2/{repo}/manifests/{tag}"))
        .header("content-type", OCI_MANIFEST)
        .body(manifest.clone());
    tally
        .send("manifest push", auth(put), StatusCode::CREATED)
        .await?;

    let get = client.get(format!("{url}/v2/{repo}/manifests/{tag}"));
    let (_, pulled) = tally
        .send("manifest pull", auth(get), StatusCode::OK)
        .await?;
    let get = client.get(format!("{url}/v2/{repo}/blobs/{layer_digest}"));
    let (_, blob) = tally.send("blob pull", auth(get), StatusCode::OK).await?;
    if pulled != manifest || blob != layer {
        eprintln!("pulled content differs from what was pushed");
        tally.fail();
        return None;
    }
    Some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_login_push_and_pull_without_failures() {
    let secs = setting("FR_SOAK_SECS", 10, 600);
    let clients = setting("FR_SOAK_CLIENTS", 16, 256) as usize;
    let seed_file = support::default_seed();
    let server = FakeRegistryProcess::spawn(["--seed", seed_file.to_str().unwrap()], Stdio::null());
    let url = server.url.clone();
    let tally = Arc::new(Tally::default());
    let stop_at = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for id in 0..clients {
        let (url, tally) = (url.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let client = support::client();
            let mut n = 0;
            while Instant::now() < stop_at {
                let _ = round(&client, &url, &tally, id, n).await;
                n += 1;
            }
        }));
    }
    for task in tasks {
        // Each round is a handful of loopback requests; the whole run ends soon after `secs`.
        tokio::time::timeout(Duration::from_secs(secs + 120), task)
            .await
            .expect("a client does not hang")
            .expect("a client does not panic");
    }
    let peak = memory_kib(server.pid(), "VmHWM").expect("VmHWM is readable") / 1024;
    let requests = tally.requests.load(Ordering::Relaxed);
    let failures = tally.failures.load(Ordering::Relaxed);
    let server_errors = tally.server_errors.load(Ordering::Relaxed);
    println!(
        "soak: {clients} clients for {secs} s: {requests} requests, {failures} failures, \
         {server_errors} 5xx, peak RSS {peak} MiB"
    );
    let ping = support::fetch(support::client().get(format!("{url}/v2/"))).await;
    assert_eq!(ping.status(), StatusCode::UNAUTHORIZED);
    assert!(requests > 0);
    assert_eq!(server_errors, 0);
    assert_eq!(failures, 0);
    assert!(peak < MAX_PEAK_RSS_MIB, "peak RSS {peak} MiB");
}
