//! Router tests of edit conflicts: `ETag` on a product, `If-Match` on `PUT`, `PATCH` and
//! `DELETE` (a match, a stale tag answered 412 with the current product, `*`, weak tags, a
//! malformed header), and `PATCH`'s partial changes.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;
use sqlx::MySqlPool;

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_stale_if_match_changes_nothing_and_shows_the_current_product(pool: MySqlPool) {
    let app = app(&pool);
    let auth = token(&pool, "t", None).await;
    let id = create(&app, &auth, "Mug").await["id"].as_u64().unwrap();
    let path = format!("/api/products/{id}");
    let a = call(&app, Method::GET, &path, &[], None).await;
    assert_eq!(a.header("etag"), Some("\"1\""));

    let put = |tag: &'static str, title: &'static str| {
        let (app, path, auth) = (app.clone(), path.clone(), auth.clone());
        async move {
            let h = [("authorization", auth.as_str()), ("if-match", tag)];
            call(
                &app,
                Method::PUT,
                &path,
                &h,
                Some(json!({"title": title, "image": "/m.png"})),
            )
            .await
        }
    };
    let a = put("\"1\"", "Big mug").await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    assert_eq!(a.header("etag"), Some("\"2\""));
    assert_eq!(a.body["title"], "Big mug");

    // Another client still holds version 1.
    let before = (
        count(&pool, "outbox").await,
        count(&pool, "audit_log").await,
    );
    let a = put("\"1\"", "Huge mug").await;
    assert_eq!(a.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(a.header("etag"), Some("\"2\""));
    assert_eq!(
        a.body,
        json!({"error": "The product changed since you read it",
               "product": {"id": id, "title": "Big mug", "image": "/m.png", "likes": 0}})
    );
    let weak = put("W/\"2\"", "Huge mug").await;
    assert_eq!(
        weak.status,
        StatusCode::PRECONDITION_FAILED,
        "weak tags never match"
    );
    // An invalid body with a stale tag: the body is answered first.
    let h = [("authorization", auth.as_str()), ("if-match", "\"1\"")];
    let a = call(&app, Method::PUT, &path, &h, Some(json!({}))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = call(&app, Method::PATCH, &path, &h, Some(json!({"other": 1}))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = call(&app, Method::DELETE, &path, &h, None).await;
    assert_eq!(a.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(a.body["product"]["title"], "Big mug");
    assert_eq!(
        (
            count(&pool, "outbox").await,
            count(&pool, "audit_log").await
        ),
        before,
        "nothing changed"
    );
    let a = call(&app, Method::GET, &path, &[], None).await;
    assert_eq!(
        (a.body["title"].as_str(), a.header("etag")),
        (Some("Big mug"), Some("\"2\""))
    );

    // One of a list matches; so does `*`.
    let a = put("\"9\", \"2\"", "Huge mug").await;
    assert_eq!(
        (a.status, a.header("etag")),
        (StatusCode::ACCEPTED, Some("\"3\""))
    );
    let a = put("*", "Mug").await;
    assert_eq!(
        (a.status, a.header("etag")),
        (StatusCode::ACCEPTED, Some("\"4\""))
    );
    let h = [("authorization", auth.as_str()), ("if-match", "\"4\"")];
    let a = call(&app, Method::DELETE, &path, &h, None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    // `*` does not make a missing product: 404.
    let h = [("authorization", auth.as_str()), ("if-match", "*")];
    let a = call(&app, Method::DELETE, &path, &h, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_malformed_if_match_is_a_400(pool: MySqlPool) {
    let app = app(&pool);
    let auth = token(&pool, "t", None).await;
    let id = create(&app, &auth, "Mug").await["id"].as_u64().unwrap();
    let path = format!("/api/products/{id}");
    for tag in ["1", "\"1", "\"1\",,\"2\"", "*, \"1\"", "w/\"1\"", ""] {
        let h = [("authorization", auth.as_str()), ("if-match", tag)];
        for method in [Method::PUT, Method::PATCH, Method::DELETE] {
            let a = call(
                &app,
                method.clone(),
                &path,
                &h,
                Some(json!({"title": "X", "image": "/x"})),
            )
            .await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{method} {tag:?}");
            assert!(
                a.body["error"]
                    .as_str()
                    .unwrap()
                    .starts_with("If-Match must be"),
                "{}",
                a.body
            );
        }
    }
    assert_eq!(count(&pool, "audit_log").await, 1);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn patch_changes_only_the_fields_it_sends(pool: MySqlPool) {
    let app = app(&pool);
    let auth = token(&pool, "t", None).await;
    let h = [("authorization", auth.as_str())];
    let id = create(&app, &auth, "Mug").await["id"].as_u64().unwrap();
    let path = format!("/api/products/{id}");
    let a = call(
        &app,
        Method::PATCH,
        &path,
        &h,
        Some(json!({"title": " Big mug ", "likes": 9})),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    assert_eq!(a.header("etag"), Some("\"2\""));
    assert_eq!(
        a.body,
        json!({"id": id, "title": "Big mug", "image": "/m.png", "likes": 0})
    );
    let a = call(
        &app,
        Method::PATCH,
        &path,
        &h,
        Some(json!({"image": "https://example.com/b.png"})),
    )
    .await;
    assert_eq!(a.body["title"], "Big mug");
    assert_eq!(a.body["image"], "https://example.com/b.png");
    let rows = audit_rows(&pool).await;
    assert_eq!(
        rows[2]["changes"],
        json!({"image": {"old": "/m.png", "new": "https://example.com/b.png"}})
    );
    let outbox: Vec<String> = sqlx::query_scalar("SELECT content_type FROM outbox ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        outbox,
        ["product_created", "product_updated", "product_updated"]
    );

    for (body, field) in [
        (json!({}), "non_field_errors"),
        (json!({"likes": 3}), "non_field_errors"),
        (json!({"title": ""}), "title"),
        (json!({"title": null}), "title"),
        (json!({"image": "javascript:alert(1)"}), "image"),
        (json!([1]), "non_field_errors"),
    ] {
        let a = call(&app, Method::PATCH, &path, &h, Some(body.clone())).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(a.body.get(field).is_some(), "{body}: {}", a.body);
    }
    let a = call(
        &app,
        Method::PATCH,
        "/api/products/999",
        &h,
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = call(&app, Method::PATCH, &path, &[], Some(json!({"title": "x"}))).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let stale = [("authorization", auth.as_str()), ("if-match", "\"2\"")];
    let a = call(
        &app,
        Method::PATCH,
        &path,
        &stale,
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(
        (a.status, a.header("etag")),
        (StatusCode::PRECONDITION_FAILED, Some("\"3\""))
    );
    let fresh = [("authorization", auth.as_str()), ("if-match", "\"3\"")];
    let a = call(
        &app,
        Method::PATCH,
        &path,
        &fresh,
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(
        (a.status, a.header("etag")),
        (StatusCode::ACCEPTED, Some("\"4\""))
    );
}

/// The methods each new path answers, as `Allow` lists them: nginx's map of them
/// (frontend/nginx/default.conf.template) must say the same (the hostile-input suite
/// compares the two).
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn wrong_methods_list_what_each_path_answers(pool: MySqlPool) {
    let app = app(&pool);
    for (path, allow) in [
        ("/api/products/1", "GET,HEAD,PUT,PATCH,DELETE"),
        ("/api/products/bulk-delete", "POST"),
        ("/api/products/1/history", "GET,HEAD"),
        ("/api/audit", "GET,HEAD"),
    ] {
        let a = call(&app, Method::TRACE, path, &[], None).await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(a.header("allow"), Some(allow), "{path}");
    }
}

/// Two clients that read version 1 write at once: the row's lock orders them, and the
/// second sees the first's version, so exactly one change is made.
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn of_two_writes_with_the_same_tag_one_wins(pool: MySqlPool) {
    let app = app(&pool);
    let auth = token(&pool, "t", None).await;
    for round in 0..5 {
        let id = create(&app, &auth, "Mug").await["id"].as_u64().unwrap();
        let path = format!("/api/products/{id}");
        let h = [("authorization", auth.as_str()), ("if-match", "\"1\"")];
        let (a, b) = tokio::join!(
            call(&app, Method::PATCH, &path, &h, Some(json!({"title": "A"}))),
            call(&app, Method::DELETE, &path, &h, None),
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert!(
            // The change first (the delete is stale), or the delete first (nothing to change).
            statuses == [202, 412] || statuses == [204, 404],
            "round {round}: {statuses:?}"
        );
        let changes: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE product_id = ? AND action <> 'product.create'",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(changes, 1, "round {round}");
    }
}
