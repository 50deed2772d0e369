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

use crate::metrics::catalog;

/// `events_consumed_total`'s outcomes.
const OUTCOMES: [&str; 4] = ["applied", "ignored", "duplicate", "dead_lettered"];
/// `events_retried_total`'s reasons.
const RETRY_REASONS: [&str; 2] = ["database_unavailable", "handler_error"];
/// The `event` labels of undecodable messages besides the known types.
const UNKNOWN_EVENTS: [&str; 2] = ["other", "none"];

/// Registers at 0 every series of the consumer's counters whose labels are known up front
/// (every event type by outcome, by retry reason, by dead-letter reason), so that `/metrics`
/// shows them before the first event and `increase()` sees that event.
fn start_at_zero<H: Handler>() {
    catalog::AMQP_CONNECT_FAILURES.start_at_zero(["consumer"]);
    for kind in events::EventKind::ALL {
        let event = kind.as_str();
        for outcome in OUTCOMES {
            catalog::EVENTS_CONSUMED.start_at_zero([event, outcome]);
        }
        for reason in RETRY_REASONS {
            catalog::EVENTS_RETRIED.start_at_zero([event, reason]);
        }
    }
    let events = events::EventKind::ALL.map(|k| k.as_str());
    for event in events.iter().chain(&UNKNOWN_EVENTS) {
        for reason in ["undecodable", "handler_error"]
            .iter()
            .chain(H::DEAD_LETTER_REASONS)
        {
            catalog::EVENTS_DEAD_LETTERED.start_at_zero([*event, *reason]);
        }
    }
}
