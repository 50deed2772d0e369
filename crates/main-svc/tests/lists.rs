//! The shop's list served from memory: what makes it fresh, encodings, revalidation, paging;
//! and the 503 of a full waiting room. Router tests on a fresh database each, over a live
//! change feed that only the test bumps (no broker: a notice is `feed.seen`).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use main_svc::limits::LikeLimitSettings;
use main_svc::{AppState, router};
use serde_json::Value;
use shop_runtime::http::admission::Admission;
use shop_runtime::lists::{Change, ChangeFeed};
use shop_runtime::service::Core;
use sqlx::MySqlPool;
use tower::ServiceExt;

/// No like limits: they have tests of their own.
const NO_LIMITS: LikeLimitSettings = LikeLimitSettings {
    per_address_per_minute: 0,
    per_shopper_per_minute: 0,
};

/// The shop over a feed nothing but the test bumps; like counts from elsewhere may be
/// `max_age` late.
fn cached_app(pool: &MySqlPool, max_age: Duration) -> (Router, ChangeFeed) {
    let mut core = Core::detached(pool.clone(), true);
    core.feed = ChangeFeed::new("test.changes".into());
    core.lists.counts_max_age = max_age;
    let feed = core.feed.clone();
    (router(AppState::new(core, NO_LIMITS, false)), feed)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    raw: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.raw).unwrap_or(Value::Null)
    }

    fn ids(&self) -> Vec<u64> {
        self.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_u64().unwrap())
            .collect()
    }

    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

async fn get(app: &Router, uri: &str, headers: &[(header::HeaderName, &str)]) -> Answer {
    let mut req = Request::get(uri);
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let raw = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer {
        status,
        headers,
        raw,
    }
}

async fn list(app: &Router) -> Answer {
    get(app, "/flask/api/products", &[]).await
}

async fn like(app: &Router, id: u64) -> StatusCode {
    let req = Request::post(format!("/flask/api/products/{id}/like"))
        .body(Body::empty())
        .unwrap();
    app.clone().oneshot(req).await.unwrap().status()
}

async fn seed(pool: &MySqlPool, id: u64) {
    sqlx::query("INSERT INTO products (id, title, image, version) VALUES (?, ?, '/i.png', 1)")
        .bind(id)
        .bind(format!("Product {id}"))
        .execute(pool)
        .await
        .unwrap();
}

fn likes(answer: &Answer, id: u64) -> u64 {
    answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap()["likes"]
        .as_u64()
        .unwrap()
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn the_list_is_served_from_memory_until_a_change_notice(pool: MySqlPool) {
    let (app, feed) = cached_app(&pool, Duration::from_secs(3600));
    seed(&pool, 1).await;
    let first = list(&app).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.ids(), [1]);
    let etag = first.header(header::ETAG).unwrap().to_owned();
    assert_eq!(first.header(header::CACHE_CONTROL), Some("no-cache"));
    assert_eq!(first.header(header::VARY), Some("Accept-Encoding"));

    // A row written behind the process's back, without a notice: not read again.
    seed(&pool, 2).await;
    let again = list(&app).await;
    assert_eq!(again.ids(), [1], "served from memory");
    let revalidated = get(
        &app,
        "/flask/api/products",
        &[(header::IF_NONE_MATCH, etag.as_str())],
    )
    .await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
    assert!(revalidated.raw.is_empty());
    assert_eq!(revalidated.header(header::ETAG), Some(etag.as_str()));

    // The notice: the very next answer has the new product, under a new tag.
    feed.seen(Change::Catalogue);
    let fresh = get(
        &app,
        "/flask/api/products",
        &[(header::IF_NONE_MATCH, etag.as_str())],
    )
    .await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert_eq!(fresh.ids(), [1, 2]);
    assert_ne!(fresh.header(header::ETAG), Some(etag.as_str()));
}

/// `n` list requests sent at once; their answers, each within 10 s (none left waiting).
async fn readers_at_once(app: &Router, n: usize) -> Vec<Answer> {
    let readers: Vec<_> = (0..n)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { list(&app).await })
        })
        .collect();
    let mut answers = Vec::with_capacity(n);
    for reader in readers {
        let answer = tokio::time::timeout(Duration::from_secs(10), reader)
            .await
            .expect("every reader answered, none left waiting")
            .unwrap();
        answers.push(answer);
    }
    answers
}

/// Many readers at once after a change: each is answered by a rebuild read after it
/// arrived (they wait for one together, not each for a lock in turn), and when the rebuild
/// fails every one of them is answered with its error rather than left waiting.
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn readers_waiting_for_a_rebuild_are_all_answered_by_it_or_by_its_failure(pool: MySqlPool) {
    let (app, feed) = cached_app(&pool, Duration::from_secs(3600));
    seed(&pool, 1).await;
    assert_eq!(list(&app).await.ids(), [1]);

    seed(&pool, 2).await;
    feed.seen(Change::Catalogue);
    for answer in readers_at_once(&app, 50).await {
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.ids(), [1, 2], "read after the change");
    }

    // The database goes away: a change's rebuild fails, and all waiting readers hear it.
    pool.close().await;
    feed.seen(Change::Catalogue);
    for answer in readers_at_once(&app, 20).await {
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(answer.json()["error"], "Internal server error");
    }
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn own_likes_show_at_once_and_others_within_the_max_age(pool: MySqlPool) {
    let max_age = Duration::from_millis(300);
    let (app, feed) = cached_app(&pool, max_age);
    seed(&pool, 1).await;
    assert_eq!(likes(&list(&app).await, 1), 0);
    assert_eq!(like(&app, 1).await, StatusCode::OK);
    assert_eq!(
        likes(&list(&app).await, 1),
        1,
        "this process's like, at once"
    );

    // Another replica's like: its count moves in the database and a version check
    // notices. Within the max age the held list may still be served; after it, not.
    sqlx::query("INSERT INTO product_like_counts (product_id, shard, likes) VALUES (1, 15, 1) ON DUPLICATE KEY UPDATE likes = likes + 1")
        .execute(&pool)
        .await
        .unwrap();
    feed.seen(Change::Counts);
    tokio::time::sleep(max_age + Duration::from_millis(50)).await;
    // The first request past the max age rebuilds; any answer after that has it.
    let _ = list(&app).await;
    assert_eq!(likes(&list(&app).await, 1), 2);
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn lists_are_compressed_when_the_client_accepts_it(pool: MySqlPool) {
    let (app, _feed) = cached_app(&pool, Duration::from_secs(1));
    for id in 1..=100 {
        seed(&pool, id).await;
    }
    let plain = list(&app).await;
    assert_eq!(plain.header(header::CONTENT_ENCODING), None);
    assert_eq!(plain.header(header::CONTENT_TYPE), Some("application/json"));
    assert_eq!(plain.ids().len(), 100);

    let br = get(
        &app,
        "/flask/api/products",
        &[(header::ACCEPT_ENCODING, "gzip, deflate, br")],
    )
    .await;
    assert_eq!(br.header(header::CONTENT_ENCODING), Some("br"));
    let mut out = Vec::new();
    brotli_decompress(&br.raw, &mut out);
    assert_eq!(out, plain.raw);
    assert!(br.raw.len() * 4 < plain.raw.len(), "a list compresses well");

    let gz = get(
        &app,
        "/flask/api/products",
        &[(header::ACCEPT_ENCODING, "gzip")],
    )
    .await;
    assert_eq!(gz.header(header::CONTENT_ENCODING), Some("gzip"));
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz.raw[..]), &mut out).unwrap();
    assert_eq!(out, plain.raw);
    // Each encoding has its own tag; any of them revalidates.
    assert_ne!(gz.header(header::ETAG), plain.header(header::ETAG));
    let tag = gz.header(header::ETAG).unwrap();
    let again = get(&app, "/flask/api/products", &[(header::IF_NONE_MATCH, tag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

fn brotli_decompress(input: &[u8], out: &mut Vec<u8>) {
    let mut reader = brotli::Decompressor::new(input, 4096);
    std::io::Read::read_to_end(&mut reader, out).unwrap();
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn pages_in_id_order_with_a_link_to_the_next(pool: MySqlPool) {
    let (app, _feed) = cached_app(&pool, Duration::from_secs(1));
    for id in [1, 2, 3, 5, 8] {
        seed(&pool, id).await;
    }
    let page = get(&app, "/flask/api/products?limit=2", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.ids(), [1, 2]);
    assert_eq!(
        page.header(header::LINK),
        Some("</flask/api/products?after=2&limit=2>; rel=\"next\"")
    );
    let next = get(&app, "/flask/api/products?after=2&limit=2", &[]).await;
    assert_eq!(next.ids(), [3, 5]);
    let last = get(&app, "/flask/api/products?after=5&limit=2", &[]).await;
    assert_eq!(last.ids(), [8]);
    assert_eq!(last.header(header::LINK), None);
    let past = get(&app, "/flask/api/products?after=8", &[]).await;
    assert_eq!(past.ids(), Vec::<u64>::new());
    // Other parameters change nothing: the whole list, as before.
    let whole = get(&app, "/flask/api/products?utm_source=x", &[]).await;
    assert_eq!(whole.ids(), [1, 2, 3, 5, 8]);

    for (query, message) in [
        ("limit=0", "limit must be a whole number from 1 to 1000"),
        ("limit=1001", "limit must be a whole number from 1 to 1000"),
        ("limit=abc", "limit must be a whole number from 1 to 1000"),
        ("limit=-5", "limit must be a whole number from 1 to 1000"),
        (
            "after=-1",
            "after must be a product id: a whole number, 0 or more",
        ),
        (
            "after=1e3",
            "after must be a product id: a whole number, 0 or more",
        ),
    ] {
        let bad = get(&app, &format!("/flask/api/products?{query}"), &[]).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(bad.json()["error"], message, "{query}");
    }
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn likes_beyond_the_waiting_room_are_503_at_once(pool: MySqlPool) {
    let mut core = Core::detached(pool.clone(), true);
    // One request at a time may use the database, and none may wait.
    core.admission = Admission::new(1, 0);
    let app = router(AppState::new(core, NO_LIMITS, false));
    seed(&pool, 1).await;
    let attempts = 40;
    let answers = futures_util::future::join_all((0..attempts).map(|_| async {
        let req = Request::post("/flask/api/products/1/like")
            .body(Body::empty())
            .unwrap();
        app.clone().oneshot(req).await.unwrap()
    }))
    .await;
    let mut ok = 0;
    let mut shed = 0;
    for res in answers {
        match res.status() {
            StatusCode::OK => ok += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                shed += 1;
                assert_eq!(res.headers()[header::RETRY_AFTER], "1");
                let body = res.into_body().collect().await.unwrap().to_bytes();
                let body: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(body["error"], "The service is busy; try again in a moment");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok + shed, attempts);
    assert!(ok >= 1 && shed >= 1, "{ok} accepted, {shed} shed");
    // Every accepted like counted, nothing of a shed one.
    let counted: u64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(likes), 0) AS UNSIGNED) FROM product_like_counts WHERE product_id = 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(counted, ok);
    // The list is served from memory: never shed.
    let app_list = list(&app).await;
    assert_eq!(app_list.status, StatusCode::OK);
}

/// Mirrors `title` as product `id` the way main-consumer does (the search index included).
async fn mirror(pool: &MySqlPool, id: u64, title: &str) {
    let mut tx = pool.begin().await.unwrap();
    let p = events::ProductState {
        id,
        title: title.to_owned(),
        image: "/i.png".to_owned(),
        likes: 0,
        version: Some(1),
    };
    main_svc::db::insert_mirror(&mut tx, &p).await.unwrap();
    tx.commit().await.unwrap();
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_search_pages_in_id_order_with_links_that_keep_it(pool: MySqlPool) {
    let (app, feed) = cached_app(&pool, Duration::from_secs(3600));
    for (id, title) in [
        (1, "Blue Widget"),
        (2, "Red Lamp"),
        (3, "Café bleu"),
        (4, "Widgets, blue"),
        (5, "blueberry"),
    ] {
        mirror(&pool, id, title).await;
    }
    let a = get(&app, "/flask/api/products?q=BLUE&limit=2", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.ids(), [1, 4]);
    let next = a.header(header::LINK).unwrap();
    assert_eq!(
        next,
        "</flask/api/products?q=blue&after=4&limit=2>; rel=\"next\""
    );
    let a = get(&app, "/flask/api/products?q=blue&after=4&limit=2", &[]).await;
    assert_eq!(a.ids(), [5]);
    assert_eq!(a.header(header::LINK), None, "the last page");
    // The products are the list's own (likes included), and the whole word rule holds.
    assert_eq!(a.json()[0]["title"], "blueberry");
    let a = get(&app, "/flask/api/products?q=blue+widget", &[]).await;
    assert_eq!(a.ids(), [1, 4], "`widget` is a prefix of `Widgets`");
    let a = get(&app, "/flask/api/products?q=widget+blue", &[]).await;
    assert_eq!(a.ids(), [1], "`widget` is not a whole word of `Widgets`");
    let a = get(&app, "/flask/api/products?q=cafe+bleu", &[]).await;
    assert_eq!(a.ids(), [3]);
    // A product the consumer deletes leaves the search with it.
    let mut tx = pool.begin().await.unwrap();
    main_svc::db::tombstone(&mut tx, 1).await.unwrap();
    tx.commit().await.unwrap();
    let a = get(&app, "/flask/api/products?q=widget", &[]).await;
    assert_eq!(a.ids(), [4]);
    feed.seen(Change::Catalogue);
    // Punctuation alone is the unfiltered list, paged (100 by default).
    let a = get(&app, "/flask/api/products?q=%22%2B-*%40(~", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.ids().len(), 4);
    // A search of several words is read once and held until the catalogue changes.
    let a = get(&app, "/flask/api/products?q=blue+wid", &[]).await;
    assert_eq!(a.ids(), [4]);
    mirror(&pool, 6, "Blue Widget Two").await;
    let a = get(&app, "/flask/api/products?q=blue+wid", &[]).await;
    assert_eq!(a.ids(), [4], "held: no change was noticed");
    feed.seen(Change::Catalogue);
    let a = get(&app, "/flask/api/products?q=blue+wid", &[]).await;
    assert_eq!(a.ids(), [4, 6]);
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn bad_search_parameters_are_400_and_others_are_ignored(pool: MySqlPool) {
    let (app, _feed) = cached_app(&pool, Duration::from_secs(3600));
    mirror(&pool, 1, "Blue").await;
    let long = "x".repeat(201);
    for (query, named) in [
        (format!("q={long}"), "q "),
        ("q=blue&limit=1001".to_owned(), "limit "),
        ("q=blue&limit=0".to_owned(), "limit "),
        ("q=blue&after=x".to_owned(), "after "),
    ] {
        let a = get(&app, &format!("/flask/api/products?{query}"), &[]).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}");
        let message = a.json()["error"].as_str().unwrap().to_owned();
        assert!(message.starts_with(named), "{query}: {message}");
    }
    // The shop has no numbered pages: those parameters are ignored, as unknown ones always
    // were, and the bare answer stays the whole list.
    let bare = get(&app, "/flask/api/products", &[]).await;
    let ignored = get(
        &app,
        "/flask/api/products?sort=-title&page=0&per_page=999",
        &[],
    )
    .await;
    assert_eq!((ignored.status, &ignored.raw), (StatusCode::OK, &bare.raw));
}
