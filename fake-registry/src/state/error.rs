//! The error types of `state`: [`StateError`], which every rule answers with, and the errors
//! of the parsers of names, scopes and expiry times.

use thiserror::Error;

use super::access::{MAX_REPOSITORY_NAME_LEN, MAX_SCOPE_LEN};

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

/// Why a repository name is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    /// The name is empty.
    #[error("repository name is empty")]
    Empty,
    /// The name exceeds [`MAX_REPOSITORY_NAME_LEN`].
    #[error("repository name longer than {MAX_REPOSITORY_NAME_LEN} characters")]
    TooLong,
    /// The name breaks distribution's grammar.
    #[error("invalid repository name {0:?}")]
    Invalid(String),
}

impl From<NameError> for StateError {
    fn from(error: NameError) -> Self {
        StateError::BadRequest(error.to_string())
    }
}

/// Why a scope string (`type:name:actions`) is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScopeError {
    /// The scope exceeds [`MAX_SCOPE_LEN`].
    #[error("scope longer than {MAX_SCOPE_LEN} bytes")]
    TooLong,
    /// The scope is malformed.
    #[error("invalid scope {scope:?}: {problem}")]
    Invalid {
        /// The scope as given.
        scope: String,
        /// What is wrong with it.
        problem: ScopeProblem,
    },
}

/// What is wrong with a malformed scope.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScopeProblem {
    /// Fewer than three `:`-separated parts.
    #[error("expected type:name:actions")]
    Shape,
    /// The resource type (or its class) is not lower-case alphanumeric.
    #[error("bad resource type")]
    ResourceType,
    /// No resource name.
    #[error("empty resource name")]
    EmptyName,
    /// A repository name that breaks the grammar.
    #[error("{0}")]
    RepositoryName(NameError),
    /// Another resource's name holds non-printable characters.
    #[error("bad resource name")]
    ResourceName,
    /// An action that is neither `*` nor lower-case letters and `_`.
    #[error("bad action list")]
    Actions,
}

/// A token expiry that is neither `never` nor an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("expires_at must be \"never\" or an RFC 3339 time: {0}")]
pub struct ExpiryError(#[from] pub time::error::Parse);
