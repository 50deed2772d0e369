//! main-svc's consumer of queue `main` (product events from the catalogue). Serves `/health`
//! and `/metrics` on `PORT` (default 5001).

use main_svc::MIGRATOR;
use main_svc::consumer::ProductHandler;
use shop_runtime::{consumer, settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    consumer::main(settings::MAIN_CONSUMER, &MIGRATOR, ProductHandler).await
}
