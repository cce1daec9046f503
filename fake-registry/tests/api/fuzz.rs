//! Property tests over real TCP: arbitrary JSON with extreme values on the admin API, the
//! token endpoint and the Hub login endpoints, and arbitrary request bytes on the raw socket.
//! No answer is a 5xx (faults are never injected here), every error is JSON, no connection
//! hangs, and the server keeps serving. Case counts and waits are bounded.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    self, RawAnswer, client, parse_raw_answer, raw_exchange, seed, surface_message,
};

/// Numbers at and around the edges of every integer and float type a handler may parse.
fn extreme_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => Just(json!(i64::MAX)),
        2 => Just(json!(i64::MIN)),
        1 => Just(json!(u64::MAX)),
        1 => Just(json!(u32::MAX)),
        1 => Just(json!(0)),
        1 => Just(json!(-1)),
        1 => Just(json!(1e308)),
        1 => Just(json!(-1e308)),
        1 => Just(json!(0.5)),
        1 => any::<i64>().prop_map(Value::from),
    ]
}

/// Strings a handler may parse as a time, scope, name, secret or label, plus junk.
fn extreme_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("9999-12-31T23:59:59Z".to_string()),
        Just("9000-12-31T23:59:59Z".to_string()),
        Just("0000-01-01T00:00:00Z".to_string()),
        Just("1969-12-31T23:59:59Z".to_string()),
        Just("2030-01-01T00:00:00+23:59".to_string()),
        Just("never".to_string()),
        Just(String::new()),
        Just("alice".to_string()),
        Just(seed::ALICE_PASSWORD.to_string()),
        Just("repo:admin".to_string()),
        Just("repository:alice/app:pull,push".to_string()),
        Just("fkr_pat_not_a_real_secret".to_string()),
        Just("a".repeat(5000)),
        Just("\u{0}\u{ffff}".to_string()),
        "\\PC{0,24}",
    ]
}

const KEYS: &[&str] = &[
    "username",
    "password",
    "two_factor",
    "totp_secret",
    "label",
    "token_label",
    "scopes",
    "expires_at",
    "generated_by",
    "is_active",
    "name",
    "visibility",
    "advance_secs",
    "set",
    "login_2fa_token",
    "code",
];

/// Arbitrary JSON, biased to the members the endpoints read, with extreme leaves.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        extreme_number(),
        extreme_string().prop_map(Value::String),
    ];
    let key = prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_string),
        1 => "\\PC{0,8}",
    ];
    leaf.prop_recursive(3, 32, 6, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON endpoints: method, path (`{uuid}` stands for one of alice's tokens) and the members
/// the endpoint reads.
type Endpoint = (&'static str, &'static str, &'static [&'static str]);
const JSON_ENDPOINTS: &[Endpoint] = &[
    ("POST", "/_admin/clock", &["advance_secs", "set"]),
    (
        "POST",
        "/_admin/users",
        &["username", "password", "two_factor", "totp_secret"],
    ),
    ("PATCH", "/_admin/users/alice", &["password", "two_factor"]),
    (
        "POST",
        "/_admin/users/alice/tokens",
        &["label", "scopes", "expires_at", "generated_by"],
    ),
    (
        "PATCH",
        "/_admin/users/alice/tokens/{uuid}",
        &["is_active", "label", "expires_at"],
    ),
    ("POST", "/_admin/repositories", &["name", "visibility"]),
    ("POST", "/v2/users/login", &["username", "password"]),
    ("POST", "/v2/users/2fa-login", &["login_2fa_token", "code"]),
    (
        "POST",
        "/v2/access-tokens",
        &["token_label", "scopes", "expires_at"],
    ),
    (
        "PATCH",
        "/v2/access-tokens/{uuid}",
        &["token_label", "is_active", "expires_at"],
    ),
];

/// A body for endpoint `index`: mostly an object of the members it reads with extreme values,
/// sometimes arbitrary JSON.
fn endpoint_body(index: usize) -> impl Strategy<Value = Value> {
    let keys = JSON_ENDPOINTS[index].2;
    let member = prop_oneof![
        3 => extreme_number(),
        3 => extreme_string().prop_map(Value::String),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        1 => vec(extreme_string().prop_map(Value::String), 0..4).prop_map(Value::Array),
    ];
    let fitted = btree_map(proptest::sample::select(keys), member, 1..=keys.len())
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    prop_oneof![3 => fitted, 1 => json_value()]
}

const FORM_KEYS: &[&str] = &[
    "grant_type",
    "username",
    "password",
    "refresh_token",
    "scope",
    "service",
    "client_id",
    "access_type",
    "offline_token",
    "account",
];

/// One round: a body for every JSON endpoint, and a token request form (with or without
/// alice's Basic credentials).
#[derive(Debug, Clone)]
struct ApiRound {
    bodies: Vec<Value>,
    form: BTreeMap<String, String>,
    basic: bool,
}

fn api_round() -> impl Strategy<Value = ApiRound> {
    let bodies: Vec<BoxedStrategy<Value>> = (0..JSON_ENDPOINTS.len())
        .map(|i| endpoint_body(i).boxed())
        .collect();
    let form = btree_map(
        proptest::sample::select(FORM_KEYS).prop_map(str::to_string),
        extreme_string(),
        0..6,
    );
    (bodies, form, any::<bool>()).prop_map(|(bodies, form, basic)| ApiRound {
        bodies,
        form,
        basic,
    })
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Sends `request` to `path`: never a 5xx, and an error has a JSON body in the surface's shape.
async fn check_answer(path: &str, request: reqwest::RequestBuilder) -> Result<(), TestCaseError> {
    let response = request.send().await.expect("the request is answered");
    let status = response.status();
    let bytes = response.bytes().await.expect("the body reads");
    prop_assert!(!status.is_server_error(), "{path}: {status}");
    if status.is_client_error() {
        let body: Value = serde_json::from_slice(&bytes)
            .map_err(|e| TestCaseError::fail(format!("{path}: {status} body not JSON: {e}")))?;
        prop_assert!(surface_message(path, &body).is_some(), "{path}: {body}");
    }
    Ok(())
}

async fn check_api_round(url: &str, uuid: &str, round: ApiRound) -> Result<(), TestCaseError> {
    for ((method, path, _), body) in JSON_ENDPOINTS.iter().zip(&round.bodies) {
        let path = path.replace("{uuid}", uuid);
        let request = client()
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{url}{path}"),
            )
            .basic_auth("alice", Some(seed::ALICE_PASSWORD))
            .json(body);
        check_answer(&path, request).await?;
    }
    let mut request = client().post(format!("{url}/token")).form(&round.form);
    if round.basic {
        request = request.basic_auth("alice", Some(seed::ALICE_PASSWORD));
    }
    check_answer("/token", request).await
}

/// Ping, the admin clock and a password login all still answer as usual.
async fn still_serving(url: &str) {
    let ping = client().get(format!("{url}/v2/")).send().await.unwrap();
    assert_eq!(ping.status(), StatusCode::UNAUTHORIZED);
    let clock = client()
        .get(format!("{url}/_admin/clock"))
        .send()
        .await
        .unwrap();
    assert_eq!(clock.status(), StatusCode::OK);
    let (status, body) = support::post_json(
        format!("{url}/v2/users/login"),
        json!({"username": "alice", "password": seed::ALICE_PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[test]
fn arbitrary_json_on_admin_token_and_login_endpoints_never_breaks_the_server() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let registry = runtime.block_on(support::start());
    let url = registry.url();
    // alice's read token in the seed, so that PATCHes reach a real token.
    let uuid = "a11ce000-0000-4000-8000-000000000002";
    let result = runner(192).run(&api_round(), |round| {
        runtime.block_on(async {
            check_api_round(&url, uuid, round).await?;
            // A round may have changed alice's password or moved the clock: start afresh.
            let reset = client()
                .post(format!("{url}/_admin/reset"))
                .send()
                .await
                .unwrap();
            assert_eq!(reset.status(), StatusCode::NO_CONTENT);
            still_serving(&url).await;
            Ok(())
        })
    });
    result.unwrap();
    runtime.block_on(still_serving(&url));
}

const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "BREW", "",
];
const PATHS: &[&str] = &[
    "/v2/",
    "/v2",
    "/token",
    "/v2/users/login",
    "/v2/users/2fa-login",
    "/v2/access-tokens",
    "/v2/_catalog",
    "/v2/alice/app/blobs/uploads/",
    "/v2/alice/app/blobs/uploads/00000000-0000-4000-8000-000000000000",
    "/v2/alice/app/manifests/latest",
    "/v2/alice/app/blobs/sha256:00",
    "/v2/alice/app/tags/list",
    "/_admin/clock",
    "/_admin/users/alice",
    "/_admin/journal",
    "/v2/%FF%FE/manifests/x",
    "*",
    "http://elsewhere/v2/",
];
const HEADERS: &[&str] = &[
    "Content-Length: 5",
    "Content-Length: 2147483648",
    "Content-Length: 18446744073709551616",
    "Content-Length: -1",
    "Content-Length: 1, 2",
    "Transfer-Encoding: chunked",
    "Transfer-Encoding: gzip",
    "Expect: 100-continue",
    "Authorization: Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=",
    "Authorization: Bearer a.b.c",
    "Authorization: Basic %%%",
    "Content-Range: 0-18446744073709551615",
    "Content-Range: 5-1",
    "Content-Type: application/json",
    "Content-Type: application/x-www-form-urlencoded",
    "Connection: close",
    "Host:",
];

/// A request assembled from plausible and hostile parts, or plain arbitrary bytes.
fn raw_request() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        4 => proptest::sample::select(METHODS).prop_map(str::to_string),
        1 => "[A-Z]{1,12}",
    ];
    let path = prop_oneof![
        4 => proptest::sample::select(PATHS).prop_map(str::to_string),
        1 => "/[ -~]{0,40}",
        1 => vec(any::<u8>(), 0..24).prop_map(|b| format!("/v2/{}", String::from_utf8_lossy(&b))),
    ];
    let query = prop_oneof![
        Just(String::new()),
        Just("?digest=sha256:0000&n=18446744073709551616&last=".to_string()),
        Just(
            "?scope=repository:alice/app:pull&service=fake-registry&offline_token=true".to_string()
        ),
        "\\?[ -~]{0,30}",
    ];
    let headers = vec(
        prop_oneof![
            4 => proptest::sample::select(HEADERS).prop_map(str::to_string),
            1 => "[A-Za-z-]{1,12}: [ -~]{0,30}",
        ],
        0..6,
    );
    let body = vec(any::<u8>(), 0..64);
    let structured = (method, path, query, headers, body).prop_map(|(m, p, q, h, b)| {
        let mut bytes = format!("{m} {p}{q} HTTP/1.1\r\nHost: registry\r\n").into_bytes();
        for header in h {
            bytes.extend_from_slice(header.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(&b);
        bytes
    });
    prop_oneof![
        4 => structured,
        1 => vec(any::<u8>(), 0..256),
    ]
}

fn check_raw_answer(request: &[u8], answer: &RawAnswer) -> Result<(), TestCaseError> {
    let shown = String::from_utf8_lossy(request);
    prop_assert!(answer.closed, "the connection hung: {shown:?}");
    if answer.bytes.is_empty() {
        return Ok(());
    }
    let (status, _) = parse_raw_answer(&answer.bytes).ok_or_else(|| {
        TestCaseError::fail(format!(
            "not an HTTP answer to {shown:?}: {:?}",
            String::from_utf8_lossy(&answer.bytes)
        ))
    })?;
    prop_assert!((100..500).contains(&status), "{status} for {shown:?}");
    Ok(())
}

#[test]
fn arbitrary_request_bytes_get_an_answer_or_a_closed_connection_never_a_5xx() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let registry = runtime
        .block_on(
            support::builder()
                .body_read_timeout(Duration::from_secs(2))
                .start(),
        )
        .unwrap();
    let url = registry.url();
    let result = runner(256).run(&raw_request(), |request| {
        runtime.block_on(async {
            let answer =
                raw_exchange(registry.addr(), &request, true, Duration::from_secs(20)).await;
            check_raw_answer(&request, &answer)
        })
    });
    result.unwrap();
    runtime.block_on(still_serving(&url));
    let faults = registry.state().journal().entries();
    assert!(
        faults.iter().all(|e| e.fault.is_none()),
        "no handler panicked"
    );
}
