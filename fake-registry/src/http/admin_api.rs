//! The admin API for tests, under `/_admin` (contract in the crate README): users, tokens,
//! repositories, clock, journal, faults, reset and the token signing certificate.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use time::Duration;
use uuid::Uuid;

use super::auth_header::{self, Authorization};
use super::errors::{AdminError, MAX_JSON_BODY, json_body};
use super::hub_api::parse_token_patch;
use super::{SharedState, read_body};
use crate::config::AdminAccess;
use crate::state::accounts::{AccountUpdate, NewAccount};
use crate::state::faults::FaultSpec;
use crate::state::pats::{NewPat, Origin, parse_pat_scopes};
use crate::state::secret::constant_time_eq;
use crate::state::seed::{Expiry, SeedRepository};
use crate::state::{rfc3339, totp};

/// Routes of the admin API, behind the admin token when one is set; `None` when disabled.
pub fn routes(state: &SharedState) -> Option<Router<SharedState>> {
    if state.admin == AdminAccess::Disabled {
        return None;
    }
    let router = Router::new()
        .route("/_admin/reset", post(reset))
        .route("/_admin/users", post(create_user))
        .route("/_admin/users/{username}", get(get_user).patch(update_user))
        .route("/_admin/users/{username}/totp", get(current_totp))
        .route(
            "/_admin/users/{username}/tokens",
            post(create_token).get(list_tokens),
        )
        .route(
            "/_admin/users/{username}/tokens/{uuid}",
            get(get_token).patch(update_token).delete(delete_token),
        )
        .route(
            "/_admin/repositories",
            post(add_repository).get(list_repositories),
        )
        .route("/_admin/clock", post(move_clock).get(read_clock))
        .route("/_admin/journal", get(read_journal).delete(clear_journal))
        .route(
            "/_admin/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route("/_admin/token-cert.pem", get(token_certificate))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_admin_token,
        ));
    Some(router)
}

/// Refuses admin calls without the configured admin token (`Authorization: Bearer <token>`).
async fn require_admin_token(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    if let AdminAccess::Token(expected) = &state.admin {
        let presented = match auth_header::from_headers(request.headers()) {
            Ok(Some(Authorization::Bearer(token))) => Some(token),
            _ => None,
        };
        let ok = presented.is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes()));
        if !ok {
            let needed = "the admin API needs Authorization: Bearer <admin token>";
            return AdminError::with(StatusCode::UNAUTHORIZED, needed).into_response();
        }
    }
    next.run(request).await
}

fn parse_uuid(text: &str) -> Result<Uuid, AdminError> {
    Uuid::parse_str(text)
        .map_err(|_| AdminError::bad_request(format!("invalid token uuid {text:?}")))
}

async fn reset(State(state): State<SharedState>) -> Result<StatusCode, AdminError> {
    state.registry.reset()?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_user(State(state): State<SharedState>, body: Body) -> Result<Response, AdminError> {
    let new: NewAccount = json_body(body).await?;
    let view = state.registry.create_user(new)?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn get_user(
    State(state): State<SharedState>,
    Path(username): Path<String>,
) -> Result<Response, AdminError> {
    Ok(Json(state.registry.user(&username)?).into_response())
}

async fn update_user(
    State(state): State<SharedState>,
    Path(username): Path<String>,
    body: Body,
) -> Result<Response, AdminError> {
    let update: AccountUpdate = json_body(body).await?;
    let view = state.registry.update_user(&username, update)?;
    Ok(Json(view).into_response())
}

async fn current_totp(
    State(state): State<SharedState>,
    Path(username): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let secret = state.registry.user(&username)?.totp_secret.ok_or_else(|| {
        AdminError::bad_request(format!("user {username} has no two-factor authentication"))
    })?;
    let code = totp::code_at(&secret, state.registry.now().unix_timestamp())
        .ok_or_else(|| AdminError::bad_request("the TOTP secret is not base32"))?;
    Ok(Json(json!({"code": code})))
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CreateToken {
    label: String,
    scopes: Vec<String>,
    expires_at: Option<String>,
    generated_by: Origin,
}

async fn create_token(
    State(state): State<SharedState>,
    Path(username): Path<String>,
    body: Body,
) -> Result<Response, AdminError> {
    let request: CreateToken = json_body(body).await?;
    let expires_at = match request.expires_at.as_deref() {
        None => None,
        Some(text) => Expiry::parse(text).map_err(AdminError::bad_request)?.time(),
    };
    let new = NewPat {
        expires_at,
        generated_by: request.generated_by,
        ..NewPat::manual(request.label, parse_pat_scopes(&request.scopes)?)
    };
    let created = state.registry.create_token(&username, new)?;
    let mut body = serde_json::to_value(&created.view).expect("token view serializes");
    body["token"] = json!(created.token);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn list_tokens(
    State(state): State<SharedState>,
    Path(username): Path<String>,
) -> Result<Response, AdminError> {
    Ok(Json(state.registry.tokens(&username)?).into_response())
}

async fn get_token(
    State(state): State<SharedState>,
    Path((username, uuid)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    Ok(Json(state.registry.token(&username, parse_uuid(&uuid)?)?).into_response())
}

async fn update_token(
    State(state): State<SharedState>,
    Path((username, uuid)): Path<(String, String)>,
    body: Body,
) -> Result<Response, AdminError> {
    let uuid = parse_uuid(&uuid)?;
    let bytes = read_body(body, MAX_JSON_BODY).await?;
    let update = parse_token_patch(&bytes, "label").map_err(AdminError::bad_request)?;
    Ok(Json(state.registry.update_token(&username, uuid, update)?).into_response())
}

async fn delete_token(
    State(state): State<SharedState>,
    Path((username, uuid)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    state.registry.delete_token(&username, parse_uuid(&uuid)?)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_repository(
    State(state): State<SharedState>,
    body: Body,
) -> Result<Response, AdminError> {
    let request: SeedRepository = json_body(body).await?;
    state
        .registry
        .add_repository(&request.name, request.visibility)?;
    Ok((StatusCode::CREATED, Json(request)).into_response())
}

async fn list_repositories(State(state): State<SharedState>) -> Json<Value> {
    let repositories: Vec<Value> = state
        .registry
        .repositories()
        .into_iter()
        .map(|(name, visibility)| json!({"name": name, "visibility": visibility}))
        .collect();
    Json(json!(repositories))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveClock {
    advance_secs: Option<i64>,
    set: Option<String>,
}

async fn move_clock(
    State(state): State<SharedState>,
    body: Body,
) -> Result<Json<Value>, AdminError> {
    let request: MoveClock = json_body(body).await?;
    let clock = state.registry.clock();
    let now = match (request.advance_secs, request.set) {
        (Some(secs), None) => clock.advance(Duration::seconds(secs))?,
        (None, Some(at)) => {
            let at =
                time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| {
                        AdminError::bad_request(format!("set must be an RFC 3339 time: {e}"))
                    })?;
            clock.set(at)?
        }
        _ => {
            return Err(AdminError::bad_request(
                "give exactly one of advance_secs or set",
            ));
        }
    };
    Ok(Json(json!({"now": rfc3339(now)})))
}

async fn read_clock(State(state): State<SharedState>) -> Json<Value> {
    Json(json!({"now": rfc3339(state.registry.now())}))
}

async fn read_journal(State(state): State<SharedState>) -> Response {
    Json(state.registry.journal().entries()).into_response()
}

async fn clear_journal(State(state): State<SharedState>) -> StatusCode {
    state.registry.journal().clear();
    StatusCode::NO_CONTENT
}

async fn add_fault(State(state): State<SharedState>, body: Body) -> Result<Response, AdminError> {
    let spec: FaultSpec = json_body(body).await?;
    state.registry.faults().add(spec)?;
    Ok((StatusCode::CREATED, Json(state.registry.faults().list())).into_response())
}

async fn list_faults(State(state): State<SharedState>) -> Response {
    Json(state.registry.faults().list()).into_response()
}

async fn clear_faults(State(state): State<SharedState>) -> StatusCode {
    state.registry.faults().clear();
    StatusCode::NO_CONTENT
}

async fn token_certificate(State(state): State<SharedState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        state.signer.certificate_pem().to_string(),
    )
        .into_response()
}
