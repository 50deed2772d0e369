//! main-svc's HTTP API. `main-api migrate` applies the migrations and exits.

use shop_runtime::{Env, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shop_runtime::telemetry::init("main-svc");
    let env = Env::from_process();
    let settings = Settings::from_env(&env, main_svc::DEFAULTS)?;
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => {
            let listener = shop_runtime::http::bind(settings.http_addr).await?;
            main_svc::run(
                settings,
                &env,
                listener,
                shop_runtime::shutdown::on_signal(),
            )
            .await
        }
        Some("migrate") => shop_runtime::service::migrate(&settings, &main_svc::MIGRATOR).await,
        Some(other) => {
            anyhow::bail!("unknown command {other:?}: expected serve (the default) or migrate")
        }
    }
}
