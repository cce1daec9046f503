//! Who may call a registry API endpoint: bearer tokens checked against their claims (token
//! mode), or Basic credentials checked against the account rules (basic mode), with the
//! challenges clients expect.

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::json;

use super::AppState;
use super::auth_header::{self, Authorization};
use super::errors::RegistryError;
use super::middleware::Note;
use crate::config::AuthMode;
use crate::state::access::{Actions, Principal, catalog_allowed};

/// What an endpoint needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needed {
    /// Any authenticated caller (`GET /v2/`).
    Login,
    /// These actions on each of these repositories (a cross-repository mount needs pull on
    /// its source too).
    Repositories(Vec<(String, Actions)>),
    /// The catalog.
    Catalog,
}

impl Needed {
    /// The scope string for a challenge.
    pub fn scope(&self) -> Option<String> {
        match self {
            Needed::Login => None,
            Needed::Repositories(needs) => Some(
                needs
                    .iter()
                    .map(|(name, actions)| {
                        format!("repository:{name}:{}", actions.names().join(","))
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Needed::Catalog => Some("registry:catalog:*".into()),
        }
    }
}

/// The realm URL of this registry as the client reached it.
pub fn realm(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| state.local_addr.to_string());
    format!("{}://{host}/token", state.scheme)
}

/// A registry API request being checked against what its endpoint needs.
struct Check<'a> {
    state: &'a AppState,
    headers: &'a HeaderMap,
    needed: &'a Needed,
}

impl Check<'_> {
    /// The `WWW-Authenticate` challenge, naming `error` when there is one.
    fn challenge(&self, error: Option<&str>) -> String {
        let state = self.state;
        match state.auth_mode {
            AuthMode::Basic => format!("Basic realm=\"{}\"", state.signer.service()),
            AuthMode::Bearer => {
                let mut value = format!(
                    "Bearer realm=\"{}\",service=\"{}\"",
                    realm(state, self.headers),
                    state.signer.service()
                );
                if let Some(scope) = self.needed.scope() {
                    value.push_str(&format!(",scope=\"{scope}\""));
                }
                if let Some(error) = error {
                    value.push_str(&format!(",error=\"{error}\""));
                }
                value
            }
        }
    }

    /// A 401 naming the problem in `message`, with the challenge.
    fn unauthorized(&self, message: impl Into<String>, error: Option<&str>) -> RegistryError {
        RegistryError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
            .with_challenge(self.challenge(error))
    }

    /// Token mode: a bearer token whose claims grant what is needed.
    fn bearer(&self, note: &Note, credentials: Option<Authorization>) -> Result<(), RegistryError> {
        let Some(Authorization::Bearer(token)) = credentials else {
            return Err(self.unauthorized("authentication required", None));
        };
        let claims = self
            .state
            .signer
            .verify(&token, self.state.registry.now())
            .map_err(|e| self.unauthorized(e.to_string(), Some("invalid_token")))?;
        note.principal(claims.subject(), claims.fkr_pat);
        note.scope(self.needed.scope());
        let granted = match self.needed {
            Needed::Login => true,
            Needed::Repositories(needs) => needs.iter().all(|(name, actions)| {
                actions
                    .to_vec()
                    .iter()
                    .all(|a| claims.allows("repository", name, a.as_str()))
            }),
            Needed::Catalog => claims.allows("registry", "catalog", "*"),
        };
        if !granted {
            let scope = self.needed.scope().unwrap_or_default();
            let message = format!("insufficient scope: the token does not grant {scope}");
            return Err(self
                .unauthorized(message, Some("insufficient_scope"))
                .with_detail(missing_access_detail(self.needed)));
        }
        Ok(())
    }

    /// Basic mode: anonymous, or Basic credentials of an account allowed what is needed.
    fn basic(&self, note: &Note, credentials: Option<Authorization>) -> Result<(), RegistryError> {
        let registry = &self.state.registry;
        let principal = match credentials {
            None => None,
            Some(Authorization::Basic { username, password }) => Some(
                registry
                    .login(&username, &password)
                    .map_err(|e| self.unauthorized(e.message(), None))?,
            ),
            Some(Authorization::Bearer(_)) => {
                let message = "this registry takes Basic credentials";
                return Err(self.unauthorized(message, None));
            }
        };
        note.principal(
            principal.as_ref().map(|p| p.username.as_str()),
            principal.as_ref().and_then(Principal::pat_uuid),
        );
        note.scope(self.needed.scope());
        let allowed = match self.needed {
            Needed::Login => principal.is_some(),
            Needed::Repositories(needs) => needs.iter().all(|(name, actions)| {
                registry
                    .allowed_actions(principal.as_ref(), name)
                    .contains_all(*actions)
            }),
            Needed::Catalog => catalog_allowed(principal.as_ref()),
        };
        match (allowed, &principal) {
            (true, _) => Ok(()),
            (false, None) => Err(self.unauthorized("authentication required", None)),
            (false, Some(_)) => Err(RegistryError::new(
                StatusCode::FORBIDDEN,
                "DENIED",
                "requested access to the resource is denied",
            )
            .with_detail(missing_access_detail(self.needed))),
        }
    }
}

fn missing_access_detail(needed: &Needed) -> serde_json::Value {
    match needed {
        Needed::Repositories(needs) => json!(needs
            .iter()
            .flat_map(|(name, actions)| actions.to_vec().into_iter().map(move |a| (name, a)))
            .map(|(name, a)| json!({"Type": "repository", "Class": "", "Name": name, "Action": a.as_str()}))
            .collect::<Vec<_>>()),
        Needed::Catalog => {
            json!([{"Type": "registry", "Class": "", "Name": "catalog", "Action": "*"}])
        }
        Needed::Login => serde_json::Value::Null,
    }
}

/// Checks the caller of a registry API endpoint against `needed`, recording who it is.
pub fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    note: &Note,
    needed: &Needed,
) -> Result<(), RegistryError> {
    let check = Check {
        state,
        headers,
        needed,
    };
    let credentials = auth_header::from_headers(headers)
        .map_err(|problem| check.unauthorized(problem.to_string(), Some("invalid_request")))?;
    match state.auth_mode {
        AuthMode::Bearer => check.bearer(note, credentials),
        AuthMode::Basic => check.basic(note, credentials),
    }
}
