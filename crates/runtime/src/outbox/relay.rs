//! The relay loop: one long-lived confirm channel; fetch pending rows, publish them, mark
//! what the broker confirmed; reconnect with capped backoff when the broker goes away.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lapin::{Channel, Connection};
use sqlx::MySqlPool;
use tokio_util::sync::CancellationToken;

use super::OutboxHandle;
use super::leader::Leadership;
use super::publish::{self, PublishError, Target};
use super::store;
use crate::amqp::BrokerStatus;
use crate::amqp::{self, AmqpError};
use crate::backoff::Backoff;
use crate::metrics::catalog;
use crate::settings::{AmqpSettings, OutboxSettings};

/// Publishes a service's outbox to one queue.
pub struct Relay {
    /// The service's database, whose `outbox` is published.
    pub pool: MySqlPool,
    /// Where the broker is, and the time limits on talking to it.
    pub amqp: AmqpSettings,
    /// Batch size, poll interval, retention of published rows.
    pub settings: OutboxSettings,
    /// Queue the events go to (the default exchange routes by queue name).
    pub queue: String,
    /// The `app_id` property of published messages; also names the connection.
    pub app_id: &'static str,
    /// Woken by handlers after they commit events.
    pub handle: OutboxHandle,
    /// Set while the broker connection is up (for health).
    pub broker: BrokerStatus,
}

impl Relay {
    /// Runs until `cancel`; never returns early on broker or database errors.
    pub async fn run(self, cancel: CancellationToken) {
        for reason in catalog::PUBLISH_FAILURE_REASONS {
            catalog::EVENTS_PUBLISH_FAILURES.start_at_zero([reason]);
        }
        catalog::AMQP_CONNECT_FAILURES.start_at_zero(["outbox_relay"]);
        let mut leadership = Leadership::new(&self.pool, &self.queue);
        let mut backoff = Backoff::new(Duration::from_millis(100), self.amqp.reconnect_max);
        while !cancel.is_cancelled() {
            match self.connect().await {
                Ok((conn, channel)) => {
                    tracing::info!(queue = %self.queue, "outbox relay connected to broker");
                    self.broker.set(true);
                    backoff.reset();
                    let reason = self
                        .publish_until_error(&conn, &channel, &mut leadership, &cancel)
                        .await;
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
                    // A replica that cannot reach the broker leaves the publishing to one
                    // that can.
                    leadership.release().await;
                }
                Err(e) => {
                    // The backlog grows while the broker is away: keep its gauges current.
                    self.record_backlog().await;
                    self.broker.set(false);
                    catalog::AMQP_CONNECT_FAILURES.increment(["outbox_relay"]);
                    tracing::warn!(error = %e, "outbox relay cannot reach the broker");
                }
            }
            let delay = backoff.next_delay();
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(delay) => {}
            }
        }
        leadership.release().await;
        tracing::info!("outbox relay stopped");
    }

    async fn connect(&self) -> Result<(Connection, Channel), AmqpError> {
        let conn = amqp::connect(&self.amqp, &format!("{} outbox relay", self.app_id)).await?;
        let channel = amqp::confirm_channel(&conn, self.amqp.publish_timeout).await?;
        amqp::declare_queue(&channel, &self.queue, self.amqp.publish_timeout).await?;
        Ok((conn, channel))
    }

    /// Publishes batches while this replica leads, until cancelled (`None`) or the
    /// connection fails (`Some`). A standby keeps its broker connection (it is ready to take
    /// over, and its health says whether the broker is reachable) and asks for the lead at
    /// every wake.
    async fn publish_until_error(
        &self,
        conn: &Connection,
        channel: &Channel,
        leadership: &mut Leadership,
        cancel: &CancellationToken,
    ) -> Option<PublishError> {
        let mut db_backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let mut last_purge = Instant::now();
        let mut last_backlog: Option<Instant> = None;
        loop {
            if cancel.is_cancelled() {
                return None;
            }
            let leads = leadership.check().await;
            match if leads {
                self.publish_batch(channel).await
            } else {
                Ok(0)
            } {
                // A full batch: more may be waiting.
                Ok(n) if n == self.settings.batch_size as usize => continue,
                Ok(_) => db_backoff.reset(),
                Err(PublishError::Database(e)) => {
                    crate::db::note_error(&e);
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
            if leads && last_purge.elapsed() > self.settings.purge_interval {
                last_purge = Instant::now();
                let purged = store::purge_published(&self.pool, self.settings.retention).await;
                crate::metrics::purged("outbox", &purged);
                match purged {
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
        if let Ok((count, oldest)) = store::backlog(&self.pool).await {
            catalog::OUTBOX_PENDING.set(catalog::NO_LABELS, count as f64);
            catalog::OUTBOX_OLDEST_PENDING_AGE.set(catalog::NO_LABELS, oldest.as_secs_f64());
        }
    }

    /// Publishes one batch; returns how many rows it held. Rows are marked published up to
    /// the first one the broker did not confirm.
    async fn publish_batch(&self, channel: &Channel) -> Result<usize, PublishError> {
        let rows = store::fetch_pending(&self.pool, self.settings.batch_size).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let target = Target {
            channel,
            queue: &self.queue,
            app_id: self.app_id,
            limit: self.amqp.publish_timeout,
        };
        let sent = publish::publish(&target, &rows, now).await;

        // Even after a failure, what the broker did confirm is recorded, so it is not sent
        // again needlessly.
        let mut db_backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
        let mut tries = 0;
        while let Err(e) = store::mark_published(&self.pool, &sent.acked).await {
            tries += 1;
            if tries >= 5 {
                // The rows stay pending and go out again later: consumers de-duplicate.
                return Err(PublishError::Database(e));
            }
            tokio::time::sleep(db_backoff.next_delay()).await;
        }
        if let Some(first) = sent.acked.first() {
            tracing::debug!(first, count = sent.acked.len(), "outbox rows published");
        }
        match sent.failure {
            Some(e) => Err(e),
            None => Ok(rows.len()),
        }
    }
}
