//! main-svc's HTTP API. `main-api migrate` applies the migrations and exits.

use anyhow::Context;
use shop_runtime::{Env, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shop_runtime::telemetry::init("main-svc");
    let env = Env::from_process();
    let settings = Settings::from_env(&env, main_svc::DEFAULTS)?;
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => {
            let listener = tokio::net::TcpListener::bind(settings.http_addr)
                .await
                .with_context(|| {
                    format!(
                        "cannot listen on {} (BIND_ADDRESS, PORT)",
                        settings.http_addr
                    )
                })?;
            main_svc::run(
                settings,
                &env,
                listener,
                shop_runtime::shutdown::on_signal(),
            )
            .await
        }
        Some("migrate") => {
            let pool =
                shop_runtime::db::connect(&settings.database, std::time::Duration::from_secs(60))
                    .await?;
            main_svc::MIGRATOR.run(&pool).await?;
            tracing::info!(
                database = settings.database.database_name(),
                "migrations applied"
            );
            Ok(())
        }
        Some(other) => {
            anyhow::bail!("unknown command {other:?}: expected serve (the default) or migrate")
        }
    }
}
