//! Rejecting a message into `<queue>.dead-letter`: without requeue, the queue's arguments
//! route it there (see [`crate::amqp::declare_queue`]).

use std::time::Duration;

use lapin::BasicProperties;
use lapin::message::Delivery;
use lapin::options::BasicRejectOptions;

use crate::amqp::{self, AmqpError};
use crate::metrics::catalog;

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
    catalog::EVENTS_CONSUMED.increment([event, "dead_lettered"]);
    catalog::EVENTS_DEAD_LETTERED.increment([event, reason]);
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
