//! Token authentication as the spec describes it: challenge, token endpoint, claims,
//! scope intersection, refresh tokens, insufficient_scope.

use reqwest::StatusCode;

use crate::support::{
    self, bearer, challenge, client, fetch, get_with_basic, jws_claims as claims, jws_header, seed,
    send, token_response,
};

#[tokio::test]
async fn ping_challenges_with_realm_service_and_api_version() {
    let registry = support::start().await;
    let response = fetch(client().get(format!("{}/v2/", registry.url()))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["docker-distribution-api-version"],
        "registry/2.0"
    );
    assert_eq!(
        response.headers()["www-authenticate"],
        format!(
            "Bearer realm=\"{}/token\",service=\"fake-registry\"",
            registry.url()
        )
        .as_str()
    );
    let (_, body) = support::json(response).await;
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
}

#[tokio::test]
async fn docker_style_token_request_returns_a_verifiable_jws_and_refresh_token() {
    let registry = support::start().await;
    let (status, body) = token_response(
        &registry,
        "alice",
        seed::ALICE_PASSWORD,
        &["repository:alice/app:pull,push"],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap();
    assert_eq!(body["access_token"], token);
    assert_eq!(body["expires_in"], 300);
    assert!(body["issued_at"].as_str().unwrap().ends_with('Z'));
    assert!(
        body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("fkr_idt_")
    );
    let header = jws_header(token);
    assert_eq!(header["alg"], "ES256");
    assert!(header["kid"].as_str().unwrap().split(':').count() == 12);
    assert_eq!(header["x5c"].as_array().unwrap().len(), 1);
    let claims = claims(token);
    for field in ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "access"] {
        assert!(!claims[field].is_null(), "claim {field} missing: {claims}");
    }
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "fake-registry");
    assert_eq!(
        claims["access"][0]["actions"],
        serde_json::json!(["pull", "push"])
    );
    let ping = fetch(
        client()
            .get(format!("{}/v2/", registry.url()))
            .bearer_auth(token),
    )
    .await;
    assert_eq!(ping.status(), StatusCode::OK);
}

#[tokio::test]
async fn no_refresh_token_without_offline_request() {
    let registry = support::start().await;
    let (status, body) = send(get_with_basic(
        format!("{}/token?service=fake-registry", registry.url()),
        "alice",
        seed::ALICE_PASSWORD,
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("refresh_token").is_none(), "{body}");
}

#[tokio::test]
async fn post_token_password_and_refresh_grants() {
    let registry = support::start().await;
    let url = format!("{}/token", registry.url());
    let (status, body) = send(client().post(&url).form(&[
        ("grant_type", "password"),
        ("username", "bob"),
        ("password", seed::BOB_ADMIN),
        ("service", "fake-registry"),
        ("client_id", "docker"),
        ("access_type", "offline"),
        ("scope", "repository:bob/app:pull"),
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    let (status, body) = send(client().post(&url).form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("service", "fake-registry"),
        ("client_id", "docker"),
        ("scope", "repository:bob/app:push"),
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["access"][0]["actions"],
        serde_json::json!(["push"])
    );
    assert_eq!(body["refresh_token"], refresh.as_str());
    let (status, body) = send(client().post(&url).form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", "fkr_idt_bogus"),
    ]))
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["details"].as_str().unwrap().contains("refresh token"));
}

#[tokio::test]
async fn scopes_are_the_intersection_of_asked_and_allowed() {
    let registry = support::start().await;
    let token = bearer(
        &registry,
        "bob",
        seed::BOB_WRITE,
        &[
            "repository:bob/app:pull,push,delete",
            "repository:alice/private-app:pull",
            "repository:alice/public-app:push,pull",
        ],
    )
    .await;
    assert_eq!(
        claims(&token)["access"],
        serde_json::json!([
            {"type": "repository", "name": "alice/public-app", "actions": ["pull"]},
            {"type": "repository", "name": "bob/app", "actions": ["pull", "push"]},
        ])
    );
}

#[tokio::test]
async fn anonymous_token_pulls_public_repositories_only() {
    let registry = support::start().await;
    let (status, body) = send(client().get(format!(
        "{}/token?service=fake-registry&scope=repository:alice/public-app:pull&scope=repository:alice/private-app:pull",
        registry.url()
    )))
    .await;
    assert_eq!(status, StatusCode::OK);
    let claims = claims(body["token"].as_str().unwrap());
    assert_eq!(claims["sub"], "");
    assert_eq!(claims["access"].as_array().unwrap().len(), 1);
    assert_eq!(claims["access"][0]["name"], "alice/public-app");
}

#[tokio::test]
async fn insufficient_scope_is_challenged_with_the_needed_scope() {
    let registry = support::start().await;
    let token = bearer(
        &registry,
        "alice",
        seed::ALICE_PASSWORD,
        &["repository:alice/app:pull"],
    )
    .await;
    let response = fetch(
        client()
            .post(format!("{}/v2/alice/app/blobs/uploads/", registry.url()))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = challenge(&response);
    assert!(
        challenge.contains("scope=\"repository:alice/app:pull,push\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    let (_, body) = support::json(response).await;
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
    assert_eq!(body["errors"][0]["detail"][0]["Action"], "pull");
}

#[tokio::test]
async fn expired_and_foreign_tokens_are_refused_on_v2() {
    let registry = support::start().await;
    let token = bearer(&registry, "alice", seed::ALICE_PASSWORD, &[]).await;
    let other = support::start().await;
    let foreign = bearer(&other, "alice", seed::ALICE_PASSWORD, &[]).await;
    let ping = |t: String| {
        client()
            .get(format!("{}/v2/", registry.url()))
            .bearer_auth(t)
            .send()
    };
    let response = ping(foreign).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&response).contains("invalid_token"));
    registry
        .state()
        .clock()
        .advance(time::Duration::seconds(301))
        .expect("clock stays in range");
    let (status, body) = support::json(ping(token).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_service_is_refused() {
    let registry = support::start().await;
    let (status, body) =
        send(client().get(format!("{}/token?service=elsewhere", registry.url()))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["details"].as_str().unwrap().contains("elsewhere"));
}

#[tokio::test]
async fn token_ttl_and_service_are_configurable() {
    let registry = support::builder()
        .service("registry.test")
        .token_ttl(std::time::Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let (status, body) = send(get_with_basic(
        format!("{}/token?service=registry.test", registry.url()),
        "alice",
        seed::ALICE_PASSWORD,
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expires_in"], 60);
    assert_eq!(
        claims(body["token"].as_str().unwrap())["aud"],
        "registry.test"
    );
}
