//! The consumer process: wait for the schema, consume, serve `/health` and `/metrics`,
//! purge old processed-message records, and stop cleanly.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use sqlx::MySqlPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{Consumer, Handler, processed};
use crate::Settings;
use crate::health::BrokerStatus;

/// Purges old processed-message records once an hour until `cancel`.
async fn purge_processed(pool: MySqlPool, retention: Duration, cancel: CancellationToken) {
    loop {
        match processed::purge(&pool, retention).await {
            Ok(rows) if rows > 0 => {
                tracing::info!(rows, "purged old processed-message records");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "processed-message purge failed"),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}

#[derive(Clone)]
struct ProbeState {
    pool: MySqlPool,
    broker: BrokerStatus,
}

async fn health(State(s): State<ProbeState>) -> Response {
    crate::health::check(&s.pool, &s.broker).await
}

async fn metrics_endpoint(State(s): State<ProbeState>) -> Response {
    crate::metrics::render(&s.pool)
}

/// Runs a consumer process until `shutdown`: waits for the schema, consumes `queue` with
/// `handler`, and serves `/health` and `/metrics` on `listener`. On shutdown it stops taking
/// deliveries, finishes the one in hand, and returns.
pub async fn run_consumer<H: Handler>(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
    migrator: &'static Migrator,
    queue: String,
    handler: H,
) -> anyhow::Result<()> {
    crate::metrics::handle();
    let mut db = settings.database.clone();
    // Creating databases is the API's job; a consumer may lack the right.
    db.create_if_missing = false;
    let pool = crate::db::connect(&db, Duration::from_secs(120)).await?;
    crate::migrations::wait_for_schema(&pool, migrator, &shutdown).await?;

    let broker = BrokerStatus::default();
    let probes = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics_endpoint))
        .with_state(ProbeState {
            pool: pool.clone(),
            broker: broker.clone(),
        });
    let probes = crate::http::with_middleware(probes);
    tracing::info!(addr = %listener.local_addr()?, %queue, "consumer probes listening");
    let probe_stop = CancellationToken::new();
    let stop = probe_stop.clone();
    let server = tokio::spawn(crate::http::serve(
        listener,
        probes,
        async move { stop.cancelled().await },
        Duration::from_secs(2),
    ));
    let purge = tokio::spawn(purge_processed(
        pool.clone(),
        settings.consumer.processed_retention,
        shutdown.clone(),
    ));

    Consumer {
        pool: pool.clone(),
        amqp: settings.amqp,
        settings: settings.consumer,
        queue,
        app_id: settings.app_id,
        handler,
        broker,
    }
    .run(shutdown.clone())
    .await;

    probe_stop.cancel();
    let _ = server.await;
    let _ = purge.await;
    crate::db::close(&pool, Duration::from_secs(2)).await;
    Ok(())
}

/// The whole `main` of a consumer binary: settings from the environment (defaults with
/// `port`), logs, a listener for the probes, and [`run_consumer`] on the queue `queue` picks,
/// until SIGTERM or Ctrl-C.
pub async fn main<H: Handler>(
    defaults: crate::settings::ServiceDefaults,
    migrator: &'static Migrator,
    queue: impl FnOnce(&crate::settings::AmqpSettings) -> String,
    handler: H,
) -> anyhow::Result<()> {
    let env = crate::Env::from_process();
    crate::telemetry::init(defaults.app_id, &env)?;
    let settings = Settings::from_env(&env, defaults)?;
    let listener = crate::http::bind(settings.http_addr).await?;
    let queue = queue(&settings.amqp);
    run_consumer(
        settings,
        listener,
        crate::shutdown::on_signal(),
        migrator,
        queue,
        handler,
    )
    .await
}
