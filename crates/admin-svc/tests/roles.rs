//! Roles, enforced by the API on every route: a viewer (signed in, or with a token of their
//! own) walks every write route of the OpenAPI document and is refused each one with `403`
//! (`404` for another account's token), and nothing changes in any table; the reads a viewer
//! has are open to them. The list of write routes is checked against the OpenAPI document,
//! so a write route added later without a role check fails here.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use admin_svc::ApiDoc;
use axum::http::{Method, StatusCode};
use common::{As, account, app, make_token, send, sign_in};
use serde_json::{Value, json};
use sqlx::MySqlPool;
use utoipa::OpenApi;

/// The write routes every signed-in account has, whatever its role: their own password,
/// sessions and tokens, and signing in and out.
const OWN_ACCOUNT: [(&str, &str); 8] = [
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/logout"),
    ("PUT", "/api/auth/password"),
    ("DELETE", "/api/auth/sessions/{id}"),
    ("POST", "/api/auth/sessions/sign-out-others"),
    ("POST", "/api/tokens"),
    ("POST", "/api/account-links/inspect"),
    ("POST", "/api/account-links/redeem"),
];

/// A checksum of every table a refused request must leave as it was (not the sessions,
/// whose last use moves with any request).
async fn everything(pool: &MySqlPool) -> Vec<(String, Option<i64>)> {
    let mut all = Vec::new();
    for table in [
        "products",
        "users",
        "api_tokens",
        "outbox",
        "account_links",
        "audit_log",
    ] {
        let row: (String, Option<i64>) = sqlx::query_as(&format!("CHECKSUM TABLE {table}"))
            .fetch_one(pool)
            .await
            .unwrap();
        all.push(row);
    }
    all
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_viewer_is_refused_every_write_route_and_changes_nothing(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", "ada@example.com", "admin").await;
    let viewer_id = account(&pool, "Vera", "vera@example.com", "viewer").await;
    let admin = sign_in(&app, "ada@example.com").await;
    let viewer = sign_in(&app, "vera@example.com").await;

    // What there is to refuse: a product, an admin's token, the viewer's own token.
    let product = send(
        &app,
        Method::POST,
        "/api/products",
        As::Cookie(&admin),
        Some(json!({"title": "Mug", "image": "/m.png"})),
    )
    .await;
    assert_eq!(product.status, StatusCode::CREATED);
    let p = product.body["id"].as_u64().unwrap();
    let (admin_token_id, _) = make_token(&app, As::Cookie(&admin), "ci").await;
    let (_, viewer_token) = make_token(&app, As::Cookie(&viewer), "mine").await;

    let product_body = json!({"title": "Stolen", "image": "/s.png"});
    let forbidden = StatusCode::FORBIDDEN;
    let walk: Vec<(Method, String, &str, Option<Value>, StatusCode)> = vec![
        (
            Method::POST,
            "/api/products".into(),
            "/api/products",
            Some(product_body.clone()),
            forbidden,
        ),
        (
            Method::PUT,
            format!("/api/products/{p}"),
            "/api/products/{id}",
            Some(product_body),
            forbidden,
        ),
        (
            Method::PATCH,
            format!("/api/products/{p}"),
            "/api/products/{id}",
            Some(json!({"title": "Stolen"})),
            forbidden,
        ),
        (
            Method::DELETE,
            format!("/api/products/{p}"),
            "/api/products/{id}",
            None,
            forbidden,
        ),
        (
            Method::POST,
            "/api/products/bulk-delete".into(),
            "/api/products/bulk-delete",
            Some(json!({"ids": [p]})),
            forbidden,
        ),
        (
            Method::POST,
            "/api/admins".into(),
            "/api/admins",
            Some(json!({"name": "Eve", "email": "eve@example.com", "role": "admin"})),
            forbidden,
        ),
        (
            Method::PATCH,
            format!("/api/admins/{viewer_id}"),
            "/api/admins/{id}",
            Some(json!({"role": "admin"})),
            forbidden,
        ),
        (
            Method::POST,
            format!("/api/admins/{viewer_id}/link"),
            "/api/admins/{id}/link",
            None,
            forbidden,
        ),
        (
            Method::DELETE,
            format!("/api/tokens/{admin_token_id}"),
            "/api/tokens/{id}",
            None,
            StatusCode::NOT_FOUND,
        ),
    ];

    // Every write route of the OpenAPI document is walked, or is the viewer's own.
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
    let mut writes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                writes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let covered: BTreeSet<(String, String)> = walk
        .iter()
        .map(|(m, _, route, _, _)| (m.to_string(), route.to_string()))
        .chain(
            OWN_ACCOUNT
                .iter()
                .map(|(m, r)| (m.to_string(), r.to_string())),
        )
        .collect();
    assert_eq!(
        writes, covered,
        "every write route is walked as a viewer or is the viewer's own"
    );

    // The viewer's token has been used once (its last use is noted at most once a minute).
    assert_eq!(
        common::get(&app, "/api/auth/me", As::Token(&viewer_token))
            .await
            .status,
        StatusCode::OK
    );
    let before = everything(&pool).await;
    for who in [As::Cookie(&viewer), As::Token(&viewer_token)] {
        for (method, uri, _, body, expected) in &walk {
            let a = send(&app, method.clone(), uri, who, body.clone()).await;
            assert_eq!(
                a.status, *expected,
                "{method} {uri} as a viewer: {}",
                a.body
            );
            assert!(
                a.body["error"].is_string(),
                "{method} {uri}: the JSON error shape: {}",
                a.body
            );
            if a.status == StatusCode::FORBIDDEN {
                let message = a.body["error"].as_str().unwrap();
                assert!(
                    message.contains("viewer"),
                    "{method} {uri} says why: {message}"
                );
            }
        }
    }
    assert_eq!(
        everything(&pool).await,
        before,
        "a refused request changes nothing"
    );

    // What a viewer may do.
    for uri in [
        "/api/auth/me".to_owned(),
        format!("/api/products/{p}/history"),
        "/api/audit".to_owned(),
        "/api/tokens".to_owned(),
        format!("/api/products/{p}"),
    ] {
        for who in [As::Cookie(&viewer), As::Token(&viewer_token)] {
            let a = common::get(&app, &uri, who).await;
            assert_eq!(
                a.status,
                StatusCode::OK,
                "GET {uri} as a viewer: {}",
                a.body
            );
        }
    }
    let tokens = common::get(&app, "/api/tokens", As::Cookie(&viewer))
        .await
        .body;
    let names: Vec<&str> = tokens
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mine"], "a viewer sees only their own tokens");
    let admins = common::get(&app, "/api/admins", As::Cookie(&viewer)).await;
    assert_eq!(
        admins.status,
        StatusCode::FORBIDDEN,
        "a viewer manages no account"
    );
    let me = common::get(&app, "/api/auth/me", As::Cookie(&viewer)).await;
    assert_eq!(me.body["role"], "viewer");
}
