//! Live like counts: `GET /flask/api/products/events`, Server-Sent Events that bring other
//! shoppers' likes to the cards on screen (docs/contract.md, "Live like counts").
//!
//! One [`poller`] per process reads the new likes while at least one stream is open and
//! hands each round's `likes` event to every stream through a broadcast channel: one
//! encoding, the same bytes on every stream, and a stream too slow to keep up gets `resync`
//! instead of holding anyone back. A stream holds no database connection and no admission
//! permit: a stream that resumes (`Last-Event-ID`) reads what it missed with two short
//! queries before its answer starts, and afterwards only waits on the channel. Streams end
//! when the graceful stop begins (`Core::stopping`), so that the server's drain does not
//! wait for them, and the browser's `EventSource` reconnects by itself.

pub mod frame;
pub mod poller;
pub mod queries;
mod stream;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shop_runtime::lists::ChangeFeed;
use shop_runtime::service::Core;
use shop_runtime::{ConfigError, Env, problem};
use sqlx::MySqlPool;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use crate::metrics::{LIVE_EVENTS_SENT, LIVE_STREAMS_OPEN, LIVE_STREAMS_REFUSED};
use poller::Tracker;

/// How the live streams behave; only the cap is read from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSettings {
    /// Streams one process holds at most (`LIVE_MAX_STREAMS`, default 1000); past it a new
    /// stream is answered `503` with `Retry-After`.
    pub max_streams: usize,
    /// Rounds of the poller are at least this far apart: a product is in one update per
    /// interval at most (500 ms).
    pub interval: Duration,
    /// A comment on every stream this often, so that proxies and clients see it alive (15 s).
    pub heartbeat: Duration,
    /// How long the browser waits before reconnecting (`retry:`, 2 s).
    pub retry: Duration,
    /// How many likes a resuming stream may have missed and still be told what changed;
    /// more, and it is told to `resync` (10,000).
    pub reach: u32,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            max_streams: 1000,
            interval: Duration::from_millis(500),
            heartbeat: Duration::from_secs(15),
            retry: Duration::from_secs(2),
            reach: 10_000,
        }
    }
}

impl LiveSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = LiveSettings::default();
        Ok(LiveSettings {
            max_streams: env.parse("LIVE_MAX_STREAMS", defaults.max_streams)?,
            ..defaults
        })
    }
}

/// `Retry-After` on a refused stream: streams last long, so a place frees up slowly.
const REFUSED_RETRY: Duration = Duration::from_secs(5);

/// The live streams of one process. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Live {
    shared: Arc<Shared>,
}

/// One round's event, encoded once.
#[derive(Debug)]
struct Update {
    frame: Bytes,
    /// When its counts had been read: a stream that resumed from the database after this
    /// already has newer counts, and skips it.
    read_done: Instant,
}

#[derive(Debug)]
struct Shared {
    pool: MySqlPool,
    feed: ChangeFeed,
    stopping: CancellationToken,
    settings: LiveSettings,
    open: AtomicUsize,
    updates: broadcast::Sender<Arc<Update>>,
    /// This process committed a like.
    liked_here: Notify,
    /// Where a stream resumes from, as of the poller's last round.
    settled: AtomicU64,
    /// Whether the poller runs; held while a stream subscribes or the poller stops.
    poller: tokio::sync::Mutex<bool>,
}

/// Updates a stream may fall behind by before it is told to `resync`.
const BACKLOG: usize = 16;

impl Live {
    pub fn new(core: &Core, settings: LiveSettings) -> Self {
        Live {
            shared: Arc::new(Shared {
                pool: core.pool.clone(),
                feed: core.feed.clone(),
                stopping: core.stopping.clone(),
                settings,
                open: AtomicUsize::new(0),
                updates: broadcast::channel(BACKLOG).0,
                liked_here: Notify::new(),
                settled: AtomicU64::new(0),
                poller: tokio::sync::Mutex::new(false),
            }),
        }
    }

    /// After this process committed a like: the poller reads it without waiting for the
    /// feed.
    pub fn liked(&self) {
        self.shared.liked_here.notify_one();
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.shared.open.load(Ordering::Acquire)
    }

    /// The answer to `GET /flask/api/products/events` with `headers`.
    pub async fn respond(&self, headers: &HeaderMap) -> Response {
        let shared = &self.shared;
        if shared.stopping.is_cancelled() {
            return refuse("stopping", "The service is stopping; try again in a moment");
        }
        let Some(place) = Place::take(shared) else {
            return refuse("full", "Too many live streams open; try again later");
        };
        let updates = match self.subscribe().await {
            Ok(updates) => updates,
            Err(e) => {
                shop_runtime::db::note_error(&e);
                LIVE_STREAMS_REFUSED.increment(["database"]);
                return problem::database_error(&e);
            }
        };
        let last_id = headers
            .get("last-event-id")
            .map(|v| v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()));
        let (first, skip_before) = match last_id {
            None => {
                let id = shared.settled.load(Ordering::Acquire);
                (vec![frame::opening(shared.settings.retry, Some(id))], None)
            }
            Some(id) => {
                let started = Instant::now();
                let missed = self.missed_since(id).await;
                let opening = frame::opening(shared.settings.retry, None);
                (vec![opening, missed], Some(started))
            }
        };
        stream::respond(stream::Stream {
            first: first.into(),
            updates,
            skip_before,
            stopping: shared.stopping.clone(),
            heartbeat: shared.settings.heartbeat,
            settled: self.clone(),
            _place: place,
        })
    }

    /// A receiver of the updates, the poller started first when none runs.
    async fn subscribe(&self) -> Result<broadcast::Receiver<Arc<Update>>, sqlx::Error> {
        let shared = &self.shared;
        let mut running = shared.poller.lock().await;
        let updates = shared.updates.subscribe();
        if !*running {
            let newest = queries::newest_likes(&shared.pool, poller::START_WINDOW).await?;
            let tracker = Tracker::start(&newest, Instant::now());
            shared.settled.store(tracker.settled(), Ordering::Release);
            tokio::spawn(poller::run(shared.clone(), tracker));
            *running = true;
        }
        Ok(updates)
    }

    /// Where a stream resumes from now.
    fn settled(&self) -> u64 {
        self.shared.settled.load(Ordering::Acquire)
    }

    /// What changed since position `id` (a `Last-Event-ID`; `None` when it is not one): a
    /// `likes` event, nothing when nothing did, or `resync` when it cannot be told.
    async fn missed_since(&self, id: Option<u64>) -> Bytes {
        let resync = || {
            LIVE_EVENTS_SENT.increment(["resync"]);
            frame::resync(self.settled())
        };
        let Some(id) = id else {
            return resync();
        };
        match self.read_missed(id).await {
            Ok(Some(counts)) if counts.is_empty() => Bytes::new(),
            Ok(Some(counts)) => {
                LIVE_EVENTS_SENT.increment(["likes"]);
                frame::likes(id, &counts)
            }
            Ok(None) => resync(),
            Err(e) => {
                shop_runtime::db::note_error(&e);
                tracing::warn!(error = %e, "live counts: cannot read what a stream missed; telling it to resync");
                resync()
            }
        }
    }

    /// The counts of the products liked after `id`; `None` when more likes than the reach
    /// came since, or `id` is past the newest like (another database's, or made up).
    async fn read_missed(&self, id: u64) -> Result<Option<Vec<(u64, u64)>>, sqlx::Error> {
        let shared = &self.shared;
        let reach = shared.settings.reach;
        let rows = queries::likes_since(&shared.pool, id, &[], reach + 1).await?;
        if rows.len() > reach as usize {
            return Ok(None);
        }
        if rows.is_empty() {
            let newest = queries::newest_like(&shared.pool).await?;
            return Ok((id <= newest).then(Vec::new));
        }
        let mut products: Vec<u64> = rows.iter().map(|&(_, product)| product).collect();
        products.sort_unstable();
        products.dedup();
        Ok(Some(queries::counts_of(&shared.pool, &products).await?))
    }
}

/// `503` with the JSON error and `Retry-After`, counted by `reason`.
fn refuse(reason: &'static str, message: &str) -> Response {
    LIVE_STREAMS_REFUSED.increment([reason]);
    problem::retry_later(StatusCode::SERVICE_UNAVAILABLE, message, REFUSED_RETRY)
}

/// One of the `max_streams` places, given back when its stream ends.
#[derive(Debug)]
struct Place(Arc<Shared>);

impl Place {
    fn take(shared: &Arc<Shared>) -> Option<Place> {
        let max = shared.settings.max_streams;
        shared
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        LIVE_STREAMS_OPEN.add(shop_runtime::metrics::catalog::NO_LABELS, 1.0);
        Some(Place(shared.clone()))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
        LIVE_STREAMS_OPEN.add(shop_runtime::metrics::catalog::NO_LABELS, -1.0);
    }
}

#[cfg(test)]
mod tests;

/// Live like counts as Server-Sent Events (`text/event-stream`) for the whole shop:
/// `event: likes` with `id: <position>` and `data: [{"id": 12, "likes": 40}, …]`, the
/// current counts of the products liked since the last event (one event per 500 ms at
/// most); `event: resync` with `data: {}` when what was missed cannot be told (read the list
/// again); `: ping` every 15 s; `retry: 2000`. A reconnecting `EventSource` sends
/// `Last-Event-ID` and is told what changed meanwhile.
#[utoipa::path(get, path = "/flask/api/products/events", tag = "shop",
    params(("Last-Event-ID" = Option<String>, Header,
        description = "The `id` of the last event received: the stream starts with what changed since")),
    responses(
        (status = 200, description = "An endless event stream (`likes`, `resync`, `: ping`); it ends when the service stops, and the browser reconnects",
            content_type = "text/event-stream", body = String),
        (status = 503, description = "`LIVE_MAX_STREAMS` streams are open, the service is stopping, or the database did not answer",
            body = shop_runtime::problem::ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again")))))]
pub async fn events(
    axum::extract::State(live): axum::extract::State<Live>,
    headers: HeaderMap,
) -> Response {
    live.respond(&headers).await
}
