//! Product lists served from memory: one pre-serialised snapshot per process, with its gzip
//! and brotli encodings and an `ETag`, rebuilt when the data changes.
//!
//! Every list request used to read and decode the whole table and encode it again: that was
//! most of an API's time under load. Now a request takes the snapshot (an `Arc` clone),
//! picks the encoding the client accepts and writes bytes; a client that already has them
//! (`If-None-Match`) gets `304` and no body.
//!
//! # How fresh
//!
//! A snapshot remembers the [`ChangeFeed`] generations it was built at
//! ([`super::feed`] says what bumps them and how fast):
//!
//! - **products** (created, updated, deleted): a snapshot older than the process's last
//!   catalogue change is never served; the first request after a change rebuilds it
//!   (the others wait for that one rebuild, they do not each query the database). Rebuilds
//!   run one at a time, and every request waiting for one is woken when it ends
//!   ([`Listing::wait_for_rebuild`]);
//! - **like counts this process committed** (main-api's own likes) are shown at once too: a
//!   shopper who likes and reloads sees the like. The rebuild is cheap (a few hundred
//!   microseconds for a hundred products, encodings made on first use), and concurrent
//!   requests share it. For a list that takes over 20 ms to rebuild (tens of thousands of
//!   products) they are treated like the next kind instead;
//! - **like counts from other processes** (another replica's likes, the catalogue's counts
//!   from admin-consumer) may be served up to `LIST_COUNTS_MAX_AGE_MS` (250 ms) late: they
//!   arrive thousands a second, and rebuilding on each would be the per-request query
//!   again. While one request rebuilds for them, the others are answered the held snapshot.
//!
//! # Paging
//!
//! `?limit=N` (1 to 1,000) and `?after=ID` (products with a larger id) page through the same
//! snapshot in id order; a page that is not the last has a `Link: <…>; rel="next"` header.
//! Without either parameter the answer is the whole list, as it always was.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use events::Product;
use futures_util::future::BoxFuture;
use sqlx::MySqlPool;
use tokio::sync::watch;

mod rebuild;

use super::feed::ChangeFeed;
use super::found::{By, Held, Key};
use super::page::{Page, Params};
use super::search::Search;
use super::snapshot::Snapshot;
use crate::http::admission::Admission;
use crate::metrics::catalog;
use rebuild::{Published, Rebuilding};

/// Reads the whole list from the database, in id order.
pub type LoadQuery = fn(&MySqlPool) -> BoxFuture<'_, Result<Vec<Product>, sqlx::Error>>;

/// One list of one process. Cheap to clone.
#[derive(Clone)]
pub struct Listing {
    inner: Arc<Inner>,
}

struct Inner {
    /// Names the list in metrics (`shop`, `catalogue`).
    name: &'static str,
    pool: MySqlPool,
    feed: ChangeFeed,
    load: LoadQuery,
    counts_max_age: Duration,
    /// Permits to read the database, for a search.
    admission: Admission,
    /// The matches of searches of more than one term.
    found: Held,
    /// Bumped when this process commits a change of counts ([`Listing::counts_changed_here`]).
    own: AtomicU64,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    /// Whether a request is rebuilding now ([`Listing::try_lead`]).
    rebuilding: Mutex<Rebuilding>,
    /// Told after each rebuild, done or failed; the requests waiting for one watch it.
    published: watch::Sender<Published>,
}

impl std::fmt::Debug for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listing")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

impl Listing {
    pub fn new(
        name: &'static str,
        pool: MySqlPool,
        feed: ChangeFeed,
        load: LoadQuery,
        counts_max_age: Duration,
        admission: Admission,
    ) -> Self {
        Listing {
            inner: Arc::new(Inner {
                name,
                pool,
                feed,
                load,
                counts_max_age,
                admission,
                found: Held::default(),
                own: AtomicU64::new(0),
                snapshot: RwLock::new(None),
                rebuilding: Mutex::new(Rebuilding::default()),
                published: watch::Sender::new(Published::default()),
            }),
        }
    }

    /// The feed that makes this list stale.
    pub fn feed(&self) -> &ChangeFeed {
        &self.inner.feed
    }

    fn held(&self) -> Option<Arc<Snapshot>> {
        self.inner
            .snapshot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// After this process committed a change of like counts: its next answer shows it.
    pub fn counts_changed_here(&self) {
        self.inner.own.fetch_add(1, Ordering::AcqRel);
    }

    fn generations(&self) -> (u64, u64, u64) {
        let (catalogue, counts) = self.inner.feed.generations();
        (catalogue, counts, self.inner.own.load(Ordering::Acquire))
    }

    /// Whether `s` may be served now, may be served while another request rebuilds, or
    /// must be rebuilt first.
    fn freshness(&self, s: &Snapshot) -> Freshness {
        let now = self.generations();
        if !self.inner.feed.is_live() || s.generations.0 != now.0 {
            return Freshness::Stale;
        }
        let own_late = s.generations.2 != now.2;
        if own_late && !s.expensive {
            return Freshness::Stale;
        }
        if !own_late && s.generations.1 == now.1 {
            return Freshness::Fresh;
        }
        if s.built.elapsed() < self.inner.counts_max_age {
            Freshness::Fresh
        } else {
            Freshness::Late
        }
    }

    /// The snapshot to serve, rebuilt first when it is stale.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, sqlx::Error> {
        let arrived = Instant::now();
        if let Some(s) = self.held() {
            match self.freshness(&s) {
                Freshness::Fresh => return Ok(s),
                // Only counts from elsewhere are late: the request that starts the rebuild
                // waits for it, the others are answered these meanwhile.
                Freshness::Late => {
                    if !self.try_lead() {
                        return Ok(s);
                    }
                    return Ok(match self.lead().await {
                        None => self.held().unwrap_or(s),
                        Some(_) => s,
                    });
                }
                Freshness::Stale => {}
            }
        }
        let waiting = self.inner.published.subscribe();
        self.wait_for_rebuild(waiting, arrived).await
    }

    /// Reads the list and encodes it (one rebuild at a time: [`Listing::try_lead`]).
    async fn rebuild_here(&self) -> Result<Arc<Snapshot>, sqlx::Error> {
        let start = Instant::now();
        // Read before the database: a change committed after this read bumps them again,
        // so the snapshot can only look older than it is, never newer.
        let generations = self.generations();
        let products = (self.inner.load)(&self.inner.pool).await?;
        let mut snapshot = if products.len() > 1000 {
            tokio::task::spawn_blocking(move || Snapshot::build(generations, products))
                .await
                .map_err(|e| sqlx::Error::Protocol(format!("encoding the list failed: {e}")))?
        } else {
            Snapshot::build(generations, products)
        };
        snapshot.expensive = start.elapsed() > EXPENSIVE;
        // Built as of the start of its read: what was committed before then is in it.
        snapshot.built = start;
        let snapshot = Arc::new(snapshot);
        *self
            .inner
            .snapshot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(snapshot.clone());
        catalog::LIST_REBUILDS.increment([self.inner.name]);
        catalog::LIST_REBUILD_DURATION.record([self.inner.name], start.elapsed().as_secs_f64());
        catalog::LIST_BYTES.set([self.inner.name], snapshot.identity.len() as f64);
        Ok(snapshot)
    }

    /// The answer to `GET path?query` with `headers`: the whole list (negotiated encoding,
    /// `ETag`, `304`), or a page, searched with `q` ([`super::search`]); `400` for a bad
    /// parameter.
    pub async fn respond(&self, path: &str, query: Option<&str>, headers: &HeaderMap) -> Response {
        let params = Params::parse(query);
        let (page, search) = match Page::parse(&params).and_then(|p| Ok((p, params.search()?))) {
            Ok(parsed) => parsed,
            Err(message) => return crate::problem::error(StatusCode::BAD_REQUEST, &message),
        };
        let found = match (&page, &search) {
            (Some(page), Some(search)) => {
                let Some(_permit) = self.inner.admission.enter() else {
                    return crate::http::admission::shed();
                };
                // One more than the page tells whether there is a next one.
                match self.found(search, *page).await {
                    Ok(ids) => Some(ids),
                    Err(e) => return crate::problem::database_error(&e),
                }
            }
            _ => None,
        };
        let snapshot = match self.snapshot().await {
            Ok(s) => s,
            Err(e) => return crate::problem::database_error(&e),
        };
        match (page, search, found) {
            (Some(page), Some(search), Some(mut ids)) => {
                let more = ids.len() > page.limit;
                ids.truncate(page.limit);
                snapshot.found(path, page, search.text(), &ids, more)
            }
            (Some(page), ..) => snapshot.page(path, page),
            (None, ..) => snapshot.whole(headers).await,
        }
    }
}

impl Listing {
    /// The ids of `search`'s matches on `page`, and one more when a next page exists. One
    /// term: that page of its index range. More: every match is read once (an intersection
    /// reads as many index entries for a page as for all) and held ([`Held`]).
    async fn found(&self, search: &Search, page: Page) -> Result<Vec<u64>, sqlx::Error> {
        let pool = &self.inner.pool;
        if search.is_one_term() {
            return search.ids_after(pool, page.after, page.limit + 1).await;
        }
        let key = Key {
            search: Some(search.clone()),
            by: By::Id,
        };
        let (pool, search) = (pool.clone(), search.clone());
        let all = self
            .inner
            .found
            .order(&self.inner.feed, key, move || {
                Box::pin(async move { search.ids_after(&pool, 0, usize::MAX).await })
            })
            .await?;
        let start = all.partition_point(|id| *id <= page.after);
        Ok(all[start..].iter().take(page.limit + 1).copied().collect())
    }
}

/// A list slower than this to rebuild is not rebuilt for each of this process's likes.
const EXPENSIVE: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    /// May be served.
    Fresh,
    /// Counts from elsewhere are older than `LIST_COUNTS_MAX_AGE_MS`: rebuild, but whoever
    /// cannot help with that may be served it.
    Late,
    /// Must not be served: rebuild first.
    Stale,
}
