//! The delivery loop: take what has arrived (up to `CONSUMER_BATCH_SIZE` deliveries, never
//! waiting for more), apply it in one transaction and ack it with one `multiple` ack after
//! the commit; carry a delivery that cannot go with its batch from decoding to its own ack
//! or its rejection into the dead-letter queue.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use events::Envelope;
use futures_util::{FutureExt, StreamExt};
use lapin::Channel;
use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::Handler;
use super::apply::{Outcome, apply_batch, apply_once};
use super::connection::{ConsumeError, Consumer};
use super::dead_letter::{self, Death};
use super::retry::{Next, Retries, pause};
use crate::amqp;
use crate::metrics::catalog;

impl<H: Handler> Consumer<H> {
    /// Takes deliveries one at a time until cancelled (`Ok`) or the channel fails.
    pub(super) async fn consume(
        &self,
        channel: &Channel,
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
                // The deliveries in hand are finished even when a stop is requested
                // meanwhile; unacked prefetched ones return to the queue when the channel
                // closes.
                Some(Ok(delivery)) => {
                    let mut batch = vec![delivery];
                    let mut ended = None;
                    while batch.len() < self.settings.batch_size {
                        match deliveries.next().now_or_never() {
                            Some(Some(Ok(d))) => batch.push(d),
                            Some(Some(Err(e))) => {
                                ended = Some(ConsumeError::from(e));
                                break;
                            }
                            Some(None) => {
                                ended = Some(ConsumeError::Ended);
                                break;
                            }
                            None => break,
                        }
                    }
                    if batch.len() == 1 {
                        let delivery = batch.pop().ok_or(ConsumeError::Ended)?;
                        self.process(channel, delivery, cancel).await?;
                    } else {
                        self.process_batch(channel, batch, cancel).await?;
                    }
                    if let Some(e) = ended {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Applies deliveries that arrived together in one transaction and acks them with one
    /// `multiple` ack after its commit. What cannot be decoded is dead-lettered first; when
    /// the batch cannot be applied whole (an event to dead-letter among them, a database
    /// error), each is processed on its own instead, so only the one that fails is
    /// dead-lettered and the database errors are retried as always.
    async fn process_batch(
        &self,
        channel: &Channel,
        batch: Vec<Delivery>,
        cancel: &CancellationToken,
    ) -> Result<(), ConsumeError> {
        let start = Instant::now();
        let mut decoded = Vec::with_capacity(batch.len());
        for delivery in batch {
            match Envelope::from_amqp(&delivery.properties, &delivery.data) {
                Ok(envelope) => decoded.push((delivery, envelope)),
                // Processed alone: dead-lettered with its log line and span.
                Err(_) => self.process(channel, delivery, cancel).await?,
            }
        }
        if decoded.is_empty() {
            return Ok(());
        }
        let span = tracing::info_span!(
            "consume batch",
            otel.name = format!("process {}", self.queue),
            otel.kind = "consumer",
            messaging.system = "rabbitmq",
            messaging.operation.type = "process",
            messaging.destination.name = self.queue.as_str(),
            messaging.batch.message_count = decoded.len(),
        );
        let envelopes: Vec<&Envelope> = decoded.iter().map(|(_, e)| e).collect();
        let applied = apply_batch(&self.pool, &self.handler, &envelopes)
            .instrument(span.clone())
            .await;
        let outcomes = match applied {
            Ok(Some(outcomes)) => outcomes,
            Ok(None) | Err(_) => {
                if let Err(e) = &applied {
                    tracing::warn!(parent: &span, error = %e, count = decoded.len(),
                        "batch failed; applying its messages one at a time");
                }
                for (delivery, _) in decoded {
                    self.process(channel, delivery, cancel).await?;
                }
                return Ok(());
            }
        };
        // Committed: the APIs may rebuild their lists now (the notice does not wait for the
        // ack), and only now may the broker forget them, all up to the last at once.
        if let (true, Some(change), Some(feed)) = (
            outcomes.contains(&Outcome::Applied),
            H::CHANGES,
            self.feed.as_ref(),
        ) {
            feed.announce(change);
        }
        if let Some((last, _)) = decoded.last() {
            let multiple = BasicAckOptions { multiple: true };
            amqp::within(self.amqp.publish_timeout, last.ack(multiple))
                .instrument(span.clone())
                .await?;
        }
        let elapsed = start.elapsed().as_secs_f64();
        for ((delivery, envelope), outcome) in decoded.iter().zip(&outcomes) {
            let event = envelope.event.kind().as_str();
            catalog::EVENTS_CONSUMED.increment([event, outcome.label()]);
            catalog::EVENT_PROCESSING.record([event], elapsed);
            if let Some(lag) = envelope.created_us.and_then(since) {
                catalog::EVENTS_END_TO_END_LAG.record([event], lag);
            }
            // Each message's own span, child of its producer's, carries its outcome.
            let own = consumer_span(&self.queue, delivery, Some(envelope));
            own.record("shop.event.outcome", outcome.label());
            own.follows_from(&span);
        }
        tracing::debug!(count = outcomes.len(), "batch of events processed");
        Ok(())
    }

    /// Decodes, applies (retrying as [`Retries`] says) and then acks or dead-letters one
    /// delivery, in its consumer span. Returns early, without an ack, only when cancelled
    /// during a retry's wait.
    async fn process(
        &self,
        channel: &Channel,
        delivery: Delivery,
        cancel: &CancellationToken,
    ) -> Result<(), ConsumeError> {
        let start = Instant::now();
        let decoded = Envelope::from_amqp(&delivery.properties, &delivery.data);
        let span = consumer_span(&self.queue, &delivery, decoded.as_ref().ok());
        let outcome = match decoded {
            Ok(envelope) => {
                self.settle(channel, &delivery, &envelope, start, cancel)
                    .instrument(span.clone())
                    .await?
            }
            Err(e) => {
                let event = dead_letter::undecodable_event_label(&delivery.properties);
                let (reason, error) = (e.reason(), e.to_string());
                tracing::error!(parent: &span, error, event, reason, queue = %self.queue,
                    redelivered = delivery.redelivered,
                    "message this consumer cannot decode sent to the dead-letter queue");
                let death = Death {
                    event,
                    reason,
                    error: &error,
                    attempts: 1,
                };
                dead_letter::send(
                    channel,
                    &self.queue,
                    &delivery,
                    death,
                    self.amqp.publish_timeout,
                )
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
        channel: &Channel,
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
                    let death = Death {
                        event,
                        reason,
                        error: reason,
                        attempts: 1,
                    };
                    dead_letter::send(channel, &self.queue, delivery, death, limit).await?;
                    return Ok(Some("dead_lettered"));
                }
                Ok(outcome) => {
                    // Committed: the APIs may rebuild their lists now (the notice does not
                    // wait for the ack), and only now may the broker forget the message.
                    if let (Outcome::Applied, Some(change), Some(feed)) =
                        (outcome, H::CHANGES, self.feed.as_ref())
                    {
                        feed.announce(change);
                    }
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
                        let error = e.to_string();
                        let death = Death {
                            event,
                            reason: "handler_error",
                            error: &error,
                            attempts,
                        };
                        dead_letter::send(channel, &self.queue, delivery, death, limit).await?;
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
