//! `fake-registry`: the registry as a standalone program.

use clap::Parser;

/// A token-auth container registry with Docker Hub's personal-access-token rules, for tests.
#[derive(Debug, Parser)]
#[command(name = "fake-registry", version, about)]
struct Cli {
    #[command(flatten)]
    serve: fake_registry::cli::ServeArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    fake_registry::cli::serve(Cli::parse().serve).await
}
