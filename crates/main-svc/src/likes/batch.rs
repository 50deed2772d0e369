//! One batch of likes: one transaction, each like's own outcome, and the fallback to one
//! like at a time.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use events::{Event, LikeCount, OutgoingMessage, TraceContext};
use shop_runtime::outbox;
use tracing::Instrument;

use super::{Committer, Like, LikeEvents, Outcome, Queued, queries, single};
use crate::error::ApiError;
use crate::metrics::{LIKE_BATCH_SIZE, LIKE_BATCHES};

/// What a like comes to in a batch that commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Liked,
    AlreadyLiked,
    NotFound,
}

impl Verdict {
    fn outcome(self) -> Outcome {
        match self {
            Verdict::Liked => Ok(()),
            Verdict::AlreadyLiked => Err(ApiError::AlreadyLiked),
            Verdict::NotFound => Err(ApiError::ProductNotFound),
        }
    }
}

/// Why a batch did not commit.
#[derive(Debug)]
pub enum BatchError {
    /// No transaction could start (no connection): nothing was tried.
    Begin(sqlx::Error),
    /// A statement or the commit failed; the transaction was rolled back.
    Statement(sqlx::Error),
}

/// Commits `likes` as one batch and answers each, in the batch's own span (a child of the
/// first like's request; its context goes with the batch's event).
pub(crate) async fn commit(committer: &Committer, likes: Vec<Queued>) {
    LIKE_BATCH_SIZE.record(
        shop_runtime::metrics::catalog::NO_LABELS,
        likes.len() as f64,
    );
    let span = tracing::info_span!(
        "like_batch",
        otel.name = "like batch",
        otel.kind = "internal",
        shop.likes = likes.len(),
        shop.batch.outcome = tracing::field::Empty,
    );
    let first = likes.first().map(|q| q.like.trace.clone());
    shop_runtime::telemetry::continue_from(&span, first.as_ref());
    let trace = shop_runtime::telemetry::trace_of(&span).or(first);
    let run = async {
        let plain: Vec<&Like> = likes.iter().map(|q| &q.like).collect();
        let outcome = run_batch(committer, &plain, trace).await;
        tracing::Span::current().record("shop.batch.outcome", outcome.0);
        LIKE_BATCHES.increment([outcome.0]);
        for (q, result) in likes.into_iter().zip(outcome.1) {
            // The client may have hung up: its like is done all the same.
            let _ = q.reply.send(result);
        }
    };
    run.instrument(span).await;
}

/// Runs `likes` as one transaction (again after a deadlock, twice at most), or one at a
/// time when it fails; the batch's outcome label and each like's outcome, in order.
pub async fn run_batch(
    committer: &Committer,
    likes: &[&Like],
    trace: Option<TraceContext>,
) -> (&'static str, Vec<Outcome>) {
    let pool = &committer.core.pool;
    let mut attempt = 1;
    let result = loop {
        match group_commit(pool, likes, committer.events, trace.clone()).await {
            Err(BatchError::Statement(e)) if attempt < 3 && shop_runtime::db::is_deadlock(&e) => {
                attempt += 1;
            }
            result => break result,
        }
    };
    match result {
        Ok(verdicts) => {
            if verdicts.contains(&Verdict::Liked) {
                committer.committed();
            }
            let outcomes = verdicts.into_iter().map(Verdict::outcome).collect();
            ("committed", outcomes)
        }
        Err(BatchError::Begin(e)) => {
            let outcomes = likes
                .iter()
                .map(|_| Err(ApiError::Database(again(&e))))
                .collect();
            ("failed", outcomes)
        }
        Err(BatchError::Statement(e)) => {
            tracing::warn!(error = %e, likes = likes.len(), "like batch failed; running its likes one at a time");
            let mut outcomes = Vec::with_capacity(likes.len());
            for like in likes {
                outcomes.push(single::like(pool, like).await);
            }
            if outcomes.iter().any(Result::is_ok) {
                committer.committed();
            }
            ("one_by_one", outcomes)
        }
    }
}

/// The same error again, for each like of a batch that could not start.
fn again(e: &sqlx::Error) -> sqlx::Error {
    match e {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// One try of the batch in one transaction: live products, pairs liked before, the new like
/// rows, the count shards, one `products_liked` event (or a `product_liked` per like with
/// [`LikeEvents::Single`]), the commit. Each like's verdict, in
/// order; nothing is written when no like is new.
pub async fn group_commit(
    pool: &sqlx::MySqlPool,
    likes: &[&Like],
    events: LikeEvents,
    trace: Option<TraceContext>,
) -> Result<Vec<Verdict>, BatchError> {
    let mut tx = pool.begin().await.map_err(BatchError::Begin)?;
    let statements = async {
        let ids: BTreeSet<u64> = likes.iter().map(|l| l.product).collect();
        let live = queries::lock_live(&mut tx, &ids).await?;
        let candidates: Vec<(u64, &str)> = likes
            .iter()
            .filter(|l| live.contains(&l.product))
            .map(|l| (l.product, l.shopper.as_str()))
            .collect();
        let before = if candidates.is_empty() {
            HashSet::new()
        } else {
            queries::existing_pairs(&mut tx, &candidates).await?
        };
        let mut taken: HashSet<(u64, &str)> = HashSet::new();
        let verdicts: Vec<Verdict> = likes
            .iter()
            .map(|l| {
                if !live.contains(&l.product) {
                    Verdict::NotFound
                } else if before.contains(&(l.product, l.shopper.clone()))
                    || !taken.insert((l.product, l.shopper.as_str()))
                {
                    Verdict::AlreadyLiked
                } else {
                    Verdict::Liked
                }
            })
            .collect();
        let new: Vec<(u64, &str)> = likes
            .iter()
            .zip(&verdicts)
            .filter(|(_, v)| **v == Verdict::Liked)
            .map(|(l, _)| (l.product, l.shopper.as_str()))
            .collect();
        if new.is_empty() {
            return Ok(verdicts);
        }
        queries::insert_likes(&mut tx, &new).await?;
        let mut per_product: BTreeMap<u64, u64> = BTreeMap::new();
        let mut shards: BTreeMap<(u64, u8), u64> = BTreeMap::new();
        for (product, shopper) in &new {
            *per_product.entry(*product).or_default() += 1;
            *shards
                .entry((*product, single::shard_of(shopper)))
                .or_default() += 1;
        }
        match events {
            LikeEvents::Batch => {
                let event = Event::ProductsLiked(
                    per_product
                        .into_iter()
                        .map(|(id, count)| LikeCount { id, count })
                        .collect(),
                );
                outbox::enqueue(&mut tx, &OutgoingMessage::new(&event, trace)).await?;
            }
            LikeEvents::Single => {
                for (product, _) in &new {
                    let event = Event::ProductLiked(*product);
                    outbox::enqueue(&mut tx, &OutgoingMessage::new(&event, trace.clone())).await?;
                }
            }
        }
        queries::count_likes(&mut tx, &shards).await?;
        Ok::<_, sqlx::Error>(verdicts)
    };
    let verdicts = match statements.await {
        Ok(v) => v,
        Err(e) => {
            let _ = tx.rollback().await;
            return Err(BatchError::Statement(e));
        }
    };
    shop_runtime::statement::commit(tx)
        .await
        .map_err(BatchError::Statement)?;
    Ok(verdicts)
}
