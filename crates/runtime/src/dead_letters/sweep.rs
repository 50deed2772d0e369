//! One pass over a dead-letter queue: check that it is one, take its messages (up to a
//! bound) with a consumer that acks nothing by itself, then replay, discard or keep each.
//!
//! A queue cannot be read without consuming it. What is kept is not nacked one by one: the
//! pass ends by closing its channel, which returns every unacked message to the queue at
//! once, in the order it held them (checked by the tests). Each return counts as a delivery
//! of the dead-letter queue (docs/operating/processes.md says what that means on RabbitMQ 4).
//! A replay publishes to the work queue under publisher confirms and acks the dead letter
//! only once the broker confirmed the republish, so a failure between the two leaves the
//! message in both queues (the consumers' de-duplication skips the second copy), never in
//! neither.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Confirmation, Connection};

use super::{DeadLetter, replay_properties};
use crate::amqp::{self, AmqpError};
use crate::settings::AmqpSettings;

/// The suffix of every dead-letter queue's name.
pub const SUFFIX: &str = ".dead-letter";

/// Why a pass did not run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Refused before anything changed: a wrong queue, an unknown id (exit code 2).
    #[error("{0}")]
    Refused(String),
    #[error("broker: {0}")]
    Broker(#[from] AmqpError),
}

impl From<lapin::Error> for ToolError {
    fn from(e: lapin::Error) -> Self {
        ToolError::Broker(AmqpError::Lapin(e))
    }
}

/// What becomes of one dead letter in a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Keep,
    Replay,
    Discard,
}

/// One dead letter taken by a pass, as read, with what became of it.
#[derive(Debug)]
pub struct Taken {
    pub letter: DeadLetter,
    pub delivery: Delivery,
    pub action: Action,
    /// Why a replay failed (the message stays in the dead-letter queue).
    pub failed: Option<String>,
}

/// A dead-letter queue and its work queue, both checked to exist.
pub struct DeadLetterQueue {
    conn: Connection,
    /// `<work>.dead-letter`.
    pub name: String,
    /// Where a replay goes.
    pub work: String,
    /// Messages ready in it when it was opened.
    pub ready: u32,
    limit: Duration,
}

impl DeadLetterQueue {
    /// Connects and checks that `name` is a dead-letter queue whose work queue exists;
    /// [`ToolError::Refused`] otherwise, having changed nothing.
    pub async fn open(settings: &AmqpSettings, name: &str) -> Result<Self, ToolError> {
        let Some(work) = name.strip_suffix(SUFFIX).filter(|w| !w.is_empty()) else {
            return Err(ToolError::Refused(format!(
                "`{name}` is not a dead-letter queue: their names end in `{SUFFIX}` (did you mean `{name}{SUFFIX}`?)"
            )));
        };
        let limit = settings.publish_timeout;
        let conn = amqp::connect(settings, "dead-letters tool").await?;
        let mut dlq = DeadLetterQueue {
            conn,
            name: name.to_owned(),
            work: work.to_owned(),
            ready: 0,
            limit,
        };
        let Some(ready) = dlq.ready(name).await? else {
            dlq.close().await;
            return Err(ToolError::Refused(format!(
                "there is no queue `{name}` on the broker"
            )));
        };
        if dlq.ready(work).await?.is_none() {
            dlq.close().await;
            return Err(ToolError::Refused(format!(
                "`{name}` has no work queue `{work}` to replay into: not a dead-letter queue of this shop"
            )));
        }
        dlq.ready = ready;
        Ok(dlq)
    }

    /// Ready messages in `queue` (a passive declare on a channel of its own, which a
    /// missing queue closes); `None` when there is no such queue.
    async fn ready(&self, queue: &str) -> Result<Option<u32>, AmqpError> {
        let channel = amqp::within(self.limit, self.conn.create_channel()).await?;
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let declared = amqp::within(
            self.limit,
            channel.queue_declare(queue.into(), passive, FieldTable::default()),
        )
        .await;
        match declared {
            Ok(q) => {
                let _ = channel.close(200, "checked".into()).await;
                Ok(Some(q.message_count()))
            }
            Err(AmqpError::Lapin(e)) if not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Takes up to `max` of the messages ready when the queue was opened, asks `plan` what
    /// to do with each (it may refuse, and then nothing changes), does it, and returns them
    /// all to the queue but the replayed and the discarded.
    pub async fn sweep(
        &self,
        max: usize,
        plan: impl FnOnce(&mut [Taken]) -> Result<(), ToolError>,
    ) -> Result<Vec<Taken>, ToolError> {
        let want = (self.ready as usize).min(max);
        if want == 0 {
            plan(&mut [])?;
            return Ok(Vec::new());
        }
        let reader = amqp::within(self.limit, self.conn.create_channel()).await?;
        let prefetch = u16::try_from(want).unwrap_or(u16::MAX);
        amqp::within(
            self.limit,
            reader.basic_qos(prefetch, BasicQosOptions::default()),
        )
        .await?;
        let mut consumer = amqp::within(
            self.limit,
            reader.basic_consume(
                self.name.as_str().into(),
                "dead-letters-tool".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            ),
        )
        .await?;
        let mut taken = Vec::with_capacity(want);
        while taken.len() < want.min(usize::from(prefetch)) {
            // Bounded: another reader may have taken some since the count.
            match tokio::time::timeout(self.limit, consumer.next()).await {
                Ok(Some(Ok(delivery))) => taken.push(Taken {
                    letter: DeadLetter::read(&delivery.properties, &delivery.data),
                    delivery,
                    action: Action::Keep,
                    failed: None,
                }),
                Ok(Some(Err(e))) => return Err(e.into()),
                Ok(None) | Err(_) => break,
            }
        }
        let planned = plan(&mut taken);
        if planned.is_ok() {
            self.act(&mut taken).await?;
        }
        // Whatever was not acked goes back, in the order it was held.
        let _ = amqp::within(
            self.limit,
            reader.close(200, "dead-letters pass done".into()),
        )
        .await;
        planned.map(|()| taken)
    }

    /// Replays and discards what `taken` says, each acked only after its own step.
    async fn act(&self, taken: &mut [Taken]) -> Result<(), ToolError> {
        if taken.iter().all(|t| t.action == Action::Keep) {
            return Ok(());
        }
        let publisher = amqp::confirm_channel(&self.conn, self.limit).await?;
        for t in taken.iter_mut() {
            match t.action {
                Action::Keep => {}
                Action::Discard => {
                    amqp::within(self.limit, t.delivery.ack(BasicAckOptions::default())).await?;
                    tracing::info!(id = %t.letter.id, event = %t.letter.event,
                        reason = %t.letter.reason, queue = %self.name, "dead letter discarded");
                }
                Action::Replay => {
                    let confirmed = self.republish(&publisher, &t.delivery).await;
                    match confirmed {
                        Ok(Confirmation::Ack(None)) => {
                            amqp::within(self.limit, t.delivery.ack(BasicAckOptions::default()))
                                .await?;
                            tracing::info!(id = %t.letter.id, event = %t.letter.event,
                                queue = %self.work, "dead letter replayed");
                        }
                        Ok(other) => t.failed = Some(format!("not confirmed: {other:?}")),
                        Err(e) => t.failed = Some(e.to_string()),
                    }
                }
            }
        }
        let _ = publisher.close(200, "replayed".into()).await;
        Ok(())
    }

    async fn republish(
        &self,
        publisher: &lapin::Channel,
        delivery: &Delivery,
    ) -> Result<Confirmation, AmqpError> {
        let publish = async {
            publisher
                .basic_publish(
                    "".into(),
                    self.work.as_str().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    },
                    &delivery.data,
                    replay_properties(&delivery.properties),
                )
                .await?
                .await
        };
        amqp::within(self.limit, publish).await
    }

    /// Closes the connection (what a pass did not ack is back in the queue already).
    pub async fn close(self) {
        let _ = amqp::within(self.limit, self.conn.close(200, "done".into())).await;
    }
}

/// Whether the broker answered "no such queue" (404).
fn not_found(e: &lapin::Error) -> bool {
    matches!(e.kind(), lapin::ErrorKind::ProtocolError(p) if p.get_id() == 404)
}
