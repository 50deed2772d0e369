//! main-svc's consumer of queue `main` (product events from the catalogue). Serves its probes
//! (`/alive`, `/ready`, `/health`) and `/metrics` on `PORT` (default 5001).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use main_svc::MIGRATOR;
use main_svc::consumer::ProductHandler;
use shop_runtime::service::consumer;
use shop_runtime::settings;

#[derive(Parser)]
#[command(
    version,
    about = "Applies the catalogue's product events (queue `main`) to the shop's mirror. \
             Configured through environment variables (see docs/operating/configuration.md)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Look at, replay or discard the messages in the dead-letter queue (`main.dead-letter`).
    DeadLetters(shop_runtime::dead_letters::cli::Args),
}

fn main() -> anyhow::Result<ExitCode> {
    // One worker thread unless TOKIO_WORKER_THREADS says otherwise: a consumer applies one
    // message at a time.
    shop_runtime::service::consumer::runtime()?.block_on(run())
}

async fn run() -> anyhow::Result<ExitCode> {
    if let Some(Command::DeadLetters(args)) = Cli::parse().command {
        return Ok(shop_runtime::service::tools::dead_letters(settings::MAIN_CONSUMER, args).await);
    }
    consumer::main(settings::MAIN_CONSUMER, &MIGRATOR, ProductHandler).await?;
    Ok(ExitCode::SUCCESS)
}
