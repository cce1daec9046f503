//! The one error type every rule in `state` answers with.

use thiserror::Error;

/// Message Docker Hub gives when the password of a two-factor account is used from a CLI.
pub const PASSWORD_REFUSED_FOR_TWO_FACTOR: &str = "please use personal access token to login";
/// Message for an unknown user or a wrong password/token.
pub const INCORRECT_CREDENTIALS: &str = "incorrect username or password";
/// Message Docker Hub gives when a PAT attempts account administration.
pub const FORBIDDEN_WITH_PAT: &str =
    "access to the resource is forbidden with personal access token";
/// Message for an attempt to change a token's expiry after creation.
pub const EXPIRY_IMMUTABLE: &str = "expires_at cannot be changed after the token is created";

/// Why a rule refused an operation; the variant says which class of HTTP status fits.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateError {
    /// The request itself is malformed or breaks a rule about its content (400).
    #[error("{0}")]
    BadRequest(String),
    /// The credentials are missing, wrong, or no longer usable (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The credentials are valid but may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The named thing does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The thing already exists (409).
    #[error("{0}")]
    Conflict(String),
}

impl StateError {
    /// The HTTP status code that fits this refusal.
    pub fn status_code(&self) -> u16 {
        match self {
            StateError::BadRequest(_) => 400,
            StateError::Unauthorized(_) => 401,
            StateError::Forbidden(_) => 403,
            StateError::NotFound(_) => 404,
            StateError::Conflict(_) => 409,
        }
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        match self {
            StateError::BadRequest(m)
            | StateError::Unauthorized(m)
            | StateError::Forbidden(m)
            | StateError::NotFound(m)
            | StateError::Conflict(m) => m,
        }
    }
}

/// Shorthand for results of state operations.
pub type StateResult<T> = Result<T, StateError>;
