//! Applying one event once in effect: de-duplicate on its message id, run the service's
//! handler, commit, all in one transaction.

use events::{Envelope, Event};
use sqlx::{MySqlConnection, MySqlPool};

use super::processed;

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The event changed the database.
    Applied,
    /// The event was valid but had nothing to change (stale version, deleted product…).
    Ignored(&'static str),
    /// The message id was processed before; nothing was done.
    Duplicate,
    /// The event cannot be processed here (e.g. an event type that belongs on another queue).
    DeadLetter(&'static str),
}

impl Outcome {
    /// The `outcome` label of `events_consumed_total`.
    pub(super) fn label(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Ignored(_) => "ignored",
            Outcome::Duplicate => "duplicate",
            Outcome::DeadLetter(_) => "dead_lettered",
        }
    }
}

/// What a service does with one event, on the transaction that also records the message
/// as processed.
pub trait Handler: Send + Sync + 'static {
    /// Applies `event` on `tx`; the caller commits, or rolls back on an error or a
    /// [`Outcome::DeadLetter`].
    fn apply(
        &self,
        tx: &mut MySqlConnection,
        event: &Event,
    ) -> impl Future<Output = Result<Outcome, sqlx::Error>> + Send;
}

/// Applies `envelope` once in effect: de-duplicates on its message id, runs the handler and
/// commits. A duplicate or dead-lettered event changes nothing.
pub async fn apply_once<H: Handler>(
    pool: &MySqlPool,
    handler: &H,
    envelope: &Envelope,
) -> Result<Outcome, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if let Some(id) = &envelope.message_id
        && !processed::record(&mut tx, id).await?
    {
        tx.rollback().await?;
        return Ok(Outcome::Duplicate);
    }
    let outcome = handler.apply(&mut tx, &envelope.event).await?;
    if let Outcome::DeadLetter(_) = outcome {
        tx.rollback().await?;
    } else {
        crate::statement::commit(tx).await?;
    }
    Ok(outcome)
}
