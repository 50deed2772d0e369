//! main-svc's consumer of queue `main` (product events from the catalogue). Serves `/health`
//! and `/metrics` on `PORT` (default 5001).

use anyhow::Context;
use shop_runtime::settings::ServiceDefaults;
use shop_runtime::{Env, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shop_runtime::telemetry::init("main-consumer");
    let defaults = ServiceDefaults {
        app_id: "main-consumer",
        port: 5001,
        ..main_svc::DEFAULTS
    };
    let settings = Settings::from_env(&Env::from_process(), defaults)?;
    let listener = tokio::net::TcpListener::bind(settings.http_addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (BIND_ADDRESS, PORT)",
                settings.http_addr
            )
        })?;
    let queue = settings.amqp.main_queue.clone();
    shop_runtime::consumer::run_consumer(
        settings,
        listener,
        shop_runtime::shutdown::on_signal(),
        &main_svc::MIGRATOR,
        queue,
        main_svc::consumer::ProductHandler,
    )
    .await
}
