//! main-svc's consumer of queue `main` (product events from the catalogue). Serves its probes
//! (`/alive`, `/ready`, `/health`) and `/metrics` on `PORT` (default 5001).

use clap::Parser;
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
struct Cli {}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    Cli::parse();
    consumer::main(settings::MAIN_CONSUMER, &MIGRATOR, ProductHandler).await
}
