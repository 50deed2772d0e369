//! The consumer's broker connection: connect, subscribe with a bounded prefetch, and
//! reconnect with capped backoff whenever the broker goes away.

use std::time::Duration;

use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use sqlx::MySqlPool;
use tokio_util::sync::CancellationToken;

use super::Handler;
use crate::amqp::BrokerStatus;
use crate::amqp::{self, AmqpError};
use crate::backoff::Backoff;
use crate::lists::ChangeFeed;
use crate::metrics::catalog;
use crate::settings::{AmqpSettings, ConsumerSettings};

/// Consumes one queue until cancelled.
pub struct Consumer<H> {
    /// The service's database, where events are applied.
    pub pool: MySqlPool,
    /// Where the broker is, and the time limits on talking to it.
    pub amqp: AmqpSettings,
    /// Prefetch (and the processed-message retention, used by the process).
    pub settings: ConsumerSettings,
    /// The queue consumed (declared with its dead-letter queue on every connect).
    pub queue: String,
    /// Names the connection and the consumer tag in the broker's UI.
    pub app_id: &'static str,
    /// What the service does with each event.
    pub handler: H,
    /// Set while the broker connection is up (for health).
    pub broker: BrokerStatus,
    /// Tells the service's APIs what the applied events changed ([`Handler::CHANGES`]).
    pub feed: Option<ChangeFeed>,
}

/// Why a connection's consuming stopped.
#[derive(Debug, thiserror::Error)]
pub(super) enum ConsumeError {
    #[error(transparent)]
    Broker(#[from] AmqpError),
    #[error("broker: {0}")]
    Lapin(#[from] lapin::Error),
    #[error("the broker cancelled the consumer")]
    Ended,
}

impl<H: Handler> Consumer<H> {
    /// Runs until `cancel`, reconnecting with capped backoff whenever the broker goes away.
    /// On `cancel` it stops taking deliveries, finishes the one in hand, and returns.
    pub async fn run(self, cancel: CancellationToken) {
        super::start_at_zero::<H>();
        let mut backoff = Backoff::new(Duration::from_millis(100), self.amqp.reconnect_max);
        while !cancel.is_cancelled() {
            match self.connect().await {
                Ok((conn, channel, consumer)) => {
                    tracing::info!(queue = %self.queue, "consumer connected");
                    self.broker.set(true);
                    backoff.reset();
                    // The channel lives as long as this arm: dropping it would stop deliveries.
                    let result = self.consume(&channel, consumer, &cancel).await;
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
                    catalog::AMQP_CONNECT_FAILURES.increment(["consumer"]);
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
        let limit = self.amqp.publish_timeout;
        let conn = amqp::connect(&self.amqp, &format!("{} consumer", self.app_id)).await?;
        // In confirm mode: dead letters are published on it (`dead_letter::send`).
        let channel = amqp::confirm_channel(&conn, limit).await?;
        amqp::within(
            limit,
            channel.basic_qos(self.settings.prefetch, BasicQosOptions::default()),
        )
        .await?;
        amqp::declare_queue(&channel, &self.queue, limit).await?;
        let consumer = amqp::within(
            limit,
            channel.basic_consume(
                self.queue.as_str().into(),
                format!("{}-{}", self.app_id, uuid::Uuid::new_v4().simple()).into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            ),
        )
        .await?;
        Ok((conn, channel, consumer))
    }
}
