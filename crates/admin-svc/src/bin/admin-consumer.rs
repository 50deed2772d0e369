//! admin-svc's consumer of queue `admin` (likes from the shop). Serves `/health` and
//! `/metrics` on `PORT` (default 8001).

use shop_runtime::settings::ServiceDefaults;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let defaults = ServiceDefaults {
        app_id: "admin-consumer",
        port: 8001,
        ..admin_svc::DEFAULTS
    };
    shop_runtime::consumer::main(
        defaults,
        &admin_svc::MIGRATOR,
        |amqp| amqp.admin_queue.clone(),
        admin_svc::consumer::LikeHandler,
    )
    .await
}
