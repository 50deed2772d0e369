//! The delivery loop: take deliveries one at a time, and carry each from decoding to its
//! ack (after the commit) or its rejection into the dead-letter queue.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use events::Envelope;
use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

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
    /// delivery, in its consumer span. Returns early, without an ack, only when cancelled
    /// during a retry's wait.
    async fn process(
        &self,
        delivery: Delivery,
        cancel: &CancellationToken,
    ) -> Result<(), ConsumeError> {
        let start = Instant::now();
        let decoded = Envelope::from_amqp(&delivery.properties, &delivery.data);
        let span = consumer_span(&self.queue, &delivery, decoded.as_ref().ok());
        let outcome = match decoded {
            Ok(envelope) => {
                self.settle(&delivery, &envelope, start, cancel)
                    .instrument(span.clone())
                    .await?
            }
            Err(e) => {
                let event = dead_letter::undecodable_event_label(&delivery.properties);
                tracing::error!(parent: &span, error = %e, event, queue = %self.queue,
                    redelivered = delivery.redelivered,
                    "undecodable message sent to the dead-letter queue");
                dead_letter::reject(&delivery, event, "undecodable", self.amqp.publish_timeout)
                    .instrument(span.clone())
                    .await?;
                Some("dead_lettered")
            }
        };
        if let Some(outcome) = outcome {
            span.record("shop.event.outcome", outcome);
            if outcome == "dead_lettered" {
                span.record("otel.status_code", "ERROR");
            }
        }
        Ok(())
    }

    /// Applies a decoded delivery and acks it after the commit, or dead-letters it; returns
    /// the outcome's label, `None` when cancelled during a retry's wait (no ack: the broker
    /// delivers it again).
    async fn settle(
        &self,
        delivery: &Delivery,
        envelope: &Envelope,
        start: Instant,
        cancel: &CancellationToken,
    ) -> Result<Option<&'static str>, ConsumeError> {
        let limit = self.amqp.publish_timeout;
        let event = envelope.event.kind().as_str();
        let message_id = envelope.message_id.as_deref();
        let mut retries = Retries::new();
        loop {
            match apply_once(&self.pool, &self.handler, envelope).await {
                Ok(Outcome::DeadLetter(reason)) => {
                    tracing::error!(
                        event,
                        reason,
                        message_id,
                        "message sent to the dead-letter queue"
                    );
                    dead_letter::reject(delivery, event, reason, limit).await?;
                    return Ok(Some("dead_lettered"));
                }
                Ok(outcome) => {
                    // Committed: only now may the broker forget the message.
                    amqp::within(limit, delivery.ack(BasicAckOptions::default())).await?;
                    catalog::EVENTS_CONSUMED.increment([event, outcome.label()]);
                    catalog::EVENT_PROCESSING.record([event], start.elapsed().as_secs_f64());
                    if let Some(lag) = envelope.created_us.and_then(since) {
                        catalog::EVENTS_END_TO_END_LAG.record([event], lag);
                    }
                    tracing::debug!(event, ?outcome, message_id, "event processed");
                    return Ok(Some(outcome.label()));
                }
                Err(e) => match retries.after(&e, event) {
                    Next::Hold { delay } => {
                        tracing::warn!(error = %e, event, retry_in_ms = delay.as_millis() as u64,
                            "database unavailable; holding the message and retrying");
                        if !pause(delay, cancel).await {
                            return Ok(None);
                        }
                    }
                    Next::Retry { delay, attempts } => {
                        tracing::warn!(error = %e, event, attempts, "handler failed; retrying");
                        if !pause(delay, cancel).await {
                            return Ok(None);
                        }
                    }
                    Next::GiveUp { attempts } => {
                        tracing::error!(error = %e, event, attempts, message_id,
                            "message failed every attempt; sent to the dead-letter queue");
                        dead_letter::reject(delivery, event, "handler_error", limit).await?;
                        return Ok(Some("dead_lettered"));
                    }
                },
            }
        }
    }
}

/// Seconds from `created_us` (microseconds since the epoch) to now; `None` when the clocks
/// disagree so much that it would be negative.
fn since(created_us: u64) -> Option<f64> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_micros();
    let lag = now.checked_sub(u128::from(created_us))?;
    Some(lag as f64 / 1e6)
}

/// The consumer span of one delivery (OpenTelemetry's messaging conventions), a child of
/// the producer span whose context the message carries. Its database spans and the ack are
/// inside it; the outcome (applied, ignored, duplicate, dead_lettered) is an attribute.
fn consumer_span(queue: &str, delivery: &Delivery, envelope: Option<&Envelope>) -> tracing::Span {
    let span = tracing::info_span!(
        "consume",
        otel.name = format!("process {queue}"),
        otel.kind = "consumer",
        otel.status_code = tracing::field::Empty,
        messaging.system = "rabbitmq",
        messaging.operation.type = "process",
        messaging.operation.name = "process",
        messaging.destination.name = queue,
        messaging.message.id = envelope.and_then(|e| e.message_id.as_deref()),
        messaging.message.body.size = delivery.data.len(),
        messaging.rabbitmq.message.delivery_tag = delivery.delivery_tag,
        shop.event.type = envelope.map(|e| e.event.kind().as_str()),
        shop.event.redelivered = delivery.redelivered,
        shop.event.outcome = tracing::field::Empty,
    );
    crate::telemetry::continue_from(&span, envelope.and_then(|e| e.trace.as_ref()));
    span
}
