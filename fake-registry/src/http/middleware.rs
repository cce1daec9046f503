//! Layers every request goes through: the journal, injected faults, header size limits and
//! the registry API version header.

use std::convert::Infallible;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::Duration;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::SharedState;
use super::auth_header::scheme_of;
use super::errors::Surface;
use crate::state::faults::FaultSpec;
use crate::state::journal::{JournalEntry, RequestNote, redact_query};
use crate::state::{Registry, rfc3339};

/// Longest single header value accepted.
pub const MAX_HEADER_VALUE_LEN: usize = 16 * 1024;
/// Largest total size of all headers accepted.
pub const MAX_HEADERS_TOTAL_LEN: usize = 64 * 1024;

/// Marks a response that must not be sent: the connection is closed instead (a fault).
#[derive(Debug, Clone, Copy)]
pub struct CloseConnection;

/// What handlers tell the journal about a request (principal, token, scope).
#[derive(Debug, Clone, Default)]
pub struct Note(Arc<Mutex<RequestNote>>);

impl Note {
    /// Records the authenticated principal and the PAT used.
    pub fn principal(&self, username: Option<&str>, token_uuid: Option<uuid::Uuid>) {
        let mut note = self.0.lock();
        note.principal = username.map(str::to_string);
        note.token_uuid = token_uuid;
    }

    /// Records the granted or exercised scope.
    pub fn scope(&self, scope: Option<String>) {
        self.0.lock().granted_scope = scope;
    }

    fn take(&self) -> RequestNote {
        std::mem::take(&mut self.0.lock())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Note {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Note>().cloned().unwrap_or_default())
    }
}

/// Journals every request outside `/_admin` and applies injected faults to it.
pub async fn journal_and_faults(
    State(state): State<SharedState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/_admin") {
        return next.run(request).await;
    }
    let registry = &state.registry;
    let mut entry = journal_entry(
        registry,
        request.method(),
        request.uri(),
        request.headers().get(header::AUTHORIZATION),
    );
    let fault = registry.faults().take(&path);
    if let Some(delay) = fault.as_ref().and_then(|f| f.delay_ms) {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let response = match &fault {
        Some(spec) if spec.close => {
            let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            response.extensions_mut().insert(CloseConnection);
            response
        }
        Some(spec) if spec.status.is_some() => fault_response(&path, spec),
        _ => {
            let note = Note::default();
            request.extensions_mut().insert(note.clone());
            let response = next.run(request).await;
            entry.note = note.take();
            response
        }
    };
    entry.fault = fault.as_ref().map(FaultSpec::describe);
    entry.status = response
        .extensions()
        .get::<CloseConnection>()
        .is_none()
        .then(|| response.status().as_u16());
    registry.journal().record(entry);
    response
}

/// A journal entry for a request as it arrives (redacted query, no outcome yet).
pub fn journal_entry(
    registry: &Registry,
    method: &Method,
    uri: &Uri,
    authorization: Option<&HeaderValue>,
) -> JournalEntry {
    JournalEntry {
        seq: 0,
        time: rfc3339(registry.now()),
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(redact_query),
        auth_scheme: authorization.map(|v| scheme_of(v.as_bytes())),
        note: RequestNote::default(),
        status: None,
        fault: None,
    }
}

fn fault_response(path: &str, spec: &FaultSpec) -> Response {
    let status = spec
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    match &spec.body {
        Some(body) => {
            let content_type = if serde_json::from_str::<serde_json::Value>(body).is_ok() {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            (status, [(header::CONTENT_TYPE, content_type)], body.clone()).into_response()
        }
        None => Surface::of(path).error(status, "UNAVAILABLE", "injected fault"),
    }
}

/// Refuses requests whose headers are too large with a 431 naming the header.
pub async fn limit_headers(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let total: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    let problem = match headers.iter().find(|(_, v)| v.len() > MAX_HEADER_VALUE_LEN) {
        Some((name, _)) => format!("header {name} is larger than {MAX_HEADER_VALUE_LEN} bytes"),
        None if total > MAX_HEADERS_TOTAL_LEN => {
            format!("request headers are larger than {MAX_HEADERS_TOTAL_LEN} bytes in total")
        }
        None => return next.run(request).await,
    };
    Surface::of(request.uri().path()).error(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "HEADER_TOO_LARGE",
        problem,
    )
}

/// Adds `Docker-Distribution-API-Version: registry/2.0` to registry API answers.
pub async fn api_version_header(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        "docker-distribution-api-version",
        HeaderValue::from_static("registry/2.0"),
    );
    response
}
