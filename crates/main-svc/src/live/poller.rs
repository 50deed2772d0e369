//! The one poller of a main-api process: while streams are open, it reads which products
//! were liked since its last round (by `product_likes.seq`) and their counts now, and hands
//! one `likes` event to every stream.
//!
//! # When it reads
//!
//! A round runs when likes may have come: this process committed one ([`super::Live::liked`]),
//! or the change feed's counts generation moved (another process's likes, seen by the lists'
//! version check within `LIST_VERSION_CHECK_MS`, or a notice). A round runs at least
//! `interval` (500 ms) after the last one that sent an update, so a product is in at most
//! one update per interval, with its count at the end of it: a hundred likes of one product
//! in that time are one update. Rounds that find nothing are 100 ms apart at least.
//!
//! # Likes committed out of order
//!
//! `seq` is given when a like's row is inserted, but the like becomes visible at its
//! commit, so like 11 may be seen before like 10. A number missing below the highest seen is
//! kept as a gap and asked for again in the next rounds (`seq IN (…)`), until it shows up or
//! [`GAP_WAIT`] passes (a rolled-back like, a number the database skipped). The position a
//! stream resumes from (the events' `id`) is below the oldest gap, so a resumed stream asks
//! for the late likes too.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Shared, Update, frame};
use crate::live::queries;
use crate::metrics::{LIVE_EVENTS_SENT, LIVE_UPDATE_DURATION};

/// Likes read in one round at most; more wait for the next.
const BATCH: u32 = 5000;
/// How long a number missing below the newest like is waited for.
pub const GAP_WAIT: Duration = Duration::from_secs(5);
/// Gaps kept at most; beyond it the oldest are given up.
const MAX_GAPS: usize = 256;
/// Newest likes read when the poller starts, to tell which numbers below the newest are
/// still uncommitted.
pub(super) const START_WINDOW: u32 = 64;
/// How often the poller looks at the feed's generation and at whether streams remain.
const TICK: Duration = Duration::from_millis(50);
/// Rounds that found nothing (a version check that saw this process's own likes, gaps
/// asked for again) are at least this far apart; they do not delay the next update.
const MIN_ROUND_GAP: Duration = Duration::from_millis(100);

/// Which likes the poller has seen: the highest number, and the numbers below it not seen
/// yet (with when they were first missed).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tracker {
    seen: u64,
    gaps: BTreeMap<u64, Instant>,
}

impl Tracker {
    /// From the numbers of the newest likes, newest first (queries::newest_likes).
    pub fn start(newest: &[u64], now: Instant) -> Self {
        let mut tracker = Tracker {
            seen: newest.last().map_or(0, |oldest| oldest.saturating_sub(1)),
            gaps: BTreeMap::new(),
        };
        // Numbers missing among the newest may be likes not committed yet.
        let rows: Vec<(u64, u64)> = newest.iter().rev().map(|seq| (*seq, 0)).collect();
        tracker.take(&rows, now);
        tracker
    }

    /// Everything numbered up to here was seen (or given up): where a stream resumes from.
    pub fn settled(&self) -> u64 {
        self.gaps
            .keys()
            .next()
            .map_or(self.seen, |oldest| oldest - 1)
    }

    /// The highest number seen.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The gaps, to ask for again.
    pub fn gaps(&self) -> Vec<u64> {
        self.gaps.keys().copied().collect()
    }

    /// Takes the rows of a round, `(seq, product_id)` in number order: the products liked.
    pub fn take(&mut self, rows: &[(u64, u64)], now: Instant) -> BTreeSet<u64> {
        let mut products = BTreeSet::new();
        for &(seq, product) in rows {
            if seq > self.seen {
                let missing = (seq - self.seen - 1) as usize;
                let first = seq - missing.min(MAX_GAPS) as u64;
                for gap in first..seq {
                    self.gaps.insert(gap, now);
                }
                self.seen = seq;
            } else if self.gaps.remove(&seq).is_none() {
                continue;
            }
            products.insert(product);
        }
        while self.gaps.len() > MAX_GAPS {
            self.gaps.pop_first();
        }
        products
    }

    /// Gives up the gaps older than `wait`.
    pub fn expire(&mut self, now: Instant, wait: Duration) {
        self.gaps
            .retain(|_, since| now.saturating_duration_since(*since) < wait);
    }
}

/// Runs until no stream is left or the process stops; `tracker` is where the likes were
/// when the first stream opened.
pub(super) async fn run(shared: Arc<Shared>, mut tracker: Tracker) {
    let interval = shared.settings.interval;
    let mut counts_seen = shared.feed.generations().1;
    // When the last update went out, and when the last round ran (one may find nothing).
    let mut last_sent: Option<Instant> = None;
    let mut last_round: Option<Instant> = None;
    let mut due = false;
    loop {
        tokio::select! {
            () = shared.stopping.cancelled() => break,
            () = shared.liked_here.notified() => due = true,
            () = tokio::time::sleep(TICK) => {}
        }
        if shared.updates.receiver_count() == 0 {
            let mut running = shared.poller.lock().await;
            if shared.updates.receiver_count() == 0 {
                *running = false;
                return;
            }
        }
        let counts = shared.feed.generations().1;
        if counts != counts_seen {
            counts_seen = counts;
            due = true;
        }
        if !due && tracker.gaps.is_empty() {
            continue;
        }
        let next = [
            last_sent.map(|t| t + interval),
            last_round.map(|t| t + MIN_ROUND_GAP),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(next) = next
            && Instant::now() < next
        {
            tokio::select! {
                () = shared.stopping.cancelled() => break,
                () = tokio::time::sleep_until(next.into()) => {}
            }
        }
        let started = Instant::now();
        last_round = Some(started);
        // A like committed from here on is read by this round or wakes the next.
        due = false;
        match round(&shared, &mut tracker).await {
            Ok((sent, more)) => {
                if sent {
                    last_sent = Some(started);
                }
                due |= more;
            }
            Err(e) => {
                shop_runtime::db::note_error(&e);
                tracing::warn!(error = %e, "live counts: cannot read the new likes; trying again");
                due = true;
            }
        }
    }
    *shared.poller.lock().await = false;
}

/// One round: the likes since the last, their products' counts, one event to every stream.
/// Whether an update went out, and whether more likes wait than one round reads.
async fn round(shared: &Shared, tracker: &mut Tracker) -> Result<(bool, bool), sqlx::Error> {
    let start = Instant::now();
    let rows = queries::likes_since(&shared.pool, tracker.seen, &tracker.gaps(), BATCH).await?;
    let more = rows.len() == BATCH as usize;
    let now = Instant::now();
    let products: Vec<u64> = tracker.take(&rows, now).into_iter().collect();
    tracker.expire(now, GAP_WAIT);
    let settled = tracker.settled();
    if products.is_empty() {
        shared.settled.store(settled, Ordering::Release);
        return Ok((false, more));
    }
    let counts = queries::counts_of(&shared.pool, &products).await?;
    let update = Update {
        frame: frame::likes(settled, &counts),
        read_done: Instant::now(),
    };
    shared.settled.store(settled, Ordering::Release);
    if let Ok(streams) = shared.updates.send(Arc::new(update)) {
        LIVE_EVENTS_SENT.add(["likes"], streams as u64);
    }
    LIVE_UPDATE_DURATION.record(
        shop_runtime::metrics::catalog::NO_LABELS,
        start.elapsed().as_secs_f64(),
    );
    Ok((true, more))
}
