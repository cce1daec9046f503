//! Helpers shared by the end-to-end tests: starting registries, HTTP clients, credentials,
//! and locating real peer programs.
#![allow(dead_code)]

pub mod distribution;
pub mod process;

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fake_registry::{FakeRegistry, FakeRegistryBuilder, RunningRegistry};
use reqwest::{Client, IntoUrl, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Path of the default seed fixture.
pub fn default_seed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/registry/default.toml")
}

/// Secrets and ids of `fixtures/registry/default.toml`.
pub mod seed {
    pub const ALICE_PASSWORD: &str = "alice-password";
    pub const ALICE_READ: &str = "fkr_pat_alice_read_8d0f2b4a6c8e0a2c4e6b";
    pub const BOB_PASSWORD: &str = "bob-password";
    pub const BOB_TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    pub const BOB_ADMIN: &str = "fkr_pat_bob_admin_7f3c9a1e5b2d4c6f8a0e";
    pub const BOB_WRITE: &str = "fkr_pat_bob_write_2d8e4a6c1f3b5d7e9a0c";
    pub const BOB_READ: &str = "fkr_pat_bob_read_9c1e3a5f7b2d4e6a8c0f";
    pub const BOB_PUBLIC_READ: &str = "fkr_pat_bob_public_4a6c8e0b2d4f6a8c1e3b";
    pub const BOB_EXPIRED: &str = "fkr_pat_bob_expired_6e8a0c2f4b6d8e1a3c5f";
    pub const BOB_INACTIVE: &str = "fkr_pat_bob_inactive_1b3d5f7a9c2e4a6c8e0b";
    pub const BOB_READ_UUID: &str = "0b0b0000-0000-4000-8000-000000000003";
    pub const BOB_INACTIVE_UUID: &str = "0b0b0000-0000-4000-8000-000000000006";
}

/// A builder seeded with the default fixture.
pub fn builder() -> FakeRegistryBuilder {
    FakeRegistry::builder().seed_file(default_seed())
}

/// A bearer-mode registry with the default seed.
pub async fn start() -> RunningRegistry {
    builder().start().await.expect("registry starts")
}

/// An HTTP client that talks to loopback only and does not follow redirects.
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client builds")
}

/// A loopback client that trusts `ca_pem` (for HTTPS registries with a generated CA).
pub fn client_trusting(ca_pem: &[u8]) -> Client {
    let ca = reqwest::Certificate::from_pem(ca_pem).expect("CA parses");
    Client::builder()
        .add_root_certificate(ca)
        .no_proxy()
        .build()
        .expect("client builds")
}

/// `Basic base64(user:secret)`.
pub fn basic(user: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{secret}")))
}

/// A `GET url` carrying Basic credentials for `user`/`secret`.
pub fn get_with_basic(url: impl IntoUrl, user: &str, secret: &str) -> RequestBuilder {
    client()
        .get(url)
        .header("authorization", basic(user, secret))
}

/// Status and JSON body of a response (`Value::Null` for an empty or non-JSON body).
pub async fn json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = response.bytes().await.expect("body reads");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Sends and returns status and JSON.
pub async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    json(fetch(request).await).await
}

/// Sends `request` and returns the whole response, headers and body unread.
pub async fn fetch(request: RequestBuilder) -> Response {
    request.send().await.expect("request is sent")
}

/// Sends `request` and returns only its status (the body is dropped unread).
pub async fn status(request: RequestBuilder) -> StatusCode {
    fetch(request).await.status()
}

/// `GET url`: status and JSON body.
pub async fn get_json(url: impl IntoUrl) -> (StatusCode, Value) {
    send(client().get(url)).await
}

/// `POST url` with `body` as JSON: status and JSON body.
pub async fn post_json(url: impl IntoUrl, body: Value) -> (StatusCode, Value) {
    send(client().post(url).json(&body)).await
}

/// The `www-authenticate` challenge of a response, as text.
pub fn challenge(response: &Response) -> String {
    response.headers()["www-authenticate"]
        .to_str()
        .expect("challenge is ASCII")
        .to_string()
}

/// Asks `GET /token` as docker does, with Basic credentials and the given scopes.
pub async fn token_response(
    registry: &RunningRegistry,
    user: &str,
    secret: &str,
    scopes: &[&str],
) -> (StatusCode, Value) {
    let mut query: Vec<(&str, &str)> = vec![
        ("account", user),
        ("client_id", "docker"),
        ("offline_token", "true"),
        ("service", "fake-registry"),
    ];
    query.extend(scopes.iter().map(|s| ("scope", *s)));
    send(get_with_basic(format!("{}/token", registry.url()), user, secret).query(&query)).await
}

/// A bearer token for `user`/`secret` with `scopes`; panics unless the token endpoint says 200.
pub async fn bearer(
    registry: &RunningRegistry,
    user: &str,
    secret: &str,
    scopes: &[&str],
) -> String {
    let (status, body) = token_response(registry, user, secret, scopes).await;
    assert_eq!(status, StatusCode::OK, "token for {user}: {body}");
    body["token"].as_str().expect("token field").to_string()
}

/// The decoded JSON of segment `index` (0: header, 1: claims) of a JWS compact token; the
/// signature is not checked.
fn jws_segment(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).expect("JWS has three segments");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .expect("JWS segment is base64url");
    serde_json::from_slice(&bytes).expect("JWS segment is JSON")
}

/// The JOSE header of a JWS token (unverified).
pub fn jws_header(token: &str) -> Value {
    jws_segment(token, 0)
}

/// The claims of a JWS token (unverified).
pub fn jws_claims(token: &str) -> Value {
    jws_segment(token, 1)
}

/// `sha256:<hex>`, the digest registries name a blob or manifest by.
pub fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Media type of an OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// An OCI image manifest with `config` and a single `layer`, each referenced by digest and
/// size.
pub fn oci_manifest(config: &[u8], layer: &[u8]) -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(layer), "size": layer.len()}],
    })
}

/// A real program needed by a peer test. `None` (after printing why the test is skipped)
/// when it is missing, except under CI (`CI` set), where a missing program fails the test.
pub fn peer_program(name: &str, candidates: &[&str]) -> Option<PathBuf> {
    let found = candidates
        .iter()
        .map(PathBuf::from)
        .chain(
            std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths)
                .map(|d| d.join(name)),
        )
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("{name} is required under CI but was not found");
        }
        eprintln!(
            "SKIPPED: {name} not found (install it to run this test; under CI it is required)"
        );
    }
    found
}

/// What a raw exchange got back.
#[derive(Debug)]
pub struct RawAnswer {
    /// Every byte the server sent.
    pub bytes: Vec<u8>,
    /// Whether the server closed the connection (rather than the wait running out).
    pub closed: bool,
}

/// Writes `request` as raw bytes to `addr`, then, with `close_write`, shuts the write side
/// (the request ends there). Returns what the server sent back before closing the connection
/// or before `wait` ran out.
pub async fn raw_exchange(
    addr: std::net::SocketAddr,
    request: &[u8],
    close_write: bool,
    wait: std::time::Duration,
) -> RawAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects to the registry");
    let mut bytes = Vec::new();
    let written = stream.write_all(request).await.is_ok();
    if written && close_write {
        let _ = stream.shutdown().await;
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut buffer = [0_u8; 8192];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return RawAnswer {
                    bytes,
                    closed: true,
                };
            }
            Ok(Ok(read)) => bytes.extend_from_slice(&buffer[..read]),
            Err(_) => {
                return RawAnswer {
                    bytes,
                    closed: false,
                };
            }
        }
    }
}

/// The final status code and JSON body of a raw HTTP/1.1 answer, after any `100 Continue`
/// (`None` when it is not an HTTP answer).
pub fn parse_raw_answer(answer: &[u8]) -> Option<(u16, Value)> {
    let mut text = String::from_utf8_lossy(answer).into_owned();
    loop {
        let status: u16 = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
        let (_, rest) = text.split_once("\r\n\r\n")?;
        if status != 100 {
            return Some((status, serde_json::from_str(rest).unwrap_or(Value::Null)));
        }
        text = rest.to_string();
    }
}

/// The error message of `body` in the shape `path`'s surface uses.
pub fn surface_message(path: &str, body: &Value) -> Option<String> {
    let message = if path.starts_with("/_admin") {
        &body["error"]
    } else if path.starts_with("/token") {
        &body["details"]
    } else if path.starts_with("/v2/users/") || path.starts_with("/v2/access-tokens") {
        &body["detail"]
    } else {
        &body["errors"][0]["message"]
    };
    message.as_str().map(str::to_string)
}
