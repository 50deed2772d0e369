//! admin-svc's consumer of queue `admin` (likes from the shop). Serves its probes (`/alive`,
//! `/ready`, `/health`) and `/metrics` on `PORT` (default 8001), and deletes audit records
//! older than `AUDIT_RETENTION_DAYS` hourly (admin_svc::audit::retention).

use std::time::Duration;

use admin_svc::MIGRATOR;
use admin_svc::audit::AuditLog;
use admin_svc::audit::retention::{purge_hourly, retention_from_env};
use admin_svc::consumer::LikeHandler;
use admin_svc::settings::audit_database_from_env;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shop_runtime::service::{consumer, start};
use shop_runtime::{Env, settings};

#[derive(Parser)]
#[command(
    version,
    about = "Applies the shop's likes (queue `admin`) to the catalogue's counts, and deletes \
             old audit records. Configured through environment variables (see \
             docs/operating/configuration.md)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Look at, replay or discard the messages in the dead-letter queue (`admin.dead-letter`).
    DeadLetters(shop_runtime::dead_letters::cli::Args),
}

/// The first purge comes this long after start (the API creates the audit log's table).
const FIRST_PURGE: Duration = Duration::from_secs(30);

fn main() -> anyhow::Result<ExitCode> {
    // One worker thread unless TOKIO_WORKER_THREADS says otherwise: a consumer applies one
    // message at a time.
    shop_runtime::service::consumer::runtime()?.block_on(run())
}

async fn run() -> anyhow::Result<ExitCode> {
    if let Some(Command::DeadLetters(args)) = Cli::parse().command {
        return Ok(
            shop_runtime::service::tools::dead_letters(settings::ADMIN_CONSUMER, args).await,
        );
    }
    let settings = start::consumer(settings::ADMIN_CONSUMER).await?;
    let env = Env::from_process();
    let service_database = settings.process.database.database_name().to_owned();
    let audit = audit_database_from_env(&env, &service_database)?;
    let retention = retention_from_env(&env)?;
    let interval = settings::purge_interval(&env)?;
    let listener = shop_runtime::http::bind(settings.process.http_addr).await?;
    let shutdown = shop_runtime::shutdown::on_signal();
    if retention.is_none() {
        tracing::info!("AUDIT_RETENTION_DAYS=0: audit records are kept forever");
    }
    // Beside the consumer, on this task: the purge stops when the consumer does.
    let database = settings.process.database.clone();
    let purge = async {
        if let Some(older_than) = retention {
            let log = AuditLog::in_database(&audit);
            let when = (FIRST_PURGE, interval);
            purge_hourly(database, log, older_than, when, shutdown.cancelled()).await;
        }
    };
    let consume = async {
        let result =
            consumer::run_consumer(settings, listener, shutdown.clone(), &MIGRATOR, LikeHandler)
                .await;
        shutdown.cancel();
        result
    };
    let (result, ()) = tokio::join!(consume, purge);
    shop_runtime::telemetry::shutdown(Duration::from_secs(2)).await;
    result.map(|()| ExitCode::SUCCESS)
}
