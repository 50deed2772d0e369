//! The consumer loop both services run: one long-lived connection, bounded prefetch, one
//! message at a time, ack only after the database commit.
//!
//! Each message is applied in one transaction together with a row in `processed_messages`
//! keyed by its `message_id` (`INSERT IGNORE`), so a redelivered message is acknowledged and
//! skipped. Messages without an id (the original Python producers) are applied as they come.
//!
//! What cannot be processed is rejected without requeue, which the queue's arguments route to
//! `<queue>.dead-letter`: undecodable bodies, unknown event types, events that do not belong
//! on this queue, and messages whose handler fails with a non-transient database error
//! [`MAX_ATTEMPTS`] times. While the database is unreachable, the message in hand is retried
//! in place with backoff: not acked, not rejected, so it neither vanishes nor burns through
//! the queue's delivery limit.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use events::{Envelope, Event};
use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use sqlx::migrate::Migrator;
use sqlx::{MySqlConnection, MySqlPool};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::Settings;
use crate::amqp::{self, AmqpError};
use crate::backoff::Backoff;
use crate::health::BrokerStatus;

/// Attempts of a message whose handler fails with a non-transient error before it is
/// dead-lettered.
pub const MAX_ATTEMPTS: u32 = 3;

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The event changed the database.
    Applied,
    /// The event was valid but had nothing to change (stale version, deleted product…).
    Ignored(&'static str),
    /// The message id was processed before; nothing was done.
    Duplicate,
    /// The event cannot be processed here (e.g. an event type that belongs on another queue).
    DeadLetter(&'static str),
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Ignored(_) => "ignored",
            Outcome::Duplicate => "duplicate",
            Outcome::DeadLetter(_) => "dead_lettered",
        }
    }
}

/// What a service does with one event, on the transaction that also records the message
/// as processed.
pub trait Handler: Send + Sync + 'static {
    fn apply(
        &self,
        tx: &mut MySqlConnection,
        event: &Event,
    ) -> impl Future<Output = Result<Outcome, sqlx::Error>> + Send;
}

/// Applies `envelope` once in effect: de-duplicates on its message id, runs the handler and
/// commits. A duplicate or dead-lettered event changes nothing.
#[tracing::instrument(skip_all, fields(message_id = envelope.message_id.as_deref(), event = %envelope.event.kind()))]
pub async fn apply_once<H: Handler>(
    pool: &MySqlPool,
    handler: &H,
    envelope: &Envelope,
) -> Result<Outcome, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if let Some(id) = &envelope.message_id {
        let fresh = sqlx::query(r#"INSERT IGNORE INTO processed_messages (message_id) VALUES (?)"#)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !fresh {
            tx.rollback().await?;
            return Ok(Outcome::Duplicate);
        }
    }
    let outcome = handler.apply(&mut tx, &envelope.event).await?;
    if let Outcome::DeadLetter(_) = outcome {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(outcome)
}

/// Consumes one queue until cancelled.
pub struct Consumer<H> {
    pub pool: MySqlPool,
    pub settings: Settings,
    pub queue: String,
    pub handler: H,
    pub broker: BrokerStatus,
}

#[derive(Debug, thiserror::Error)]
enum ConsumeError {
    #[error(transparent)]
    Broker(#[from] AmqpError),
    #[error("broker: {0}")]
    Lapin(#[from] lapin::Error),
    #[error("the broker cancelled the consumer")]
    Ended,
}

impl<H: Handler> Consumer<H> {
    /// Runs until `cancel`, reconnecting with capped backoff whenever the broker goes away.
    pub async fn run(self, cancel: CancellationToken) {
        let mut backoff =
            Backoff::new(Duration::from_millis(100), self.settings.amqp.reconnect_max);
        while !cancel.is_cancelled() {
            match self.connect().await {
                Ok((conn, channel, consumer)) => {
                    tracing::info!(queue = %self.queue, "consumer connected");
                    self.broker.set(true);
                    backoff.reset();
                    // The channel lives as long as this arm: dropping it would stop deliveries.
                    let _channel = channel;
                    let result = self.consume(consumer, &cancel).await;
                    self.broker.set(false);
                    let _ = tokio::time::timeout(
                        Duration::from_secs(2),
                        conn.close(200, "consumer stopping".into()),
                    )
                    .await;
                    match result {
                        Ok(()) => break,
                        Err(e) => tracing::warn!(error = %e, "consumer lost the broker"),
                    }
                }
                Err(e) => {
                    self.broker.set(false);
                    metrics::counter!("amqp_connect_failures_total", "component" => "consumer")
                        .increment(1);
                    tracing::warn!(error = %e, "consumer cannot reach the broker");
                }
            }
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(backoff.next_delay()) => {}
            }
        }
        tracing::info!(queue = %self.queue, "consumer stopped");
    }

    async fn connect(&self) -> Result<(Connection, Channel, lapin::Consumer), ConsumeError> {
        let amqp = &self.settings.amqp;
        let limit = amqp.publish_timeout;
        let conn = amqp::connect(amqp, &format!("{} consumer", self.settings.app_id)).await?;
        let channel = amqp::within(limit, conn.create_channel()).await?;
        amqp::within(
            limit,
            channel.basic_qos(self.settings.consumer.prefetch, BasicQosOptions::default()),
        )
        .await?;
        amqp::declare_queue(&channel, &self.queue, limit).await?;
        let consumer = amqp::within(
            limit,
            channel.basic_consume(
                self.queue.as_str().into(),
                format!("{}-{}", self.settings.app_id, uuid::Uuid::new_v4().simple()).into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            ),
        )
        .await?;
        Ok((conn, channel, consumer))
    }

    /// Takes deliveries one at a time until cancelled (`Ok`) or the channel fails.
    async fn consume(
        &self,
        mut deliveries: lapin::Consumer,
        cancel: &CancellationToken,
    ) -> Result<(), ConsumeError> {
        loop {
            let next = tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                next = deliveries.next() => next,
            };
            match next {
                None => return Err(ConsumeError::Ended),
                Some(Err(e)) => return Err(e.into()),
                // The delivery in hand is finished even when a stop is requested meanwhile;
                // unacked prefetched ones return to the queue when the channel closes.
                Some(Ok(delivery)) => self.process(delivery, cancel).await?,
            }
        }
    }

    async fn process(
        &self,
        delivery: Delivery,
        cancel: &CancellationToken,
    ) -> Result<(), ConsumeError> {
        let start = Instant::now();
        let limit = self.settings.amqp.publish_timeout;
        let envelope = match Envelope::from_amqp(&delivery.properties, &delivery.data) {
            Ok(e) => e,
            Err(e) => {
                // A bounded metric label: a known event type, `other`, or `none`.
                let event = delivery
                    .properties
                    .content_type()
                    .as_ref()
                    .map_or("none", |c| {
                        c.as_str()
                            .parse::<events::EventKind>()
                            .map_or("other", |k| k.as_str())
                    });
                tracing::error!(error = %e, event, queue = %self.queue, redelivered = delivery.redelivered,
                    "undecodable message sent to the dead-letter queue");
                self.dead_letter(&delivery, event, "undecodable").await?;
                return Ok(());
            }
        };
        let event = envelope.event.kind().as_str();
        let trace_id = envelope.trace.as_ref().map(|t| t.trace_id().to_owned());
        let mut attempts = 0;
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        loop {
            match apply_once(&self.pool, &self.handler, &envelope).await {
                Ok(Outcome::DeadLetter(reason)) => {
                    tracing::error!(
                        event,
                        reason,
                        message_id = envelope.message_id.as_deref(),
                        "message sent to the dead-letter queue"
                    );
                    self.dead_letter(&delivery, event, reason).await?;
                    return Ok(());
                }
                Ok(outcome) => {
                    amqp::within(limit, delivery.ack(BasicAckOptions::default())).await?;
                    metrics::counter!("events_consumed_total", "event" => event, "outcome" => outcome.label())
                        .increment(1);
                    metrics::histogram!("event_processing_seconds", "event" => event)
                        .record(start.elapsed().as_secs_f64());
                    tracing::debug!(
                        event,
                        ?outcome,
                        message_id = envelope.message_id.as_deref(),
                        trace_id = trace_id.as_deref(),
                        "event processed"
                    );
                    return Ok(());
                }
                Err(e) if crate::db::is_transient(&e) => {
                    metrics::counter!("events_retried_total", "event" => event, "reason" => "database_unavailable")
                        .increment(1);
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %e, event, retry_in_ms = delay.as_millis() as u64,
                        "database unavailable; holding the message and retrying");
                    tokio::select! {
                        // Unacked, the message goes back to the queue when the channel closes.
                        () = cancel.cancelled() => return Ok(()),
                        () = tokio::time::sleep(delay) => {}
                    }
                }
                Err(e) => {
                    attempts += 1;
                    metrics::counter!("events_retried_total", "event" => event, "reason" => "handler_error")
                        .increment(1);
                    if attempts >= MAX_ATTEMPTS {
                        tracing::error!(error = %e, event, attempts, message_id = envelope.message_id.as_deref(),
                            "message failed every attempt; sent to the dead-letter queue");
                        self.dead_letter(&delivery, event, "handler_error").await?;
                        return Ok(());
                    }
                    tracing::warn!(error = %e, event, attempts, "handler failed; retrying");
                    tokio::select! {
                        () = cancel.cancelled() => return Ok(()),
                        () = tokio::time::sleep(backoff.next_delay()) => {}
                    }
                }
            }
        }
    }

    async fn dead_letter(
        &self,
        delivery: &Delivery,
        event: &'static str,
        reason: &'static str,
    ) -> Result<(), ConsumeError> {
        amqp::within(
            self.settings.amqp.publish_timeout,
            delivery.reject(BasicRejectOptions { requeue: false }),
        )
        .await?;
        metrics::counter!("events_consumed_total", "event" => event, "outcome" => "dead_lettered")
            .increment(1);
        metrics::counter!("events_dead_lettered_total", "event" => event, "reason" => reason)
            .increment(1);
        Ok(())
    }
}

/// Waits until the HTTP binary has applied `migrator`'s migrations: consumers never run DDL.
pub async fn wait_for_schema(
    pool: &MySqlPool,
    migrator: &Migrator,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    let mut logged = false;
    loop {
        let applied: Result<Option<i64>, sqlx::Error> =
            sqlx::query_scalar(r#"SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1"#)
                .fetch_one(pool)
                .await;
        if matches!(applied, Ok(Some(v)) if v >= latest) {
            return Ok(());
        }
        if !logged {
            tracing::info!(latest, "waiting for the API to apply database migrations");
            logged = true;
        }
        tokio::select! {
            () = cancel.cancelled() => anyhow::bail!("stopped while waiting for migrations"),
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

async fn purge_processed(pool: MySqlPool, retention: Duration, cancel: CancellationToken) {
    loop {
        let done = sqlx::query(
            r#"DELETE FROM processed_messages WHERE processed_at < NOW(6) - INTERVAL ? SECOND LIMIT 10000"#,
        )
        .bind(retention.as_secs())
        .execute(&pool)
        .await;
        match done {
            Ok(d) if d.rows_affected() > 0 => {
                tracing::info!(
                    rows = d.rows_affected(),
                    "purged old processed-message records"
                );
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
    wait_for_schema(&pool, migrator, &shutdown).await?;

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
        settings,
        queue,
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
