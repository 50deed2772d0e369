//! main-svc's HTTP API (and its operator commands).

use clap::Parser;
use shop_runtime::service::{self, ApiCommand};
use shop_runtime::settings;

#[derive(Parser)]
#[command(
    version,
    about = "The shop front's service. Configured through environment variables (see README)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<ApiCommand>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = service::start(settings::MAIN_API).await?;
    service::run_command::<main_svc::AppState>(cli.command.unwrap_or_default(), settings).await
}
