//! The transactional outbox and its relay.
//!
//! A handler writes its change and the event row in one transaction ([`enqueue`]), commits,
//! then wakes the relay ([`OutboxHandle::committed`]). The relay publishes pending rows in id
//! order over one long-lived connection with publisher confirms and `mandatory`, and marks a
//! row published only after the broker acked it and did not return it as unroutable. When the
//! broker is away the rows wait; the relay reconnects with capped backoff and drains them.
//!
//! Delivery is at least once: a crash between the broker's ack and the `UPDATE` republishes
//! the row, with the same `message_id`, and consumers de-duplicate on that id.
//!
//! The table (each service's migrations create it):
//! `outbox(id, message_id, content_type, body, traceparent, tracestate, created_at, published_at)`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use events::{OutgoingMessage, TraceContext};
use lapin::options::BasicPublishOptions;
use lapin::{Channel, Confirmation, Connection};
use sqlx::{MySqlConnection, MySqlPool, QueryBuilder};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::amqp::{self, AmqpError};
use crate::backoff::Backoff;
use crate::health::BrokerStatus;
use crate::settings::{AmqpSettings, OutboxSettings};

/// Writes `message` to the outbox on the caller's transaction.
#[tracing::instrument(skip_all, fields(message_id = %message.message_id, content_type = %message.content_type))]
pub async fn enqueue(
    tx: &mut MySqlConnection,
    message: &OutgoingMessage,
) -> Result<(), sqlx::Error> {
    let (traceparent, tracestate) = match &message.trace {
        Some(t) => (Some(t.traceparent()), t.tracestate()),
        None => (None, None),
    };
    sqlx::query(
        r#"INSERT INTO outbox (message_id, content_type, body, traceparent, tracestate)
           VALUES (?, ?, ?, ?, ?)"#,
    )
    .bind(&message.message_id)
    .bind(&message.content_type)
    .bind(&message.body)
    .bind(traceparent)
    .bind(tracestate)
    .execute(tx)
    .await?;
    Ok(())
}

/// Wakes the relay after a commit, so an event leaves within milliseconds instead of at the
/// next poll. Cheap to clone; one per process.
#[derive(Debug, Clone, Default)]
pub struct OutboxHandle(Arc<Notify>);

impl OutboxHandle {
    pub fn new() -> Self {
        Self::default()
    }

    /// Call after committing a transaction that enqueued events. A wake-up that comes while
    /// the relay is busy is kept, so none is lost.
    pub fn committed(&self) {
        self.0.notify_one();
    }
}

#[derive(Debug, sqlx::FromRow)]
struct PendingRow {
    id: u64,
    message_id: String,
    content_type: String,
    body: Vec<u8>,
    traceparent: Option<String>,
    tracestate: Option<String>,
    created_us: u64,
}

impl PendingRow {
    fn message(&self) -> OutgoingMessage {
        OutgoingMessage {
            message_id: self.message_id.clone(),
            content_type: self.content_type.clone(),
            body: self.body.clone(),
            trace: self
                .traceparent
                .as_deref()
                .and_then(|tp| TraceContext::new(tp, self.tracestate.as_deref()).ok()),
        }
    }
}

#[tracing::instrument(skip_all)]
async fn fetch_pending(pool: &MySqlPool, limit: u32) -> Result<Vec<PendingRow>, sqlx::Error> {
    sqlx::query_as(
        r#"SELECT id, message_id, content_type, body, traceparent, tracestate,
                  CAST(UNIX_TIMESTAMP(created_at) * 1000000 AS UNSIGNED) AS created_us
           FROM outbox
           WHERE published_at IS NULL
           ORDER BY id
           LIMIT ?"#,
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[tracing::instrument(skip_all, fields(rows = ids.len()))]
async fn mark_published(pool: &MySqlPool, ids: &[u64]) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::new("UPDATE outbox SET published_at = NOW(6) WHERE id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    q.build().execute(pool).await?;
    Ok(())
}

/// Rows not yet published.
pub async fn pending_count(pool: &MySqlPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(pool)
        .await
}

async fn purge_published(pool: &MySqlPool, older_than: Duration) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        r#"DELETE FROM outbox
           WHERE published_at IS NOT NULL AND published_at < NOW(6) - INTERVAL ? SECOND
           LIMIT 10000"#,
    )
    .bind(older_than.as_secs())
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Why a batch stopped part way.
#[derive(Debug, thiserror::Error)]
enum PublishError {
    #[error("broker: {0}")]
    Broker(#[from] AmqpError),
    #[error("broker refused the message (nack)")]
    Nacked,
    #[error("message unroutable: no queue {0:?} (reply {1})")]
    Unroutable(String, String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("connection to the broker closed")]
    ConnectionLost,
}

/// Publishes a service's outbox to one queue.
pub struct Relay {
    pub pool: MySqlPool,
    pub amqp: AmqpSettings,
    pub settings: OutboxSettings,
    /// Queue the events go to (the default exchange routes by queue name).
    pub queue: String,
    pub app_id: &'static str,
    pub handle: OutboxHandle,
    pub broker: BrokerStatus,
}

impl Relay {
    /// Runs until `cancel`; never returns early on broker or database errors.
    pub async fn run(self, cancel: CancellationToken) {
        let mut backoff = Backoff::new(Duration::from_millis(100), self.amqp.reconnect_max);
        while !cancel.is_cancelled() {
            match self.connect().await {
                Ok((conn, channel)) => {
                    tracing::info!(queue = %self.queue, "outbox relay connected to broker");
                    self.broker.set(true);
                    backoff.reset();
                    let reason = self.publish_until_error(&conn, &channel, &cancel).await;
                    self.broker.set(false);
                    let _ = tokio::time::timeout(
                        Duration::from_secs(1),
                        conn.close(200, "outbox relay stopping".into()),
                    )
                    .await;
                    match reason {
                        None => break,
                        Some(e) => tracing::warn!(error = %e, "outbox relay lost the broker"),
                    }
                }
                Err(e) => {
                    self.broker.set(false);
                    metrics::counter!("amqp_connect_failures_total", "component" => "outbox_relay")
                        .increment(1);
                    tracing::warn!(error = %e, "outbox relay cannot reach the broker");
                }
            }
            let delay = backoff.next_delay();
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(delay) => {}
            }
        }
        tracing::info!("outbox relay stopped");
    }

    async fn connect(&self) -> Result<(Connection, Channel), AmqpError> {
        let conn = amqp::connect(&self.amqp, &format!("{} outbox relay", self.app_id)).await?;
        let channel = amqp::confirm_channel(&conn, self.amqp.publish_timeout).await?;
        amqp::declare_queue(&channel, &self.queue, self.amqp.publish_timeout).await?;
        Ok((conn, channel))
    }

    /// Publishes batches until cancelled (`None`) or the connection fails (`Some`).
    async fn publish_until_error(
        &self,
        conn: &Connection,
        channel: &Channel,
        cancel: &CancellationToken,
    ) -> Option<PublishError> {
        let mut db_backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let mut last_purge = Instant::now();
        let mut last_backlog: Option<Instant> = None;
        loop {
            if cancel.is_cancelled() {
                return None;
            }
            match self.publish_batch(channel).await {
                // A full batch: more may be waiting.
                Ok(n) if n == self.settings.batch_size as usize => continue,
                Ok(_) => db_backoff.reset(),
                Err(PublishError::Database(e)) => {
                    tracing::warn!(error = %e, "outbox relay cannot read the outbox");
                    tokio::select! {
                        () = cancel.cancelled() => return None,
                        () = tokio::time::sleep(db_backoff.next_delay()) => {}
                    }
                    continue;
                }
                Err(e) => return Some(e),
            }
            // The gauge is scraped every few seconds; under load the relay wakes on every
            // commit, so it is refreshed at most once a second.
            if last_backlog.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                last_backlog = Some(Instant::now());
                self.record_backlog().await;
            }
            if last_purge.elapsed() > Duration::from_secs(3600) {
                last_purge = Instant::now();
                match purge_published(&self.pool, self.settings.retention).await {
                    Ok(n) if n > 0 => tracing::info!(rows = n, "purged published outbox rows"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "outbox purge failed"),
                }
            }
            tokio::select! {
                () = cancel.cancelled() => return None,
                () = self.handle.0.notified() => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
            if !conn.status().connected() {
                return Some(PublishError::ConnectionLost);
            }
        }
    }

    async fn record_backlog(&self) {
        if let Ok(n) = pending_count(&self.pool).await {
            metrics::gauge!("outbox_pending_messages").set(n as f64);
        }
    }

    /// Publishes one batch; returns how many rows it held. Rows are marked published up to
    /// the first one the broker did not confirm.
    async fn publish_batch(&self, channel: &Channel) -> Result<usize, PublishError> {
        let rows = fetch_pending(&self.pool, self.settings.batch_size).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let limit = self.amqp.publish_timeout;
        let options = BasicPublishOptions {
            mandatory: true,
            ..BasicPublishOptions::default()
        };

        // Pipelined: publish the whole batch, then collect confirms in order.
        let mut confirms = Vec::with_capacity(rows.len());
        let mut failure = None;
        for row in &rows {
            let message = row.message();
            let properties = message.properties(self.app_id, now.as_secs());
            let publish = channel.basic_publish(
                "".into(),
                self.queue.as_str().into(),
                options,
                &message.body,
                properties,
            );
            match amqp::within(limit, publish).await {
                Ok(confirm) => confirms.push((row, confirm)),
                Err(e) => {
                    failure = Some(PublishError::Broker(e));
                    break;
                }
            }
        }

        let mut acked = Vec::with_capacity(confirms.len());
        for (row, confirm) in confirms {
            if failure.is_some() {
                break;
            }
            match amqp::within(limit, confirm).await {
                Ok(Confirmation::Ack(None)) => {
                    acked.push(row.id);
                    let lag = now.as_micros().saturating_sub(u128::from(row.created_us));
                    metrics::histogram!("outbox_delivery_lag_seconds").record(lag as f64 / 1e6);
                    metrics::counter!("events_published_total", "event" => row.content_type.clone())
                        .increment(1);
                }
                Ok(Confirmation::Ack(Some(returned))) | Ok(Confirmation::Nack(Some(returned))) => {
                    metrics::counter!("events_publish_failures_total", "reason" => "unroutable")
                        .increment(1);
                    failure = Some(PublishError::Unroutable(
                        self.queue.clone(),
                        returned.reply_text.to_string(),
                    ));
                }
                Ok(Confirmation::Nack(None)) | Ok(Confirmation::NotRequested) => {
                    metrics::counter!("events_publish_failures_total", "reason" => "nack")
                        .increment(1);
                    failure = Some(PublishError::Nacked);
                }
                Err(e) => {
                    metrics::counter!("events_publish_failures_total", "reason" => "broker")
                        .increment(1);
                    failure = Some(PublishError::Broker(e));
                }
            }
        }

        // Even after a failure, what the broker did confirm is recorded, so it is not sent
        // again needlessly.
        let mut db_backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
        let mut tries = 0;
        while let Err(e) = mark_published(&self.pool, &acked).await {
            tries += 1;
            if tries >= 5 {
                // The rows stay pending and go out again later: consumers de-duplicate.
                return Err(PublishError::Database(e));
            }
            tokio::time::sleep(db_backoff.next_delay()).await;
        }
        if let Some(first) = acked.first() {
            tracing::debug!(first, count = acked.len(), "outbox rows published");
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(rows.len()),
        }
    }
}
