//! Router tests of the shop API, each on a fresh MariaDB database (`#[sqlx::test]`).
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use main_svc::{AppState, router};
use serde_json::{Value, json};
use shop_runtime::service::Core;
use sqlx::MySqlPool;
use tower::ServiceExt;

fn app(pool: &MySqlPool) -> Router {
    router(AppState::detached(pool.clone()))
}

struct Answer {
    status: StatusCode,
    body: Value,
    raw: Vec<u8>,
    set_cookie: Option<String>,
}

async fn send(app: &Router, method: Method, uri: &str, cookie: Option<&str>, body: Body) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let set_cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned());
    let raw = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer {
        status,
        body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        raw,
        set_cookie,
    }
}

async fn like(app: &Router, id: &str, cookie: Option<&str>) -> Answer {
    send(
        app,
        Method::POST,
        &format!("/flask/api/products/{id}/like"),
        cookie,
        Body::empty(),
    )
    .await
}

/// `shopper_id=…` from a Set-Cookie value, to send back.
fn cookie_of(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

async fn seed(pool: &MySqlPool, id: u64, title: &str) {
    sqlx::query("INSERT INTO products (id, title, image, version) VALUES (?, ?, '/i.png', 1)")
        .bind(id)
        .bind(title)
        .execute(pool)
        .await
        .unwrap();
}

/// A product's like count: the sum of its shards.
const COUNT_OF: &str = "SELECT CAST(COALESCE(SUM(likes), 0) AS UNSIGNED) FROM product_like_counts WHERE product_id = ?";
const COUNT_OF_1: &str = "SELECT CAST(COALESCE(SUM(likes), 0) AS UNSIGNED) FROM product_like_counts WHERE product_id = 1";

async fn likes_of(pool: &MySqlPool, id: u64) -> (u64, i64, i64) {
    let counter: u64 = sqlx::query_scalar(COUNT_OF)
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM product_likes WHERE product_id = ?")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
    // Its likes in the outbox's events: one per `product_liked`, its count in each batch.
    let outbox: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT content_type, body FROM outbox")
        .fetch_all(pool)
        .await
        .unwrap();
    let mut events = 0;
    for (kind, body) in outbox {
        match events::Event::decode(&kind, &body).unwrap() {
            events::Event::ProductLiked(p) if p == id => events += 1,
            events::Event::ProductsLiked(likes) => {
                events += likes
                    .iter()
                    .filter(|l| l.id == id)
                    .map(|l| l.count as i64)
                    .sum::<i64>();
            }
            _ => {}
        }
    }
    (counter, rows, events)
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn list_shows_live_products_by_id_with_like_counts(pool: MySqlPool) {
    let app = app(&pool);
    let a = send(
        &app,
        Method::GET,
        "/flask/api/products",
        None,
        Body::empty(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, json!([]));
    seed(&pool, 9, "Nine").await;
    seed(&pool, 2, "Two").await;
    seed(&pool, 5, "Gone").await;
    sqlx::query("UPDATE products SET deleted_at = NOW(6) WHERE id = 5")
        .execute(&pool)
        .await
        .unwrap();
    like(&app, "9", None).await;
    let a = send(
        &app,
        Method::GET,
        "/flask/api/products",
        None,
        Body::empty(),
    )
    .await;
    assert_eq!(
        a.body,
        json!([
            {"id": 2, "title": "Two", "image": "/i.png", "likes": 0},
            {"id": 9, "title": "Nine", "image": "/i.png", "likes": 1},
        ])
    );
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn one_like_per_shopper_with_an_http_only_cookie(pool: MySqlPool) {
    let app = app(&pool);
    seed(&pool, 1, "Mug").await;

    let first = like(&app, "1", None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body, json!({"message": "success"}));
    let set = first.set_cookie.expect("a new shopper gets a cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let jar_a = cookie_of(&set);

    let again = like(&app, "1", Some(&jar_a)).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        again.body,
        json!({"error": "You already liked this product."})
    );
    assert_eq!(again.set_cookie, None, "a known shopper keeps their cookie");
    assert_eq!(
        likes_of(&pool, 1).await,
        (1, 1, 1),
        "the second like counts nothing"
    );

    let other = like(
        &app,
        "1",
        Some("shopper_id=0f8fad5b-d9cb-469f-a165-70867728950e"),
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(likes_of(&pool, 1).await, (2, 2, 2));
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_forged_cookie_becomes_a_new_shopper(pool: MySqlPool) {
    let app = app(&pool);
    seed(&pool, 1, "Mug").await;
    for cookie in ["shopper_id=admin", "shopper_id=1' OR '1'='1", "shopper_id="] {
        let a = like(&app, "1", Some(cookie)).await;
        assert_eq!(a.status, StatusCode::OK, "{cookie}");
        assert!(a.set_cookie.is_some(), "a fresh id is issued for {cookie}");
    }
    assert_eq!(likes_of(&pool, 1).await, (3, 3, 3));
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn liking_what_is_not_in_the_shop_is_404(pool: MySqlPool) {
    let app = app(&pool);
    seed(&pool, 1, "Mug").await;
    seed(&pool, 2, "Gone").await;
    sqlx::query("UPDATE products SET deleted_at = NOW(6) WHERE id = 2")
        .execute(&pool)
        .await
        .unwrap();
    for id in [
        "2",
        "3",
        "abc",
        "-1",
        "0",
        "99999999999999999999",
        "1.5",
        "%201",
    ] {
        let a = like(&app, id, None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(a.body, json!({"error": "Product not found"}), "{id}");
        assert_eq!(
            a.set_cookie, None,
            "a like that did not count issues no cookie ({id})"
        );
    }
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events, 0, "a refused like publishes nothing");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM product_likes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn fifty_shoppers_at_once_count_fifty(pool: MySqlPool) {
    let app = app(&pool);
    seed(&pool, 1, "Mug").await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { like(&app, "1", None).await.status })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(likes_of(&pool, 1).await, (50, 50, 50));
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn twenty_concurrent_likes_by_one_shopper_count_once(pool: MySqlPool) {
    let app = app(&pool);
    seed(&pool, 1, "Mug").await;
    let jar = "shopper_id=0f8fad5b-d9cb-469f-a165-70867728950e";
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { like(&app, "1", Some(jar)).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1);
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count(),
        19
    );
    assert_eq!(likes_of(&pool, 1).await, (1, 1, 1));
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn other_bad_requests_are_clear_4xx(pool: MySqlPool) {
    let app = app(&pool);
    seed(&pool, 1, "Mug").await;
    let a = send(
        &app,
        Method::GET,
        "/flask/api/products/1/like",
        None,
        Body::empty(),
    )
    .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    let a = send(
        &app,
        Method::POST,
        "/flask/api/products",
        None,
        Body::empty(),
    )
    .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        a.body,
        json!({"error": "Method Not Allowed"}),
        "every rejection is JSON"
    );
    let a = send(&app, Method::GET, "/flask/api/nothing", None, Body::empty()).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.body, json!({"error": "Not found"}));
    let big = Request::builder()
        .method(Method::POST)
        .uri("/flask/api/products/1/like")
        .header(header::CONTENT_LENGTH, 70_000)
        .body(Body::from(vec![b'x'; 70_000]))
        .unwrap();
    let res = app.clone().oneshot(big).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A body is not needed, and an ordinary one is ignored.
    let a = send(
        &app,
        Method::POST,
        "/flask/api/products/1/like",
        None,
        Body::from("{}"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn health_metrics_and_docs(pool: MySqlPool) {
    let a = send(
        &app(&pool),
        Method::GET,
        "/flask/api/health",
        None,
        Body::empty(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["status"], "ok");
    let down = router(AppState {
        core: Core::detached(pool.clone(), false),
        ..AppState::detached(pool.clone())
    });
    let a = send(&down, Method::GET, "/flask/api/health", None, Body::empty()).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.body["errors"], json!(["broker: not connected"]));

    let app = app(&pool);
    seed(&pool, 1, "Mug").await;
    like(&app, "1", None).await;
    let m = send(&app, Method::GET, "/metrics", None, Body::empty()).await;
    let text = String::from_utf8(m.raw).unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="POST",route="/flask/api/products/{id}/like",status="200"}"#),
        "{text}"
    );
    let doc = send(
        &app,
        Method::GET,
        "/flask/api/openapi.json",
        None,
        Body::empty(),
    )
    .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["paths"]["/flask/api/products/{id}/like"]["post"].is_object());
    let ui = send(&app, Method::GET, "/flask/api/docs/", None, Body::empty()).await;
    assert_eq!(ui.status, StatusCode::OK);
}

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn secure_cookie_when_configured(pool: MySqlPool) {
    let app = router(AppState {
        cookie_secure: true,
        ..AppState::detached(pool.clone())
    });
    seed(&pool, 1, "Mug").await;
    let a = like(&app, "1", None).await;
    assert!(a.set_cookie.unwrap().ends_with("; Secure"));
}

/// A foreign page's auto-submitted `text/plain` form and its `no-cors` fetch both carry the
/// browser's `Sec-Fetch-Site: cross-site` (and `Origin`): refused, nothing counted. The
/// shop's own page (`same-origin`) and non-browser clients (no such headers) still like.
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn likes_from_other_sites_are_refused(pool: MySqlPool) {
    let app = app(&pool);
    seed(&pool, 1, "Mug").await;
    let from = |site: &str, origin: &str, content_type: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/flask/api/products/1/like")
            .header("sec-fetch-site", site)
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from("x=1"))
            .unwrap()
    };
    for req in [
        from("cross-site", "https://evil.example", "text/plain"),
        from(
            "cross-site",
            "https://evil.example",
            "application/x-www-form-urlencoded",
        ),
        from("same-site", "https://blog.shop.example", "text/plain"),
    ] {
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.headers().get(header::SET_COOKIE).is_none());
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("Cross-site request refused")
        );
    }
    // An Origin of another site, from a browser too old for Sec-Fetch-Site.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/flask/api/products/1/like")
        .header(header::HOST, "shop.example")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let likes: u64 = sqlx::query_scalar(COUNT_OF_1)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(likes, 0, "nothing counted");

    let res = app
        .clone()
        .oneshot(from("same-origin", "http://shop.example", "text/plain"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the shop's own page");
    assert_eq!(
        like(&app, "1", None).await.status,
        StatusCode::OK,
        "a script"
    );
}

/// A shopper's likes, for the gallery's first paint: none for a new shopper, the liked ids
/// after liking, private to the shopper.
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_shopper_sees_which_products_they_liked(pool: MySqlPool) {
    let app = app(&pool);
    for id in [1, 2, 3] {
        seed(&pool, id, "Mug").await;
    }
    let a = send(&app, Method::GET, "/flask/api/likes", None, Body::empty()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, json!([]));
    assert!(a.set_cookie.is_none(), "reading sets no cookie");
    let first = like(&app, "3", None).await;
    let cookie = first.set_cookie.unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    like(&app, "1", Some(&cookie)).await;
    like(&app, "2", None).await;
    let mine = send(
        &app,
        Method::GET,
        "/flask/api/likes",
        Some(&cookie),
        Body::empty(),
    )
    .await;
    assert_eq!(mine.body, json!([1, 3]));
}

/// Dropping the cookie before each like makes a new shopper each time, but not a new
/// address: past the address's burst, likes get 429 with Retry-After and count nothing.
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn likes_are_limited_per_address(pool: MySqlPool) {
    seed(&pool, 1, "Mug").await;
    let env = shop_runtime::Env::from_pairs([("LIKES_PER_MINUTE_PER_ADDRESS", "30")]);
    let likes = main_svc::limits::LikeLimitSettings::from_env(&env).unwrap();
    let app = router(AppState::new(
        Core::detached(pool.clone(), true),
        likes,
        false,
    ));
    let from = |ip: &str| {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/flask/api/products/1/like")
            .body(Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
                ip.parse().unwrap(),
                4000,
            )));
        req
    };
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(
            app.clone()
                .oneshot(from("203.0.113.5"))
                .await
                .unwrap()
                .status(),
        );
    }
    assert_eq!(
        &statuses[..5],
        &[StatusCode::OK; 5],
        "the burst is a sixth of the minute"
    );
    assert!(
        statuses[5..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let refused = app.clone().oneshot(from("203.0.113.5")).await.unwrap();
    assert!(refused.headers().get(header::RETRY_AFTER).is_some());
    let body = refused.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Too many likes")
    );
    let likes: u64 = sqlx::query_scalar(COUNT_OF_1)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(likes, 5, "refused likes counted nothing");
    let other = app.clone().oneshot(from("203.0.113.6")).await.unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another address is not affected"
    );
}
