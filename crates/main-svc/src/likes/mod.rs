//! Likes in group commits: concurrent likes share one transaction.
//!
//! A like request hands its like to the batcher through a bounded channel and awaits its
//! own outcome. The batcher takes the first like waiting, then every like already queued
//! behind it (at most `LIKE_BATCH_MAX`), without waiting for more: when the database is
//! idle a lone like commits at once, and the likes that arrive while a batch commits form
//! the next one. Up to `LIKE_BATCHES_IN_FLIGHT` batches commit at the same time, so the
//! database is not idle while a batch's answers go out and the next one forms.
//!
//! A batch is one transaction of multi-row statements ([`batch`]): which products are live
//! (held with a shared lock until the commit, as a single like holds its product), which
//! (product, shopper) pairs exist already, the new like rows, the count shards, and ONE
//! `products_liked` event carrying each product's count; then one commit. Each request gets
//! the outcome a like alone would get: liked, 400 already liked (also the second of a pair
//! repeated in the batch), 404 not in the shop. When the batch fails (a pair inserted by
//! another replica meanwhile, a row the database rejects), it is rolled back and its likes
//! are run one at a time ([`single`], each with its own `product_liked` event), so one
//! failing like never fails the others; a deadlock of the whole batch is first retried
//! whole.
//!
//! A full channel (`LIKE_QUEUE` likes waiting) answers `503` with `Retry-After` at once. A
//! like in the channel is committed whole or not at all whatever its client does (the
//! batch runs in the batcher's task, not the request's); on a graceful stop the server
//! waits for the requests in flight, and so for the batches that answer them: the batcher
//! ends when the last handle to it is dropped, after committing what is queued.

pub mod batch;
mod queries;
pub mod single;

use std::sync::Arc;

use events::TraceContext;
use shop_runtime::lists::Listing;
use shop_runtime::service::Core;
use shop_runtime::{ConfigError, Env};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::live::Live;

/// The events a batch writes to the outbox (`LIKE_EVENTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LikeEvents {
    /// `batch`: one `products_liked` per batch (the default); needs admin-consumers of this
    /// release or newer.
    #[default]
    Batch,
    /// `single`: one `product_liked` per like, as before this release, which every
    /// admin-consumer applies: while an older admin-consumer may run (a consumer rollback).
    Single,
}

impl std::str::FromStr for LikeEvents {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "batch" => Ok(LikeEvents::Batch),
            "single" => Ok(LikeEvents::Single),
            _ => Err("expected batch or single"),
        }
    }
}

/// The batcher's bounds (main-api): `LIKE_QUEUE` likes may wait (default 1024; more get
/// `503`), a batch holds at most `LIKE_BATCH_MAX` (default 256), `LIKE_BATCHES_IN_FLIGHT`
/// batches commit at once (default 2), and `LIKE_EVENTS` says which events they write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LikeBatchSettings {
    pub queue: usize,
    pub max_batch: usize,
    pub in_flight: usize,
    pub events: LikeEvents,
}

impl Default for LikeBatchSettings {
    fn default() -> Self {
        LikeBatchSettings {
            queue: 1024,
            max_batch: 256,
            in_flight: 2,
            events: LikeEvents::Batch,
        }
    }
}

impl LikeBatchSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = LikeBatchSettings::default();
        Ok(LikeBatchSettings {
            queue: env.parse::<usize>("LIKE_QUEUE", d.queue)?.max(1),
            max_batch: env.parse::<usize>("LIKE_BATCH_MAX", d.max_batch)?.max(1),
            in_flight: env
                .parse::<usize>("LIKE_BATCHES_IN_FLIGHT", d.in_flight)?
                .max(1),
            events: env.parse("LIKE_EVENTS", d.events)?,
        })
    }
}

/// One shopper's like of one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Like {
    pub product: u64,
    pub shopper: String,
    /// The trace of the request that made it.
    pub trace: TraceContext,
}

/// How a like ended: `Ok` liked, or the error its request answers.
pub type Outcome = Result<(), ApiError>;

/// A like waiting in the channel, with where its outcome goes.
#[derive(Debug)]
pub(crate) struct Queued {
    pub like: Like,
    pub reply: oneshot::Sender<Outcome>,
}

/// What a committed like changes besides the database: the outbox relay, the list, the
/// live streams; told once per batch.
#[derive(Debug, Clone)]
pub struct Committer {
    pub core: Core,
    pub list: Listing,
    pub live: Live,
    /// The events its batches write.
    pub events: LikeEvents,
}

impl Committer {
    /// After a commit that recorded likes.
    pub fn committed(&self) {
        self.core.outbox.committed();
        self.list.counts_changed_here();
        self.live.liked();
    }
}

/// The handle to a batcher. Cheap to clone; the batcher ends when every handle is gone.
#[derive(Debug, Clone)]
pub struct Likes {
    queue: mpsc::Sender<Queued>,
}

/// The channel is full: answer `503` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

impl Likes {
    /// Starts a batcher committing through `committer`; the task ends after the last handle
    /// is dropped and every like queued before is committed and answered.
    pub fn start(committer: Committer, settings: LikeBatchSettings) -> (Likes, JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(settings.queue);
        let task = tokio::spawn(run(committer, settings, rx));
        (Likes { queue }, task)
    }

    /// Queues `like` and waits for its outcome; [`QueueFull`] at once when the channel is.
    /// Dropping the future once it is queued changes nothing: the like is committed (or
    /// not) with its batch, only the outcome is lost.
    pub async fn like(&self, like: Like) -> Result<Outcome, QueueFull> {
        let (reply, outcome) = oneshot::channel();
        self.queue
            .try_send(Queued { like, reply })
            .map_err(|_| QueueFull)?;
        // A batcher gone without answering (the runtime stopping) committed nothing of it.
        Ok(outcome
            .await
            .unwrap_or_else(|_| Err(ApiError::Database(sqlx::Error::WorkerCrashed))))
    }
}

async fn run(committer: Committer, settings: LikeBatchSettings, mut rx: mpsc::Receiver<Queued>) {
    let slots = Arc::new(Semaphore::new(settings.in_flight));
    loop {
        // A slot first: while every slot commits, the likes arriving wait in the channel
        // and form the next batch.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let Some(first) = rx.recv().await else {
            break;
        };
        let mut likes = Vec::with_capacity(settings.max_batch.min(64));
        likes.push(first);
        while likes.len() < settings.max_batch {
            match rx.try_recv() {
                Ok(q) => likes.push(q),
                Err(_) => break,
            }
        }
        let committer = committer.clone();
        tokio::spawn(async move {
            batch::commit(&committer, likes).await;
            drop(slot);
        });
    }
    // Every handle dropped and the channel empty: wait for the batches still committing.
    let _ = slots.acquire_many(settings.in_flight as u32).await;
}
