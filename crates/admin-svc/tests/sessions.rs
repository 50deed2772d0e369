//! Router tests of the sessions list, signing out, changing your password and the audit of
//! signing in, each on a fresh database.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{As, PASSWORD, account, app, audited, get, make_token, send, sign_in};
use serde_json::json;
use sqlx::MySqlPool;

const ADA: &str = "ada@example.com";
const NEW_PASSWORD: &str = "a brand new passphrase";

async fn rows(pool: &MySqlPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM admin_sessions")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn session_routes_need_a_session(pool: MySqlPool) {
    let app = app(&pool);
    for (method, uri, body) in [
        (Method::GET, "/api/auth/sessions", None),
        (
            Method::DELETE,
            "/api/auth/sessions/00000000000000000000000000000000",
            None,
        ),
        (Method::POST, "/api/auth/sessions/sign-out-others", None),
        (
            Method::PUT,
            "/api/auth/password",
            Some(json!({"current_password": "x", "new_password": NEW_PASSWORD})),
        ),
    ] {
        let a = send(&app, method.clone(), uri, As::Nobody, body).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
    }
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn sign_in_is_listed_and_audited_and_sign_out_ends_it(pool: MySqlPool) {
    let app = app(&pool);
    let ada = account(&pool, "Ada", ADA, "viewer").await;
    let first = sign_in(&app, ADA).await;
    let second = sign_in(&app, ADA).await;
    assert_eq!(rows(&pool).await, 2);
    let me = get(&app, "/api/auth/me", As::Cookie(&second)).await;
    assert_eq!(
        me.body,
        json!({"id": ada, "name": "Ada", "email": ADA, "role": "viewer"})
    );
    let list = get(&app, "/api/auth/sessions", As::Cookie(&second)).await;
    assert_eq!(list.status, StatusCode::OK);
    let list = list.body.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["current"], true, "newest first: {list:?}");
    assert_eq!(list[1]["current"], false);
    assert_eq!(list[0]["user_agent"], "Tests/1.0");
    assert_eq!(list[0]["id"].as_str().unwrap().len(), 32);
    assert!(list[0]["created_at"].as_str().unwrap().ends_with('Z'));
    let last: Option<String> =
        sqlx::query_scalar("SELECT CAST(last_sign_in_at AS CHAR) FROM users")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(last.is_some());

    let out = send(
        &app,
        Method::POST,
        "/api/auth/logout",
        As::Cookie(&first),
        None,
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(rows(&pool).await, 1, "signing out deletes its row");
    assert_eq!(
        get(&app, "/api/auth/me", As::Cookie(&first)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A wrong password is recorded with the email it tried; a throttled attempt is not.
    for _ in 0..7 {
        send(
            &app,
            Method::POST,
            "/api/auth/login",
            As::Nobody,
            Some(json!({"email": ADA, "password": "wrong"})),
        )
        .await;
    }
    let failed = audited(&pool, "auth.sign_in_failed").await;
    assert_eq!(failed.len(), 5, "the 6th and 7th were throttled");
    assert_eq!((failed[0].0, &failed[0].3), (None, &json!({"email": ADA})));
    let signed = audited(&pool, "auth.sign_in").await;
    assert_eq!(signed.len(), 2);
    assert_eq!((signed[0].0, signed[0].1), (Some(ada), Some(ada)));
    assert_eq!(audited(&pool, "auth.sign_out").await.len(), 1);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn sessions_end_one_at_a_time_or_all_but_this_one(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", ADA, "admin").await;
    account(&pool, "Bob", "bob@example.com", "admin").await;
    let bobs = sign_in(&app, "bob@example.com").await;
    let [a, b, c, d] = [
        sign_in(&app, ADA).await,
        sign_in(&app, ADA).await,
        sign_in(&app, ADA).await,
        sign_in(&app, ADA).await,
    ];
    let ids = |cookie: String| {
        let app = app.clone();
        async move {
            let list = get(&app, "/api/auth/sessions", As::Cookie(&cookie)).await;
            list.body
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["id"].as_str().unwrap().to_owned(),
                        s["current"].as_bool().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let listed = ids(d.clone()).await;
    assert_eq!(listed.len(), 4, "Bob's is not listed");
    let a_id = listed.last().unwrap().0.clone();
    // Bob cannot end Ada's session: it is not his.
    let other = send(
        &app,
        Method::DELETE,
        format!("/api/auth/sessions/{a_id}"),
        As::Cookie(&bobs),
        None,
    )
    .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.body, json!({"error": "Session not found"}));
    let gone = send(
        &app,
        Method::DELETE,
        format!("/api/auth/sessions/{a_id}"),
        As::Cookie(&d),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&app, "/api/auth/me", As::Cookie(&a)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = send(
        &app,
        Method::DELETE,
        format!("/api/auth/sessions/{a_id}"),
        As::Cookie(&d),
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let n = send(
        &app,
        Method::POST,
        "/api/auth/sessions/sign-out-others",
        As::Cookie(&d),
        None,
    )
    .await;
    assert_eq!(n.status, StatusCode::OK);
    assert_eq!(n.body, json!({"signed_out": 2}));
    for ended in [&b, &c] {
        assert_eq!(
            get(&app, "/api/auth/me", As::Cookie(ended)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        get(&app, "/api/auth/me", As::Cookie(&bobs)).await.status,
        StatusCode::OK,
        "Bob's goes on"
    );
    let listed = ids(d.clone()).await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].1);
    // Ending the current session signs out.
    let own = send(
        &app,
        Method::DELETE,
        format!("/api/auth/sessions/{}", listed[0].0),
        As::Cookie(&d),
        None,
    )
    .await;
    assert_eq!(own.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&app, "/api/auth/me", As::Cookie(&d)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let revoked = audited(&pool, "auth.session_revoke").await;
    assert_eq!(revoked.len(), 3);
    assert_eq!(revoked[0].3, json!({"session": a_id}));
    assert_eq!(revoked[1].3, json!({"others": 2}));
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn an_expired_or_unlisted_session_is_signed_out(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", ADA, "admin").await;
    let cookie = sign_in(&app, ADA).await;
    sqlx::query("UPDATE admin_sessions SET expires_at = NOW(6) - INTERVAL 1 SECOND")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        get(&app, "/api/auth/me", As::Cookie(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 0, "the session was emptied");
    let cookie = sign_in(&app, ADA).await;
    sqlx::query("DELETE FROM admin_sessions")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        get(&app, "/api/auth/me", As::Cookie(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn last_seen_moves_at_most_once_a_minute_and_a_new_sign_in_replaces_the_row(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", ADA, "admin").await;
    let cookie = sign_in(&app, ADA).await;
    let set = |ago: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(&format!(
                "UPDATE admin_sessions SET last_seen_at = NOW(6) - INTERVAL {ago}"
            ))
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    let seen_s = || async {
        let s: i64 = sqlx::query_scalar(
            "SELECT TIMESTAMPDIFF(SECOND, last_seen_at, NOW(6)) FROM admin_sessions",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        s
    };
    set("30 SECOND").await;
    get(&app, "/api/auth/me", As::Cookie(&cookie)).await;
    assert!(seen_s().await >= 29, "not moved within the minute");
    set("2 MINUTE").await;
    get(&app, "/api/auth/me", As::Cookie(&cookie)).await;
    assert!(seen_s().await <= 1, "moved after a minute");
    // Signing in again on the same browser replaces its row.
    let again = send(
        &app,
        Method::POST,
        "/api/auth/login",
        As::Cookie(&cookie),
        Some(json!({"email": ADA, "password": PASSWORD})),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(rows(&pool).await, 1);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_token_has_no_sessions(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", ADA, "admin").await;
    let cookie = sign_in(&app, ADA).await;
    let (_, token) = make_token(&app, As::Cookie(&cookie), "script").await;
    let who = As::Token(&token);
    let list = get(&app, "/api/auth/sessions", who).await;
    assert_eq!((list.status, list.body), (StatusCode::OK, json!([])));
    let others = send(
        &app,
        Method::POST,
        "/api/auth/sessions/sign-out-others",
        who,
        None,
    )
    .await;
    assert_eq!(others.body, json!({"signed_out": 0}));
    let id: String = sqlx::query_scalar("SELECT id FROM admin_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    let one = send(
        &app,
        Method::DELETE,
        format!("/api/auth/sessions/{id}"),
        who,
        None,
    )
    .await;
    assert_eq!(one.status, StatusCode::NOT_FOUND);
    let pw = send(
        &app,
        Method::PUT,
        "/api/auth/password",
        who,
        Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
    )
    .await;
    assert_eq!(pw.status, StatusCode::FORBIDDEN);
    assert_eq!(
        pw.body,
        json!({"error": "Change your password signed in, in the browser: an API token cannot"})
    );
    assert_eq!(rows(&pool).await, 1);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn changing_your_password_ends_your_other_sessions(pool: MySqlPool) {
    let app = app(&pool);
    let ada = account(&pool, "Ada", ADA, "viewer").await;
    let here = sign_in(&app, ADA).await;
    let there = sign_in(&app, ADA).await;
    let change = |current: &str, new: serde_json::Value| {
        send(
            &app,
            Method::PUT,
            "/api/auth/password",
            As::Cookie(&here),
            Some(json!({"current_password": current, "new_password": new})),
        )
    };
    let a = change(PASSWORD, json!("short")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.body,
        json!({"new_password": ["Ensure this field has at least 12 characters."]})
    );
    let a = change(PASSWORD, json!(null)).await;
    assert_eq!(
        a.body,
        json!({"new_password": ["This field may not be null."]})
    );
    let a = send(
        &app,
        Method::PUT,
        "/api/auth/password",
        As::Cookie(&here),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        a.body,
        json!({"current_password": ["This field is required."], "new_password": ["This field is required."]})
    );
    let a = change("not my password", json!(NEW_PASSWORD)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body, json!({"current_password": ["Wrong password."]}));
    let a = change(PASSWORD, json!(NEW_PASSWORD)).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{:?}", a.body);
    assert_eq!(
        get(&app, "/api/auth/me", As::Cookie(&here)).await.status,
        StatusCode::OK,
        "this one goes on"
    );
    assert_eq!(
        get(&app, "/api/auth/me", As::Cookie(&there)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let old = send(
        &app,
        Method::POST,
        "/api/auth/login",
        As::Nobody,
        Some(json!({"email": ADA, "password": PASSWORD})),
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = send(
        &app,
        Method::POST,
        "/api/auth/login",
        As::Nobody,
        Some(json!({"email": ADA, "password": NEW_PASSWORD})),
    )
    .await;
    assert_eq!(new.status, StatusCode::OK);
    let changed = audited(&pool, "auth.password_change").await;
    assert_eq!(changed.len(), 1);
    assert_eq!((changed[0].0, changed[0].1), (Some(ada), Some(ada)));
    assert_eq!(changed[0].3, json!({"signed_out": 1}));
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn wrong_current_passwords_count_towards_the_sign_in_throttle(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", ADA, "admin").await;
    let cookie = sign_in(&app, ADA).await;
    for _ in 0..5 {
        let a = send(
            &app,
            Method::PUT,
            "/api/auth/password",
            As::Cookie(&cookie),
            Some(json!({"current_password": "guess guess", "new_password": NEW_PASSWORD})),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
    }
    // Slowed now, even for the right password, and signing in is slowed too.
    let a = send(
        &app,
        Method::PUT,
        "/api/auth/password",
        As::Cookie(&cookie),
        Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
    )
    .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    let a = send(
        &app,
        Method::POST,
        "/api/auth/login",
        As::Nobody,
        Some(json!({"email": ADA, "password": PASSWORD})),
    )
    .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
}
