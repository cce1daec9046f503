//! Docker Hub's personal-access-token rules, over real TCP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use fake_registry::RunningRegistry;

use crate::support::{self, client, get_json, jws_claims, post_json, seed, send, token_response};

/// Status and `details` message of a token request by `user` with `secret`.
async fn details(registry: &RunningRegistry, user: &str, secret: &str) -> (StatusCode, String) {
    let (status, body) = token_response(registry, user, secret, &[]).await;
    (status, body["details"].as_str().unwrap_or("").to_string())
}

/// The actions a token for bob with `secret` grants on `scope` (`[]` when none).
async fn granted(registry: &RunningRegistry, secret: &str, scope: &str) -> Value {
    let (status, body) = token_response(registry, "bob", secret, &[scope]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    jws_claims(body["token"].as_str().unwrap())["access"]
        .get(0)
        .map(|a| a["actions"].clone())
        .unwrap_or(json!([]))
}

/// The admin API URL of `user`'s token `uuid`.
fn admin_token_url(registry: &RunningRegistry, user: &str, uuid: &str) -> String {
    format!("{}/_admin/users/{user}/tokens/{uuid}", registry.url())
}

#[tokio::test]
async fn two_factor_password_is_refused_and_its_pat_accepted() {
    let registry = support::start().await;
    assert_eq!(
        details(&registry, "bob", seed::BOB_PASSWORD).await,
        (
            StatusCode::UNAUTHORIZED,
            "please use personal access token to login".into()
        )
    );
    assert_eq!(
        details(&registry, "bob", seed::BOB_READ).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn password_login_works_without_two_factor() {
    let registry = support::start().await;
    assert_eq!(
        details(&registry, "alice", seed::ALICE_PASSWORD).await.0,
        StatusCode::OK
    );
    assert_eq!(
        details(&registry, "alice", "wrong").await,
        (
            StatusCode::UNAUTHORIZED,
            "incorrect username or password".into()
        )
    );
}

#[tokio::test]
async fn expired_pat_is_refused_naming_expiry_and_never_expires_is_fine() {
    let registry = support::start().await;
    let (status, message) = details(&registry, "bob", seed::BOB_EXPIRED).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        message.contains("expired at 2020-01-01T00:00:00Z"),
        "{message}"
    );
    registry
        .state()
        .clock()
        .advance(time::Duration::days(365 * 50))
        .expect("clock stays in range");
    assert_eq!(
        details(&registry, "bob", seed::BOB_ADMIN).await.0,
        StatusCode::OK,
        "expires_at = never"
    );
}

#[tokio::test]
async fn token_expiring_by_the_clock_is_refused() {
    let registry = support::start().await;
    let (_, created) = post_json(
        format!("{}/_admin/users/alice/tokens", registry.url()),
        json!({
            "label": "short", "scopes": ["repo:read"], "expires_at": "2099-01-01T00:00:00Z"
        }),
    )
    .await;
    let secret = created["token"].as_str().unwrap();
    assert_eq!(details(&registry, "alice", secret).await.0, StatusCode::OK);
    let (_, now) = post_json(
        format!("{}/_admin/clock", registry.url()),
        json!({"set": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert!(
        now["now"]
            .as_str()
            .unwrap()
            .starts_with("2099-01-01T00:00:0")
    );
    let (status, message) = details(&registry, "alice", secret).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(message.contains("expired"), "{message}");
}

#[tokio::test]
async fn deactivated_deleted_and_reactivated_pats() {
    let registry = support::start().await;
    let (status, message) = details(&registry, "bob", seed::BOB_INACTIVE).await;
    assert_eq!(
        (status, message.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            "personal access token is inactive"
        )
    );
    let token_url = admin_token_url(&registry, "bob", seed::BOB_INACTIVE_UUID);
    let (status, view) = send(client().patch(&token_url).json(&json!({"is_active": true}))).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        details(&registry, "bob", seed::BOB_INACTIVE).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(client().delete(&token_url)).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        details(&registry, "bob", seed::BOB_INACTIVE).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn scopes_map_to_actions() {
    let registry = support::start().await;
    let all = "repository:bob/app:pull,push,delete";
    assert_eq!(
        granted(&registry, seed::BOB_READ, all).await,
        json!(["pull"])
    );
    assert_eq!(
        granted(&registry, seed::BOB_WRITE, all).await,
        json!(["pull", "push"])
    );
    assert_eq!(
        granted(&registry, seed::BOB_ADMIN, all).await,
        json!(["pull", "push", "delete"])
    );
    assert_eq!(
        granted(&registry, seed::BOB_PUBLIC_READ, all).await,
        json!([])
    );
    assert_eq!(
        granted(
            &registry,
            seed::BOB_PUBLIC_READ,
            "repository:bob/public-app:pull"
        )
        .await,
        json!(["pull"])
    );
    assert_eq!(
        granted(
            &registry,
            seed::BOB_PUBLIC_READ,
            "repository:bob/private-app:pull"
        )
        .await,
        json!([])
    );
}

#[tokio::test]
async fn last_used_is_updated_on_each_successful_use() {
    let registry = support::start().await;
    let url = admin_token_url(&registry, "bob", seed::BOB_READ_UUID);
    let (_, before) = get_json(&url).await;
    assert_eq!(before["last_used"], Value::Null);
    details(&registry, "bob", seed::BOB_READ).await;
    let (_, first) = get_json(&url).await;
    let first_used = first["last_used"].as_str().unwrap().to_string();
    registry
        .state()
        .clock()
        .advance(time::Duration::hours(1))
        .expect("clock stays in range");
    details(&registry, "bob", seed::BOB_READ).await;
    let (_, second) = get_json(&url).await;
    assert!(second["last_used"].as_str().unwrap() > first_used.as_str());
}

#[tokio::test]
async fn expiry_cannot_be_edited_after_creation() {
    let registry = support::start().await;
    let url = admin_token_url(&registry, "bob", seed::BOB_READ_UUID);
    let (status, body) = send(
        client()
            .patch(&url)
            .json(&json!({"expires_at": "2100-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("expires_at cannot be changed"),
        "{body}"
    );
}

#[tokio::test]
async fn at_most_five_auto_generated_tokens_least_recently_used_goes() {
    let registry = support::start().await;
    let url = format!("{}/_admin/users/alice/tokens", registry.url());
    // The seed has one auto token for alice; add four, use the seeded one, then add a sixth.
    let mut created = Vec::new();
    for i in 0..4 {
        registry
            .state()
            .clock()
            .advance(time::Duration::minutes(1))
            .expect("clock stays in range");
        let (status, body) = post_json(
            &url,
            json!({"label": format!("auto {i}"), "generated_by": "auto"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["scopes"], json!(["repo:admin"]));
        created.push(body["uuid"].as_str().unwrap().to_string());
    }
    registry
        .state()
        .clock()
        .advance(time::Duration::minutes(1))
        .expect("clock stays in range");
    assert_eq!(
        details(
            &registry,
            "alice",
            "fkr_pat_alice_auto_3f5b7d9a1c3e5a7c9e1b"
        )
        .await
        .0,
        StatusCode::OK
    );
    post_json(&url, json!({"label": "sixth", "generated_by": "auto"})).await;
    let (_, tokens) = get_json(&url).await;
    let uuids: Vec<&str> = tokens
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["uuid"].as_str().unwrap())
        .collect();
    let auto = tokens
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["generated_by"] == "auto")
        .count();
    assert_eq!(auto, 5);
    assert!(
        !uuids.contains(&created[0].as_str()),
        "least recently used auto token removed"
    );
    assert!(
        uuids.contains(&"a11ce000-0000-4000-8000-000000000001"),
        "recently used one kept"
    );
    assert!(
        uuids.contains(&"a11ce000-0000-4000-8000-000000000002"),
        "manual tokens untouched"
    );
}

#[tokio::test]
async fn pat_cannot_administer_the_account() {
    let registry = support::start().await;
    let (status, body) = send(support::get_with_basic(
        format!("{}/v2/access-tokens", registry.url()),
        "bob",
        seed::BOB_ADMIN,
    ))
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["detail"],
        "access to the resource is forbidden with personal access token"
    );
}

#[tokio::test]
async fn secret_is_shown_only_at_creation() {
    let registry = support::start().await;
    let url = format!("{}/_admin/users/alice/tokens", registry.url());
    let (_, created) = post_json(
        &url,
        json!({"label": "once", "scopes": ["repo:write"], "expires_at": null}),
    )
    .await;
    let secret = created["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("fkr_pat_"));
    let (_, listed) = get_json(&url).await;
    let (_, one) = get_json(format!("{url}/{}", created["uuid"].as_str().unwrap())).await;
    for text in [listed.to_string(), one.to_string()] {
        assert!(!text.contains(&secret));
        assert!(!text.contains("\"token\""));
    }
}

#[tokio::test]
async fn identity_tokens_die_with_their_pat() {
    let registry = support::start().await;
    let refresh = |token: String| {
        let url = format!("{}/token", registry.url());
        async move {
            send(client().post(url).form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", token.as_str()),
                ("client_id", "docker"),
            ]))
            .await
        }
    };
    let identity = |secret: &'static str| {
        let registry = &registry;
        async move {
            token_response(registry, "bob", secret, &[]).await.1["refresh_token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    // Deactivated.
    let read = identity(seed::BOB_READ).await;
    assert_eq!(refresh(read.clone()).await.0, StatusCode::OK);
    let read_url = admin_token_url(&registry, "bob", seed::BOB_READ_UUID);
    send(client().patch(&read_url).json(&json!({"is_active": false}))).await;
    assert_eq!(refresh(read).await.0, StatusCode::UNAUTHORIZED);
    // Deleted.
    let admin = identity(seed::BOB_ADMIN).await;
    send(client().delete(admin_token_url(
        &registry,
        "bob",
        "0b0b0000-0000-4000-8000-000000000001",
    )))
    .await;
    assert_eq!(refresh(admin).await.0, StatusCode::UNAUTHORIZED);
    // Expired.
    let write = identity(seed::BOB_WRITE).await;
    registry
        .state()
        .clock()
        .set(time::macros::datetime!(2100-01-01 00:00 UTC))
        .expect("clock stays in range");
    let (status, body) = refresh(write).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["details"].as_str().unwrap().contains("expired"),
        "{body}"
    );
}
