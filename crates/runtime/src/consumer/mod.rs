//! The consumer loop both services run: one long-lived connection, bounded prefetch, one
//! message at a time, ack only after the database commit.
//!
//! Each message is applied in one transaction together with a row in `processed_messages`
//! keyed by its `message_id` (`INSERT IGNORE`), so a redelivered message is acknowledged and
//! skipped. Messages without an id (the original Python producers) are applied as they come.
//!
//! What cannot be processed goes to `<queue>.dead-letter` with its reason in headers
//! ([`crate::dead_letters`]): undecodable bodies, unknown event types or schema versions,
//! events that do not belong
//! on this queue, and messages whose handler fails with a non-transient database error
//! [`MAX_ATTEMPTS`] times. While the database is unreachable, the message in hand is retried
//! in place with backoff: not acked, not rejected, so it neither vanishes nor burns through
//! the queue's delivery limit.
//!
//! One job per module: `apply` ([`apply_once`]: de-duplicate, handle, commit), `processed`
//! (the `processed_messages` table), `connection` (connecting and reconnecting), `delivery`
//! (one delivery from decoding to its ack), `retry` (what follows a failed attempt),
//! `dead_letter` (sending to the dead-letter queue). The consumer process around the
//! loop (schema wait, probes, housekeeping) is [`crate::service::consumer`].

mod apply;
mod connection;
mod dead_letter;
mod delivery;
pub(crate) mod processed;
mod retry;

pub use apply::{Handler, Outcome, apply_batch, apply_once};
pub use connection::Consumer;
pub use retry::MAX_ATTEMPTS;
