//! Last-resort guarantees on every answer: a handler that panics gets a 500 JSON error and a
//! journal entry instead of a dropped connection, and an error the framework answered with a
//! plain or empty body (405, an undecodable path, a rejected extractor) gets the JSON error
//! shape of its surface.

use std::any::Any;
use std::panic::AssertUnwindSafe;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::FutureExt;

use super::SharedState;
use super::errors::Surface;
use super::middleware::journal_entry;
use crate::state::journal::REDACTED;

/// Largest framework error body quoted in the JSON message.
const MAX_QUOTED_BODY: usize = 1024;

/// Runs the rest of the stack and turns a panic into a 500 in the surface's error shape,
/// journaled with `fault: "panic: <message>"` (admin calls included, since a panic is never
/// expected). The shared state survives: its locks do not poison.
pub async fn catch_panic(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let authorization = request.headers().get(header::AUTHORIZATION).cloned();
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(payload) => {
            let mut entry = journal_entry(&state.registry, &method, &uri, authorization.as_ref());
            entry.status = Some(StatusCode::INTERNAL_SERVER_ERROR.as_u16());
            entry.fault = Some(format!("panic: {}", panic_message(payload.as_ref())));
            state.registry.journal().record(entry);
            Surface::of(uri.path()).error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN",
                "internal error: the request handler panicked (recorded in the journal)",
            )
        }
    }
}

/// The text of a panic payload, with anything that looks like a registry secret redacted.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic payload".into());
    text.split_whitespace()
        .map(|word| {
            if word.contains("fkr_") {
                REDACTED
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Gives error answers that lack a JSON body the JSON error shape of their surface, keeping
/// their status and headers (`Allow`, `WWW-Authenticate`...).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let quoted = axum::body::to_bytes(body, MAX_QUOTED_BODY)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let message = describe(status, &method, &path, &parts.headers, &quoted);
    let mut fresh = Surface::of(&path).error(status, code_for(status), message);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    fresh
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn describe(
    status: StatusCode,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    quoted: &str,
) -> String {
    if status == StatusCode::METHOD_NOT_ALLOWED {
        let allowed = headers
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(|v| format!(" (allowed: {v})"))
            .unwrap_or_default();
        return format!("method {method} is not allowed on {path}{allowed}");
    }
    let reason = status.canonical_reason().unwrap_or("error");
    if quoted.is_empty() {
        format!("{reason}: {method} {path}")
    } else {
        format!("{reason}: {quoted}")
    }
}

/// The distribution error code that fits a status the framework chose.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
        StatusCode::FORBIDDEN => "DENIED",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::PAYLOAD_TOO_LARGE => "SIZE_INVALID",
        StatusCode::TOO_MANY_REQUESTS => "TOOMANYREQUESTS",
        s if s.is_server_error() => "UNKNOWN",
        _ => "UNSUPPORTED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use axum::Router;
    use axum::routing::get;
    use serde_json::Value;

    use crate::config::{AdminAccess, AuthMode};
    use crate::http::AppState;
    use crate::state::Registry;
    use crate::state::seed::Seed;
    use crate::token::TokenSigner;

    async fn boom() -> &'static str {
        panic!("handler blew up holding fkr_pat_secret_value")
    }

    /// Serves `router` behind the panic guard on loopback; returns the state and base URL.
    async fn serve(router: Router<SharedState>) -> (SharedState, String, impl Drop) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(AppState {
            registry: Arc::new(Registry::new(Seed::default()).unwrap()),
            signer: Arc::new(TokenSigner::generate("i", "s", time::Duration::seconds(60)).unwrap()),
            auth_mode: AuthMode::Bearer,
            admin: AdminAccess::Open,
            scheme: "http",
            local_addr: addr,
            body_read_timeout: std::time::Duration::from_secs(5),
        });
        let app = router
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                catch_panic,
            ))
            .with_state(state.clone());
        let (stop, stopped) = tokio::sync::watch::channel(());
        let task = crate::http::server::spawn(listener, None, app, stopped);
        struct Stop(tokio::sync::watch::Sender<()>, tokio::task::JoinHandle<()>);
        impl Drop for Stop {
            fn drop(&mut self) {
                let _ = self.0.send(());
                self.1.abort();
            }
        }
        (state, format!("http://{addr}"), Stop(stop, task))
    }

    #[tokio::test]
    async fn a_panicking_handler_gets_a_json_500_and_a_journal_entry() {
        let router = Router::new()
            .route("/v2/boom", get(boom))
            .route("/_admin/boom", get(boom))
            .route(
                "/v2/ok",
                get(|State(state): State<SharedState>| async move {
                    state.registry.repositories().len().to_string()
                }),
            );
        let (state, url, _server) = serve(router).await;
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        for _ in 0..2 {
            let response = client.get(format!("{url}/v2/boom")).send().await.unwrap();
            assert_eq!(response.status(), 500);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["errors"][0]["code"], "UNKNOWN");
            let ok = client.get(format!("{url}/v2/ok")).send().await.unwrap();
            assert_eq!(ok.status(), 200);
        }
        let response = client
            .get(format!("{url}/_admin/boom"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("panicked"));
        let entries = state.registry.journal().entries();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].path, "/_admin/boom");
        assert_eq!(entries[0].status, Some(500));
        let fault = entries[0].fault.as_deref().unwrap();
        assert!(fault.starts_with("panic: handler blew up"), "{fault}");
        assert!(!fault.contains("fkr_"), "{fault}");
    }

    #[test]
    fn panic_messages_are_redacted() {
        let payload: Box<dyn Any + Send> = Box::new(String::from("bad fkr_pat_x_secret here"));
        assert_eq!(panic_message(payload.as_ref()), "bad REDACTED here");
        let payload: Box<dyn Any + Send> = Box::new("plain");
        assert_eq!(panic_message(payload.as_ref()), "plain");
        let payload: Box<dyn Any + Send> = Box::new(7_u8);
        assert_eq!(panic_message(payload.as_ref()), "non-text panic payload");
    }

    #[test]
    fn codes_and_messages() {
        assert_eq!(code_for(StatusCode::METHOD_NOT_ALLOWED), "UNSUPPORTED");
        assert_eq!(code_for(StatusCode::BAD_GATEWAY), "UNKNOWN");
        let mut headers = HeaderMap::new();
        headers.insert(header::ALLOW, "GET,HEAD".parse().unwrap());
        let text = describe(
            StatusCode::METHOD_NOT_ALLOWED,
            &Method::DELETE,
            "/v2/",
            &headers,
            "",
        );
        assert_eq!(
            text,
            "method DELETE is not allowed on /v2/ (allowed: GET,HEAD)"
        );
        let text = describe(
            StatusCode::BAD_REQUEST,
            &Method::GET,
            "/x",
            &HeaderMap::new(),
            "Invalid URL",
        );
        assert_eq!(text, "Bad Request: Invalid URL");
    }
}
