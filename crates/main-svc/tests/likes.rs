//! The like batcher's rules (crates/main-svc/src/likes), on a fresh MariaDB database each:
//! per-request outcomes, a poisoned like in a batch, a hang-up mid-batch, shutdown with
//! likes queued.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use events::{Event, TraceContext};
use futures_util::future::join_all;
use main_svc::likes::batch::run_batch;
use main_svc::likes::{Committer, Like, LikeBatchSettings, LikeEvents, Likes};
use main_svc::{AppState, error::ApiError, router};
use sqlx::{Connection, MySqlPool};
use tower::ServiceExt;

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

fn committer(pool: &MySqlPool) -> Committer {
    let state = AppState::detached(pool.clone());
    Committer {
        core: state.core,
        list: state.list,
        live: state.live,
        events: LikeEvents::Batch,
    }
}

fn like(product: u64, shopper: &str) -> Like {
    Like {
        product,
        shopper: shopper.to_owned(),
        trace: TraceContext::generate(),
    }
}

fn shopper(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Per product: (count shards' sum, like rows, likes in the outbox's events of both kinds).
async fn tally(pool: &MySqlPool) -> BTreeMap<u64, (u64, u64, u64)> {
    let mut out: BTreeMap<u64, (u64, u64, u64)> = BTreeMap::new();
    let counts: Vec<(u64, u64)> = sqlx::query_as(
        "SELECT product_id, CAST(SUM(likes) AS UNSIGNED) FROM product_like_counts GROUP BY product_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (id, n) in counts {
        out.entry(id).or_default().0 = n;
    }
    let rows: Vec<(u64, i64)> =
        sqlx::query_as("SELECT product_id, COUNT(*) FROM product_likes GROUP BY product_id")
            .fetch_all(pool)
            .await
            .unwrap();
    for (id, n) in rows {
        out.entry(id).or_default().1 = n as u64;
    }
    let events: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT content_type, body FROM outbox ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    for (kind, body) in events {
        match Event::decode(&kind, &body).unwrap() {
            Event::ProductLiked(id) => out.entry(id).or_default().2 += 1,
            Event::ProductsLiked(likes) => {
                for l in likes {
                    out.entry(l.id).or_default().2 += l.count;
                }
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    out
}

fn assert_whole(tally: &BTreeMap<u64, (u64, u64, u64)>) {
    for (id, (count, rows, events)) in tally {
        assert!(
            count == rows && rows == events,
            "product {id}: count {count}, rows {rows}, events {events}"
        );
    }
}

async fn outbox_kinds(pool: &MySqlPool) -> Vec<String> {
    sqlx::query_scalar("SELECT content_type FROM outbox ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// One batch: its likes in one transaction with one `products_liked` event; each like its
/// own verdict (a pair liked before, a pair twice in the batch, an unknown and a deleted
/// product).
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_batch_commits_once_with_one_event_and_each_like_its_outcome(pool: MySqlPool) {
    seed(&pool, &[1, 2, 3]).await;
    sqlx::query("UPDATE products SET deleted_at = NOW(6) WHERE id = 3")
        .execute(&pool)
        .await
        .unwrap();
    let c = committer(&pool);
    let (_, before) = run_batch(&c, &[&like(1, &shopper(1))], None).await;
    assert!(before[0].is_ok());
    let likes = [
        like(1, &shopper(1)), // liked before
        like(1, &shopper(2)),
        like(2, &shopper(2)),
        like(1, &shopper(3)),
        like(2, &shopper(2)), // the same pair again in the batch
        like(404, &shopper(4)),
        like(3, &shopper(4)), // deleted
    ];
    let refs: Vec<&Like> = likes.iter().collect();
    let (label, outcomes) = run_batch(&c, &refs, None).await;
    assert_eq!(label, "committed");
    let got: Vec<&str> = outcomes
        .iter()
        .map(|o| match o {
            Ok(()) => "ok",
            Err(ApiError::AlreadyLiked) => "already",
            Err(ApiError::ProductNotFound) => "404",
            Err(e) => panic!("{e}"),
        })
        .collect();
    assert_eq!(got, ["already", "ok", "ok", "ok", "already", "404", "404"]);
    assert_eq!(
        outbox_kinds(&pool).await,
        ["products_liked", "products_liked"]
    );
    let body: Vec<u8> = sqlx::query_scalar("SELECT body FROM outbox ORDER BY id DESC LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        body,
        br#"{"likes":[{"id":1,"count":2},{"id":2,"count":1}]}"#
    );
    let t = tally(&pool).await;
    assert_whole(&t);
    assert_eq!(t[&1].0, 3);
    assert_eq!(t[&2].0, 1);
}

/// A like whose row another transaction inserts meanwhile (another replica racing: the
/// batch did not see it, its insert waits on it, then fails with a duplicate key) fails the
/// batch, which is rolled back and run one like at a time: the conflicting like is answered
/// 400 alone, the others commit with their own outcomes, each with its single
/// `product_liked` event.
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_poisoned_like_fails_alone(pool: MySqlPool) {
    seed(&pool, &[1, 2]).await;
    // The racing like, whole (row, count, event), not committed yet.
    let mut racer = pool.acquire().await.unwrap();
    sqlx::query("BEGIN").execute(&mut *racer).await.unwrap();
    for sql in [
        "INSERT INTO product_likes (product_id, shopper) VALUES (1, '00000000-0000-4000-8000-000000000009')",
        "INSERT INTO product_like_counts (product_id, shard, likes) VALUES (1, 0, 1)",
    ] {
        sqlx::query(sql).execute(&mut *racer).await.unwrap();
    }
    let raced = events::OutgoingMessage::new(&Event::ProductLiked(1), None);
    shop_runtime::outbox::enqueue(&mut racer, &raced)
        .await
        .unwrap();

    let c = committer(&pool);
    let batch = tokio::spawn(async move {
        let likes = [
            like(1, &shopper(1)),
            like(1, &shopper(9)), // the racer's
            like(2, &shopper(1)),
            like(2, &shopper(1)),
            like(7, &shopper(2)),
        ];
        let refs: Vec<&Like> = likes.iter().collect();
        run_batch(&c, &refs, None).await
    });
    // Commit the racer once the batch's insert runs (it then waits for the racer's row, or
    // finds it committed: a duplicate key either way).
    let waiting = "SELECT COUNT(*) FROM information_schema.PROCESSLIST
        WHERE DB = DATABASE() AND INFO LIKE 'INSERT INTO product_likes (product_id, shopper) VALUES%'";
    // On a connection of its own: the test's pool may have none left.
    let mut watcher = sqlx::ConnectOptions::connect(&*pool.connect_options())
        .await
        .unwrap();
    while sqlx::query_scalar::<_, i64>(waiting)
        .fetch_one(&mut watcher)
        .await
        .unwrap()
        == 0
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    watcher.close().await.unwrap();
    sqlx::query("COMMIT").execute(&mut *racer).await.unwrap();
    let (label, outcomes) = batch.await.unwrap();
    assert_eq!(label, "one_by_one");
    assert!(outcomes[0].is_ok(), "{:?}", outcomes[0]);
    assert!(
        matches!(outcomes[1], Err(ApiError::AlreadyLiked)),
        "{:?}",
        outcomes[1]
    );
    assert!(outcomes[2].is_ok());
    assert!(matches!(outcomes[3], Err(ApiError::AlreadyLiked)));
    assert!(matches!(outcomes[4], Err(ApiError::ProductNotFound)));
    assert_eq!(
        outbox_kinds(&pool).await,
        ["product_liked", "product_liked", "product_liked"]
    );
    let t = tally(&pool).await;
    assert_whole(&t);
    assert_eq!((t[&1].0, t[&2].0), (2, 1));
}

async fn post_like(app: &Router, id: u64, cookie: Option<String>) -> (StatusCode, bool) {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(format!("/flask/api/products/{id}/like"));
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    (res.status(), res.headers().contains_key(header::SET_COOKIE))
}

/// Many concurrent likes through the API, batched as they come: each request gets the
/// answer a like alone gets, and counts, rows and events agree.
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn concurrent_likes_get_their_own_outcomes(pool: MySqlPool) {
    seed(&pool, &[1, 2, 3, 4, 5]).await;
    sqlx::query("UPDATE products SET deleted_at = NOW(6) WHERE id = 5")
        .execute(&pool)
        .await
        .unwrap();
    let app = router(AppState::detached(pool.clone()));
    let known = format!("shopper_id={}", shopper(1));
    assert_eq!(
        post_like(&app, 1, Some(known.clone())).await.0,
        StatusCode::OK
    );
    let mut calls = Vec::new();
    for n in 0..120u64 {
        calls.push((1 + n % 4, None, StatusCode::OK));
    }
    calls.push((1, Some(known.clone()), StatusCode::BAD_REQUEST));
    let twice = format!("shopper_id={}", shopper(2));
    calls.push((2, Some(twice.clone()), StatusCode::OK));
    calls.push((2, Some(twice.clone()), StatusCode::OK));
    calls.push((5, None, StatusCode::NOT_FOUND));
    calls.push((77, None, StatusCode::NOT_FOUND));
    let answers = join_all(
        calls
            .iter()
            .map(|(id, cookie, _)| post_like(&app, *id, cookie.clone())),
    )
    .await;
    let mut twice_answers = Vec::new();
    for ((id, cookie, want), (got, set_cookie)) in calls.iter().zip(&answers) {
        if cookie.as_deref() == Some(twice.as_str()) {
            twice_answers.push(*got);
            continue;
        }
        assert_eq!(got, want, "like of {id} with {cookie:?}");
        // The cookie rule: a new shopper gets one only when the like counted.
        assert_eq!(*set_cookie, cookie.is_none() && *got == StatusCode::OK);
    }
    twice_answers.sort();
    assert_eq!(twice_answers, [StatusCode::OK, StatusCode::BAD_REQUEST]);
    let t = tally(&pool).await;
    assert_whole(&t);
    assert_eq!(t[&1].0, 31);
    assert_eq!(t[&2].0, 31);
    assert_eq!((t[&3].0, t[&4].0), (30, 30));
    assert!(!t.contains_key(&5));
}

/// Holds product `id`'s row locked until the returned connection rolls back, so that a
/// batch liking it waits: the likes behind it queue in the channel.
async fn hold(pool: &MySqlPool, id: u64) -> sqlx::pool::PoolConnection<sqlx::MySql> {
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
    sqlx::query("SELECT id FROM products WHERE id = ? FOR UPDATE")
        .bind(id)
        .execute(&mut *conn)
        .await
        .unwrap();
    conn
}

async fn release(mut conn: sqlx::pool::PoolConnection<sqlx::MySql>) {
    sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
    conn.close().await.unwrap();
}

/// A caller that hangs up while its like is queued or committing changes nothing: the like
/// commits whole (row, count and event), or would not at all.
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_like_whose_caller_hangs_up_mid_batch_commits_whole(pool: MySqlPool) {
    seed(&pool, &[1]).await;
    let (likes, task) = Likes::start(committer(&pool), LikeBatchSettings::default());
    let lock = hold(&pool, 1).await;
    for n in 0..5 {
        let gone =
            tokio::time::timeout(Duration::from_millis(100), likes.like(like(1, &shopper(n))))
                .await;
        assert!(gone.is_err(), "the like waited for the lock");
    }
    release(lock).await;
    drop(likes);
    task.await.unwrap();
    let t = tally(&pool).await;
    assert_whole(&t);
    assert_eq!(t[&1].0, 5);
}

/// Likes queued when the batcher's last handle goes (the server has stopped taking
/// requests) are all committed and answered before it ends.
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn shutdown_commits_and_answers_the_likes_queued(pool: MySqlPool) {
    seed(&pool, &[1, 2]).await;
    let settings = LikeBatchSettings {
        in_flight: 1,
        ..LikeBatchSettings::default()
    };
    let (likes, task) = Likes::start(committer(&pool), settings);
    let lock = hold(&pool, 1).await;
    let waiting: Vec<_> = (0..60)
        .map(|n| {
            let likes = likes.clone();
            tokio::spawn(async move { likes.like(like(1 + u64::from(n % 2), &shopper(n))).await })
        })
        .collect();
    drop(likes);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!task.is_finished(), "likes are queued behind the lock");
    release(lock).await;
    for w in waiting {
        assert!(matches!(w.await.unwrap(), Ok(Ok(()))));
    }
    task.await.unwrap();
    let t = tally(&pool).await;
    assert_whole(&t);
    assert_eq!((t[&1].0, t[&2].0), (30, 30));
}

/// With `LIKE_EVENTS=single` (while an admin-consumer older than the batch event may run) a
/// batch still commits once, with the original's `product_liked` per like.
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn single_events_for_older_consumers(pool: MySqlPool) {
    seed(&pool, &[1, 2]).await;
    let c = Committer {
        events: LikeEvents::Single,
        ..committer(&pool)
    };
    let likes = [
        like(1, &shopper(1)),
        like(1, &shopper(2)),
        like(2, &shopper(1)),
    ];
    let refs: Vec<&Like> = likes.iter().collect();
    let (label, outcomes) = run_batch(&c, &refs, None).await;
    assert_eq!(label, "committed");
    assert!(outcomes.iter().all(Result::is_ok));
    assert_eq!(outbox_kinds(&pool).await, ["product_liked"; 3]);
    assert_whole(&tally(&pool).await);
    let env = shop_runtime::Env::from_pairs([("LIKE_EVENTS", "single")]);
    let settings = LikeBatchSettings::from_env(&env).unwrap();
    assert_eq!(settings.events, LikeEvents::Single);
    let env = shop_runtime::Env::from_pairs([("LIKE_EVENTS", "many")]);
    assert!(LikeBatchSettings::from_env(&env).is_err());
}
