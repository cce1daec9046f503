//! Bad input gets a 4xx JSON error naming the problem, never a 500.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{self, client, send};

fn message(body: &Value) -> String {
    [
        &body["details"],
        &body["detail"],
        &body["error"],
        &body["errors"][0]["message"],
    ]
    .iter()
    .find_map(|v| v.as_str())
    .unwrap_or_default()
    .to_string()
}

async fn expect_client_error(request: reqwest::RequestBuilder, mentions: &str) {
    let (status, body) = send(request).await;
    assert!(status.is_client_error(), "{status}: {body}");
    let message = message(&body);
    assert!(
        message.contains(mentions),
        "{message:?} should mention {mentions:?}"
    );
}

#[tokio::test]
async fn malformed_authorization_headers() {
    let registry = support::start().await;
    let token = format!("{}/token", registry.url());
    let ping = format!("{}/v2/", registry.url());
    for (value, mentions) in [
        ("Basic", "expected"),
        ("Basic %%%", "base64"),
        ("Basic YWxpY2U=", "missing ':'"),
        ("Negotiate abc", "unsupported"),
        ("Bearer a b", "one word"),
    ] {
        expect_client_error(
            client().get(&token).header("authorization", value),
            mentions,
        )
        .await;
        expect_client_error(client().get(&ping).header("authorization", value), mentions).await;
    }
    expect_client_error(client().get(&ping).bearer_auth("not.a.jws"), "token").await;
}

#[tokio::test]
async fn bad_scopes_and_unknown_users() {
    let registry = support::start().await;
    let url = registry.url();
    for scope in [
        "repository",
        "repository:UPPER:pull",
        "repository:a:",
        "repository:a//b:pull",
    ] {
        expect_client_error(
            client()
                .get(format!("{url}/token"))
                .query(&[("scope", scope)]),
            "invalid scope",
        )
        .await;
    }
    expect_client_error(
        support::get_with_basic(format!("{url}/token"), "nobody", "x"),
        "incorrect",
    )
    .await;
    for (grant_type, mentions) in [("magic", "grant_type"), ("password", "username")] {
        expect_client_error(
            client()
                .post(format!("{url}/token"))
                .form(&[("grant_type", grant_type)]),
            mentions,
        )
        .await;
    }
    expect_client_error(client().get(format!("{url}/_admin/users/nobody")), "nobody").await;
}

#[tokio::test]
async fn oversized_headers() {
    let registry = support::start().await;
    let big = "a".repeat(20 * 1024);
    let (status, body) = send(
        client()
            .get(format!("{}/v2/", registry.url()))
            .header("x-big", &big),
    )
    .await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(message(&body).contains("x-big"));
    let (status, body) = send(
        client()
            .get(format!("{}/token", registry.url()))
            .header("authorization", format!("Bearer {}", "b".repeat(12 * 1024))),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&body).contains("longer than"));
}

#[tokio::test]
async fn invalid_json_bodies() {
    let registry = support::start().await;
    let url = registry.url();
    for (path, body, mentions) in [
        ("/_admin/users", "{", "invalid JSON"),
        ("/_admin/users", "", "empty"),
        (
            "/_admin/users",
            "{\"username\":\"x\",\"password\":\"y\",\"admin\":true}",
            "unknown field",
        ),
        (
            "/_admin/users",
            "{\"username\":\"Not Valid\",\"password\":\"y\"}",
            "invalid username",
        ),
        (
            "/_admin/users/alice/tokens",
            "{\"scopes\":[\"repo:read\"],\"expires_at\":\"tomorrow\"}",
            "RFC 3339",
        ),
        ("/_admin/faults", "[]", "invalid JSON"),
        ("/_admin/clock", "{\"set\":\"soon\"}", "RFC 3339"),
        ("/v2/users/login", "{\"username\":1}", "invalid JSON"),
        ("/v2/users/2fa-login", "nope", "invalid JSON"),
    ] {
        let request = client()
            .post(format!("{url}{path}"))
            .header("content-type", "application/json")
            .body(body);
        expect_client_error(request, mentions).await;
    }
}

#[tokio::test]
async fn unknown_paths_and_bad_repository_names() {
    let registry = support::start().await;
    let url = registry.url();
    let token = support::bearer(&registry, "alice", support::seed::ALICE_PASSWORD, &[]).await;
    for (path, mentions) in [
        ("/v2/alice/app/nothing", "no such endpoint"),
        ("/v2/Alice/App/tags/list", "invalid repository name"),
    ] {
        expect_client_error(
            client().get(format!("{url}{path}")).bearer_auth(&token),
            mentions,
        )
        .await;
    }
    expect_client_error(client().get(format!("{url}/elsewhere")), "no such endpoint").await;
    expect_client_error(
        client()
            .get(format!("{url}/v2/access-tokens/not-a-uuid"))
            .bearer_auth("fkr_sess_nope"),
        "session",
    )
    .await;
}
