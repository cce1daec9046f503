//! A token-auth container registry with Docker Hub's personal-access-token rules, for
//! certifying login CLIs and credential helpers against something that behaves like a real
//! registry and that tests can steer.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use fake_registry::FakeRegistry;
//! let registry = FakeRegistry::builder()
//!     .seed_file("fixtures/registry/default.toml")
//!     .start()
//!     .await?;
//! println!("{}", registry.url());
//! registry.state().clock().advance(time::Duration::days(1))?;
//! registry.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Modules: [`state`] holds every rule (accounts, PATs, repositories, clock), [`token`] signs
//! and verifies registry tokens, [`http`] maps HTTP onto them, [`cli`] is the command line.

pub mod cli;
pub mod config;
pub mod http;
pub mod state;
pub mod tls;
pub mod token;

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{AdminAccess, AuthMode};
pub use state::Registry;
pub use state::access::{AccessEntry, PatScope, Visibility};
pub use state::content::UploadLimits;
pub use state::seed::Seed;

use http::AppState;
use token::TokenSigner;

/// Default service name (`aud` of tokens, `service` of challenges).
pub const DEFAULT_SERVICE: &str = "fake-registry";
/// Default token issuer (`iss`).
pub const DEFAULT_ISSUER: &str = "fake-registry";
/// Default token lifetime.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);

/// Entry point: `FakeRegistry::builder()...start().await`.
#[derive(Debug)]
pub struct FakeRegistry;

impl FakeRegistry {
    /// A builder with the defaults: `127.0.0.1:0`, empty seed, bearer auth, service and issuer
    /// `fake-registry`, 300 s tokens, open admin API, plain HTTP.
    pub fn builder() -> FakeRegistryBuilder {
        FakeRegistryBuilder::default()
    }
}

/// Configures and starts a registry.
#[derive(Debug, Clone)]
pub struct FakeRegistryBuilder {
    listen: SocketAddr,
    seed: Seed,
    seed_files: Vec<PathBuf>,
    auth_mode: AuthMode,
    service: String,
    issuer: String,
    token_ttl: Duration,
    admin: AdminAccess,
    tls: bool,
    body_read_timeout: Duration,
    upload_limits: UploadLimits,
}

impl Default for FakeRegistryBuilder {
    fn default() -> Self {
        FakeRegistryBuilder {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: Seed::default(),
            seed_files: Vec::new(),
            auth_mode: AuthMode::Bearer,
            service: DEFAULT_SERVICE.into(),
            issuer: DEFAULT_ISSUER.into(),
            token_ttl: DEFAULT_TOKEN_TTL,
            admin: AdminAccess::Open,
            tls: false,
            body_read_timeout: http::body::DEFAULT_BODY_READ_TIMEOUT,
            upload_limits: UploadLimits::default(),
        }
    }
}

impl FakeRegistryBuilder {
    /// Address to listen on (port 0 picks a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Adds the users, tokens and repositories of `seed`.
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed.extend(seed);
        self
    }

    /// Adds the seed file at `path` (read at start).
    pub fn seed_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed_files.push(path.into());
        self
    }

    /// Bearer (token) or Basic authentication on `/v2`.
    pub fn auth_mode(mut self, mode: AuthMode) -> Self {
        self.auth_mode = mode;
        self
    }

    /// Service name: token audience and challenge `service`.
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Token issuer (`iss`), what distribution's `auth.token.issuer` must say.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// Lifetime of issued tokens.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// `Some(token)`: the admin API needs `Authorization: Bearer <token>`; `None`: open.
    pub fn admin_token(mut self, token: Option<String>) -> Self {
        self.admin = token.map_or(AdminAccess::Open, AdminAccess::Token);
        self
    }

    /// Disables the admin API (`/_admin` answers 404).
    pub fn no_admin(mut self) -> Self {
        self.admin = AdminAccess::Disabled;
        self
    }

    /// Serves HTTPS with a generated CA (see [`RunningRegistry::ca_pem`]).
    pub fn tls_self_signed(mut self, enabled: bool) -> Self {
        self.tls = enabled;
        self
    }

    /// How long a request body may go without sending data before it fails with 408
    /// (default 30 s).
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// Bounds on blob upload sessions: idle expiry, count and bytes held.
    pub fn upload_limits(mut self, limits: UploadLimits) -> Self {
        self.upload_limits = limits;
        self
    }

    /// Binds, builds the state and starts serving in the background.
    pub async fn start(self) -> anyhow::Result<RunningRegistry> {
        let mut seed = self.seed;
        for path in &self.seed_files {
            seed.extend(Seed::from_file(path)?);
        }
        if self.body_read_timeout.is_zero() || self.upload_limits.idle_timeout.is_zero() {
            anyhow::bail!("the body read timeout and the upload idle timeout must be positive");
        }
        let registry = Arc::new(
            Registry::with_upload_limits(seed, self.upload_limits)
                .map_err(|e| anyhow::anyhow!("invalid seed: {e}"))?,
        );
        let ttl = time::Duration::try_from(self.token_ttl).context("token ttl too large")?;
        if ttl < time::Duration::SECOND || ttl > state::clock::MAX_TOKEN_TTL {
            anyhow::bail!(
                "token ttl must be between 1 and {} seconds",
                state::clock::MAX_TOKEN_TTL.whole_seconds()
            );
        }
        let signer = Arc::new(TokenSigner::generate(&self.issuer, &self.service, ttl)?);
        let tls = self.tls.then(tls::SelfSignedTls::generate).transpose()?;
        let listener = TcpListener::bind(self.listen)
            .await
            .with_context(|| format!("binding {}", self.listen))?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let app = Arc::new(AppState {
            registry: registry.clone(),
            signer: signer.clone(),
            auth_mode: self.auth_mode,
            admin: self.admin,
            scheme,
            local_addr: addr,
            body_read_timeout: self.body_read_timeout,
        });
        let (stop, stopped) = watch::channel(());
        let acceptor = tls
            .as_ref()
            .map(|t| tokio_rustls::TlsAcceptor::from(t.server_config.clone()));
        let sweeper = spawn_upload_sweeper(registry.clone(), stopped.clone());
        let task = http::server::spawn(listener, acceptor, http::router(app), stopped);
        Ok(RunningRegistry {
            addr,
            scheme,
            handle: RegistryHandle { registry, signer },
            ca_pem: tls.map(|t| t.ca_pem),
            stop: Some(stop),
            task: Some(task),
            sweeper,
        })
    }
}

/// Expires idle upload sessions in the background (every quarter of the idle timeout, between
/// 50 ms and 10 s), so their memory returns even when no request comes.
fn spawn_upload_sweeper(registry: Arc<Registry>, mut stop: watch::Receiver<()>) -> JoinHandle<()> {
    let period = (registry.upload_limits().idle_timeout / 4)
        .clamp(Duration::from_millis(50), Duration::from_secs(10));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = tokio::time::sleep(period) => {
                    registry.edit_content(|c| c.expire_uploads(Instant::now()));
                }
            }
        }
    })
}

/// A cheap, clonable handle to a running registry's state, for tests that steer it without
/// HTTP. Dereferences to [`Registry`] (clock, users, tokens, journal, faults...).
#[derive(Debug, Clone)]
pub struct RegistryHandle {
    registry: Arc<Registry>,
    signer: Arc<TokenSigner>,
}

impl Deref for RegistryHandle {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        &self.registry
    }
}

impl RegistryHandle {
    /// The token signing certificate (PEM), for distribution's `rootcertbundle`.
    pub fn token_cert_pem(&self) -> &str {
        self.signer.certificate_pem()
    }
}

/// A registry serving in the background. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningRegistry {
    addr: SocketAddr,
    scheme: &'static str,
    handle: RegistryHandle,
    ca_pem: Option<String>,
    stop: Option<watch::Sender<()>>,
    task: Option<JoinHandle<()>>,
    sweeper: JoinHandle<()>,
}

impl RunningRegistry {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `host:port` as clients name the registry, e.g. `127.0.0.1:41234`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Handle to the state.
    pub fn state(&self) -> &RegistryHandle {
        &self.handle
    }

    /// The token signing certificate (PEM).
    pub fn token_cert_pem(&self) -> &str {
        self.handle.token_cert_pem()
    }

    /// The CA certificate (PEM) clients must trust when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 5 s) and waits; the
    /// upload sweeper stops on drop.
    pub async fn shutdown(mut self) {
        self.stop.take();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningRegistry {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.sweeper.abort();
    }
}
