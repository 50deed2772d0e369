//! Router tests of `POST /api/products/bulk-delete`: found, missing and repeated ids, one
//! event and one audit record per deleted product, the list's limits and the refusals.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{Value, json};
use sqlx::MySqlPool;

const PATH: &str = "/api/products/bulk-delete";

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn found_ids_are_deleted_each_with_its_event_and_record(pool: MySqlPool) {
    let app = app(&pool);
    let ada = user(&pool, "Ada", "admin").await;
    let auth = token(&pool, "ada", Some(ada)).await;
    let ids: Vec<u64> = [
        create(&app, &auth, "Blue mug").await,
        create(&app, &auth, "Red mug").await,
        create(&app, &auth, "Cup").await,
    ]
    .iter()
    .map(|p| p["id"].as_u64().unwrap())
    .collect();
    let (p1, p2, p3) = (ids[0], ids[1], ids[2]);
    let h = [
        ("authorization", auth.as_str()),
        ("traceparent", TRACEPARENT),
    ];
    let a = call(
        &app,
        Method::POST,
        PATH,
        &h,
        Some(json!({"ids": [p2, 999, p1, p2, 999]})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        a.body,
        json!({"deleted": 2, "not_found": 1, "results": [
            {"id": p2, "outcome": "deleted"},
            {"id": 999, "outcome": "not_found"},
            {"id": p1, "outcome": "deleted"},
        ]})
    );
    let left: Vec<u64> = sqlx::query_scalar("SELECT id FROM products")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(left, [p3]);
    let events: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT content_type, body FROM outbox WHERE content_type = 'product_deleted' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let deleted: Vec<Value> = events
        .iter()
        .map(|(_, b)| serde_json::from_slice(b).unwrap())
        .collect();
    assert_eq!(deleted, [json!(p1), json!(p2)]);
    let records: Vec<Value> = audit_rows(&pool)
        .await
        .into_iter()
        .filter(|r| r["action"] == "product.bulk_delete")
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["product_id"], p1);
    assert_eq!(records[0]["product_version"], 1);
    assert_eq!(
        records[0]["changes"]["title"],
        json!({"old": "Blue mug", "new": null})
    );
    assert_eq!(
        records[1]["actor"],
        json!({"user_id": ada, "name": "Ada", "token": "ada"})
    );
    assert_eq!(records[1]["trace_id"], TRACE_ID);
    // Their search terms went with them: a search finds the cup alone.
    let terms: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM product_search_terms WHERE product_id <> ?")
            .bind(p3)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(terms, 0);
    // Nothing left to delete: nothing changes, nothing is recorded.
    let before = count(&pool, "audit_log").await;
    let a = call(&app, Method::POST, PATH, &h, Some(json!({"ids": [p1]}))).await;
    assert_eq!(
        a.body,
        json!({"deleted": 0, "not_found": 1, "results": [{"id": p1, "outcome": "not_found"}]})
    );
    assert_eq!(count(&pool, "audit_log").await, before);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn the_list_has_1_to_500_positive_ids(pool: MySqlPool) {
    let app = app(&pool);
    let auth = token(&pool, "t", None).await;
    let h = [("authorization", auth.as_str())];
    let p = create(&app, &auth, "Mug").await["id"].as_u64().unwrap();
    let mut max: Vec<u64> = (1000..1499).collect();
    max.push(p);
    let a = call(&app, Method::POST, PATH, &h, Some(json!({"ids": max}))).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        (a.body["deleted"].as_u64(), a.body["not_found"].as_u64()),
        (Some(1), Some(499))
    );
    let over: Vec<u64> = (1..=501).collect();
    for body in [
        json!({"ids": over}),
        json!({}),
        json!({"ids": null}),
        json!({"ids": 1}),
        json!({"ids": []}),
        json!({"ids": [1, 0]}),
        json!({"ids": [1, -2]}),
        json!({"ids": [1.5]}),
        json!({"ids": ["1"]}),
        json!({"ids": [[1]]}),
    ] {
        let a = call(&app, Method::POST, PATH, &h, Some(body.clone())).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            a.body["ids"].as_array().unwrap().len(),
            1,
            "{body}: {}",
            a.body
        );
    }
    let a = call(&app, Method::POST, PATH, &h, Some(json!([1]))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.get("non_field_errors").is_some());
    let a = call(&app, Method::POST, PATH, &h, None).await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let a = call(&app, Method::POST, PATH, &[], Some(json!({"ids": [1]}))).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let cross = [
        ("authorization", auth.as_str()),
        ("sec-fetch-site", "cross-site"),
    ];
    let a = call(&app, Method::POST, PATH, &cross, Some(json!({"ids": [1]}))).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let big = json!({"ids": [1], "pad": "x".repeat(70_000)});
    let a = call(&app, Method::POST, PATH, &h, Some(big)).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    // `1.0` is a whole number.
    let a = call(&app, Method::POST, PATH, &h, Some(json!({"ids": [1.0]}))).await;
    assert_eq!(a.status, StatusCode::OK);
}

/// Two bulk deletes of the same products in opposite orders, at once: rows are locked in id
/// order, so neither deadlocks; each product is deleted once, by one of them.
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn overlapping_bulk_deletes_do_not_deadlock(pool: MySqlPool) {
    let app = app(&pool);
    let auth = token(&pool, "t", None).await;
    let h = [("authorization", auth.as_str())];
    for round in 0..5 {
        let mut ids = Vec::new();
        for i in 0..20 {
            ids.push(create(&app, &auth, &format!("R{round} P{i}")).await["id"].clone());
        }
        let reversed: Vec<Value> = ids.iter().rev().cloned().collect();
        let (a, b) = tokio::join!(
            call(&app, Method::POST, PATH, &h, Some(json!({"ids": ids}))),
            call(&app, Method::POST, PATH, &h, Some(json!({"ids": reversed}))),
        );
        assert_eq!(
            (a.status, b.status),
            (StatusCode::OK, StatusCode::OK),
            "{} {}",
            a.body,
            b.body
        );
        let deleted = a.body["deleted"].as_u64().unwrap() + b.body["deleted"].as_u64().unwrap();
        assert_eq!(deleted, 20, "round {round}");
    }
    assert_eq!(count(&pool, "products").await, 0);
    let records: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'product.bulk_delete'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(records, 100);
}
