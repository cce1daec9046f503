//! The token endpoint: `GET /token` (Basic credentials, docker's login) and `POST /token`
//! (OAuth2 `password` and `refresh_token` grants).

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::routing::get;
use serde_json::json;

use super::auth_header::{self, Authorization};
use super::errors::TokenEndpointError;
use super::middleware::Note;
use super::params::Params;
use super::{SharedState, read_body};
use crate::state::GrantCredentials;
use crate::state::access::parse_scopes;
use crate::state::{GrantRequest, rfc3339};

/// Largest form body accepted.
const MAX_FORM_BODY: usize = 64 * 1024;

/// Routes of the token endpoint.
pub fn routes() -> Router<SharedState> {
    Router::new().route("/token", get(get_token).post(post_token))
}

async fn get_token(
    State(state): State<SharedState>,
    uri: Uri,
    headers: HeaderMap,
    note: Note,
) -> Result<Json<serde_json::Value>, TokenEndpointError> {
    let params = Params::parse(uri.query().unwrap_or("").as_bytes());
    let credentials = match auth_header::from_headers(&headers)
        .map_err(TokenEndpointError::bad_request)?
    {
        None => GrantCredentials::Anonymous,
        Some(Authorization::Basic { username, password }) => GrantCredentials::Password {
            username,
            secret: password,
        },
        Some(Authorization::Bearer(_)) => {
            return Err(TokenEndpointError::bad_request(
                "GET /token takes Basic credentials; use POST /token with grant_type=refresh_token for a refresh token",
            ));
        }
    };
    let offline = params.flag("offline_token");
    issue(&state, &params, credentials, offline, &note)
}

async fn post_token(
    State(state): State<SharedState>,
    note: Note,
    body: Body,
) -> Result<Json<serde_json::Value>, TokenEndpointError> {
    let body = read_body(body, MAX_FORM_BODY).await?;
    let params = Params::parse(&body);
    let required = |key: &str| {
        params
            .get(key)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| TokenEndpointError::bad_request(format!("missing form field {key}")))
    };
    let credentials = match required("grant_type")?.as_str() {
        "password" => GrantCredentials::Password {
            username: required("username")?,
            secret: required("password")?,
        },
        "refresh_token" => GrantCredentials::IdentityToken(required("refresh_token")?),
        other => {
            return Err(TokenEndpointError::bad_request(format!(
                "unsupported grant_type {other:?} (expected password or refresh_token)"
            )));
        }
    };
    let offline = params.get("access_type") == Some("offline");
    issue(&state, &params, credentials, offline, &note)
}

fn issue(
    state: &SharedState,
    params: &Params,
    credentials: GrantCredentials,
    offline: bool,
    note: &Note,
) -> Result<Json<serde_json::Value>, TokenEndpointError> {
    if let Some(service) = params.get("service")
        && service != state.signer.service()
    {
        return Err(TokenEndpointError::bad_request(format!(
            "unknown service {service:?} (this registry is {:?})",
            state.signer.service()
        )));
    }
    let scopes = parse_scopes(params.all("scope")).map_err(TokenEndpointError::bad_request)?;
    let grant = state.registry.grant(GrantRequest {
        credentials,
        scopes,
        offline,
    })?;
    let principal = grant.principal.as_ref();
    let username = principal.map(|p| p.username.as_str());
    let pat = principal.and_then(|p| p.pat_uuid());
    note.principal(username, pat);
    note.scope(grant.scope_string());
    let issued = state.signer.issue(
        username.unwrap_or(""),
        grant.access.clone(),
        pat,
        state.registry.now(),
    );
    let mut body = json!({
        "token": issued.token,
        "access_token": issued.token,
        "expires_in": issued.expires_in,
        "issued_at": rfc3339(issued.issued_at),
        "scope": grant.scope_string().unwrap_or_default(),
    });
    if let Some(refresh) = grant.identity_token {
        body["refresh_token"] = json!(refresh);
    }
    Ok(Json(body))
}
