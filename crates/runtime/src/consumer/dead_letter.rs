//! Sending a message to `<queue>.dead-letter` with its reason: a copy of it, with the
//! reason, the error and the attempts in headers ([`crate::dead_letters`]), published under
//! publisher confirms, then the original acked. When the broker does not confirm the copy,
//! the original is rejected without requeue instead, which the queue's arguments route to
//! the same place (see [`crate::amqp::declare_queue`]), without our headers.

use std::time::Duration;

use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicPublishOptions, BasicRejectOptions};
use lapin::{BasicProperties, Channel, Confirmation};

use crate::amqp::{self, AmqpError};
use crate::metrics::catalog;

/// Why and after what a message is dead-lettered.
pub(super) struct Death<'a> {
    pub event: &'static str,
    pub reason: &'static str,
    pub error: &'a str,
    pub attempts: u32,
}

/// Sends `delivery`, taken from `queue` on `channel` (in confirm mode), to its dead-letter
/// queue with `death`'s headers, and counts it by event and reason. An error leaves it
/// unacked: the broker delivers it again once the channel closes.
pub(super) async fn send(
    channel: &Channel,
    queue: &str,
    delivery: &Delivery,
    death: Death<'_>,
    limit: Duration,
) -> Result<(), AmqpError> {
    let properties = crate::dead_letters::dead_letter_properties(
        &delivery.properties,
        queue,
        death.reason,
        death.error,
        death.attempts,
    );
    let dlq = amqp::dead_letter_queue(queue);
    let publish = async {
        let confirm = channel
            .basic_publish(
                "".into(),
                dlq.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                &delivery.data,
                properties,
            )
            .await?;
        confirm.await
    };
    match amqp::within(limit, publish).await? {
        Confirmation::Ack(None) => {
            amqp::within(limit, delivery.ack(BasicAckOptions::default())).await?;
        }
        other => {
            tracing::warn!(queue, confirmation = ?other,
                "the dead-letter queue did not take the copy; rejecting the message into it without its reason");
            amqp::within(
                limit,
                delivery.reject(BasicRejectOptions { requeue: false }),
            )
            .await?;
        }
    }
    catalog::EVENTS_CONSUMED.increment([death.event, "dead_lettered"]);
    catalog::EVENTS_DEAD_LETTERED.increment([death.event, death.reason]);
    Ok(())
}

/// The `event` label of a message that could not be decoded: a known event type, `other`,
/// or `none`. Bounded, whatever producers send.
pub(super) fn undecodable_event_label(properties: &BasicProperties) -> &'static str {
    properties.content_type().as_ref().map_or("none", |c| {
        c.as_str()
            .parse::<events::EventKind>()
            .map_or("other", |k| k.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_undecodable_messages_are_bounded() {
        let with = |ct: &str| BasicProperties::default().with_content_type(ct.into());
        assert_eq!(
            undecodable_event_label(&with("product_liked")),
            "product_liked"
        );
        assert_eq!(undecodable_event_label(&with("x-anything-at-all")), "other");
        assert_eq!(undecodable_event_label(&BasicProperties::default()), "none");
    }
}
