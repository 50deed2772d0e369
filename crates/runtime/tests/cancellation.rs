//! Work dropped half way must never leave a pool connection in a state nobody tracks: these
//! tests cancel database futures at the worst moments, on the real MariaDB, and check that
//! every connection comes back to the pool usable, outside any transaction, and promptly.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::post;
use shop_runtime::Env;
use shop_runtime::settings::DatabaseSettings;
use sqlx::{Connection, Executor, MySqlPool};
use testkit::TestDatabase;
use tokio::sync::Notify;
use tower::ServiceExt;

async fn pool(db: &TestDatabase, max: u32) -> MySqlPool {
    let url = db.url();
    let max = max.to_string();
    let env = Env::from_pairs([
        ("DATABASE_URL", url.as_str()),
        ("DB_MAX_CONNECTIONS", max.as_str()),
        ("DB_ACQUIRE_TIMEOUT_MS", "5000"),
    ]);
    // Counters recorded before the recorder exists are lost.
    shop_runtime::metrics::handle();
    let settings = DatabaseSettings::from_env(&env, "unused").unwrap();
    shop_runtime::db::connect(&settings, Duration::from_secs(10))
        .await
        .unwrap()
}

/// Waits until every connection is back in the pool; panics naming how many are not.
async fn all_returned(pool: &MySqlPool) {
    testkit::eventually(
        Duration::from_secs(5),
        "every connection back in the pool",
        || async {
            let (size, idle) = (pool.size() as usize, pool.num_idle());
            testkit::seen(format!("{idle} idle of {size}"), |_| size == idle)
        },
    )
    .await;
}

/// Every connection of the pool, taken at once: each must be outside a transaction and
/// answer in step.
async fn assert_connections_clean(pool: &MySqlPool) {
    let mut held = Vec::new();
    for _ in 0..pool.size() {
        let mut conn = pool.acquire().await.unwrap();
        let (echo, open): (i64, i64) = sqlx::query_as("SELECT ?, CAST(@@in_transaction AS SIGNED)")
            .bind(41_i64)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!((echo, open), (41, 0), "a pooled connection is clean");
        held.push(conn);
    }
}

/// Polls `fut` exactly once, then drops it: the cancellation a disconnected client causes.
async fn poll_once_then_drop<F: Future>(fut: F) {
    let _ = tokio::time::timeout(Duration::ZERO, fut).await;
}

#[tokio::test]
async fn begin_cancelled_after_it_was_sent_leaves_no_transaction_behind() {
    let db = TestDatabase::named("rt_cancel_begin");
    let pool = pool(&db, 2).await;
    sqlx::raw_sql("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::raw_sql("INSERT INTO t VALUES (1, 0)")
        .execute(&pool)
        .await
        .unwrap();
    for _ in 0..20 {
        // The first poll sends BEGIN and waits for its answer; dropped there, sqlx does not
        // know a transaction is open on the server.
        poll_once_then_drop(pool.begin()).await;
    }
    all_returned(&pool).await;
    assert_connections_clean(&pool).await;

    // A connection stuck in an old transaction would read an old snapshot.
    for v in 1..=20 {
        sqlx::query("UPDATE t SET v = ? WHERE id = 1")
            .bind(v)
            .execute(&pool)
            .await
            .unwrap();
        let seen: i32 = sqlx::query_scalar("SELECT v FROM t WHERE id = 1")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(seen, v, "every read sees the latest write");
    }
    pool.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn queries_cancelled_mid_prepare_do_not_leak_the_connection() {
    let db = TestDatabase::named("rt_cancel_prepare");
    let pool = pool(&db, 2).await;
    for i in 0..30_i64 {
        // A statement new to the connection: the first poll sends COM_STMT_PREPARE and waits;
        // dropped there, sqlx still expects the reply of a query it never sent.
        let sql = format!("SELECT ? + {i}");
        poll_once_then_drop(sqlx::query(&sql).bind(1_i64).fetch_one(&pool)).await;
        // And a transaction dropped between statements.
        let mut tx = pool.begin().await.unwrap();
        poll_once_then_drop(
            sqlx::query(&format!("SELECT ? * {i}"))
                .bind(2_i64)
                .execute(&mut *tx),
        )
        .await;
        drop(tx);
    }
    all_returned(&pool).await;
    assert_connections_clean(&pool).await;
    // The pool still serves every request; before the guard it wedged at max_connections.
    for i in 0..50_i64 {
        let n: i64 = sqlx::query_scalar("SELECT ?")
            .bind(i)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, i);
    }
    tokio::time::timeout(Duration::from_secs(5), pool.close())
        .await
        .expect("the pool closes: no connection is held for good");
    db.drop_database().await;
}

#[tokio::test]
async fn a_connection_left_waiting_on_a_slow_query_is_released_or_closed_in_bounded_time() {
    let db = TestDatabase::named("rt_cancel_slow");
    let pool = pool(&db, 1).await;
    // Dropped while the server still works on it: the answer comes after the release
    // check's time limit, so the connection is closed rather than handed out.
    poll_once_then_drop(sqlx::raw_sql("SELECT SLEEP(10)").execute(&pool)).await;
    let n: i64 = tokio::time::timeout(
        Duration::from_secs(5),
        sqlx::query_scalar("SELECT 7").fetch_one(&pool),
    )
    .await
    .expect("the pool hands out a connection again within the check's time limit")
    .unwrap();
    assert_eq!(n, 7);
    pool.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_request_whose_client_hangs_up_still_runs_to_its_end() {
    let db = TestDatabase::named("rt_cancel_http");
    let pool = pool(&db, 2).await;
    sqlx::raw_sql("CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT)")
        .execute(&pool)
        .await
        .unwrap();
    let finished = Arc::new(AtomicBool::new(false));
    // The handler says when it is inside its transaction, and waits there for `go`.
    let (inside, go) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let app = {
        let pool = pool.clone();
        let (finished, inside, go) = (finished.clone(), inside.clone(), go.clone());
        shop_runtime::http::with_middleware(
            Router::new().route(
                "/write",
                post(move || async move {
                    let mut tx = pool.begin().await.unwrap();
                    tx.execute("INSERT INTO t () VALUES ()").await.unwrap();
                    inside.notify_one();
                    go.notified().await;
                    tx.execute("INSERT INTO t () VALUES ()").await.unwrap();
                    tx.commit().await.unwrap();
                    finished.store(true, Ordering::SeqCst);
                }),
            ),
            &Default::default(),
        )
    };
    let request = Request::post("/write").body(Body::empty()).unwrap();
    // The client leaves while the handler is inside its transaction (not before it began,
    // however slow the machine: it waits for the handler to say so).
    let answer = app.oneshot(request);
    tokio::select! {
        () = inside.notified() => {}
        answered = answer => panic!("answered before the handler went on: {answered:?}"),
    }
    go.notify_one();
    testkit::eventually(Duration::from_secs(5), "the handler finishes", || async {
        finished.load(Ordering::SeqCst).then_some(())
    })
    .await;
    all_returned(&pool).await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 2, "the transaction committed whole");
    let metrics = shop_runtime::metrics::handle().render();
    assert!(
        metrics.contains(r#"http_requests_abandoned_total{method="POST",route="/write"} 1"#),
        "the hang-up is counted:\n{metrics}"
    );
    pool.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_connection_is_usable_after_a_direct_begin_on_it() {
    // What a connection looks like when something bypasses sqlx's transaction tracking.
    let db = TestDatabase::named("rt_cancel_raw");
    let pool = pool(&db, 1).await;
    {
        let mut conn = pool.acquire().await.unwrap();
        conn.execute("BEGIN").await.unwrap();
        conn.ping().await.unwrap();
    }
    all_returned(&pool).await;
    assert_connections_clean(&pool).await;
    let metrics = shop_runtime::metrics::handle().render();
    assert!(
        metrics
            .lines()
            .filter_map(
                |l| l.strip_prefix(r#"db_transactions_rolled_back_total{reason="abandoned"} "#)
            )
            .any(|v| v.parse::<f64>().is_ok_and(|n| n > 0.0)),
        "the rollback is counted:\n{metrics}"
    );
    pool.close().await;
    db.drop_database().await;
}
