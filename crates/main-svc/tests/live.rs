//! Live like counts (`GET /flask/api/products/events`): router tests on a fresh database
//! each, reading the event stream as a client does. Likes come through the router (this
//! process's own) or straight into the database with a bump of the change feed (another
//! process's, as the version check or a notice tells it).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use main_svc::live::LiveSettings;
use main_svc::{AppState, router};
use serde_json::{Value, json};
use shop_runtime::lists::{Change, ChangeFeed};
use shop_runtime::service::Core;
use sqlx::MySqlPool;
use testkit::sse::{SseBuffer, SseEvent};
use tower::ServiceExt;

const EVENTS: &str = "/flask/api/products/events";

/// The shop over a feed only the test bumps, with live streams under `live`.
fn shop(pool: &MySqlPool, live: LiveSettings) -> (Router, AppState) {
    let mut core = Core::detached(pool.clone(), true);
    core.feed = ChangeFeed::new("test.changes".into());
    let state = AppState::detached(pool.clone());
    let state = AppState { core, ..state }.with_live(live);
    (router(state.clone()), state)
}

async fn seed(pool: &MySqlPool, ids: &[u64]) {
    for id in ids {
        sqlx::query(
            "INSERT INTO products (id, title, image, version) VALUES (?, 'P', '/i.png', 1)",
        )
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    }
}

/// A like by a new shopper, through the router.
async fn like(app: &Router, id: u64) {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/flask/api/products/{id}/like"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// A like committed by "another process": rows only, as its transaction writes them.
async fn like_elsewhere(pool: &MySqlPool, id: u64) {
    let mut tx = pool.begin().await.unwrap();
    like_in(&mut tx, id).await;
    tx.commit().await.unwrap();
}

async fn like_in(tx: &mut sqlx::MySqlConnection, id: u64) {
    let shopper = uuid::Uuid::new_v4().to_string();
    sqlx::query("INSERT INTO product_likes (product_id, shopper) VALUES (?, ?)")
        .bind(id)
        .bind(&shopper)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO product_like_counts (product_id, shard, likes) VALUES (?, 0, 1)
         ON DUPLICATE KEY UPDATE likes = likes + 1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
}

type Event = SseEvent;

/// The client end of one stream.
struct Stream {
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
    buf: SseBuffer,
    ended: bool,
}

async fn open(app: &Router, last_event_id: Option<&str>) -> Stream {
    let mut req = Request::get(EVENTS);
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = res.into_parts();
    Stream {
        status: parts.status,
        headers: parts.headers,
        body,
        buf: SseBuffer::default(),
        ended: false,
    }
}

impl Stream {
    /// The next event (or comment) within `within`; `None` when none came or the stream ended.
    async fn next(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(e) = self.buf.next_block() {
                return Some(e);
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return None,
                Ok(None) => self.ended = true,
                Ok(Some(frame)) => {
                    if let Ok(data) = frame.unwrap().into_data() {
                        self.buf.push(&data);
                    }
                }
            }
        }
    }

    /// The next `likes` or `resync` event within `within`, past comments.
    async fn next_event(&mut self, within: Duration) -> Option<Event> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let e = self.next(left).await?;
            if !e.event.is_empty() {
                return Some(e);
            }
        }
    }

    /// Whether the stream ends within `within`.
    async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while !self.ended && Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            self.next(left).await;
        }
        self.ended
    }
}

/// The opening of a stream that resumes nothing: `retry` and the position to resume from.
async fn opened(stream: &mut Stream) -> u64 {
    assert_eq!(stream.status, StatusCode::OK);
    assert_eq!(stream.headers[header::CONTENT_TYPE], "text/event-stream");
    assert_eq!(stream.headers[header::CACHE_CONTROL], "no-cache");
    assert_eq!(stream.headers["x-accel-buffering"], "no");
    let first = stream.next(Duration::from_secs(1)).await.unwrap();
    assert_eq!(first.retry.as_deref(), Some("2000"), "{first:?}");
    first.id.unwrap().parse().unwrap()
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn another_shoppers_like_arrives_within_a_second(pool: MySqlPool) {
    seed(&pool, &[1, 2]).await;
    let (app, _) = shop(&pool, LiveSettings::default());
    let mut stream = open(&app, None).await;
    assert_eq!(opened(&mut stream).await, 0);

    let start = Instant::now();
    like(&app, 2).await;
    let e = stream.next_event(Duration::from_secs(1)).await.unwrap();
    assert_eq!(e.event, "likes");
    assert_eq!(e.json(), json!([{"id": 2, "likes": 1}]));
    let id: u64 = e.id.unwrap().parse().unwrap();
    assert!(id >= 1, "{id}");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn likes_from_other_processes_arrive_and_late_commits_are_not_lost(pool: MySqlPool) {
    seed(&pool, &[1, 2, 3]).await;
    let (app, state) = shop(&pool, LiveSettings::default());
    let mut stream = open(&app, None).await;
    opened(&mut stream).await;

    // Another process's like: the feed's counts generation moves (version check or notice).
    like_elsewhere(&pool, 1).await;
    state.core.feed.seen(Change::Counts);
    let e = stream.next_event(Duration::from_secs(1)).await.unwrap();
    assert_eq!(e.json(), json!([{"id": 1, "likes": 1}]));

    // A like numbered first but committed last: the newer one comes at once, the older
    // when it commits, and the position stays below it meanwhile.
    let mut slow = pool.begin().await.unwrap();
    like_in(&mut slow, 2).await;
    like_elsewhere(&pool, 3).await;
    state.core.feed.seen(Change::Counts);
    let newer = stream.next_event(Duration::from_secs(1)).await.unwrap();
    assert_eq!(newer.json(), json!([{"id": 3, "likes": 1}]));
    let held: u64 = newer.id.unwrap().parse().unwrap();
    slow.commit().await.unwrap();
    let older = stream.next_event(Duration::from_secs(2)).await.unwrap();
    assert_eq!(older.json(), json!([{"id": 2, "likes": 1}]));
    let moved: u64 = older.id.unwrap().parse().unwrap();
    assert!(held < moved, "{held} then {moved}");
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn many_likes_in_an_interval_are_one_update_with_the_final_count(pool: MySqlPool) {
    seed(&pool, &[1]).await;
    let (app, _) = shop(&pool, LiveSettings::default());
    let mut stream = open(&app, None).await;
    opened(&mut stream).await;
    like(&app, 1).await;
    let first = stream.next_event(Duration::from_secs(1)).await.unwrap();
    assert_eq!(first.json(), json!([{"id": 1, "likes": 1}]));
    let first_at = Instant::now();

    // Twenty more at once, right after an update: the next round waits for the interval.
    let burst = Instant::now();
    let likes: Vec<_> = (0..20).map(|_| like(&app, 1)).collect();
    futures_util::future::join_all(likes).await;
    let burst = burst.elapsed();
    let second = stream.next_event(Duration::from_secs(2)).await.unwrap();
    let gap = first_at.elapsed();
    assert!(gap >= Duration::from_millis(400), "{gap:?}");
    if burst < Duration::from_millis(400) {
        assert_eq!(second.json(), json!([{"id": 1, "likes": 21}]), "{burst:?}");
        assert!(
            stream
                .next_event(Duration::from_millis(800))
                .await
                .is_none()
        );
    } else {
        // A slow machine: the burst spanned two intervals, still one update per interval.
        let last = match stream.next_event(Duration::from_millis(800)).await {
            Some(third) => third,
            None => second,
        };
        assert_eq!(last.json(), json!([{"id": 1, "likes": 21}]));
    }
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_stream_that_resumes_gets_what_it_missed(pool: MySqlPool) {
    seed(&pool, &[1, 2, 3]).await;
    let (app, _) = shop(&pool, LiveSettings::default());
    like(&app, 3).await;
    let mut stream = open(&app, None).await;
    let position = opened(&mut stream).await;
    drop(stream);

    like(&app, 1).await;
    like(&app, 1).await;
    like(&app, 2).await;
    let mut stream = open(&app, Some(&position.to_string())).await;
    assert_eq!(stream.status, StatusCode::OK);
    let first = stream.next(Duration::from_secs(1)).await.unwrap();
    assert_eq!((first.retry.as_deref(), &first.id), (Some("2000"), &None));
    let missed = stream.next_event(Duration::from_secs(1)).await.unwrap();
    assert_eq!(missed.event, "likes");
    assert_eq!(missed.id, Some(position.to_string()));
    assert_eq!(
        missed.json(),
        json!([{"id": 1, "likes": 2}, {"id": 2, "likes": 1}])
    );

    // Resuming from where everything was seen: nothing to tell, and no resync.
    let newest: u64 = sqlx::query_scalar("SELECT MAX(seq) FROM product_likes")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut stream = open(&app, Some(&newest.to_string())).await;
    stream.next(Duration::from_secs(1)).await.unwrap();
    assert_eq!(stream.next_event(Duration::from_millis(700)).await, None);
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn an_id_too_old_unknown_or_garbled_gets_resync(pool: MySqlPool) {
    seed(&pool, &[1]).await;
    let live = LiveSettings {
        reach: 5,
        ..LiveSettings::default()
    };
    let (app, _) = shop(&pool, live);
    for _ in 0..6 {
        like(&app, 1).await;
    }
    let newest: u64 = sqlx::query_scalar("SELECT MAX(seq) FROM product_likes")
        .fetch_one(&pool)
        .await
        .unwrap();
    let past_newest = (newest + 1000).to_string();
    for id in ["0", past_newest.as_str(), "abc", "-1", ""] {
        let mut stream = open(&app, Some(id)).await;
        assert_eq!(stream.status, StatusCode::OK, "{id:?}");
        let e = stream.next_event(Duration::from_secs(1)).await.unwrap();
        assert_eq!(
            (e.event.as_str(), e.data.as_str()),
            ("resync", "{}"),
            "{id:?}"
        );
        assert_eq!(e.id, Some(newest.to_string()), "{id:?}: resumable after");
    }
    // Within reach: the likes.
    let mut stream = open(&app, Some(&(newest - 5).to_string())).await;
    let e = stream.next_event(Duration::from_secs(1)).await.unwrap();
    assert_eq!(e.json(), json!([{"id": 1, "likes": 6}]));
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn past_the_cap_a_stream_is_503_with_retry_after(pool: MySqlPool) {
    let live = LiveSettings {
        max_streams: 2,
        ..LiveSettings::default()
    };
    let (app, state) = shop(&pool, live);
    let mut a = open(&app, None).await;
    let b = open(&app, None).await;
    opened(&mut a).await;
    assert_eq!(b.status, StatusCode::OK);
    assert_eq!(state.live.open_streams(), 2);

    let refused = open(&app, None).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers[header::RETRY_AFTER], "5");
    assert!(
        refused.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body = refused.body.collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body,
        json!({"error": "Too many live streams open; try again later"})
    );

    // A client that leaves frees its place.
    drop(b);
    assert_eq!(state.live.open_streams(), 1);
    let c = open(&app, None).await;
    assert_eq!(c.status, StatusCode::OK);
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn the_graceful_stop_ends_open_streams_at_once(pool: MySqlPool) {
    let (app, state) = shop(&pool, LiveSettings::default());
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut s = open(&app, None).await;
        opened(&mut s).await;
        streams.push(s);
    }
    let stop = Instant::now();
    state.core.stopping.cancel();
    for s in &mut streams {
        assert!(s.ends_within(Duration::from_millis(500)).await);
    }
    assert!(stop.elapsed() < Duration::from_millis(500));
    drop(streams);
    assert_eq!(state.live.open_streams(), 0);
    // A stream asked for while stopping is refused.
    let late = open(&app, None).await;
    assert_eq!(late.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(late.headers[header::RETRY_AFTER], "5");
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_quiet_stream_gets_a_heartbeat(pool: MySqlPool) {
    let live = LiveSettings {
        heartbeat: Duration::from_millis(200),
        ..LiveSettings::default()
    };
    let (app, _) = shop(&pool, live);
    let mut stream = open(&app, None).await;
    opened(&mut stream).await;
    for _ in 0..2 {
        let e = stream.next(Duration::from_millis(500)).await.unwrap();
        assert_eq!(e.comment.as_deref(), Some("ping"), "{e:?}");
    }
}

/// Connections in use in the pool (checked out).
fn in_use(pool: &MySqlPool) -> u32 {
    pool.size() - pool.num_idle() as u32
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn streams_hold_no_database_connection(pool: MySqlPool) {
    seed(&pool, &[1]).await;
    let (app, state) = shop(&pool, LiveSettings::default());
    like(&app, 1).await;
    let mut streams = Vec::new();
    for i in 0..20 {
        // Half of them resume, which reads the database before the answer starts.
        let mut s = open(&app, (i % 2 == 0).then_some("0")).await;
        s.next(Duration::from_secs(1)).await.unwrap();
        streams.push(s);
    }
    like(&app, 1).await;
    for s in &mut streams {
        let e = s.next_event(Duration::from_secs(2)).await.unwrap();
        assert_eq!(e.event, "likes");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(in_use(&pool), 0, "while 20 streams are open");
    assert_eq!(state.live.open_streams(), 20);
    drop(streams);
    assert_eq!(state.live.open_streams(), 0);
    // The poller stops with the last stream; nothing stays checked out.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(in_use(&pool), 0, "after the streams closed");
}
