//! What the account, session and token tests share: a router over a fresh database,
//! accounts with a role and a password, requests with a session cookie or a token, and the
//! audit log's rows.
#![allow(dead_code, clippy::unwrap_used)]

use admin_svc::{AppState, auth, router};
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
