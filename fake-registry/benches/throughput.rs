//! Throughput and latency of authenticated `GET /v2/` and `GET /token` under concurrent load on
//! loopback, side by side with distribution 2.8 (`docker-registry`) verifying the same bearer
//! token. Starts the `fake-registry` binary as a separate process; bounded in time and count.
//!
//! `cargo bench -p fake-registry --bench throughput`
//! Environment: `FR_BENCH_SECS` (per scenario, default 3), `FR_BENCH_CONCURRENCY` (default 16),
//! `FR_BENCH_MAX_REQUESTS` (per scenario, default 1000000).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::distribution;
use support::process::FakeRegistryProcess;

const USER: &str = "bob";
const PAT: &str = support::seed::BOB_WRITE;
const SCOPE: &str = "repository:bob/app:pull,push";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Measurement {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Measurement {
    fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[index]
    }

    fn print(&self, label: &str) {
        println!(
            "{label:<44} {:>9.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  ({} requests, {} errors)",
            self.throughput(),
            self.percentile(0.50).as_secs_f64() * 1000.0,
            self.percentile(0.99).as_secs_f64() * 1000.0,
            self.requests,
            self.errors
        );
    }
}

/// Drives `GET url` with `authorization` from `concurrency` keep-alive clients until `duration`
/// has passed or `max_requests` were sent.
async fn load(
    url: &str,
    authorization: &str,
    concurrency: u64,
    duration: Duration,
    max_requests: u64,
) -> Measurement {
    let issued = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (url, authorization) = (url.to_string(), authorization.to_string());
        let (issued, errors) = (issued.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            let mut latencies = Vec::new();
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max_requests
            {
                let sent = Instant::now();
                let request = client.get(&url).header("authorization", &authorization);
                let ok = match request.send().await {
                    Ok(response) => {
                        response.status().is_success() && response.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                latencies.push(sent.elapsed());
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Measurement {
        requests: latencies.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        elapsed,
        latencies,
    }
}

/// Our registry as a separate process, with the default seed and hour-long tokens.
fn start_fake_registry() -> FakeRegistryProcess {
    let seed = support::default_seed();
    let seed = seed.to_str().expect("seed path is UTF-8");
    FakeRegistryProcess::spawn(["--token-ttl", "3600", "--seed", seed], Stdio::inherit())
}

/// A bearer token for [`SCOPE`] from our token endpoint, and the certificate that verifies it.
async fn bearer_and_cert(
    client: &reqwest::Client,
    ours: &str,
    token_url: &str,
) -> (String, String) {
    let body: serde_json::Value = client
        .get(token_url)
        .header("authorization", support::basic(USER, PAT))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", body["token"].as_str().expect("token"));
    let cert = client
        .get(format!("{ours}/_admin/token-cert.pem"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (bearer, cert)
}

/// distribution 2.8 trusting our tokens, when it is installed and starts.
fn start_baseline(ours: &str, cert: &str) -> Option<distribution::Distribution> {
    let baseline = Path::new("/usr/bin/docker-registry");
    if !baseline.is_file() {
        println!(
            "baseline unavailable: /usr/bin/docker-registry is not installed (apt-get install docker-registry)"
        );
        return None;
    }
    let token_realm = format!("{ours}/token");
    // Our registry's default service and issuer.
    let name = "fake-registry";
    distribution::Distribution::start(baseline, &token_realm, name, name, cert)
        .inspect_err(|e| println!("baseline unavailable: docker-registry failed to start: {e}"))
        .ok()
}

/// The throughput ratio against the baseline and both servers' peak memory.
fn print_summary(
    ours: &FakeRegistryProcess,
    ours_ping: &Measurement,
    theirs: Option<(&distribution::Distribution, &Measurement)>,
) {
    match theirs {
        Some((_, theirs)) => {
            let ratio = ours_ping.throughput() / theirs.throughput().max(1e-9);
            let verdict = if ratio >= 1.0 { "meets" } else { "BELOW" };
            println!(
                "ratio GET /v2/ throughput ours/distribution: {ratio:.2} ({verdict} target >= 1.0)"
            );
        }
        None => println!("ratio GET /v2/ throughput ours/distribution: baseline unavailable"),
    }
    let rss = |pid: u32| {
        support::process::memory_kib(pid, "VmHWM").map_or("unknown".to_string(), |kib| {
            format!("{:.1} MiB", kib as f64 / 1024.0)
        })
    };
    println!("peak RSS (VmHWM) fake-registry: {}", rss(ours.pid()));
    if let Some((d, _)) = theirs {
        println!("peak RSS (VmHWM) distribution:  {}", rss(d.pid()));
    }
}

#[tokio::main]
async fn main() {
    let seconds = env_number("FR_BENCH_SECS", 3);
    let concurrency = env_number("FR_BENCH_CONCURRENCY", 16);
    let max_requests = env_number("FR_BENCH_MAX_REQUESTS", 1_000_000);
    let duration = Duration::from_secs(seconds);
    println!(
        "fake-registry throughput: {concurrency} concurrent loopback clients, {seconds} s per scenario (load generator shares the machine)"
    );

    let ours = start_fake_registry();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let token_url = format!("{}/token?service=fake-registry&scope={SCOPE}", ours.url);
    let (bearer, cert) = bearer_and_cert(&client, &ours.url, &token_url).await;
    let distribution = start_baseline(&ours.url, &cert);

    // `GET /v2/` of the server at `base` with our bearer token, for `how_long`.
    let ping = async |base: &str, how_long: Duration| {
        load(
            &format!("{base}/v2/"),
            &bearer,
            concurrency,
            how_long,
            max_requests,
        )
        .await
    };

    // Warm up both servers' connections and caches.
    let warm = Duration::from_millis(300);
    ping(&ours.url, warm).await;
    if let Some(d) = &distribution {
        ping(&d.url, warm).await;
    }

    let ours_ping = ping(&ours.url, duration).await;
    ours_ping.print("fake-registry  GET /v2/ (bearer)");
    let theirs_ping = match &distribution {
        Some(d) => {
            let m = ping(&d.url, duration).await;
            m.print("distribution   GET /v2/ (same bearer token)");
            Some(m)
        }
        None => None,
    };
    let basic = support::basic(USER, PAT);
    let ours_token = load(&token_url, &basic, concurrency, duration, max_requests).await;
    ours_token.print("fake-registry  GET /token (Basic, PAT, scope)");
    println!("distribution   GET /token                   n/a (distribution has no token server)");

    print_summary(
        &ours,
        &ours_ping,
        distribution.as_ref().zip(theirs_ping.as_ref()),
    );
    if ours_ping.errors + ours_token.errors > 0 {
        eprintln!("fake-registry answered errors under load");
        std::process::exit(1);
    }
}
