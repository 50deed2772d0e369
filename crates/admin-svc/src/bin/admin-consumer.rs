//! admin-svc's consumer of queue `admin` (likes from the shop). Serves `/health` and
//! `/metrics` on `PORT` (default 8001).

use shop_runtime::settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shop_runtime::consumer::main(
        settings::ADMIN_CONSUMER,
        &admin_svc::MIGRATOR,
        |amqp| amqp.consume_queue.clone(),
        admin_svc::consumer::LikeHandler,
    )
    .await
}
