//! Hostile values cannot panic a handler or break the server for later requests: the clock
//! refuses moves out of its range with a 400 that names the limits, and every surface keeps
//! answering afterwards.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, client, post_json, seed, send};

/// Every surface answers as usual: ping, `/token` with a password, Hub login, reset.
async fn still_serving(url: &str) {
    assert_eq!(
        send(client().get(format!("{url}/v2/"))).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = send(
        client()
            .get(format!("{url}/token"))
            .basic_auth("alice", Some(seed::ALICE_PASSWORD)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post_json(
        format!("{url}/v2/users/login"),
        json!({"username": "alice", "password": seed::ALICE_PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["token"].is_string());
    assert_eq!(
        send(client().post(format!("{url}/_admin/reset"))).await.0,
        StatusCode::NO_CONTENT
    );
}

fn assert_names_the_range(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("1970-01-01T00:00:00Z") && error.contains("9000-12-31T23:59:59Z"),
        "{error:?} should name the clock's range"
    );
}

#[tokio::test]
async fn extreme_clock_moves_are_refused_and_the_server_keeps_serving() {
    let registry = support::start().await;
    let url = registry.url();
    let clock = format!("{url}/_admin/clock");
    for body in [
        json!({"advance_secs": i64::MAX}),
        json!({"advance_secs": i64::MIN}),
        json!({"advance_secs": -100_000_000_000_i64}),
        json!({"set": "9999-12-31T23:59:59Z"}),
        json!({"set": "0001-01-01T00:00:00Z"}),
    ] {
        let (status, answer) = post_json(&clock, body.clone()).await;
        assert_names_the_range(status, &answer);
        still_serving(&url).await;
    }
    let (status, body) = post_json(&clock, json!({"advance_secs": u64::MAX})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("18446744073709551615")
    );
}

#[tokio::test]
async fn logins_at_the_clock_limit_work() {
    let registry = support::start().await;
    let url = registry.url();
    let (status, body) = post_json(
        format!("{url}/_admin/clock"),
        json!({"set": "9000-12-31T23:59:59Z"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["now"], "9000-12-31T23:59:59Z");
    let (status, body) = post_json(
        format!("{url}/v2/users/login"),
        json!({"username": "alice", "password": seed::ALICE_PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(
        client()
            .get(format!(
                "{url}/token?offline_token=true&scope=repository:alice/app:pull"
            ))
            .basic_auth("alice", Some(seed::ALICE_PASSWORD)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap();
    let ping = send(client().get(format!("{url}/v2/")).bearer_auth(token)).await;
    assert_eq!(ping.0, StatusCode::OK, "{}", ping.1);
    still_serving(&url).await;
}
