//! The HTTP side: axum routers for the registry API, the token endpoint, the Hub-style API
//! and the admin API, the layers around them, and the server loop. Handlers translate HTTP to
//! calls on [`crate::state::Registry`] and carry no protocol decisions of their own.

pub mod admin_api;
pub mod auth_header;
pub mod errors;
pub mod hub_api;
pub mod last_resort;
pub mod middleware;
pub mod params;
pub mod registry_api;
pub mod registry_auth;
pub mod server;
pub mod token_api;
pub mod v2_path;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::config::{AdminAccess, AuthMode};
use crate::state::Registry;
use crate::token::TokenSigner;
use errors::{BodyError, Surface};

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    /// The rules and data.
    pub registry: Arc<Registry>,
    /// Token signing and verification.
    pub signer: Arc<TokenSigner>,
    /// Bearer (token) or Basic authentication on `/v2`.
    pub auth_mode: AuthMode,
    /// Who may use `/_admin`.
    pub admin: AdminAccess,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The address the server listens on.
    pub local_addr: SocketAddr,
}

/// Shared handle to [`AppState`].
pub type SharedState = Arc<AppState>;

/// The whole application: every API with its layers.
pub fn router(state: SharedState) -> Router {
    let mut router = Router::new()
        .merge(hub_api::routes())
        .merge(registry_api::routes())
        .merge(token_api::routes());
    if let Some(admin) = admin_api::routes(&state) {
        router = router.merge(admin);
    }
    router
        .fallback(not_found)
        .layer(axum::middleware::from_fn(last_resort::json_errors))
        .layer(axum::middleware::from_fn(middleware::limit_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::journal_and_faults,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            last_resort::catch_panic,
        ))
        .with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    Surface::of(uri.path()).error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("no such endpoint {}", uri.path()),
    )
}

/// Reads a request body of at most `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> Result<Vec<u8>, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("request body larger than {limit} bytes"),
        }),
        Err(e) => Err(BodyError {
            status: StatusCode::BAD_REQUEST,
            message: format!("could not read the request body: {e}"),
        }),
    }
}
