//! The delivery loop: take deliveries one at a time, and carry each from decoding to its
//! ack (after the commit) or its rejection into the dead-letter queue.

use std::time::Instant;

use events::Envelope;
use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use tokio_util::sync::CancellationToken;

use super::apply::{Outcome, apply_once};
use super::connection::{ConsumeError, Consumer};
use super::retry::{Next, Retries, pause};
use super::{Handler, dead_letter};
use crate::amqp;
use crate::metrics::catalog;

impl<H: Handler> Consumer<H> {
    /// Takes deliveries one at a time until cancelled (`Ok`) or the channel fails.
    pub(super) async fn consume(
        &self,
        mut deliveries: lapin::Consumer,
        cancel: &CancellationToken,
    ) -> Result<(), ConsumeError> {
        loop {
            let next = tokio::select! {
                // A stop wins over a prefetched delivery that is ready at the same time:
                // unbiased, select! would pick one at random and take it.
                biased;
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

    /// Decodes, applies (retrying as [`Retries`] says) and then acks or dead-letters one
    /// delivery. Returns early, without an ack, only when cancelled during a retry's wait.
    async fn process(
        &self,
        delivery: Delivery,
        cancel: &CancellationToken,
    ) -> Result<(), ConsumeError> {
        let start = Instant::now();
        let limit = self.amqp.publish_timeout;
        let envelope = match Envelope::from_amqp(&delivery.properties, &delivery.data) {
            Ok(e) => e,
            Err(e) => {
                let event = dead_letter::undecodable_event_label(&delivery.properties);
                tracing::error!(error = %e, event, queue = %self.queue, redelivered = delivery.redelivered,
                    "undecodable message sent to the dead-letter queue");
                dead_letter::reject(&delivery, event, "undecodable", limit).await?;
                return Ok(());
            }
        };
        let event = envelope.event.kind().as_str();
        let message_id = envelope.message_id.as_deref();
        let trace_id = envelope.trace.as_ref().map(|t| t.trace_id().to_owned());
        let mut retries = Retries::new();
        loop {
            match apply_once(&self.pool, &self.handler, &envelope).await {
                Ok(Outcome::DeadLetter(reason)) => {
                    tracing::error!(
                        event,
                        reason,
                        message_id,
                        "message sent to the dead-letter queue"
                    );
                    dead_letter::reject(&delivery, event, reason, limit).await?;
                    return Ok(());
                }
                Ok(outcome) => {
                    // Committed: only now may the broker forget the message.
                    amqp::within(limit, delivery.ack(BasicAckOptions::default())).await?;
                    catalog::EVENTS_CONSUMED.increment([event, outcome.label()]);
                    catalog::EVENT_PROCESSING.record([event], start.elapsed().as_secs_f64());
                    tracing::debug!(
                        event,
                        ?outcome,
                        message_id,
                        trace_id = trace_id.as_deref(),
                        "event processed"
                    );
                    return Ok(());
                }
                Err(e) => match retries.after(&e, event) {
                    Next::Hold { delay } => {
                        tracing::warn!(error = %e, event, retry_in_ms = delay.as_millis() as u64,
                            "database unavailable; holding the message and retrying");
                        if !pause(delay, cancel).await {
                            return Ok(());
                        }
                    }
                    Next::Retry { delay, attempts } => {
                        tracing::warn!(error = %e, event, attempts, "handler failed; retrying");
                        if !pause(delay, cancel).await {
                            return Ok(());
                        }
                    }
                    Next::GiveUp { attempts } => {
                        tracing::error!(error = %e, event, attempts, message_id,
                            "message failed every attempt; sent to the dead-letter queue");
                        dead_letter::reject(&delivery, event, "handler_error", limit).await?;
                        return Ok(());
                    }
                },
            }
        }
    }
}
