//! The Hub-style management API: login, 2FA login, access-token management.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{self, client, post_json, seed, send};

/// Logs `username` in through the Hub API and returns the session token; panics unless 200.
async fn session(
    registry: &fake_registry::RunningRegistry,
    username: &str,
    password: &str,
) -> String {
    let (status, body) = post_json(
        format!("{}/v2/users/login", registry.url()),
        json!({"username": username, "password": password}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn two_factor_login_needs_a_totp_code() {
    let registry = support::start().await;
    let url = registry.url();
    let (status, body) = post_json(
        format!("{url}/v2/users/login"),
        json!({"username": "bob", "password": seed::BOB_PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["detail"],
        "Require secondary authentication on MFA enabled account"
    );
    let pending = body["login_2fa_token"].as_str().unwrap();
    let (status, _) = post_json(
        format!("{url}/v2/users/2fa-login"),
        json!({"login_2fa_token": pending, "code": "000000x"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let now = registry.state().now().unix_timestamp();
    let code = fake_registry::state::totp::code_at(seed::BOB_TOTP, now).unwrap();
    let (status, body) = post_json(
        format!("{url}/v2/users/2fa-login"),
        json!({"login_2fa_token": pending, "code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap();
    let (status, list) = send(
        client()
            .get(format!("{url}/v2/access-tokens"))
            .bearer_auth(token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["count"], 6);
}

#[tokio::test]
async fn access_token_lifecycle_with_hub_field_names() {
    let registry = support::start().await;
    let url = registry.url();
    let token = session(&registry, "alice", seed::ALICE_PASSWORD).await;
    let (status, created) = send(
        client()
            .post(format!("{url}/v2/access-tokens"))
            .bearer_auth(&token)
            .json(&json!({"token_label": "laptop", "scopes": ["repo:write"], "expires_at": "2099-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    for field in [
        "uuid",
        "token_label",
        "scopes",
        "is_active",
        "created_at",
        "expires_at",
        "last_used",
        "generated_by",
        "token",
    ] {
        assert!(created.get(field).is_some(), "{field} missing in {created}");
    }
    assert!(created["token"].as_str().unwrap().starts_with("fkr_pat_"));
    let item = format!(
        "{url}/v2/access-tokens/{}",
        created["uuid"].as_str().unwrap()
    );
    let (_, fetched) = send(client().get(&item).bearer_auth(&token)).await;
    assert_eq!(fetched["token"], "");
    assert_eq!(fetched["token_label"], "laptop");
    let (status, patched) = send(
        client()
            .patch(&item)
            .bearer_auth(&token)
            .json(&json!({"is_active": false, "token_label": "old laptop"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (patched["is_active"].clone(), patched["token_label"].clone()),
        (json!(false), json!("old laptop"))
    );
    let (status, body) = send(
        client()
            .patch(&item)
            .bearer_auth(&token)
            .json(&json!({"expires_at": null})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().contains("expires_at"));
    let (_, page) = send(
        client()
            .get(format!("{url}/v2/access-tokens?page=1&page_size=2"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(page["count"], 3);
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    assert!(page["next"].as_str().unwrap().contains("page=2"));
    assert_eq!(
        send(client().delete(&item).bearer_auth(&token)).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(client().get(&item).bearer_auth(&token)).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn pat_session_is_forbidden_to_manage_tokens() {
    let registry = support::start().await;
    let token = session(&registry, "bob", seed::BOB_ADMIN).await;
    let (status, body) = send(
        client()
            .post(format!("{}/v2/access-tokens", registry.url()))
            .bearer_auth(&token)
            .json(&json!({"token_label": "x", "scopes": ["repo:read"]})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"detail": "access to the resource is forbidden with personal access token"})
    );
}

#[tokio::test]
async fn hub_creation_refuses_past_expiry_and_unknown_scopes() {
    let registry = support::start().await;
    let token = session(&registry, "alice", seed::ALICE_PASSWORD).await;
    let create = |body: serde_json::Value| {
        client()
            .post(format!("{}/v2/access-tokens", registry.url()))
            .bearer_auth(&token)
            .json(&body)
    };
    let (status, body) = send(create(
        json!({"token_label": "x", "scopes": ["repo:read"], "expires_at": "2001-01-01T00:00:00Z"}),
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = send(create(
        json!({"token_label": "x", "scopes": ["repo:everything"]}),
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().contains("repo:everything"));
}
