//! Publishing one batch of outbox rows: pipelined, `mandatory`, persistent, with publisher
//! confirms collected in order and every broker call bounded in time.

use std::time::Duration;

use lapin::options::BasicPublishOptions;
use lapin::{Channel, Confirmation};
use tracing::Instrument;

use super::store::PendingRow;
use crate::amqp::{self, AmqpError};
use crate::metrics::catalog;

/// Why a batch stopped part way.
#[derive(Debug, thiserror::Error)]
pub(super) enum PublishError {
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

/// What became of a batch: the rows the broker confirmed, in order, up to the first one it
/// did not, and why it did not.
#[derive(Debug)]
pub(super) struct Sent {
    pub acked: Vec<u64>,
    pub failure: Option<PublishError>,
}

/// Where and how a batch is published.
pub(super) struct Target<'a> {
    pub channel: &'a Channel,
    /// The default exchange routes by queue name.
    pub queue: &'a str,
    pub app_id: &'a str,
    /// Bound on each publish and on each confirm.
    pub limit: Duration,
}

/// Publishes `rows` in order and collects their confirms. `now` (since the epoch) stamps the
/// messages and measures each row's delivery lag.
pub(super) async fn publish(target: &Target<'_>, rows: &[PendingRow], now: Duration) -> Sent {
    let options = BasicPublishOptions {
        mandatory: true,
        ..BasicPublishOptions::default()
    };

    // Pipelined: publish the whole batch, then collect confirms in order.
    let mut confirms = Vec::with_capacity(rows.len());
    let mut failure = None;
    for row in rows {
        let span = producer_span(target.queue, row);
        let mut message = row.message();
        // The consumer continues from this span, not from the request that wrote the row.
        if let Some(trace) = crate::telemetry::trace_of(&span) {
            message.trace = Some(trace);
        }
        let properties = message.properties(target.app_id, now.as_secs(), Some(row.created_us));
        let publish = target.channel.basic_publish(
            "".into(),
            target.queue.into(),
            options,
            &message.body,
            properties,
        );
        match amqp::within(target.limit, publish)
            .instrument(span.clone())
            .await
        {
            Ok(confirm) => confirms.push((row, confirm, span)),
            Err(e) => {
                failed(&span, "broker");
                failure = Some(PublishError::Broker(e));
                break;
            }
        }
    }

    let mut acked = Vec::with_capacity(confirms.len());
    for (row, confirm, span) in confirms {
        if failure.is_some() {
            failed(&span, "not_sent");
            continue;
        }
        let confirmed = amqp::within(target.limit, confirm).await;
        if !matches!(confirmed, Ok(Confirmation::Ack(None))) {
            failed(&span, "not_confirmed");
        }
        match confirmed {
            Ok(Confirmation::Ack(None)) => {
                acked.push(row.id);
                let lag = now.as_micros().saturating_sub(u128::from(row.created_us));
                catalog::OUTBOX_DELIVERY_LAG.record(catalog::NO_LABELS, lag as f64 / 1e6);
                catalog::EVENTS_PUBLISHED.increment([row.content_type.clone()]);
            }
            // Returned: acked by the broker, but no queue took it.
            Ok(Confirmation::Ack(Some(returned))) | Ok(Confirmation::Nack(Some(returned))) => {
                catalog::EVENTS_PUBLISH_FAILURES.increment(["unroutable"]);
                failure = Some(PublishError::Unroutable(
                    target.queue.to_owned(),
                    returned.reply_text.to_string(),
                ));
            }
            Ok(Confirmation::Nack(None)) | Ok(Confirmation::NotRequested) => {
                catalog::EVENTS_PUBLISH_FAILURES.increment(["nack"]);
                failure = Some(PublishError::Nacked);
            }
            Err(e) => {
                catalog::EVENTS_PUBLISH_FAILURES.increment(["broker"]);
                failure = Some(PublishError::Broker(e));
            }
        }
    }
    Sent { acked, failure }
}

/// The producer span of one outbox row (OpenTelemetry's messaging conventions), a child of
/// the request that wrote the row, however long ago that was. It ends with the broker's
/// confirm.
fn producer_span(queue: &str, row: &PendingRow) -> tracing::Span {
    let span = tracing::info_span!(
        "publish",
        otel.name = format!("publish {queue}"),
        otel.kind = "producer",
        otel.status_code = tracing::field::Empty,
        messaging.system = "rabbitmq",
        messaging.operation.type = "send",
        messaging.operation.name = "publish",
        messaging.destination.name = queue,
        messaging.rabbitmq.destination.routing_key = queue,
        messaging.message.id = row.message_id.as_str(),
        messaging.message.body.size = row.body.len(),
        error.type = tracing::field::Empty,
    );
    crate::telemetry::continue_from(&span, row.trace().as_ref());
    span
}

fn failed(span: &tracing::Span, error: &'static str) {
    span.record("otel.status_code", "ERROR");
    span.record("error.type", error);
}
