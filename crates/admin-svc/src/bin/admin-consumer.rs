//! admin-svc's consumer of queue `admin` (likes from the shop). Serves its probes (`/alive`,
//! `/ready`, `/health`) and `/metrics` on `PORT` (default 8001).

use admin_svc::MIGRATOR;
use admin_svc::consumer::LikeHandler;
use clap::Parser;
use shop_runtime::service::consumer;
use shop_runtime::settings;

#[derive(Parser)]
#[command(
    version,
    about = "Applies the shop's likes (queue `admin`) to the catalogue's counts. Configured \
             through environment variables (see docs/operating/configuration.md)."
)]
struct Cli {}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    Cli::parse();
    consumer::main(settings::ADMIN_CONSUMER, &MIGRATOR, LikeHandler).await
}
