//! Every error answer has the JSON error shape of its surface, including the ones the HTTP
//! framework makes: 405 on a known path, and paths that do not decode as UTF-8.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{self, client, fetch, surface_message};

async fn assert_json_error(method: Method, url: &str, path: &str, status: StatusCode) -> Value {
    let response = fetch(client().request(method.clone(), format!("{url}{path}"))).await;
    assert_eq!(response.status(), status, "{method} {path}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/json"),
        "{method} {path}: {content_type}"
    );
    let body: Value = response.json().await.expect("JSON body");
    let message = surface_message(path, &body);
    assert!(
        message.is_some_and(|m| !m.is_empty()),
        "{method} {path}: {body}"
    );
    body
}

#[tokio::test]
async fn method_not_allowed_is_a_json_error_on_every_surface() {
    let registry = support::start().await;
    let url = registry.url();
    for (method, path) in [
        (Method::DELETE, "/v2/"),
        (Method::POST, "/v2"),
        (Method::PUT, "/token"),
        (Method::DELETE, "/_admin/clock"),
        (Method::PUT, "/_admin/users"),
        (Method::POST, "/_admin/token-cert.pem"),
        (Method::GET, "/v2/users/login"),
        (Method::DELETE, "/v2/users/2fa-login"),
    ] {
        let body =
            assert_json_error(method.clone(), &url, path, StatusCode::METHOD_NOT_ALLOWED).await;
        let message = surface_message(path, &body).unwrap();
        assert!(
            message.contains(method.as_str()) && message.contains(path),
            "{message}"
        );
        if path.starts_with("/v2/") && !path.starts_with("/v2/users") {
            assert_eq!(body["errors"][0]["code"], "UNSUPPORTED");
        }
    }
}

#[tokio::test]
async fn paths_that_are_not_utf8_get_json_errors() {
    let registry = support::start().await;
    let url = registry.url();
    for path in [
        "/v2/%FF/manifests/latest",
        "/v2/alice/%C3%28/blobs/uploads/",
        "/_admin/users/%FF%FE",
        "/_admin/users/alice/tokens/%FF",
        "/v2/access-tokens/%FF",
        "/token/%FF",
    ] {
        let response = fetch(client().get(format!("{url}{path}"))).await;
        let status = response.status();
        assert!(status.is_client_error(), "{path}: {status}");
        let body: Value = response.json().await.expect("JSON body");
        assert!(surface_message(path, &body).is_some(), "{path}: {body}");
    }
}

#[tokio::test]
async fn raw_non_ascii_request_targets_do_not_break_the_server() {
    let registry = support::start().await;
    let answer = support::raw_exchange(
        registry.addr(),
        b"GET /v2/\xff\xfe/manifests/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        true,
        std::time::Duration::from_secs(30),
    )
    .await;
    assert!(answer.closed);
    let text = String::from_utf8_lossy(&answer.bytes);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 4"), "{text}");
    let ping = fetch(client().get(format!("{}/v2/", registry.url()))).await;
    assert_eq!(ping.status(), StatusCode::UNAUTHORIZED);
}
