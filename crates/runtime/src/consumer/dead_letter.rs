//! Rejecting a message into `<queue>.dead-letter`: without requeue, the queue's arguments
//! route it there (see [`crate::amqp::declare_queue`]).

use std::time::Duration;

use lapin::BasicProperties;
use lapin::message::Delivery;
use lapin::options::BasicRejectOptions;

use crate::amqp::{self, AmqpError};

/// Rejects `delivery` without requeue and counts it, by event and reason.
pub(super) async fn reject(
    delivery: &Delivery,
    event: &'static str,
    reason: &'static str,
    limit: Duration,
) -> Result<(), AmqpError> {
    amqp::within(
        limit,
        delivery.reject(BasicRejectOptions { requeue: false }),
    )
    .await?;
    metrics::counter!("events_consumed_total", "event" => event, "outcome" => "dead_lettered")
        .increment(1);
    metrics::counter!("events_dead_lettered_total", "event" => event, "reason" => reason)
        .increment(1);
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
