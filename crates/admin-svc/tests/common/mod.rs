//! What the admin console's router tests share: a router over a fresh database, accounts
//! with a role and a password, tokens, requests with a session cookie or a token (or any
//! headers), products, and the audit log's rows.
#![allow(dead_code, clippy::unwrap_used)]

use admin_svc::{AppState, auth, db, router};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::MySqlPool;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";

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

/// How a request proves who sends it.
#[derive(Clone, Copy)]
pub enum As<'a> {
    Nobody,
    Cookie(&'a str),
    Token(&'a str),
}

pub fn app(pool: &MySqlPool) -> Router {
    router(AppState::detached(pool.clone(), true))
}

pub async fn send(
    app: &Router,
    method: Method,
    uri: impl AsRef<str>,
    who: As<'_>,
    body: Option<Value>,
) -> Answer {
    send_with(app, method, uri, who, body, &[]).await
}

/// [`send`] with more headers.
pub async fn send_with(
    app: &Router,
    method: Method,
    uri: impl AsRef<str>,
    who: As<'_>,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(uri.as_ref())
        .header(header::USER_AGENT, "Tests/1.0");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    match who {
        As::Nobody => {}
        As::Cookie(c) => req = req.header(header::COOKIE, c),
        As::Token(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
    }
    let req = match body {
        Some(v) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let raw = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
    }
}

pub async fn get(app: &Router, uri: &str, who: As<'_>) -> Answer {
    send(app, Method::GET, uri, who, None).await
}

/// An account with `role` and [`PASSWORD`]; its id.
pub async fn account(pool: &MySqlPool, name: &str, email: &str, role: &str) -> u64 {
    let hash = auth::password::hash(PASSWORD.to_owned()).await.unwrap();
    let done =
        sqlx::query("INSERT INTO users (name, email, role, password_hash) VALUES (?, ?, ?, ?)")
            .bind(name)
            .bind(email)
            .bind(role)
            .bind(hash)
            .execute(pool)
            .await
            .unwrap();
    done.last_insert_id()
}

/// The `name=value` of the session cookie an answer set.
pub fn session_cookie(a: &Answer) -> String {
    let set = a.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// Signs in and returns the session cookie.
pub async fn sign_in(app: &Router, email: &str) -> String {
    let a = send(
        app,
        Method::POST,
        "/api/auth/login",
        As::Nobody,
        Some(json!({"email": email, "password": PASSWORD})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    session_cookie(&a)
}

/// Makes a token through the API as `who`; returns (id, token).
pub async fn make_token(app: &Router, who: As<'_>, name: &str) -> (u64, String) {
    let a = send(
        app,
        Method::POST,
        "/api/tokens",
        who,
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    (
        a.body["id"].as_u64().unwrap(),
        a.body["token"].as_str().unwrap().to_owned(),
    )
}

/// The audit log's rows of `action`: (actor_user_id, account_id, changes, detail).
pub async fn audited(
    pool: &MySqlPool,
    action: &str,
) -> Vec<(Option<u64>, Option<u64>, Value, Value)> {
    type Row = (Option<u64>, Option<u64>, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT actor_user_id, account_id, changes, detail FROM audit_log WHERE action = ? ORDER BY id",
    )
    .bind(action)
    .fetch_all(pool)
    .await
    .unwrap();
    let parse = |s: Option<String>| s.map_or(Value::Null, |s| serde_json::from_str(&s).unwrap());
    rows.into_iter()
        .map(|(a, b, c, d)| (a, b, parse(c), parse(d)))
        .collect()
}

pub const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

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

/// Sends `method uri` with `headers` (name, value: an `authorization` among them) and a
/// JSON `body`.
pub async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    send_with(app, method, uri, As::Nobody, body, headers).await
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
