//! The command line of the standalone registry, shared with `credconform registry`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use std::io::Write;
use tokio::signal::unix::{SignalKind, signal};

use crate::config::AuthMode;
use crate::{DEFAULT_ISSUER, DEFAULT_SERVICE, FakeRegistry, UploadLimits};

/// Flags of `fake-registry` (and `credconform registry`).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one (printed on the first stdout line).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// TOML seed file with users, personal access tokens and repositories.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Authentication on /v2: bearer tokens from /token, or Basic as htpasswd registries.
    #[arg(long, value_enum, default_value_t = AuthMode::Bearer)]
    pub auth: AuthMode,
    /// Service name (token audience, challenge service).
    #[arg(long, default_value = DEFAULT_SERVICE, value_name = "NAME")]
    pub service: String,
    /// Token issuer (iss), as distribution's auth.token.issuer must say.
    #[arg(long, default_value = DEFAULT_ISSUER, value_name = "NAME")]
    pub issuer: String,
    /// Lifetime of issued tokens in seconds (at most ten years).
    #[arg(long, default_value_t = 300, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=315_360_000))]
    pub token_ttl: u64,
    /// Serve HTTPS with a generated CA and write the CA certificate (PEM) to CA_OUT.
    #[arg(long, value_name = "CA_OUT")]
    pub tls_self_signed: Option<PathBuf>,
    /// Require `Authorization: Bearer T` on /_admin.
    #[arg(
        long,
        value_name = "T",
        env = "FAKE_REGISTRY_ADMIN_TOKEN",
        conflicts_with = "no_admin"
    )]
    pub admin_token: Option<String>,
    /// Disable the /_admin API.
    #[arg(long)]
    pub no_admin: bool,
    /// Seconds a request body may go without sending data before it gets 408.
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub body_read_timeout: u64,
    /// Seconds an unfinished blob upload session may stay idle before it is dropped.
    #[arg(long, default_value_t = 300, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub upload_idle_timeout: u64,
    /// Most blob upload sessions open at once (one more gets 429).
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_uploads: u64,
    /// Most bytes all open upload sessions hold together (a chunk beyond gets 413).
    #[arg(long, default_value_t = 1 << 30, value_name = "BYTES")]
    pub max_upload_bytes: u64,
}

/// Runs the registry until SIGINT or SIGTERM. The first stdout line is
/// `listening on http://ADDR` (or `https://`).
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut builder = FakeRegistry::builder()
        .listen(args.listen)
        .auth_mode(args.auth)
        .service(args.service)
        .issuer(args.issuer)
        .token_ttl(Duration::from_secs(args.token_ttl))
        .admin_token(args.admin_token)
        .tls_self_signed(args.tls_self_signed.is_some())
        .body_read_timeout(Duration::from_secs(args.body_read_timeout))
        .upload_limits(UploadLimits {
            idle_timeout: Duration::from_secs(args.upload_idle_timeout),
            max_sessions: usize::try_from(args.max_uploads).unwrap_or(usize::MAX),
            max_bytes: args.max_upload_bytes,
        });
    if args.no_admin {
        builder = builder.no_admin();
    }
    if let Some(seed) = args.seed {
        builder = builder.seed_file(seed);
    }
    // Handlers go in before the address is announced, so a caller that signals as soon as it
    // reads the first line never meets the default action (death by signal).
    let mut terminate = signal(SignalKind::terminate()).context("installing a SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing a SIGINT handler")?;
    let registry = builder.start().await?;
    if let (Some(path), Some(pem)) = (&args.tls_self_signed, registry.ca_pem()) {
        std::fs::write(path, pem)
            .with_context(|| format!("writing the CA to {}", path.display()))?;
    }
    writeln!(std::io::stdout(), "listening on {}", registry.url())?;
    std::io::stdout().flush()?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    eprintln!("fake-registry: shutting down");
    registry.shutdown().await;
    Ok(())
}
