//! admin-svc's consumer of queue `admin` (likes from the shop). Serves `/health` and
//! `/metrics` on `PORT` (default 8001).

use anyhow::Context;
use shop_runtime::settings::ServiceDefaults;
use shop_runtime::{Env, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shop_runtime::telemetry::init("admin-consumer");
    let defaults = ServiceDefaults {
        app_id: "admin-consumer",
        port: 8001,
        ..admin_svc::DEFAULTS
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
    let queue = settings.amqp.admin_queue.clone();
    shop_runtime::consumer::run_consumer(
        settings,
        listener,
        shop_runtime::shutdown::on_signal(),
        &admin_svc::MIGRATOR,
        queue,
        admin_svc::consumer::LikeHandler,
    )
    .await
}
