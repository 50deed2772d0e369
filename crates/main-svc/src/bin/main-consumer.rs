//! main-svc's consumer of queue `main` (product events from the catalogue). Serves `/health`
//! and `/metrics` on `PORT` (default 5001).

use shop_runtime::settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shop_runtime::consumer::main(
        settings::MAIN_CONSUMER,
        &main_svc::MIGRATOR,
        |amqp| amqp.consume_queue.clone(),
        main_svc::consumer::ProductHandler,
    )
    .await
}
