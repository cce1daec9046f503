//! The HTTP side: axum routers for the registry API, the token endpoint, the Hub-style API
//! and the admin API, the layers around them, and the server loop. Handlers translate HTTP to
//! calls on [`crate::state::Registry`] and carry no protocol decisions of their own.

pub mod admin_api;
pub mod auth_header;
pub mod body;
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
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use crate::config::{AdminAccess, AuthMode};
use crate::state::Registry;
use crate::token::TokenSigner;
use errors::Surface;

pub use body::read_body;

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
    /// How long a request body may go without sending data before it fails with 408.
    pub body_read_timeout: Duration,
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
            body::read_timeout,
        ))
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
