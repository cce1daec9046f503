//! Settings shared by the library, the binary and the HTTP layer.

/// How `/v2` authenticates clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthMode {
    /// Token authentication: `/v2` takes bearer tokens from `/token` (Docker Hub, distribution
    /// with `auth.token`).
    #[default]
    Bearer,
    /// Basic authentication on every request, as htpasswd registries do.
    Basic,
}

/// Who may use the `/_admin` API.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AdminAccess {
    /// Anyone who can reach the server (it listens on loopback by default).
    #[default]
    Open,
    /// Callers presenting `Authorization: Bearer <token>`.
    Token(String),
    /// Nobody: `/_admin` answers 404.
    Disabled,
}
