//! Applying one event once in effect: de-duplicate on its message id, run the service's
//! handler, commit, all in one transaction.

use events::{Envelope, Event};
use sqlx::{MySqlConnection, MySqlPool};

use super::processed;
use crate::lists::Change;

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
    /// What the handler's applied events change, for the APIs' in-memory lists: the
    /// consumer bumps its `cache_versions` row in the same transaction and, after the
    /// commit, tells the APIs ([`crate::lists::feed`]).
    const CHANGES: Option<Change> = None;

    /// The reasons of the handler's [`Outcome::DeadLetter`]s, so that
    /// `events_dead_lettered_total` shows each at 0 before the first.
    const DEAD_LETTER_REASONS: &'static [&'static str] = &[];

    /// Applies `event` on `tx`; the caller commits, or rolls back on an error or a
    /// [`Outcome::DeadLetter`].
    fn apply(
        &self,
        tx: &mut MySqlConnection,
        event: &Event,
    ) -> impl Future<Output = Result<Outcome, sqlx::Error>> + Send;

    /// Applies several events on one transaction, in order: one outcome each. By default
    /// one [`Handler::apply`] after another; a handler may do better (fold many likes of a
    /// product into one statement). A [`Outcome::DeadLetter`] among them makes the caller
    /// roll the whole batch back and apply its events one at a time.
    fn apply_batch(
        &self,
        tx: &mut MySqlConnection,
        events: &[&Event],
    ) -> impl Future<Output = Result<Vec<Outcome>, sqlx::Error>> + Send {
        async move {
            let mut outcomes = Vec::with_capacity(events.len());
            for event in events {
                outcomes.push(self.apply(tx, event).await?);
            }
            Ok(outcomes)
        }
    }
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
        if let (Outcome::Applied, Some(change)) = (outcome, H::CHANGES) {
            crate::lists::versions::bump_version(&mut tx, change).await?;
        }
        crate::statement::commit(tx).await?;
    }
    Ok(outcome)
}

/// Applies `envelopes` once each in effect, on one transaction: one outcome each, in order,
/// after the commit; `Ok(None)` when the batch cannot be applied whole (an event to
/// dead-letter, a concurrent consumer recording one of its ids first), after a rollback:
/// the caller then applies them one at a time with [`apply_once`].
pub async fn apply_batch<H: Handler>(
    pool: &MySqlPool,
    handler: &H,
    envelopes: &[&Envelope],
) -> Result<Option<Vec<Outcome>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let ids: Vec<&str> = envelopes
        .iter()
        .filter_map(|e| e.message_id.as_deref())
        .collect();
    let Some(fresh) = processed::record_many(&mut tx, &ids).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    // The first of each fresh id is applied; later copies and known ids are duplicates.
    let mut taken = std::collections::HashSet::new();
    let mut apply = Vec::with_capacity(envelopes.len());
    let mut events = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        let new = match envelope.message_id.as_deref() {
            Some(id) => fresh.contains(id) && taken.insert(id),
            None => true,
        };
        apply.push(new);
        if new {
            events.push(&envelope.event);
        }
    }
    let applied = handler.apply_batch(&mut tx, &events).await?;
    if applied.len() != events.len() || applied.iter().any(|o| matches!(o, Outcome::DeadLetter(_)))
    {
        tx.rollback().await?;
        return Ok(None);
    }
    if let (true, Some(change)) = (applied.contains(&Outcome::Applied), H::CHANGES) {
        crate::lists::versions::bump_version(&mut tx, change).await?;
    }
    crate::statement::commit(tx).await?;
    let mut applied = applied.into_iter();
    Ok(Some(
        apply
            .into_iter()
            .map(|new| {
                if new {
                    applied.next().unwrap_or(Outcome::Duplicate)
                } else {
                    Outcome::Duplicate
                }
            })
            .collect(),
    ))
}
