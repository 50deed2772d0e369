//! Orders of product ids the database worked out, held per version of the data: a search's
//! matches, the catalogue sorted by title or likes.
//!
//! The database finds them through its indexes ([`super::search`], the sort indexes), but a
//! search of common words reads thousands of index entries to find a few dozen matches, and
//! a deep numbered page skips tens of thousands of entries: milliseconds of a core each
//! time, for an answer that only changes with the catalogue. So the whole order is read once
//! and held until the data it came from changes: the catalogue's generation of the
//! [`ChangeFeed`], and for an order by likes its counts' generation too: as fresh as the lists
//! in memory ([`super::cache`]). Concurrent requests for one order share one read. Nothing is
//! held over a detached feed (router tests: no change would be seen), and at most
//! [`MAX_HELD`] ids in all (8 bytes each).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use tokio::sync::OnceCell;

use super::feed::ChangeFeed;
use super::search::Search;

/// What an order is of, and by what.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// `None`: every product.
    pub search: Option<Search>,
    pub by: By,
}

/// Orders, each ascending with ties by id (descending is the same order read backwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum By {
    Id,
    Title,
    Likes,
}

/// Ids held at most, over every order: 4 MB.
pub const MAX_HELD: usize = 500_000;

type Slot = Arc<OnceCell<Arc<Vec<u64>>>>;

/// The orders one process holds. Cheap to share (`Arc`).
#[derive(Debug, Default)]
pub struct Held {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Each order with the generations it was read at.
    orders: HashMap<Key, ((u64, u64), Slot)>,
    /// Ids in the orders read so far.
    ids: usize,
}

impl Held {
    /// The order `key` names: held, or read by `read` (once, whoever else asks meanwhile).
    pub async fn order(
        &self,
        feed: &ChangeFeed,
        key: Key,
        read: impl FnOnce() -> BoxFuture<'static, Result<Vec<u64>, sqlx::Error>>,
    ) -> Result<Arc<Vec<u64>>, sqlx::Error> {
        if !feed.is_live() {
            return Ok(Arc::new(read().await?));
        }
        // Read before the database: a change after this bumps them again, so an order can
        // only look older than it is, never newer.
        let (catalogue, counts) = feed.generations();
        let generations = (catalogue, if key.by == By::Likes { counts } else { 0 });
        let slot = {
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match state.orders.get(&key) {
                Some((at, slot)) if *at == generations => slot.clone(),
                _ => {
                    let slot = Slot::default();
                    state.orders.insert(key, (generations, slot.clone()));
                    slot
                }
            }
        };
        let mut fresh = false;
        let ids = slot
            .get_or_try_init(|| {
                fresh = true;
                async { read().await.map(Arc::new) }
            })
            .await?
            .clone();
        if !fresh {
            return Ok(ids);
        }
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.ids += ids.len();
        if state.ids > MAX_HELD {
            // Start again rather than keep accounts of what is used: orders are cheap to
            // read again, and this one is answered from what was just read.
            state.orders.clear();
            state.ids = 0;
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn counting(
        reads: &Arc<AtomicUsize>,
        ids: Vec<u64>,
    ) -> impl FnOnce() -> BoxFuture<'static, Result<Vec<u64>, sqlx::Error>> {
        let reads = reads.clone();
        move || {
            Box::pin(async move {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok(ids)
            })
        }
    }

    #[tokio::test]
    async fn an_order_is_read_once_per_generation_of_what_it_is_of() {
        let feed = ChangeFeed::new("test.changes".into());
        let held = Held::default();
        let reads = Arc::new(AtomicUsize::new(0));
        let title = Key {
            search: None,
            by: By::Title,
        };
        let likes = Key {
            search: None,
            by: By::Likes,
        };
        for _ in 0..3 {
            assert_eq!(
                *held
                    .order(&feed, title.clone(), counting(&reads, vec![2, 1]))
                    .await
                    .unwrap(),
                [2, 1]
            );
            held.order(&feed, likes.clone(), counting(&reads, vec![1, 2]))
                .await
                .unwrap();
        }
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        // Like counts moved: the order by likes is read again, the one by title is not.
        feed.seen(super::super::Change::Counts);
        held.order(&feed, title.clone(), counting(&reads, vec![2, 1]))
            .await
            .unwrap();
        held.order(&feed, likes.clone(), counting(&reads, vec![2, 1]))
            .await
            .unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        // The catalogue changed: both.
        feed.seen(super::super::Change::Catalogue);
        held.order(&feed, title.clone(), counting(&reads, vec![1, 2]))
            .await
            .unwrap();
        held.order(&feed, likes, counting(&reads, vec![1, 2]))
            .await
            .unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 5);
        // A feed that is not live holds nothing.
        let detached = ChangeFeed::detached();
        held.order(&detached, title.clone(), counting(&reads, vec![1]))
            .await
            .unwrap();
        held.order(&detached, title, counting(&reads, vec![1]))
            .await
            .unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 7);
    }

    #[tokio::test]
    async fn past_the_most_ids_everything_is_let_go() {
        let feed = ChangeFeed::new("test.changes".into());
        let held = Held::default();
        let reads = Arc::new(AtomicUsize::new(0));
        let (by_id, by_title) = (
            Key {
                search: None,
                by: By::Id,
            },
            Key {
                search: None,
                by: By::Title,
            },
        );
        let ids: Vec<u64> = (0..MAX_HELD as u64 / 2 + 1).collect();
        held.order(&feed, by_id.clone(), counting(&reads, ids.clone()))
            .await
            .unwrap();
        held.order(&feed, by_id.clone(), counting(&reads, ids.clone()))
            .await
            .unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 1, "held");
        // A second order as large goes past the most: everything is let go.
        held.order(&feed, by_title, counting(&reads, ids.clone()))
            .await
            .unwrap();
        held.order(&feed, by_id, counting(&reads, ids))
            .await
            .unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }
}
