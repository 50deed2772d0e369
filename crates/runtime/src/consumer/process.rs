//! The consumer process: wait for the schema, consume, serve `/health` and `/metrics`,
//! purge old processed-message records, and stop cleanly.

use std::time::Duration;

use sqlx::MySqlPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{Consumer, Handler, processed};
use crate::Settings;
use crate::changes::{self, ChangeFeed};
use crate::health::BrokerStatus;
use crate::outbox::OutboxHandle;
use crate::service::Core;

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

/// Runs a consumer process until `shutdown`: waits for the schema, consumes the service's
/// consume queue with `handler`, and serves `/health` and `/metrics` on `listener`. On
/// shutdown it stops taking deliveries, finishes the one in hand, and returns.
pub async fn run_consumer<H: Handler>(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
    migrator: &'static Migrator,
    handler: H,
) -> anyhow::Result<()> {
    let queue = settings.amqp.consume_queue.clone();
    crate::metrics::handle();
    let mut db = settings.database.clone();
    // Creating databases is the API's job; a consumer may lack the right.
    db.create_if_missing = false;
    let pool = crate::db::connect(&db, Duration::from_secs(120)).await?;
    crate::migrations::wait_for_schema(&pool, migrator, &shutdown).await?;

    let broker = BrokerStatus::new("consumer");
    // The same probes as the APIs', over a core without an outbox.
    let core = Core {
        pool: pool.clone(),
        outbox: OutboxHandle::new(),
        broker: broker.clone(),
        allowed_origins: Default::default(),
        warnings: std::sync::Arc::new([]),
        trusted_proxies: Default::default(),
        feed: ChangeFeed::detached(),
        admission: crate::admission::Admission::new(1000, 0),
        lists: settings.http.lists,
    };
    let probes = crate::service::operations_routes("/health").with_state(core);
    let probes = crate::http::with_middleware(probes, &Default::default());
    tracing::info!(addr = %listener.local_addr()?, %queue, "consumer probes listening");
    let probe_stop = CancellationToken::new();
    let stop = probe_stop.clone();
    let server = tokio::spawn(crate::server::serve(
        listener,
        probes,
        async move { stop.cancelled().await },
        Duration::from_secs(2),
        settings.http.limits,
    ));
    // Notices only go out: a consumer serves no list.
    let feed = H::CHANGES.map(|_| ChangeFeed::new(changes::exchange(&queue)));
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

/// The whole `main` of a consumer binary: settings from the environment (with `defaults`),
/// logs, a listener for the probes, and [`run_consumer`], until SIGTERM or Ctrl-C.
pub async fn main<H: Handler>(
    defaults: crate::settings::ServiceDefaults,
    migrator: &'static Migrator,
    handler: H,
) -> anyhow::Result<()> {
    let settings = crate::service::start(defaults).await?;
    let listener = crate::http::bind(settings.http_addr).await?;
    let shutdown = crate::shutdown::on_signal();
    let result = run_consumer(settings, listener, shutdown, migrator, handler).await;
    crate::telemetry::shutdown(Duration::from_secs(2)).await;
    result
}
