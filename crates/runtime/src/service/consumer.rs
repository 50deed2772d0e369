//! A consumer process: wait for the schema, consume, serve its probes (`/alive`, `/ready`,
//! `/health`) and `/metrics`, purge old processed-message records, and stop cleanly.

use std::time::Duration;

use sqlx::MySqlPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::amqp::BrokerStatus;
use crate::consumer::{Consumer, Handler, processed};
use crate::http::health::Probes;
use crate::lists::{self, ChangeFeed};
use crate::settings::{ConsumerProcessSettings, ServiceDefaults};

/// Purges old processed-message records every `interval` (hourly by default) until
/// `cancel`.
async fn purge_processed(
    pool: MySqlPool,
    retention: Duration,
    interval: Duration,
    cancel: CancellationToken,
) {
    loop {
        let purged = processed::purge(&pool, retention).await;
        crate::metrics::purged("processed_messages", &purged);
        match purged {
            Ok(rows) if rows > 0 => {
                tracing::info!(rows, "purged old processed-message records");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "processed-message purge failed"),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// Runs a consumer process until `shutdown`: waits for the schema, consumes the service's
/// consume queue with `handler`, and serves `/health` and `/metrics` on `listener`. On
/// shutdown it stops taking deliveries, finishes the one in hand, and returns.
pub async fn run_consumer<H: Handler>(
    settings: ConsumerProcessSettings,
    listener: TcpListener,
    shutdown: CancellationToken,
    migrator: &'static Migrator,
    handler: H,
) -> anyhow::Result<()> {
    let ConsumerProcessSettings {
        process: settings,
        consumer: consumer_settings,
    } = settings;
    let queue = settings.amqp.consume_queue.clone();
    crate::metrics::handle();
    let mut db = settings.database.clone();
    // Creating databases is the API's job; a consumer may lack the right.
    db.create_if_missing = false;
    let pool = crate::db::connect(&db, Duration::from_secs(120)).await?;
    crate::migrations::wait_for_schema(&pool, migrator, &shutdown).await?;

    let broker = BrokerStatus::new("consumer");
    // The same probes as the APIs': the consumer's broker connection is what readiness
    // waits for.
    let probes = Probes {
        pool: pool.clone(),
        broker: broker.clone(),
        warnings: std::sync::Arc::new([]),
        ready_needs_broker: true,
    };
    let probes = super::operations_routes("/health").with_state(probes);
    let probes = crate::http::with_middleware(probes, &Default::default());
    tracing::info!(addr = %listener.local_addr()?, %queue, "consumer probes listening");
    let probe_stop = CancellationToken::new();
    let stop = probe_stop.clone();
    let server = tokio::spawn(crate::http::server::serve(
        listener,
        probes,
        async move { stop.cancelled().await },
        Duration::from_secs(2),
        settings.server,
    ));
    // Notices only go out: a consumer serves no list.
    let feed = H::CHANGES.map(|_| ChangeFeed::new(lists::feed::exchange(&queue)));
    let feed_task = feed.clone().map(|feed| {
        tokio::spawn(feed.run(
            settings.amqp.clone(),
            settings.app_id.to_owned(),
            false,
            shutdown.clone(),
        ))
    });
    let purge = tokio::spawn(purge_processed(
        pool.clone(),
        consumer_settings.processed_retention,
        consumer_settings.purge_interval,
        shutdown.clone(),
    ));

    Consumer {
        pool: pool.clone(),
        amqp: settings.amqp,
        settings: consumer_settings,
        queue,
        app_id: settings.app_id,
        handler,
        broker,
        feed,
    }
    .run(shutdown.clone())
    .await;
    if let Some(task) = feed_task {
        let _ = task.await;
    }

    probe_stop.cancel();
    let _ = server.await;
    let _ = purge.await;
    crate::db::close(&pool, Duration::from_secs(2)).await;
    Ok(())
}

/// The whole `main` of a consumer binary, once its command line is parsed: settings from
/// the environment (with `defaults`), logs, a listener for the probes, and
/// [`run_consumer`], until SIGTERM or Ctrl-C.
pub async fn main<H: Handler>(
    defaults: ServiceDefaults,
    migrator: &'static Migrator,
    handler: H,
) -> anyhow::Result<()> {
    let settings = super::start::consumer(defaults).await?;
    let listener = crate::http::bind(settings.process.http_addr).await?;
    let shutdown = crate::shutdown::on_signal();
    let result = run_consumer(settings, listener, shutdown, migrator, handler).await;
    crate::telemetry::shutdown(Duration::from_secs(2)).await;
    result
}

/// How many tokio worker threads a consumer runs unless `TOKIO_WORKER_THREADS` says
/// otherwise: it applies one message at a time, and each thread costs its stack and its
/// allocator state (docs/performance.md, "Memory").
pub const WORKER_THREADS: usize = 1;

/// The runtime of a consumer binary: multi-threaded (blocking work still goes to tokio's
/// blocking pool) with [`WORKER_THREADS`] workers, or `TOKIO_WORKER_THREADS` of them.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let workers = std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(WORKER_THREADS);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
}
