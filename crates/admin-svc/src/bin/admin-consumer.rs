//! admin-svc's consumer of queue `admin` (likes from the shop). Serves `/health` and
//! `/metrics` on `PORT` (default 8001).

use admin_svc::MIGRATOR;
use admin_svc::consumer::LikeHandler;
use shop_runtime::{consumer, settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    consumer::main(settings::ADMIN_CONSUMER, &MIGRATOR, LikeHandler).await
}
