//! main-svc's HTTP API (and its operator commands).

use clap::Parser;
use shop_runtime::service::{self, ApiCommand};
use shop_runtime::settings;
use shop_runtime::telemetry::LogOutput;

#[derive(Parser)]
#[command(
    version,
    about = "The shop front's service. Configured through environment variables (see docs/operating/configuration.md)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<ApiCommand>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let (api, own) =
        service::api::start::<main_svc::AppState>(settings::MAIN_API, LogOutput::Stdout).await?;
    service::run_command::<main_svc::AppState>(cli.command.unwrap_or_default(), api, own).await
}
