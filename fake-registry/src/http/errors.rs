//! Error answers in the body shape each surface's clients expect:
//! registry API `{"errors":[{"code","message","detail"}]}`, token endpoint `{"details"}`,
//! Hub API `{"detail"}`, admin API `{"error"}`.

use std::marker::PhantomData;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::read_body;
use crate::state::content::ContentError;
use crate::state::error::StateError;

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// An error of the registry API (`/v2/...`), with an optional `WWW-Authenticate` challenge.
#[derive(Debug, Clone)]
pub struct RegistryError {
    /// HTTP status.
    pub status: StatusCode,
    /// Spec error code (`UNAUTHORIZED`, `DENIED`, `BLOB_UNKNOWN`...).
    pub code: &'static str,
    /// Message naming the problem.
    pub message: String,
    /// `detail` member.
    pub detail: Value,
    /// `WWW-Authenticate` value to send.
    pub challenge: Option<String>,
}

impl RegistryError {
    /// An error without detail or challenge.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        RegistryError {
            status,
            code,
            message: message.into(),
            detail: Value::Null,
            challenge: None,
        }
    }

    /// Adds a `WWW-Authenticate` challenge.
    pub fn with_challenge(mut self, challenge: String) -> Self {
        self.challenge = Some(challenge);
        self
    }

    /// Sets the `detail` member.
    pub fn with_detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

impl From<ContentError> for RegistryError {
    fn from(error: ContentError) -> Self {
        RegistryError::new(
            status(error.code.status()),
            error.code.as_str(),
            error.message,
        )
    }
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let body = json!({"errors": [{"code": self.code, "message": self.message, "detail": self.detail}]});
        let mut response = json_response(self.status, body);
        if let Some(challenge) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// The JSON member a [`MessageError`] holds its message in, which tells its surface.
pub trait MessageMember {
    /// The member's name.
    const NAME: &'static str;
}

macro_rules! message_members {
    ($($(#[$doc:meta])* $shape:ident => $name:literal,)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $shape;

        impl MessageMember for $shape {
            const NAME: &'static str = $name;
        }
    )*};
}

message_members! {
    /// The token endpoint's `{"details": "..."}`, which docker prints as
    /// `unauthorized: <details>` for a 401.
    TokenShape => "details",
    /// The Hub-style API's `{"detail": "...", ...extra}`.
    HubShape => "detail",
    /// The admin API's `{"error": "..."}`.
    AdminShape => "error",
}

/// An error of the token endpoint.
pub type TokenEndpointError = MessageError<TokenShape>;
/// An error of the Hub-style API.
pub type HubError = MessageError<HubShape>;
/// An error of the admin API.
pub type AdminError = MessageError<AdminShape>;

/// An error answered as a status and a message in the member `S` names, beside any extra
/// members.
#[derive(Debug, Clone)]
pub struct MessageError<S> {
    /// HTTP status.
    pub status: StatusCode,
    /// Message naming the problem.
    pub message: String,
    /// Extra members (e.g. Hub's `login_2fa_token`).
    pub extra: serde_json::Map<String, Value>,
    shape: PhantomData<S>,
}

impl<S> MessageError<S> {
    /// An answer with `status` naming the problem in `message`.
    pub fn with(status: StatusCode, message: impl Into<String>) -> Self {
        MessageError {
            status,
            message: message.into(),
            extra: serde_json::Map::new(),
            shape: PhantomData,
        }
    }

    /// A 400 naming the problem.
    pub fn bad_request(problem: impl std::fmt::Display) -> Self {
        Self::with(StatusCode::BAD_REQUEST, problem.to_string())
    }
}

impl<S> From<StateError> for MessageError<S> {
    fn from(error: StateError) -> Self {
        Self::with(status(error.status_code()), error.message())
    }
}

impl<S> From<BodyError> for MessageError<S> {
    fn from(error: BodyError) -> Self {
        Self::with(error.status, error.message)
    }
}

impl<S: MessageMember> IntoResponse for MessageError<S> {
    fn into_response(self) -> Response {
        let mut body = self.extra;
        body.insert(S::NAME.into(), Value::String(self.message));
        json_response(self.status, Value::Object(body))
    }
}

/// Largest JSON body the Hub-style and admin APIs accept.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Reads a JSON request body of the Hub-style or admin API: a 413 when too large, a 400
/// naming what is wrong with its JSON.
pub async fn json_body<T: serde::de::DeserializeOwned, S>(
    body: Body,
) -> Result<T, MessageError<S>> {
    let bytes = read_body(body, MAX_JSON_BODY).await?;
    parse_json(&bytes).map_err(MessageError::bad_request)
}

/// Which API a path belongs to, to answer errors raised before any handler in its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `/v2/...` registry API.
    Registry,
    /// `/token`.
    TokenEndpoint,
    /// `/v2/users/...`, `/v2/access-tokens...`.
    Hub,
    /// `/_admin/...`.
    Admin,
}

impl Surface {
    /// The surface of `path`.
    pub fn of(path: &str) -> Surface {
        if path.starts_with("/_admin") {
            Surface::Admin
        } else if path == "/token" || path.starts_with("/token/") {
            Surface::TokenEndpoint
        } else if path.starts_with("/v2/users/") || path.starts_with("/v2/access-tokens") {
            Surface::Hub
        } else {
            Surface::Registry
        }
    }

    /// An error answer with `status` and `message` in this surface's shape.
    pub fn error(
        self,
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Response {
        let message = message.into();
        match self {
            Surface::Registry => RegistryError::new(status, code, message).into_response(),
            Surface::TokenEndpoint => TokenEndpointError::with(status, message).into_response(),
            Surface::Hub => HubError::with(status, message).into_response(),
            Surface::Admin => AdminError::with(status, message).into_response(),
        }
    }
}

/// A request body that could not be read (too large, or the connection failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    /// 413 or 400.
    pub status: StatusCode,
    /// Message naming the problem.
    pub message: String,
}

impl From<BodyError> for RegistryError {
    fn from(e: BodyError) -> Self {
        let code = if e.status == StatusCode::PAYLOAD_TOO_LARGE {
            "SIZE_INVALID"
        } else {
            "BLOB_UPLOAD_INVALID"
        };
        RegistryError::new(e.status, code, e.message)
    }
}

/// Why a JSON request body is refused; each message names the problem.
#[derive(Debug, thiserror::Error)]
pub enum JsonBodyError {
    /// No body at all.
    #[error("request body is empty; expected a JSON object")]
    Empty,
    /// Not JSON, or not the shape expected.
    #[error("invalid JSON body: {0}")]
    Invalid(#[from] serde_json::Error),
    /// A member holds the wrong JSON type.
    #[error("{field} must be {expected}")]
    WrongType {
        /// The member.
        field: String,
        /// What it must be (`a boolean`, `a string`).
        expected: &'static str,
    },
    /// A member the endpoint does not know.
    #[error("unknown field {0:?}")]
    UnknownField(String),
}

/// Parses a JSON request body, naming what is wrong.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, JsonBodyError> {
    if body.is_empty() {
        return Err(JsonBodyError::Empty);
    }
    Ok(serde_json::from_slice(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn each_surface_has_its_shape() {
        let r = Surface::of("/v2/a/manifests/x").error(StatusCode::NOT_FOUND, "NAME_UNKNOWN", "m");
        assert_eq!(
            body(r).await,
            json!({"errors":[{"code":"NAME_UNKNOWN","message":"m","detail":null}]})
        );
        let r = Surface::of("/token").error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "m");
        assert_eq!(body(r).await, json!({"details":"m"}));
        let r = Surface::of("/v2/access-tokens/x").error(StatusCode::FORBIDDEN, "DENIED", "m");
        assert_eq!(body(r).await, json!({"detail":"m"}));
        let r = Surface::of("/_admin/users").error(StatusCode::BAD_REQUEST, "BAD", "m");
        assert_eq!(body(r).await, json!({"error":"m"}));
    }

    #[test]
    fn surfaces_by_path() {
        assert_eq!(Surface::of("/v2/"), Surface::Registry);
        assert_eq!(Surface::of("/v2/users/login"), Surface::Hub);
        assert_eq!(Surface::of("/tokens"), Surface::Registry);
    }

    #[tokio::test]
    async fn challenge_header_is_set() {
        let r = RegistryError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "x")
            .with_challenge("Bearer realm=\"r\"".into())
            .into_response();
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer realm=\"r\"");
    }

    #[test]
    fn parse_json_names_the_problem() {
        assert!(
            parse_json::<Value>(b"")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(
            parse_json::<Value>(b"{")
                .unwrap_err()
                .to_string()
                .contains("invalid JSON")
        );
        assert_eq!(parse_json::<Value>(b"{}").unwrap(), json!({}));
    }
}
