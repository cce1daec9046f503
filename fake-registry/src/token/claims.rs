//! The claim set of a registry token.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::state::access::AccessEntry;

/// Claims of a registry token, as distribution reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer (distribution's `auth.token.issuer`).
    pub iss: String,
    /// Subject: the account name, empty for anonymous tokens.
    pub sub: String,
    /// Audience: the service (distribution's `auth.token.service`).
    pub aud: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Not before, Unix seconds.
    pub nbf: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Unique token id.
    pub jti: String,
    /// Granted access.
    pub access: Vec<AccessEntry>,
    /// The PAT the token was obtained with (a private claim distribution ignores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fkr_pat: Option<Uuid>,
}

impl Claims {
    /// Whether the token grants `action` on `resource_type:name`.
    pub fn allows(&self, resource_type: &str, name: &str, action: &str) -> bool {
        self.access
            .iter()
            .any(|entry| entry.allows(resource_type, name, action))
    }

    /// The subject, `None` for anonymous tokens.
    pub fn subject(&self) -> Option<&str> {
        (!self.sub.is_empty()).then_some(self.sub.as_str())
    }
}
