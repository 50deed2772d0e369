//! Helpers of the router tests of the admin console (audit.rs, conflicts.rs, bulk.rs).
#![allow(clippy::unwrap_used, dead_code)]

use admin_svc::{AppState, auth, db, router};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::MySqlPool;
use tower::ServiceExt;

pub const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

pub fn app(pool: &MySqlPool) -> Router {
    router(AppState::detached(pool.clone(), true))
}

/// A user named `name` with `role` (`admin` or `viewer`); its id.
pub async fn user(pool: &MySqlPool, name: &str, role: &str) -> u64 {
    let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
    let (id, _) = db::upsert_user(pool, name, &email).await.unwrap();
    sqlx::query("UPDATE users SET role = ? WHERE id = ?")
        .bind(role)
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    id
}

/// An API token named `name`, owned by `owner` (none: an admin's token without owner); the
/// `Authorization` value.
pub async fn token(pool: &MySqlPool, name: &str, owner: Option<u64>) -> String {
    let token = auth::token::generate();
    db::insert_token(pool, name, &auth::token::digest(&token))
        .await
        .unwrap();
    sqlx::query("UPDATE api_tokens SET user_id = ? WHERE name = ?")
        .bind(owner)
        .bind(name)
        .execute(pool)
        .await
        .unwrap();
    format!("Bearer {token}")
}

/// Sends `method uri` with `headers` (name, value) and a JSON `body`.
pub async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let raw = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
    }
}

/// Creates a product as `auth`; its JSON.
pub async fn create(app: &Router, auth: &str, title: &str) -> Value {
    let a = call(
        app,
        Method::POST,
        "/api/products",
        &[("authorization", auth)],
        Some(json!({"title": title, "image": "/m.png"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body
}

/// action, actor_user_id, actor_name, actor_token, product_id, product_version, changes,
/// trace_id.
type AuditRow = (
    String,
    Option<u64>,
    Option<String>,
    Option<String>,
    Option<u64>,
    Option<u64>,
    Option<String>,
    Option<String>,
);

/// Every audit row, oldest first, as the API shows an entry.
pub async fn audit_rows(pool: &MySqlPool) -> Vec<Value> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT action, actor_user_id, actor_name, actor_token, product_id, product_version, \
             changes, trace_id FROM audit_log ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(
            |(action, user_id, name, token, product, version, changes, trace)| {
                json!({
                    "action": action,
                    "actor": {"user_id": user_id, "name": name, "token": token},
                    "product_id": product,
                    "product_version": version,
                    "changes": changes.map(|c| serde_json::from_str::<Value>(&c).unwrap()),
                    "trace_id": trace,
                })
            },
        )
        .collect()
}

pub async fn count(pool: &MySqlPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}
