//! Router tests: every endpoint and error path of the admin API, each test on a fresh
//! MariaDB database (`#[sqlx::test]`), the router called in process. Events are checked as
//! outbox rows; the end-to-end tests (e2e.rs) follow them onto the broker.
#![allow(clippy::unwrap_used)]

use admin_svc::{AppState, router};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::MySqlPool;
use tower::ServiceExt;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    raw: Vec<u8>,
}

async fn app(pool: &MySqlPool) -> Router {
    app_with_broker(pool, true).await
}

/// The router, with every request signed by an API token (sign-in itself is tested in
/// auth.rs; here an anonymous request would only get 401).
async fn app_with_broker(pool: &MySqlPool, connected: bool) -> Router {
    let token = admin_svc::auth::token::generate();
    admin_svc::db::insert_token(
        pool,
        "router-tests",
        &admin_svc::auth::token::digest(&token),
    )
    .await
    .unwrap();
    let bearer = header::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    router(AppState::detached(pool.clone(), connected)).layer(axum::middleware::map_request(
        move |mut req: Request<Body>| {
            let bearer = bearer.clone();
            async move {
                req.headers_mut()
                    .entry(header::AUTHORIZATION)
                    .or_insert(bearer);
                req
            }
        },
    ))
}

async fn send(app: &Router, req: Request<Body>) -> Answer {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let raw = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        raw,
    }
}

async fn call(app: &Router, method: Method, uri: &str, json_body: Option<Value>) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match json_body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(serde_json::to_vec(&v).unwrap())
        }
        None => Body::empty(),
    };
    send(app, req.body(body).unwrap()).await
}

async fn raw(
    app: &Router,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    send(app, req.body(body.into()).unwrap()).await
}

async fn create(app: &Router, title: &str, image: &str) -> Value {
    let a = call(
        app,
        Method::POST,
        "/api/products",
        Some(json!({"title": title, "image": image})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body
}

/// (content_type, body as JSON) of every outbox row, in id order.
async fn outbox(pool: &MySqlPool) -> Vec<(String, Value)> {
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT content_type, body FROM outbox ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(ct, body)| (ct, serde_json::from_slice(&body).unwrap()))
        .collect()
}

async fn product_count(pool: &MySqlPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM products")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn list_is_empty_then_ordered_by_id(pool: MySqlPool) {
    let app = app(&pool).await;
    let a = call(&app, Method::GET, "/api/products", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, json!([]));
    for t in ["B", "A", "C"] {
        create(&app, t, "/x.png").await;
    }
    let a = call(&app, Method::GET, "/api/products", None).await;
    let titles: Vec<&str> = a
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["B", "A", "C"]);
    let ids: Vec<u64> = a
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn create_answers_201_and_enqueues_product_created(pool: MySqlPool) {
    let app = app(&pool).await;
    let a = call(
        &app,
        Method::POST,
        "/api/products",
        Some(json!({"title": "  Mug  ", "image": "https://example.com/mug.png", "likes": 99, "id": 500, "colour": "red"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let id = a.body["id"].as_u64().unwrap();
    assert_ne!(id, 500, "a client cannot choose the id");
    assert_eq!(
        a.body,
        json!({"id": id, "title": "Mug", "image": "https://example.com/mug.png", "likes": 0})
    );
    assert_eq!(
        a.headers[header::LOCATION],
        format!("/api/products/{id}").as_str()
    );
    assert_eq!(
        outbox(&pool).await,
        vec![(
            "product_created".to_owned(),
            json!({"id": id, "title": "Mug", "image": "https://example.com/mug.png", "likes": 0, "version": 1})
        )]
    );
    let got = call(&app, Method::GET, &format!("/api/products/{id}"), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, a.body);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn update_answers_202_bumps_the_version_and_keeps_likes(pool: MySqlPool) {
    let app = app(&pool).await;
    let id = create(&app, "Mug", "/mug.png").await["id"]
        .as_u64()
        .unwrap();
    sqlx::query("UPDATE products SET likes = 3 WHERE id = ?")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();

    let a = call(
        &app,
        Method::PUT,
        &format!("/api/products/{id}"),
        Some(json!({"title": "Big mug", "image": "https://example.com/big.png", "likes": 1000})),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    assert_eq!(
        a.body,
        json!({"id": id, "title": "Big mug", "image": "https://example.com/big.png", "likes": 3})
    );
    let events = outbox(&pool).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].0, "product_updated");
    assert_eq!(events[1].1["version"], 2);
    assert_eq!(events[1].1["title"], "Big mug");
    let got = call(&app, Method::GET, &format!("/api/products/{id}"), None).await;
    assert_eq!(got.body["likes"], 3);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn concurrent_updates_get_distinct_versions_in_outbox_order(pool: MySqlPool) {
    let app = app(&pool).await;
    let id = create(&app, "Mug", "/mug.png").await["id"]
        .as_u64()
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            call(
                &app,
                Method::PUT,
                &format!("/api/products/{id}"),
                Some(json!({"title": format!("v{i}"), "image": "/m.png"})),
            )
            .await
            .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::ACCEPTED);
    }
    let versions: Vec<u64> = outbox(&pool)
        .await
        .iter()
        .map(|(_, b)| b["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, (1..=11).collect::<Vec<_>>());
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn delete_answers_204_then_404(pool: MySqlPool) {
    let app = app(&pool).await;
    let id = create(&app, "Mug", "/mug.png").await["id"]
        .as_u64()
        .unwrap();
    let a = call(&app, Method::DELETE, &format!("/api/products/{id}"), None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(a.raw.is_empty());
    assert_eq!(
        outbox(&pool).await[1],
        ("product_deleted".to_owned(), json!(id))
    );
    for method in [Method::DELETE, Method::GET] {
        let a = call(&app, method, &format!("/api/products/{id}"), None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert_eq!(a.body, json!({"error": "Product not found"}));
    }
    let a = call(
        &app,
        Method::PUT,
        &format!("/api/products/{id}"),
        Some(json!({"title": "t", "image": "/i"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        outbox(&pool).await.len(),
        2,
        "a failed delete or update enqueues nothing"
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn ids_that_are_not_positive_integers_are_404(pool: MySqlPool) {
    let app = app(&pool).await;
    create(&app, "Mug", "/mug.png").await;
    for id in [
        "abc",
        "-1",
        "0",
        "99999999999999999999",
        "1.0",
        "1e2",
        "%201",
        "+1",
        "1;DROP%20TABLE%20products",
    ] {
        let uri = format!("/api/products/{id}");
        for (method, body) in [
            (Method::GET, None),
            (Method::PUT, Some(json!({"title": "t", "image": "/i"}))),
            (Method::DELETE, None),
        ] {
            let a = call(&app, method.clone(), &uri, body).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{method} {uri}");
            assert_eq!(
                a.body,
                json!({"error": "Product not found"}),
                "{method} {uri}"
            );
        }
    }
    assert_eq!(product_count(&pool).await, 1);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn invalid_fields_are_400_in_drf_shape_and_change_nothing(pool: MySqlPool) {
    let app = app(&pool).await;
    let id = create(&app, "Keep", "/keep.png").await["id"]
        .as_u64()
        .unwrap();
    let long = "a".repeat(201);
    let cases = [
        (
            json!({}),
            json!({"title": ["This field is required."], "image": ["This field is required."]}),
        ),
        (
            json!({"title": "Mug"}),
            json!({"image": ["This field is required."]}),
        ),
        (
            json!({"image": "/a.png"}),
            json!({"title": ["This field is required."]}),
        ),
        (
            json!({"title": "", "image": "/a.png"}),
            json!({"title": ["This field may not be blank."]}),
        ),
        (
            json!({"title": "   ", "image": "/a.png"}),
            json!({"title": ["This field may not be blank."]}),
        ),
        (
            json!({"title": long, "image": "/a.png"}),
            json!({"title": ["Ensure this field has no more than 200 characters."]}),
        ),
        (
            json!({"title": 12, "image": "/a.png"}),
            json!({"title": ["Not a valid string."]}),
        ),
        (
            json!({"title": null, "image": "/a.png"}),
            json!({"title": ["This field may not be null."]}),
        ),
        (
            json!({"title": "Mug", "image": ["/a.png"]}),
            json!({"image": ["Not a valid string."]}),
        ),
        (
            json!({"title": "Mug", "image": true}),
            json!({"image": ["Not a valid string."]}),
        ),
        (
            json!({"title": "Mug", "image": "javascript:alert(1)"}),
            json!({"image": ["Enter a valid URL (http:// or https://) or a path starting with /."]}),
        ),
        (
            json!({"title": "Mug", "image": "data:text/html,<script>alert(1)</script>"}),
            json!({"image": ["Enter a valid URL (http:// or https://) or a path starting with /."]}),
        ),
        (
            json!({"title": "Mug", "image": format!("https://e.com/{}", "a".repeat(190))}),
            json!({"image": ["Ensure this field has no more than 200 characters."]}),
        ),
        (
            json!([{"title": "Mug"}]),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ),
        (
            json!("Mug"),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}),
        ),
        (
            json!(null),
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got NoneType."]}),
        ),
    ];
    for (body, expected) in cases {
        for (method, uri) in [
            (Method::POST, "/api/products".to_owned()),
            (Method::PUT, format!("/api/products/{id}")),
        ] {
            let a = call(&app, method.clone(), &uri, Some(body.clone())).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{method} {body}");
            assert_eq!(a.body, expected, "{method} {body}");
        }
    }
    let exactly_200 = "é".repeat(200);
    let a = call(
        &app,
        Method::POST,
        "/api/products",
        Some(json!({"title": exactly_200, "image": "/a.png"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "200 characters is allowed");
    assert_eq!(product_count(&pool).await, 2);
    assert_eq!(
        outbox(&pool).await.len(),
        2,
        "rejected writes enqueue nothing"
    );
    let kept = call(&app, Method::GET, &format!("/api/products/{id}"), None).await;
    assert_eq!(kept.body["title"], "Keep");
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn malformed_json_is_400_with_an_error_message(pool: MySqlPool) {
    let app = app(&pool).await;
    for body in [
        "{\"title\": ",
        "",
        "not json",
        "{\"title\": \"a\",}",
        "\u{feff}{}",
    ] {
        let a = raw(
            &app,
            Method::POST,
            "/api/products",
            Some("application/json"),
            body,
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body:?}");
        let msg = a.body["error"].as_str().unwrap();
        assert!(msg.starts_with("Malformed JSON"), "{msg}");
    }
    assert_eq!(product_count(&pool).await, 0);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_body_that_is_not_json_is_415(pool: MySqlPool) {
    let app = app(&pool).await;
    let id = create(&app, "Mug", "/mug.png").await["id"]
        .as_u64()
        .unwrap();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
    ] {
        for (method, uri) in [
            (Method::POST, "/api/products".to_owned()),
            (Method::PUT, format!("/api/products/{id}")),
        ] {
            let a = raw(
                &app,
                method.clone(),
                &uri,
                ct,
                r#"{"title": "a", "image": "/a"}"#,
            )
            .await;
            assert_eq!(
                a.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{method} {ct:?}"
            );
            assert!(
                a.body["error"]
                    .as_str()
                    .unwrap()
                    .contains("application/json")
            );
        }
    }
    let a = raw(
        &app,
        Method::POST,
        "/api/products",
        Some("application/json; charset=utf-8"),
        r#"{"title": "a", "image": "/a"}"#,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "a charset parameter is fine");
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_body_over_64_kib_is_413(pool: MySqlPool) {
    let app = app(&pool).await;
    let id = create(&app, "Mug", "/mug.png").await["id"]
        .as_u64()
        .unwrap();
    let big = format!(
        r#"{{"title": "a", "image": "/a", "pad": "{}"}}"#,
        "x".repeat(64 * 1024)
    );
    for (method, uri) in [
        (Method::POST, "/api/products".to_owned()),
        (Method::PUT, format!("/api/products/{id}")),
    ] {
        // With a Content-Length, refused before reading.
        let req = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, big.len())
            .body(Body::from(big.clone()))
            .unwrap();
        let a = send(&app, req).await;
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{method}");
        assert_eq!(
            a.body,
            json!({"error": "Request body is larger than 64 KiB"})
        );
        // Streamed without a length, refused while reading.
        let stream = futures_stream(big.clone());
        let a = raw(&app, method.clone(), &uri, Some("application/json"), stream).await;
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{method} streamed");
    }
    let just_under = format!(
        r#"{{"title": "a", "image": "/a", "pad": "{}"}}"#,
        "x".repeat(64 * 1024 - 100)
    );
    let a = raw(
        &app,
        Method::POST,
        "/api/products",
        Some("application/json"),
        just_under,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
}

fn futures_stream(s: String) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = s
        .into_bytes()
        .chunks(4096)
        .map(|c| Ok(c.to_vec()))
        .collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn random_user_is_404_without_users_then_one_of_them(pool: MySqlPool) {
    let app = app(&pool).await;
    let a = call(&app, Method::GET, "/api/user", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.body, json!({"error": "No users available"}));
    let (ada, new) = admin_svc::db::upsert_user(&pool, "Ada", "ada@example.com")
        .await
        .unwrap();
    assert!(new);
    let (bob, _) = admin_svc::db::upsert_user(&pool, "Bob", "bob@example.com")
        .await
        .unwrap();
    assert_eq!(
        admin_svc::db::upsert_user(&pool, "Ada again", "ada@example.com")
            .await
            .unwrap(),
        (ada, false)
    );
    for _ in 0..10 {
        let a = call(&app, Method::GET, "/api/user", None).await;
        assert_eq!(a.status, StatusCode::OK);
        let id = a.body["id"].as_u64().unwrap();
        assert!(id == ada || id == bob);
        assert_eq!(a.body.as_object().unwrap().len(), 1);
    }
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn health_names_the_failed_dependency(pool: MySqlPool) {
    let a = call(&app(&pool).await, Method::GET, "/api/health", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.body,
        json!({"status": "ok", "database": "up", "broker": "up"})
    );

    let a = call(
        &app_with_broker(&pool, false).await,
        Method::GET,
        "/api/health",
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.body["broker"], "down");
    assert_eq!(a.body["errors"], json!(["broker: not connected"]));

    let down = app(&pool).await;
    pool.close().await;
    let a = call(&down, Method::GET, "/api/health", None).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.body["database"], "down");
    assert_eq!(a.body["errors"], json!(["database: not reachable"]));
}

/// `/alive` answers whenever the process does; `/ready` needs the database but not the
/// broker (writes go on into the outbox); the original's `/api/health` needs both.
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn probes_say_alive_ready_and_healthy_each_by_its_own_rule(pool: MySqlPool) {
    let probe = |app: Router, path: &'static str| async move {
        let a = call(&app, Method::GET, path, None).await;
        (a.status, a.body)
    };
    let up = app(&pool).await;
    for path in ["/alive", "/ready", "/api/health"] {
        assert_eq!(probe(up.clone(), path).await.0, StatusCode::OK, "{path}");
    }
    assert_eq!(
        probe(up.clone(), "/alive").await.1,
        json!({"status": "alive"})
    );
    assert_eq!(
        probe(up.clone(), "/ready").await.1,
        json!({"status": "ok", "database": "up", "broker": "up"})
    );

    let no_broker = app_with_broker(&pool, false).await;
    assert_eq!(probe(no_broker.clone(), "/alive").await.0, StatusCode::OK);
    let (status, body) = probe(no_broker.clone(), "/ready").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["errors"], json!(["broker: not connected"]));
    assert_eq!(
        probe(no_broker, "/api/health").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );

    let no_database = app(&pool).await;
    pool.close().await;
    assert_eq!(probe(no_database.clone(), "/alive").await.0, StatusCode::OK);
    let (status, body) = probe(no_database, "/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"], "down");
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_dead_database_is_a_bare_500(pool: MySqlPool) {
    let app = app(&pool).await;
    pool.close().await;
    let a = call(&app, Method::GET, "/api/products", None).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        a.body,
        json!({"error": "Internal server error"}),
        "no internals in a 500"
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn metrics_count_requests_by_route_pattern(pool: MySqlPool) {
    let app = app(&pool).await;
    let id = create(&app, "Mug", "/mug.png").await["id"]
        .as_u64()
        .unwrap();
    call(&app, Method::GET, &format!("/api/products/{id}"), None).await;
    call(&app, Method::GET, "/api/products/abc", None).await;
    let a = raw(&app, Method::GET, "/metrics", None, Body::empty()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(a.raw).unwrap();
    for needle in [
        "# HELP http_requests_total",
        "# TYPE http_request_duration_seconds histogram",
        r#"http_requests_total{method="POST",route="/api/products",status="201"}"#,
        r#"http_requests_total{method="GET",route="/api/products/{id}",status="200"}"#,
        r#"http_requests_total{method="GET",route="/api/products/{id}",status="404"}"#,
        r#"http_request_duration_seconds_bucket{method="GET",route="/api/products/{id}",status="200",le="0.005"}"#,
        "db_pool_connections{state=\"max\"}",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    assert!(
        !text.contains(&format!("/api/products/{id}\"")),
        "raw ids must not become labels"
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn openapi_document_and_docs_are_served(pool: MySqlPool) {
    let app = app(&pool).await;
    let a = call(&app, Method::GET, "/api/openapi.json", None).await;
    assert_eq!(a.status, StatusCode::OK);
    let paths = a.body["paths"].as_object().unwrap();
    for p in [
        "/api/products",
        "/api/products/{id}",
        "/api/user",
        "/api/health",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
    assert!(a.body["paths"]["/api/products/{id}"]["put"]["responses"]["202"].is_object());
    assert!(a.body["components"]["schemas"]["Product"].is_object());
    let docs = call(&app, Method::GET, "/api/docs/", None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&docs.raw).contains("swagger"));
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn unknown_paths_are_json_404_and_wrong_methods_405(pool: MySqlPool) {
    let app = app(&pool).await;
    let a = call(&app, Method::GET, "/api/nothing", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.body, json!({"error": "Not found"}));
    let a = call(&app, Method::PATCH, "/api/products", None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        a.body,
        json!({"error": "Method Not Allowed"}),
        "every rejection is JSON"
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn events_continue_the_callers_trace(pool: MySqlPool) {
    let app = app(&pool).await;
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/products")
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body(Body::from(r#"{"title": "Mug", "image": "/m.png"}"#))
        .unwrap();
    assert_eq!(send(&app, req).await.status, StatusCode::CREATED);
    let tp: String = sqlx::query_scalar("SELECT traceparent FROM outbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{tp}"
    );
    assert!(
        !tp.contains("00f067aa0ba902b7"),
        "the event is a child span: {tp}"
    );
}

/// The titles of a list answer, in order.
fn titles(a: &Answer) -> Vec<String> {
    a.body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", a.body))
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}

fn total(a: &Answer) -> u64 {
    a.headers["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Creates `titles` through the API, in order, and gives product `i` `likes[i]` likes.
async fn catalogue(app: &Router, pool: &MySqlPool, titles: &[&str], likes: &[u64]) {
    for (title, likes) in titles.iter().zip(likes) {
        let id = create(app, title, "/x.png").await["id"].as_u64().unwrap();
        sqlx::query("UPDATE products SET likes = ? WHERE id = ?")
            .bind(likes)
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
    }
}

const TITLES: [&str; 6] = [
    "Blue Widget",
    "Blueberry Jam",
    "Café Crème",
    "red widget",
    "Widgets (pack of 3)",
    "The \"best\" +plus -minus *star @at (paren ~tilde",
];

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn search_matches_words_case_and_accents_aside_and_the_last_as_a_prefix(pool: MySqlPool) {
    let app = app(&pool).await;
    catalogue(&app, &pool, &TITLES, &[0; 6]).await;
    let search = |q: &str| {
        let uri = format!("/api/products?q={}", urlencode(q));
        let app = app.clone();
        async move { call(&app, Method::GET, &uri, None).await }
    };
    for (q, expected) in [
        ("blue", &["Blue Widget", "Blueberry Jam"][..]),
        ("BLUE wid", &["Blue Widget"]),
        ("wid", &["Blue Widget", "red widget", "Widgets (pack of 3)"]),
        (
            "widget",
            &["Blue Widget", "red widget", "Widgets (pack of 3)"],
        ),
        ("widget red", &["red widget"]),
        ("cafe creme", &["Café Crème"]),
        ("CAFÉ", &["Café Crème"]),
        // Only the last word is a prefix.
        ("blu widget", &[]),
        ("the", &[TITLES[5]]),
        ("3", &["Widgets (pack of 3)"]),
        // FULLTEXT boolean syntax is text here: separators.
        ("+blue -widget*", &["Blue Widget"]),
        ("\"best\" (paren", &[TITLES[5]]),
        ("~tilde @at", &[TITLES[5]]),
        ("nothing-like-it", &[]),
    ] {
        let a = search(q).await;
        assert_eq!(a.status, StatusCode::OK, "{q}: {}", a.body);
        assert_eq!(titles(&a), expected, "{q}");
        assert_eq!(total(&a), expected.len() as u64, "{q}");
    }
    // Spaces or punctuation alone: the unfiltered list, as a numbered page.
    for q in ["   ", "\"", "+", "-", "*", "@", "(", "~", "\"+-*@(~)"] {
        let a = search(q).await;
        assert_eq!(a.status, StatusCode::OK, "{q:?}");
        assert_eq!(total(&a), 6, "{q:?}");
        assert_eq!(titles(&a).len(), 6, "{q:?}");
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn search_follows_every_change_of_a_title(pool: MySqlPool) {
    let app = app(&pool).await;
    let id = create(&app, "Old Name", "/x.png").await["id"]
        .as_u64()
        .unwrap();
    let find = |q: &'static str| {
        let app = app.clone();
        async move { titles(&call(&app, Method::GET, &format!("/api/products?q={q}"), None).await) }
    };
    assert_eq!(find("old").await, ["Old Name"]);
    let a = call(
        &app,
        Method::PUT,
        &format!("/api/products/{id}"),
        Some(json!({"title": "New Name", "image": "/x.png"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    assert!(find("old").await.is_empty());
    assert_eq!(find("new+na").await, ["New Name"]);
    let a = call(&app, Method::DELETE, &format!("/api/products/{id}"), None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(find("new").await.is_empty());
    let terms: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM product_search_terms")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(terms, 0, "a deleted product leaves no terms");
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn numbered_pages_sort_by_each_column_with_total_and_links(pool: MySqlPool) {
    let app = app(&pool).await;
    // Ids 1..=6; likes tie for two products so that id breaks the tie.
    catalogue(&app, &pool, &TITLES, &[5, 1, 9, 5, 0, 3]).await;
    let page = |query: &'static str| {
        let app = app.clone();
        async move { call(&app, Method::GET, &format!("/api/products?{query}"), None).await }
    };
    let ids = |a: &Answer| -> Vec<u64> {
        a.body
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_u64().unwrap())
            .collect()
    };
    for (query, expected) in [
        ("sort=id", vec![1, 2, 3, 4, 5, 6]),
        ("sort=-id", vec![6, 5, 4, 3, 2, 1]),
        ("sort=title", vec![1, 2, 3, 4, 6, 5]),
        ("sort=-title", vec![5, 6, 4, 3, 2, 1]),
        ("sort=likes", vec![5, 2, 6, 1, 4, 3]),
        ("sort=-likes", vec![3, 4, 1, 6, 2, 5]),
        ("q=widget&sort=-likes", vec![4, 1, 5]),
        ("q=widget&sort=-id", vec![5, 4, 1]),
    ] {
        let a = page(query).await;
        assert_eq!(a.status, StatusCode::OK, "{query}");
        assert_eq!(ids(&a), expected, "{query}");
    }
    let a = page("sort=-likes&page=2&per_page=4").await;
    assert_eq!(ids(&a), [2, 5]);
    assert_eq!(total(&a), 6);
    assert_eq!(
        a.headers[header::LINK].to_str().unwrap(),
        "</api/products?sort=-likes&page=1&per_page=4>; rel=\"first\", \
         </api/products?sort=-likes&page=1&per_page=4>; rel=\"prev\", \
         </api/products?sort=-likes&page=2&per_page=4>; rel=\"last\""
    );
    let a = page("q=widget&per_page=1").await;
    assert_eq!((ids(&a), total(&a)), (vec![1], 3));
    assert!(
        a.headers[header::LINK]
            .to_str()
            .unwrap()
            .contains("</api/products?q=widget&page=2&per_page=1>; rel=\"next\"")
    );
    // Past the end: an empty page, the total, and a way back.
    let a = page("page=9").await;
    assert_eq!(
        (a.status, a.body.clone(), total(&a)),
        (StatusCode::OK, json!([]), 6)
    );
    // The default page size is 25, and limit/after are not used beside a numbered page (but
    // checked: a bad one is a 400, below).
    let a = page("page=1&limit=2&after=3").await;
    assert_eq!(ids(&a), [1, 2, 3, 4, 5, 6]);
    // Bare, the list is the whole catalogue as it always was: no numbered-page headers.
    let a = call(&app, Method::GET, "/api/products", None).await;
    assert!(a.headers.get("x-total-count").is_none() && a.headers.get(header::LINK).is_none());
    assert_eq!(a.body.as_array().unwrap().len(), 6);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn bad_list_parameters_are_400_naming_the_parameter(pool: MySqlPool) {
    let app = app(&pool).await;
    create(&app, "Blue", "/x.png").await;
    let long = "x".repeat(201);
    for (query, named) in [
        (format!("q={long}"), "q "),
        ("sort=price".to_owned(), "sort "),
        ("sort=".to_owned(), "sort "),
        ("page=0".to_owned(), "page "),
        ("page=-1".to_owned(), "page "),
        ("page=two".to_owned(), "page "),
        ("per_page=101".to_owned(), "per_page "),
        ("per_page=0".to_owned(), "per_page "),
        ("per_page=1.5".to_owned(), "per_page "),
        ("limit=1001".to_owned(), "limit "),
        ("limit=x".to_owned(), "limit "),
        ("after=-3".to_owned(), "after "),
        ("page=2&limit=".to_owned(), "limit "),
        ("q=a&after=x".to_owned(), "after "),
    ] {
        let a = call(&app, Method::GET, &format!("/api/products?{query}"), None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}");
        let message = a.body["error"].as_str().unwrap();
        assert!(message.starts_with(named), "{query}: {message}");
    }
    // 200 characters is the most, and still answered.
    let a = call(
        &app,
        Method::GET,
        &format!("/api/products?q={}", "x".repeat(200)),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn products_written_before_the_index_are_indexed_at_start(pool: MySqlPool) {
    // 1,234 products written straight into the table (as before the index existed), in
    // more than one of the reindexing's batches.
    sqlx::query(
        "INSERT INTO products (title, image)
         SELECT CONCAT('Lamp ', seq), '/x.png' FROM seq_1_to_1234",
    )
    .execute(&pool)
    .await
    .unwrap();
    let app = app(&pool).await;
    let a = call(&app, Method::GET, "/api/products?q=lamp", None).await;
    assert_eq!(total(&a), 0, "not indexed yet");
    let searchable = <AppState as shop_runtime::service::HttpService>::searchable();
    let indexed = shop_runtime::lists::search_index::reindex(&pool, searchable)
        .await
        .unwrap();
    assert_eq!(indexed, 1234);
    assert_eq!(
        shop_runtime::lists::search_index::reindex(&pool, searchable)
            .await
            .unwrap(),
        0,
        "a complete index is not built again"
    );
    let a = call(&app, Method::GET, "/api/products?q=lamp", None).await;
    assert_eq!(total(&a), 1234);
    let a = call(&app, Method::GET, "/api/products?q=lamp+1233", None).await;
    assert_eq!(titles(&a), ["Lamp 1233"]);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn totals_are_counted_once_until_the_catalogue_changes(pool: MySqlPool) {
    let mut core = shop_runtime::service::Core::detached(pool.clone(), true);
    core.feed = shop_runtime::lists::ChangeFeed::new("test.changes".into());
    let feed = core.feed.clone();
    let auth = admin_svc::settings::AdminAuthSettings::from_env(&Default::default()).unwrap();
    let app = router(AppState::new(
        core,
        auth,
        false,
        admin_svc::audit::AuditLog::in_service_database(),
    ));
    let add = |title: &'static str| {
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            let id = sqlx::query("INSERT INTO products (title, image) VALUES (?, '/x.png')")
                .bind(title)
                .execute(&mut *tx)
                .await
                .unwrap()
                .last_insert_id();
            shop_runtime::lists::search_index::index_product(&mut tx, id, title)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    };
    add("Blue Lamp").await;
    let totals = |query: &'static str| {
        let app = app.clone();
        async move { total(&call(&app, Method::GET, &format!("/api/products?{query}"), None).await) }
    };
    assert_eq!((totals("q=blue").await, totals("page=1").await), (1, 1));
    // Written behind the process's back, without a notice: the totals held are answered.
    add("Blue Chair").await;
    assert_eq!((totals("q=blue").await, totals("page=1").await), (1, 1));
    assert_eq!(
        totals("q=chair").await,
        1,
        "a search not counted before is counted"
    );
    feed.seen(shop_runtime::lists::Change::Catalogue);
    assert_eq!((totals("q=blue").await, totals("page=1").await), (2, 2));
}
