//! Router tests of the audit log: every catalogue change writes its record (actor, changes,
//! trace id) in its transaction, a refused change writes none, and the history and the log
//! read back newest first, paged and filtered, by any signed-in account. Retention deletes
//! old records in batches.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use admin_svc::audit::AuditLog;
use admin_svc::audit::retention::purge_audit;
use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{Value, json};
use sqlx::MySqlPool;

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn every_change_is_recorded_with_its_actor_changes_and_trace(pool: MySqlPool) {
    let app = app(&pool);
    let ada = user(&pool, "Ada Lovelace", "admin").await;
    let auth = token(&pool, "ada-script", Some(ada)).await;
    let headers = [
        ("authorization", auth.as_str()),
        ("traceparent", TRACEPARENT),
    ];
    let a = call(
        &app,
        Method::POST,
        "/api/products",
        &headers,
        Some(json!({"title": " Mug ", "image": "/m.png"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let id = a.body["id"].as_u64().unwrap();
    let path = format!("/api/products/{id}");
    let body = json!({"title": "Big mug", "image": "/m.png"});
    let a = call(&app, Method::PUT, &path, &headers, Some(body.clone())).await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    // The same again: recorded, with no changes.
    let a = call(&app, Method::PUT, &path, &headers, Some(body)).await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    let a = call(&app, Method::DELETE, &path, &headers, None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);

    let actor = json!({"user_id": ada, "name": "Ada Lovelace", "token": "ada-script"});
    let entry = |action: &str, version: u64, changes: Value| {
        json!({"action": action, "actor": actor, "product_id": id, "product_version": version,
               "changes": changes, "trace_id": TRACE_ID})
    };
    assert_eq!(
        audit_rows(&pool).await,
        vec![
            entry(
                "product.create",
                1,
                json!({"title": {"old": null, "new": "Mug"}, "image": {"old": null, "new": "/m.png"},
                       "likes": {"old": null, "new": 0}})
            ),
            entry(
                "product.update",
                2,
                json!({"title": {"old": "Mug", "new": "Big mug"}})
            ),
            entry("product.update", 3, json!({})),
            entry(
                "product.delete",
                3,
                json!({"title": {"old": "Big mug", "new": null}, "image": {"old": "/m.png", "new": null},
                       "likes": {"old": 0, "new": null}})
            ),
        ]
    );

    // A token without owner is named alone.
    let plain = token(&pool, "deploy", None).await;
    create(&app, &plain, "Cup").await;
    let last = audit_rows(&pool).await.pop().unwrap();
    assert_eq!(
        last["actor"],
        json!({"user_id": null, "name": null, "token": "deploy"})
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_refused_change_records_nothing(pool: MySqlPool) {
    let app = app(&pool);
    let auth = token(&pool, "t", None).await;
    let h = [("authorization", auth.as_str())];
    let id = create(&app, &auth, "Mug").await["id"].as_u64().unwrap();
    let path = format!("/api/products/{id}");
    let refused = [
        (
            Method::POST,
            "/api/products".to_owned(),
            Some(json!({"title": ""})),
        ),
        (Method::PUT, path.clone(), Some(json!({"title": "x"}))),
        (
            Method::PUT,
            "/api/products/999".to_owned(),
            Some(json!({"title": "x", "image": "/a"})),
        ),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"image": "javascript:x"})),
        ),
        (Method::DELETE, "/api/products/999".to_owned(), None),
    ];
    for (method, uri, body) in refused {
        let a = call(&app, method.clone(), &uri, &h, body).await;
        assert!(a.status.is_client_error(), "{method} {uri}: {}", a.status);
    }
    let stale = [("authorization", auth.as_str()), ("if-match", "\"7\"")];
    let a = call(&app, Method::DELETE, &path, &stale, None).await;
    assert_eq!(a.status, StatusCode::PRECONDITION_FAILED);
    // Anonymous and viewer writes.
    let viewer = user(&pool, "Vic", "viewer").await;
    let vic = token(&pool, "vic", Some(viewer)).await;
    let a = call(
        &app,
        Method::DELETE,
        &path,
        &[("authorization", vic.as_str())],
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.body,
        json!({"error": "Your role (viewer) cannot change the catalogue"})
    );
    let a = call(&app, Method::DELETE, &path, &[], None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(count(&pool, "audit_log").await, 1);
    assert_eq!(count(&pool, "outbox").await, 1);
}

/// `n` entries: products created, then the first one updated until there are `n`.
async fn entries(pool: &MySqlPool, auth: &str) -> u64 {
    let app = app(pool);
    let first = create(&app, auth, "P0").await["id"].as_u64().unwrap();
    create(&app, auth, "P1").await;
    for i in 0..5 {
        let a = call(
            &app,
            Method::PATCH,
            &format!("/api/products/{first}"),
            &[("authorization", auth)],
            Some(json!({"title": format!("P0 v{i}")})),
        )
        .await;
        assert_eq!(a.status, StatusCode::ACCEPTED);
    }
    first
}

fn next_link(a: &Answer) -> Option<String> {
    let link = a.header("link")?;
    let start = link.find('<')? + 1;
    let end = link.find('>')?;
    assert!(link.ends_with("rel=\"next\""), "{link}");
    Some(link[start..end].to_owned())
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn history_and_the_log_page_newest_first_with_their_filters(pool: MySqlPool) {
    let app = app(&pool);
    let ada = user(&pool, "Ada", "admin").await;
    let auth = token(&pool, "ada", Some(ada)).await;
    let first = entries(&pool, &auth).await;
    let h = [("authorization", auth.as_str())];

    // History: 6 entries of the first product, 4 then 2.
    let a = call(
        &app,
        Method::GET,
        &format!("/api/products/{first}/history?limit=4"),
        &h,
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let page: Vec<Value> = a.body.as_array().unwrap().clone();
    assert_eq!(page.len(), 4);
    assert_eq!(page[0]["changes"]["title"]["new"], "P0 v4");
    assert_eq!(page[0]["product_version"], 6);
    assert!(
        page.windows(2)
            .all(|w| w[0]["id"].as_u64() > w[1]["id"].as_u64())
    );
    let e = &page[0];
    assert_eq!(
        e["actor"],
        json!({"user_id": ada, "name": "Ada", "token": "ada"})
    );
    assert_eq!(e["action"], "product.update");
    assert_eq!(e["account_id"], Value::Null);
    assert_eq!(e["detail"], Value::Null);
    assert_eq!(e["ip"], Value::Null, "router tests have no peer address");
    assert_eq!(e["trace_id"].as_str().unwrap().len(), 32);
    let at = e["at"].as_str().unwrap();
    assert!(
        regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
            .unwrap()
            .is_match(at),
        "{at}"
    );
    let next = next_link(&a).unwrap();
    let last_id = page[3]["id"].as_u64().unwrap();
    assert_eq!(
        next,
        format!("/api/products/{first}/history?before={last_id}&limit=4")
    );
    let a = call(&app, Method::GET, &next, &h, None).await;
    assert_eq!(a.body.as_array().unwrap().len(), 2);
    assert_eq!(a.body[1]["action"], "product.create");
    assert_eq!(next_link(&a), None);

    // The log: 7 entries; filters kept in the link.
    let a = call(&app, Method::GET, "/api/audit", &h, None).await;
    assert_eq!(a.body.as_array().unwrap().len(), 7);
    assert_eq!(next_link(&a), None);
    let a = call(
        &app,
        Method::GET,
        "/api/audit?action=product.update&limit=2&actor=1&actor=",
        &h,
        None,
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "the last value counts: actor="
    );
    let uri = format!("/api/audit?action=product.update&limit=3&actor={ada}&product={first}");
    let a = call(&app, Method::GET, &uri, &h, None).await;
    assert_eq!(a.body.as_array().unwrap().len(), 3);
    let next = next_link(&a).unwrap();
    assert!(
        next.starts_with(&format!(
            "/api/audit?action=product.update&actor={ada}&product={first}&before="
        )),
        "{next}"
    );
    let a = call(&app, Method::GET, &next, &h, None).await;
    assert_eq!(a.body.as_array().unwrap().len(), 2);
    let a = call(
        &app,
        Method::GET,
        "/api/audit?action=product.create",
        &h,
        None,
    )
    .await;
    assert_eq!(a.body.as_array().unwrap().len(), 2);
    let a = call(
        &app,
        Method::GET,
        &format!("/api/audit?actor={}", ada + 1),
        &h,
        None,
    )
    .await;
    assert_eq!(a.body, json!([]));

    // Bad parameters name themselves.
    for (uri, name) in [
        ("/api/audit?limit=0", "limit"),
        ("/api/audit?limit=101", "limit"),
        ("/api/audit?limit=1.5", "limit"),
        ("/api/audit?before=-1", "before"),
        ("/api/audit?before=0", "before"),
        ("/api/audit?actor=abc", "actor"),
        ("/api/audit?product=0", "product"),
        ("/api/audit?action=product", "action"),
        ("/api/products/1/history?limit=x", "limit"),
    ] {
        let a = call(&app, Method::GET, uri, &h, None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(
            a.body["error"].as_str().unwrap().starts_with(name),
            "{uri}: {}",
            a.body
        );
    }

    // A deleted product keeps its history; one that never was is a 404.
    let a = call(
        &app,
        Method::DELETE,
        &format!("/api/products/{first}"),
        &h,
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = call(
        &app,
        Method::GET,
        &format!("/api/products/{first}/history"),
        &h,
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body[0]["action"], "product.delete");
    for missing in ["/api/products/999/history", "/api/products/abc/history"] {
        let a = call(&app, Method::GET, missing, &h, None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert_eq!(a.body, json!({"error": "Product not found"}));
    }
    // A product from before the audit log: no entries, not a 404.
    sqlx::query("INSERT INTO products (id, title, image) VALUES (500, 'Old', '/o.png')")
        .execute(&pool)
        .await
        .unwrap();
    let a = call(&app, Method::GET, "/api/products/500/history", &h, None).await;
    assert_eq!((a.status, a.body), (StatusCode::OK, json!([])));
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn any_signed_in_account_reads_the_log_and_a_viewer_changes_nothing(pool: MySqlPool) {
    let app = app(&pool);
    let admin = token(&pool, "admin", None).await;
    let id = create(&app, &admin, "Mug").await["id"].as_u64().unwrap();
    for uri in ["/api/audit", &format!("/api/products/{id}/history")] {
        let a = call(&app, Method::GET, uri, &[], None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(a.body, json!({"error": "Sign in required"}));
        let a = call(
            &app,
            Method::GET,
            uri,
            &[("authorization", "Bearer shop_nope")],
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let viewer = user(&pool, "Vic", "viewer").await;
    let vic = token(&pool, "vic", Some(viewer)).await;
    let h = [("authorization", vic.as_str())];
    for uri in ["/api/audit", &format!("/api/products/{id}/history")] {
        let a = call(&app, Method::GET, uri, &h, None).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert_eq!(a.body.as_array().unwrap().len(), 1);
    }
    let path = format!("/api/products/{id}");
    for (method, uri, body) in [
        (Method::PATCH, path.as_str(), json!({"title": "x"})),
        (
            Method::PUT,
            path.as_str(),
            json!({"title": "x", "image": "/x"}),
        ),
        (
            Method::POST,
            "/api/products/bulk-delete",
            json!({"ids": [id]}),
        ),
    ] {
        let a = call(&app, method.clone(), uri, &h, Some(body)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{method} {uri}");
        assert_eq!(
            a.body,
            json!({"error": "Your role (viewer) cannot change the catalogue"})
        );
    }
    assert_eq!(count(&pool, "audit_log").await, 1);
    assert_eq!(count(&pool, "products").await, 1);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn retention_deletes_old_records_in_batches(pool: MySqlPool) {
    let log = AuditLog::in_service_database();
    // 2,500 records of 400 days ago, 3 of yesterday, 2 of now.
    sqlx::query(
        "INSERT INTO audit_log (at, action) \
         SELECT NOW(6) - INTERVAL 400 DAY, 'product.create' FROM seq_1_to_2500",
    )
    .execute(&pool)
    .await
    .unwrap();
    for _ in 0..3 {
        sqlx::query(
            "INSERT INTO audit_log (at, action) VALUES (NOW(6) - INTERVAL 1 DAY, 'auth.sign_in')",
        )
        .execute(&pool)
        .await
        .unwrap();
    }
    for _ in 0..2 {
        sqlx::query("INSERT INTO audit_log (action) VALUES ('auth.sign_out')")
            .execute(&pool)
            .await
            .unwrap();
    }
    let year = Duration::from_secs(365 * 86_400);
    assert_eq!(purge_audit(&pool, &log, year).await.unwrap(), 2500);
    assert_eq!(count(&pool, "audit_log").await, 5);
    assert_eq!(purge_audit(&pool, &log, year).await.unwrap(), 0);
    let hours = Duration::from_secs(3600);
    assert_eq!(purge_audit(&pool, &log, hours).await.unwrap(), 3);
    assert_eq!(count(&pool, "audit_log").await, 2);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_session_is_recorded_as_its_account_from_its_address(pool: MySqlPool) {
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::{Request, header};
    use tower::ServiceExt;

    let app = app(&pool);
    let id = user(&pool, "Grace Hopper", "admin").await;
    let hash = admin_svc::auth::password::hash("correct horse battery staple".into())
        .await
        .unwrap();
    admin_svc::db::set_password_hash(&pool, "grace.hopper@example.com", &hash)
        .await
        .unwrap();
    let a = call(
        &app,
        Method::POST,
        "/api/auth/login",
        &[],
        Some(json!({"email": "grace.hopper@example.com", "password": "correct horse battery staple"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let cookie = a
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // As the server sees a connection: the peer's address.
    let mut req = Request::post("/api/products")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"title": "Mug", "image": "/m.png"}"#))
        .unwrap();
    let peer: std::net::SocketAddr = "203.0.113.9:50000".parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let (user_id, name, token, ip): (Option<u64>, Option<String>, Option<String>, Option<String>) =
        sqlx::query_as(
            "SELECT actor_user_id, actor_name, actor_token, ip FROM audit_log \
             WHERE action = 'product.create'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        (user_id, name.as_deref(), token, ip.as_deref()),
        (Some(id), Some("Grace Hopper"), None, Some("203.0.113.9"))
    );
    let a = call(
        &app,
        Method::GET,
        "/api/audit?action=product.create",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(a.body[0]["ip"], "203.0.113.9");
    assert_eq!(
        a.body[0]["actor"],
        json!({"user_id": id, "name": "Grace Hopper", "token": null})
    );
}
