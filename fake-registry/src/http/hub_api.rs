//! The Hub-style management API: `POST /v2/users/login`, `POST /v2/users/2fa-login`, and
//! personal access token management under `/v2/access-tokens` with Hub's field names.

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::auth_header::{self, Authorization};
use super::errors::{HubError, JsonBodyError, MAX_JSON_BODY, json_body, parse_json};
use super::middleware::Note;
use super::params::Params;
use super::{SharedState, read_body};
use crate::state::access::Principal;
use crate::state::error::ExpiryError;
use crate::state::pats::{NewPat, PatUpdate, PatView, parse_pat_scopes};
use crate::state::seed::Expiry;
use crate::state::{AccountAdmin, HubLogin, rfc3339};

/// Message Hub gives a two-factor account at `/v2/users/login`.
pub const SECOND_FACTOR_REQUIRED: &str = "Require secondary authentication on MFA enabled account";

/// Routes of the Hub-style API.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v2/users/login", post(login))
        .route("/v2/users/2fa-login", post(second_factor_login))
        .route("/v2/access-tokens", post(create_token).get(list_tokens))
        .route(
            "/v2/access-tokens/{uuid}",
            get(get_token).patch(update_token).delete(delete_token),
        )
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

async fn login(
    State(state): State<SharedState>,
    note: Note,
    body: Body,
) -> Result<Response, HubError> {
    let request: LoginRequest = json_body(body).await?;
    note.principal(Some(&request.username), None);
    match state
        .registry
        .hub_login(&request.username, &request.password)?
    {
        HubLogin::Session(token) => Ok(Json(json!({"token": token})).into_response()),
        HubLogin::SecondFactorRequired(pending) => {
            let mut error = HubError::with(StatusCode::UNAUTHORIZED, SECOND_FACTOR_REQUIRED);
            error.extra.insert("login_2fa_token".into(), json!(pending));
            Err(error)
        }
    }
}

#[derive(Deserialize)]
struct SecondFactorRequest {
    login_2fa_token: String,
    code: String,
}

async fn second_factor_login(
    State(state): State<SharedState>,
    body: Body,
) -> Result<Json<Value>, HubError> {
    let request: SecondFactorRequest = json_body(body).await?;
    let token = state
        .registry
        .hub_second_factor(&request.login_2fa_token, &request.code)?;
    Ok(Json(json!({"token": token})))
}

/// The caller of a token-management endpoint: a Hub session (`Bearer`/`JWT`) or Basic
/// credentials, recorded in the journal.
struct Caller {
    state: SharedState,
    principal: Principal,
}

impl FromRequestParts<SharedState> for Caller {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, HubError> {
        let principal = match auth_header::from_headers(&parts.headers)
            .map_err(|e| HubError::with(StatusCode::UNAUTHORIZED, e.to_string()))?
        {
            None => {
                let missing = "authentication credentials were not provided";
                return Err(HubError::with(StatusCode::UNAUTHORIZED, missing));
            }
            Some(Authorization::Bearer(session)) => state.registry.hub_session(&session)?,
            Some(Authorization::Basic { username, password }) => {
                state.registry.login(&username, &password)?
            }
        };
        let note = parts.extensions.get::<Note>().cloned().unwrap_or_default();
        note.principal(Some(&principal.username), principal.pat_uuid());
        let state = state.clone();
        Ok(Caller { state, principal })
    }
}

impl Caller {
    /// The caller's administration of its own account, refused to a PAT.
    fn admin(&self) -> Result<AccountAdmin<'_>, HubError> {
        Ok(self.state.registry.account_admin(&self.principal)?)
    }
}

/// A token in Hub's field names; `token` is the secret only in the creation answer.
fn hub_token(view: &PatView, secret: Option<&str>) -> Value {
    json!({
        "uuid": view.uuid,
        "client_id": "",
        "creator_ip": "127.0.0.1",
        "creator_ua": "",
        "created_at": rfc3339(view.created_at),
        "last_used": view.last_used.map(rfc3339),
        "generated_by": view.generated_by,
        "is_active": view.is_active,
        "token": secret.unwrap_or(""),
        "token_label": view.label,
        "scopes": view.scopes,
        "expires_at": view.expires_at.map(rfc3339),
    })
}

#[derive(Deserialize)]
struct CreateTokenRequest {
    #[serde(default)]
    token_label: String,
    scopes: Vec<String>,
    expires_at: Option<String>,
}

fn parse_expiry(text: Option<&str>) -> Result<Option<OffsetDateTime>, ExpiryError> {
    match text {
        None | Some("") => Ok(None),
        Some(text) => Expiry::parse(text).map(Expiry::time),
    }
}

async fn create_token(caller: Caller, body: Body) -> Result<Response, HubError> {
    let admin = caller.admin()?;
    let request: CreateTokenRequest = json_body(body).await?;
    let mut new = NewPat::manual(request.token_label, parse_pat_scopes(&request.scopes)?);
    new.expires_at = parse_expiry(request.expires_at.as_deref()).map_err(HubError::bad_request)?;
    let created = admin.create_token(new)?;
    Ok((
        StatusCode::CREATED,
        Json(hub_token(&created.view, Some(&created.token))),
    )
        .into_response())
}

async fn list_tokens(uri: Uri, caller: Caller) -> Result<Json<Value>, HubError> {
    let tokens = caller.admin()?.tokens()?;
    let params = Params::parse(uri.query().unwrap_or("").as_bytes());
    let number = |key: &str, default: usize| -> Result<usize, HubError> {
        params.get(key).map_or(Ok(default), |v| {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| HubError::bad_request(format!("{key} must be a positive integer")))
        })
    };
    let page = number("page", 1)?;
    let page_size = number("page_size", 10)?.min(100);
    let start = (page - 1).saturating_mul(page_size);
    let link = |p: usize| format!("/v2/access-tokens?page={p}&page_size={page_size}");
    let results: Vec<Value> = tokens
        .iter()
        .skip(start)
        .take(page_size)
        .map(|t| hub_token(t, None))
        .collect();
    Ok(Json(json!({
        "count": tokens.len(),
        "active_count": tokens.iter().filter(|t| t.is_active).count(),
        "next": (start + page_size < tokens.len()).then(|| link(page + 1)),
        "previous": (page > 1).then(|| link(page - 1)),
        "results": results,
    })))
}

fn parse_uuid(text: &str) -> Result<Uuid, HubError> {
    Uuid::parse_str(text)
        .map_err(|_| HubError::with(StatusCode::NOT_FOUND, format!("no access token {text:?}")))
}

async fn get_token(Path(uuid): Path<String>, caller: Caller) -> Result<Json<Value>, HubError> {
    let view = caller.admin()?.token(parse_uuid(&uuid)?)?;
    Ok(Json(hub_token(&view, None)))
}

/// Reads a PATCH body: `label_key` and `is_active` may change; any `expires_at` member is
/// reported so the state can refuse it.
pub fn parse_token_patch(body: &[u8], label_key: &str) -> Result<PatUpdate, JsonBodyError> {
    let object: serde_json::Map<String, Value> = parse_json(body)?;
    let mut update = PatUpdate {
        expires_at_requested: object.contains_key("expires_at"),
        ..PatUpdate::default()
    };
    let wrong_type = |field: &str, expected| JsonBodyError::WrongType {
        field: field.to_string(),
        expected,
    };
    for (key, value) in &object {
        match key.as_str() {
            "is_active" => {
                let active = value
                    .as_bool()
                    .ok_or_else(|| wrong_type(key, "a boolean"))?;
                update.is_active = Some(active);
            }
            "expires_at" => {}
            key if key == label_key => {
                let label = value.as_str().ok_or_else(|| wrong_type(key, "a string"))?;
                update.label = Some(label.to_string());
            }
            other => return Err(JsonBodyError::UnknownField(other.to_string())),
        }
    }
    Ok(update)
}

async fn update_token(
    Path(uuid): Path<String>,
    caller: Caller,
    body: Body,
) -> Result<Json<Value>, HubError> {
    let admin = caller.admin()?;
    let uuid = parse_uuid(&uuid)?;
    let bytes = read_body(body, MAX_JSON_BODY).await?;
    let update = parse_token_patch(&bytes, "token_label").map_err(HubError::bad_request)?;
    let view = admin.update_token(uuid, update)?;
    Ok(Json(hub_token(&view, None)))
}

async fn delete_token(Path(uuid): Path<String>, caller: Caller) -> Result<StatusCode, HubError> {
    caller.admin()?.delete_token(parse_uuid(&uuid)?)?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_body_reports_expiry_and_unknown_fields() {
        let update =
            parse_token_patch(br#"{"is_active":false,"token_label":"x"}"#, "token_label").unwrap();
        assert_eq!(update.is_active, Some(false));
        assert_eq!(update.label.as_deref(), Some("x"));
        assert!(!update.expires_at_requested);
        assert!(
            parse_token_patch(br#"{"expires_at":null}"#, "label")
                .unwrap()
                .expires_at_requested
        );
        assert!(
            parse_token_patch(br#"{"is_active":"no"}"#, "label")
                .unwrap_err()
                .to_string()
                .contains("boolean")
        );
        assert!(
            parse_token_patch(br#"{"colour":1}"#, "label")
                .unwrap_err()
                .to_string()
                .contains("colour")
        );
        assert!(
            parse_token_patch(b"[]", "label")
                .unwrap_err()
                .to_string()
                .contains("invalid JSON")
        );
    }
}
