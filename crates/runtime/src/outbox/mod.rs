//! The transactional outbox and its relay.
//!
//! A handler writes its change and the event row in one transaction ([`enqueue`]), commits,
//! then wakes the relay ([`OutboxHandle::committed`]). The relay publishes pending rows in id
//! order over one long-lived connection with publisher confirms and `mandatory`, and marks a
//! row published only after the broker acked it and did not return it as unroutable. When the
//! broker is away the rows wait; the relay reconnects with capped backoff and drains them.
//!
//! Delivery is at least once: a crash between the broker's ack and the `UPDATE` republishes
//! the row, with the same `message_id`, and consumers de-duplicate on that id.
//!
//! Any number of API replicas may run: one of them, the holder of a database lock, publishes
//! (see `leader`), so rows still go out once each in id order, and another takes over
//! within a poll interval when it dies.
//!
//! One job per module: `store` (the `outbox` table's SQL), `publish` (one batch on the
//! broker, confirms collected), `leader` (which replica publishes), `relay` (the loop:
//! connect, lead or stand by, publish, mark, reconnect). The
//! table is the runtime's own (see [`crate::migrations`]):
//! `outbox(id, message_id, content_type, body, traceparent, tracestate, created_at, published_at)`.

use std::sync::Arc;

use tokio::sync::Notify;

mod leader;
mod publish;
mod relay;
mod store;

pub use leader::LEASE as LEADER_LEASE;
pub use relay::Relay;
pub use store::{enqueue, pending_count};

/// Wakes the relay after a commit, so an event leaves within milliseconds instead of at the
/// next poll. Cheap to clone; one per process.
#[derive(Debug, Clone, Default)]
pub struct OutboxHandle(Arc<Notify>);

impl OutboxHandle {
    /// A handle no relay listens to yet; give a clone to the [`Relay`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Call after committing a transaction that enqueued events. A wake-up that comes while
    /// the relay is busy is kept, so none is lost.
    pub fn committed(&self) {
        self.0.notify_one();
    }
}
