//! The `/_admin` contract: users, tokens, repositories, clock, journal, faults, reset,
//! certificate, and admin access control.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, basic, client, fetch, get_json, post_json, seed, send, token_response};

#[tokio::test]
async fn users_and_tokens() {
    let registry = support::start().await;
    let url = registry.url();
    let (status, user) = post_json(
        format!("{url}/_admin/users"),
        json!({"username": "carol", "password": "pw", "two_factor": true}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(user["totp_secret"].as_str().unwrap().len() >= 16);
    let (status, _) = post_json(
        format!("{url}/_admin/users"),
        json!({"username": "carol", "password": "pw"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, totp) = get_json(format!("{url}/_admin/users/carol/totp")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(totp["code"].as_str().unwrap().len(), 6);
    assert_eq!(
        token_response(&registry, "carol", "pw", &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, user) = send(
        client()
            .patch(format!("{url}/_admin/users/carol"))
            .json(&json!({"two_factor": false, "password": "pw2"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["two_factor"], false);
    assert_eq!(
        token_response(&registry, "carol", "pw2", &[]).await.0,
        StatusCode::OK
    );

    let (status, token) = post_json(
        format!("{url}/_admin/users/carol/tokens"),
        json!({
            "label": "ci", "scopes": ["repo:read"], "expires_at": null, "generated_by": "manual"
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let keys: Vec<&str> = token
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "uuid",
        "token",
        "label",
        "scopes",
        "expires_at",
        "is_active",
        "created_at",
        "last_used",
        "generated_by",
    ];
    expected.sort();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort();
    assert_eq!(keys_sorted, expected);
    let (status, list) = get_json(format!("{url}/_admin/users/carol/tokens")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("token").is_none());
    let item = format!(
        "{url}/_admin/users/carol/tokens/{}",
        token["uuid"].as_str().unwrap()
    );
    let (status, patched) = send(
        client()
            .patch(&item)
            .json(&json!({"label": "renamed", "is_active": false})),
    )
    .await;
    assert_eq!(
        (
            status,
            patched["label"].clone(),
            patched["is_active"].clone()
        ),
        (StatusCode::OK, json!("renamed"), json!(false))
    );
    assert_eq!(send(client().delete(&item)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(send(client().delete(&item)).await.0, StatusCode::NOT_FOUND);
    let (status, body) = get_json(format!("{url}/_admin/users/nobody/tokens")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains("nobody"));
}

#[tokio::test]
async fn repositories_clock_and_reset() {
    let registry = support::start().await;
    let url = registry.url();
    let (status, _) = post_json(
        format!("{url}/_admin/repositories"),
        json!({"name": "carol/site", "visibility": "public"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = post_json(
        format!("{url}/_admin/repositories"),
        json!({"name": "Bad Name", "visibility": "public"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, anon) = get_json(format!("{url}/token?scope=repository:carol/site:pull")).await;
    assert!(!anon["token"].as_str().unwrap().is_empty());
    let (status, moved) = post_json(
        format!("{url}/_admin/clock"),
        json!({"advance_secs": 86400}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let now = time::OffsetDateTime::parse(
        moved["now"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(now - time::OffsetDateTime::now_utc() > time::Duration::hours(23));
    let (status, _) = post_json(
        format!("{url}/_admin/clock"),
        json!({"advance_secs": 1, "set": "2030-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    post_json(
        format!("{url}/_admin/users"),
        json!({"username": "dave", "password": "pw"}),
    )
    .await;
    assert_eq!(
        send(client().post(format!("{url}/_admin/reset"))).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get_json(format!("{url}/_admin/users/dave")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, repos) = get_json(format!("{url}/_admin/repositories")).await;
    assert!(!repos.to_string().contains("carol/site"));
    let (_, clock) = get_json(format!("{url}/_admin/clock")).await;
    assert!(clock["now"].as_str().unwrap() < moved["now"].as_str().unwrap());
}

#[tokio::test]
async fn journal_records_every_request_with_secrets_redacted() {
    let registry = support::start().await;
    let url = registry.url();
    token_response(
        &registry,
        "bob",
        seed::BOB_READ,
        &["repository:bob/app:pull,push"],
    )
    .await;
    send(client().get(format!(
        "{url}/token?password=hunter2&x={}",
        seed::BOB_ADMIN
    )))
    .await;
    send(client().post(format!("{url}/token")).form(&[
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", seed::ALICE_PASSWORD),
    ]))
    .await;
    let (status, journal) = get_json(format!("{url}/_admin/journal")).await;
    assert_eq!(status, StatusCode::OK);
    let entries = journal.as_array().unwrap();
    assert_eq!(entries.len(), 3, "admin calls are not journaled: {journal}");
    assert_eq!(entries[0]["seq"], 1);
    assert_eq!(entries[0]["method"], "GET");
    assert_eq!(entries[0]["path"], "/token");
    assert_eq!(entries[0]["auth_scheme"], "basic");
    assert_eq!(entries[0]["principal"], "bob");
    assert_eq!(entries[0]["token_uuid"], seed::BOB_READ_UUID);
    assert_eq!(entries[0]["granted_scope"], "repository:bob/app:pull");
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[1]["query"], "password=REDACTED&x=REDACTED");
    assert_eq!(entries[2]["principal"], "alice");
    let text = journal.to_string();
    for secret in [
        "hunter2",
        seed::BOB_ADMIN,
        seed::BOB_READ,
        seed::ALICE_PASSWORD,
    ] {
        assert!(!text.contains(secret), "{secret} leaked into the journal");
    }
    assert_eq!(
        send(client().delete(format!("{url}/_admin/journal")))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, journal) = get_json(format!("{url}/_admin/journal")).await;
    assert_eq!(journal, json!([]));
}

#[tokio::test]
async fn faults_answer_delay_and_close() {
    let registry = support::start().await;
    let url = registry.url();
    let (status, body) = post_json(format!("{url}/_admin/faults"), json!({"path_prefix": "/token", "status": 503, "body": "{\"details\":\"down\"}", "times": 1})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = token_response(&registry, "alice", seed::ALICE_PASSWORD, &[]).await;
    assert_eq!(
        (status, body),
        (StatusCode::SERVICE_UNAVAILABLE, json!({"details": "down"}))
    );
    assert_eq!(
        token_response(&registry, "alice", seed::ALICE_PASSWORD, &[])
            .await
            .0,
        StatusCode::OK,
        "times = 1"
    );

    post_json(
        format!("{url}/_admin/faults"),
        json!({"path_prefix": "/v2/", "delay_ms": 300, "times": 1}),
    )
    .await;
    let started = std::time::Instant::now();
    assert_eq!(
        support::status(client().get(format!("{url}/v2/"))).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));

    post_json(
        format!("{url}/_admin/faults"),
        json!({"path_prefix": "/v2/", "close": true, "times": 1}),
    )
    .await;
    let closed = client().get(format!("{url}/v2/")).send().await;
    assert!(
        closed.is_err(),
        "connection should close without an answer: {closed:?}"
    );
    let (_, journal) = get_json(format!("{url}/_admin/journal")).await;
    let last = journal.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["status"].clone(), last["fault"].clone()),
        (Value::Null, json!("close"))
    );

    let (status, body) = post_json(
        format!("{url}/_admin/faults"),
        json!({"path_prefix": "v2", "status": 500}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("path_prefix"));
    post_json(
        format!("{url}/_admin/faults"),
        json!({"path_prefix": "/", "status": 500, "times": 5}),
    )
    .await;
    assert_eq!(
        send(client().delete(format!("{url}/_admin/faults")))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        support::status(client().get(format!("{url}/v2/"))).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn token_certificate_is_published() {
    let registry = support::start().await;
    let response = fetch(client().get(format!("{}/_admin/token-cert.pem", registry.url()))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let pem = response.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(pem, registry.token_cert_pem());
}

#[tokio::test]
async fn admin_token_and_no_admin() {
    let guarded = support::builder()
        .admin_token(Some("s3cret-admin".into()))
        .start()
        .await
        .unwrap();
    let url = format!("{}/_admin/journal", guarded.url());
    let (status, body) = send(client().get(&url)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].as_str().unwrap().contains("admin token"));
    assert_eq!(
        send(client().get(&url).bearer_auth("wrong")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(
            client()
                .get(&url)
                .header("authorization", basic("a", "s3cret-admin"))
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(client().get(&url).bearer_auth("s3cret-admin")).await.0,
        StatusCode::OK
    );

    let closed = support::builder().no_admin().start().await.unwrap();
    assert_eq!(
        send(client().post(format!("{}/_admin/reset", closed.url())))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}
