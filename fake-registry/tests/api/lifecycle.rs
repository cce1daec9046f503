//! Starting, stopping and HTTPS.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support;

#[tokio::test]
async fn dropping_the_registry_frees_its_port() {
    let registry = support::start().await;
    let addr = registry.addr();
    assert_eq!(registry.host(), addr.to_string());
    assert_eq!(registry.url(), format!("http://{addr}"));
    // Keep a connection open across the drop.
    let client = support::client();
    support::fetch(client.get(format!("{}/v2/", registry.url()))).await;
    drop(registry);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let rebound = tokio::net::TcpListener::bind(addr).await;
    assert!(rebound.is_ok(), "port {addr} still held: {rebound:?}");
}

#[tokio::test]
async fn shutdown_waits_and_refuses_new_connections() {
    let registry = support::start().await;
    let url = registry.url();
    registry.shutdown().await;
    assert!(
        support::client()
            .get(format!("{url}/v2/"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn state_handle_steers_without_http() {
    let registry = support::start().await;
    let handle = registry.state().clone();
    handle
        .create_user(fake_registry::state::accounts::NewAccount {
            username: "erin".into(),
            password: "pw".into(),
            two_factor: false,
            totp_secret: None,
        })
        .unwrap();
    let pat = handle
        .create_token(
            "erin",
            fake_registry::state::pats::NewPat::manual("x", vec![fake_registry::PatScope::Read]),
        )
        .unwrap();
    assert_eq!(
        support::token_response(&registry, "erin", &pat.token, &[])
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(handle.journal().entries().len(), 1);
}

#[tokio::test]
async fn https_with_a_generated_ca() {
    let registry = support::builder()
        .tls_self_signed(true)
        .start()
        .await
        .unwrap();
    assert!(registry.url().starts_with("https://"));
    let client = support::client_trusting(registry.ca_pem().unwrap().as_bytes());
    let response = support::fetch(client.get(format!("{}/v2/", registry.url()))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = support::challenge(&response);
    assert!(
        challenge.starts_with(&format!("Bearer realm=\"{}/token\"", registry.url())),
        "{challenge}"
    );
    let untrusting = support::client()
        .get(format!("{}/v2/", registry.url()))
        .send()
        .await;
    assert!(
        untrusting.is_err(),
        "a client without the CA must not connect"
    );
}
