//! main-svc's consumer of queue `main` (product events from the catalogue). Serves `/health`
//! and `/metrics` on `PORT` (default 5001).

use shop_runtime::settings::ServiceDefaults;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let defaults = ServiceDefaults {
        app_id: "main-consumer",
        port: 5001,
        ..main_svc::DEFAULTS
    };
    shop_runtime::consumer::main(
        defaults,
        &main_svc::MIGRATOR,
        |amqp| amqp.main_queue.clone(),
        main_svc::consumer::ProductHandler,
    )
    .await
}
