//! Router tests of account management and one-time links, each on a fresh database: who may
//! manage accounts, the shapes, the last enabled admin, disabling that ends sessions and
//! tokens at once, and links that work once, expire and are replaced.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{As, PASSWORD, account, app, audited, get, make_token, send, session_cookie, sign_in};
use serde_json::{Value, json};
use sqlx::MySqlPool;

const ADA: &str = "ada@example.com";

/// Creates an account through the API; returns the answer's body.
async fn create(app: &axum::Router, who: As<'_>, body: Value) -> common::Answer {
    send(app, Method::POST, "/api/admins", who, Some(body)).await
}

fn token_of(link: &Value) -> String {
    link.as_str()
        .unwrap()
        .strip_prefix("/set-password#")
        .unwrap()
        .to_owned()
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn accounts_need_a_session_and_the_admin_role(pool: MySqlPool) {
    let app = app(&pool);
    let viewer = account(&pool, "Vic", "vic@example.com", "viewer").await;
    let routes = [
        (Method::GET, "/api/admins".to_owned(), None),
        (
            Method::POST,
            "/api/admins".to_owned(),
            Some(json!({"name": "X", "email": "x@example.com", "role": "viewer"})),
        ),
        (
            Method::PATCH,
            format!("/api/admins/{viewer}"),
            Some(json!({"name": "Y"})),
        ),
        (Method::POST, format!("/api/admins/{viewer}/link"), None),
    ];
    for (method, uri, body) in &routes {
        let a = send(&app, method.clone(), uri, As::Nobody, body.clone()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(a.body, json!({"error": "Sign in required"}));
    }
    let cookie = sign_in(&app, "vic@example.com").await;
    for (method, uri, body) in &routes {
        let a = send(&app, method.clone(), uri, As::Cookie(&cookie), body.clone()).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{method} {uri}");
        assert_eq!(
            a.body,
            json!({"error": "Your role (viewer) cannot manage accounts"})
        );
    }
    let (_, token) = make_token(&app, As::Cookie(&cookie), "vic's").await;
    let a = get(&app, "/api/admins", As::Token(&token)).await;
    assert_eq!(
        a.status,
        StatusCode::FORBIDDEN,
        "a token acts with its owner's role"
    );
    assert!(audited(&pool, "account.create").await.is_empty());
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_new_account_sets_its_password_with_its_link_once(pool: MySqlPool) {
    let app = app(&pool);
    let ada = account(&pool, "Ada", ADA, "admin").await;
    let cookie = sign_in(&app, ADA).await;
    let a = create(
        &app,
        As::Cookie(&cookie),
        json!({"name": "  Bob ", "email": " Bob@Example.COM", "role": "viewer"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let bob = a.body["admin"]["id"].as_u64().unwrap();
    assert_eq!(a.body["admin"]["name"], "Bob");
    assert_eq!(a.body["admin"]["email"], "bob@example.com");
    assert_eq!(a.body["admin"]["role"], "viewer");
    assert_eq!(a.body["admin"]["disabled"], false);
    assert_eq!(a.body["admin"]["password_set"], false);
    assert_eq!(a.body["admin"]["last_sign_in_at"], Value::Null);
    let created_at = a.body["admin"]["created_at"].as_str().unwrap();
    assert!(
        created_at.ends_with('Z') && created_at.len() == 27,
        "{created_at}"
    );
    let token = token_of(&a.body["link"]);
    assert_eq!(token.len(), 64);
    assert!(a.body["expires_at"].as_str().unwrap().ends_with('Z'));

    let list = get(&app, "/api/admins", As::Cookie(&cookie)).await;
    assert_eq!(list.status, StatusCode::OK);
    let ids: Vec<u64> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [ada, bob], "by id");
    assert!(list.body[0]["last_sign_in_at"].is_string(), "Ada signed in");

    let inspect = |t: String| {
        send(
            &app,
            Method::POST,
            "/api/account-links/inspect",
            As::Nobody,
            Some(json!({"token": t})),
        )
    };
    let i = inspect(token.clone()).await;
    assert_eq!(i.status, StatusCode::OK, "{:?}", i.body);
    assert_eq!(i.body["name"], "Bob");
    assert_eq!(i.body["email"], "bob@example.com");
    assert_eq!(i.body["expires_at"], a.body["expires_at"]);

    let redeem = |t: String, p: &str| {
        send(
            &app,
            Method::POST,
            "/api/account-links/redeem",
            As::Nobody,
            Some(json!({"token": t, "password": p})),
        )
    };
    let short = redeem(token.clone(), "short").await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        short.body,
        json!({"password": ["Ensure this field has at least 12 characters."]})
    );
    let r = redeem(token.clone(), PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body,
        json!({"id": bob, "name": "Bob", "email": "bob@example.com", "role": "viewer"})
    );
    let bobs = session_cookie(&r);
    let me = get(&app, "/api/auth/me", As::Cookie(&bobs)).await;
    assert_eq!(me.status, StatusCode::OK, "signed in");
    assert_eq!(me.body["id"], bob);
    let again = redeem(token.clone(), PASSWORD).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert_eq!(
        again.body,
        json!({"error": "This link was used already; ask an admin for a new one"})
    );
    assert_eq!(inspect(token).await.status, StatusCode::GONE);
    sign_in(&app, "bob@example.com").await;
    let list = get(&app, "/api/admins", As::Cookie(&cookie)).await;
    assert_eq!(list.body[1]["password_set"], true);
    assert!(list.body[1]["last_sign_in_at"].is_string());

    let created = audited(&pool, "account.create").await;
    assert_eq!(created.len(), 1);
    assert_eq!((created[0].0, created[0].1), (Some(ada), Some(bob)));
    assert_eq!(created[0].2["role"], json!({"old": null, "new": "viewer"}));
    let links = audited(&pool, "account.link_create").await;
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0].3,
        json!({"email": "bob@example.com"}),
        "names the account"
    );
    let used = audited(&pool, "account.link_use").await;
    assert_eq!(
        (used.len(), used[0].0, used[0].1),
        (1, Some(bob), Some(bob))
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn malformed_bodies_name_the_field_and_unknown_ids_are_404(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", ADA, "admin").await;
    let cookie = sign_in(&app, ADA).await;
    let who = As::Cookie(&cookie);
    let a = create(&app, who, json!({})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    for field in ["name", "email", "role"] {
        assert_eq!(a.body[field], json!(["This field is required."]), "{field}");
    }
    for (body, field) in [
        (
            json!({"name": " ", "email": "b@example.com", "role": "admin"}),
            "name",
        ),
        (
            json!({"name": "B", "email": "not an email", "role": "admin"}),
            "email",
        ),
        (
            json!({"name": "B", "email": "b@example", "role": "admin"}),
            "email",
        ),
        (
            json!({"name": "B", "email": "b@example.com", "role": "owner"}),
            "role",
        ),
        (
            json!({"name": "B", "email": "b@example.com", "role": null}),
            "role",
        ),
        (json!({"name": "B", "email": 7, "role": "admin"}), "email"),
    ] {
        let a = create(&app, who, body.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            a.body.as_object().unwrap().keys().collect::<Vec<_>>(),
            [field],
            "{body}: {:?}",
            a.body
        );
    }
    // A well-formed email that another account has: a conflict with what is stored.
    let dup = create(
        &app,
        who,
        json!({"name": "B", "email": " ADA@example.com", "role": "admin"}),
    )
    .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        dup.body,
        json!({"email": ["An account with this email exists."]})
    );
    let a = create(&app, who, json!([1])).await;
    assert!(a.body["non_field_errors"].is_array(), "{:?}", a.body);

    let ada_id: u64 = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    let patch = |uri: String, body: Value| send(&app, Method::PATCH, uri, who, Some(body));
    let a = patch(format!("/api/admins/{ada_id}"), json!({})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body["non_field_errors"].is_array());
    let a = patch(
        format!("/api/admins/{ada_id}"),
        json!({"disabled": "yes", "role": 1}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["disabled"], json!(["Must be a valid boolean."]));
    assert!(a.body["role"].is_array());
    for uri in ["/api/admins/999", "/api/admins/abc", "/api/admins/0"] {
        let a = patch(uri.to_owned(), json!({"name": "X"})).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(a.body, json!({"error": "Account not found"}));
    }
    let a = send(&app, Method::POST, "/api/admins/999/link", who, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = patch(format!("/api/admins/{ada_id}"), json!({"name": " Ada L. "})).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["name"], "Ada L.");
    let changed = audited(&pool, "account.update").await;
    assert_eq!(
        changed[0].2,
        json!({"name": {"old": "Ada", "new": "Ada L."}})
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn the_last_enabled_admin_can_be_neither_disabled_nor_demoted(pool: MySqlPool) {
    let app = app(&pool);
    let ada = account(&pool, "Ada", ADA, "admin").await;
    let vic = account(&pool, "Vic", "vic@example.com", "viewer").await;
    let cookie = sign_in(&app, ADA).await;
    let who = As::Cookie(&cookie);
    let patch = |id: u64, body: Value| {
        send(
            &app,
            Method::PATCH,
            format!("/api/admins/{id}"),
            who,
            Some(body),
        )
    };
    let last =
        json!({"error": "Ada is the last enabled admin: make another account an admin first"});
    for body in [
        json!({"disabled": true}),
        json!({"role": "viewer"}),
        json!({"role": "viewer", "disabled": true}),
    ] {
        let a = patch(ada, body.clone()).await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{body}");
        assert_eq!(a.body, last);
    }
    assert_eq!(
        patch(ada, json!({"role": "admin", "disabled": false}))
            .await
            .status,
        StatusCode::OK
    );
    // Another admin: now Ada may go, and the other becomes the last.
    let a = patch(vic, json!({"role": "admin"})).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["role"], "admin");
    let a = patch(ada, json!({"disabled": true})).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["disabled"], true);
    assert_eq!(
        get(&app, "/api/admins", who).await.status,
        StatusCode::UNAUTHORIZED,
        "disabling yourself signs you out"
    );
    let vics = sign_in(&app, "vic@example.com").await;
    let a = send(
        &app,
        Method::PATCH,
        &format!("/api/admins/{vic}"),
        As::Cookie(&vics),
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(
        a.body,
        json!({"error": "Vic is the last enabled admin: make another account an admin first"})
    );
    // Enabling Ada again makes Vic's demotion possible.
    let a = send(
        &app,
        Method::PATCH,
        &format!("/api/admins/{ada}"),
        As::Cookie(&vics),
        Some(json!({"disabled": false})),
    )
    .await;
    assert_eq!(a.body["disabled"], false);
    let a = send(
        &app,
        Method::PATCH,
        &format!("/api/admins/{vic}"),
        As::Cookie(&vics),
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let updates = audited(&pool, "account.update").await;
    assert_eq!(
        updates[0].2,
        json!({"role": {"old": "viewer", "new": "admin"}})
    );
    assert!(updates[0].3["email"].is_string(), "names the account");
    assert_eq!(
        updates[1].2,
        json!({"disabled": {"old": false, "new": true}})
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn disabling_ends_the_accounts_sessions_and_tokens_at_once(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", ADA, "admin").await;
    let bob = account(&pool, "Bob", "bob@example.com", "admin").await;
    let ada = sign_in(&app, ADA).await;
    let bobs = sign_in(&app, "bob@example.com").await;
    let (_, token) = make_token(&app, As::Cookie(&bobs), "bob's script").await;
    assert_eq!(
        get(&app, "/api/auth/me", As::Token(&token)).await.status,
        StatusCode::OK
    );
    let a = send(
        &app,
        Method::PATCH,
        &format!("/api/admins/{bob}"),
        As::Cookie(&ada),
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(
        get(&app, "/api/auth/me", As::Cookie(&bobs)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&app, "/api/tokens", As::Token(&token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admin_sessions WHERE user_id = ?")
        .bind(bob)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    let refused = send(
        &app,
        Method::POST,
        "/api/auth/login",
        As::Nobody,
        Some(json!({"email": "bob@example.com", "password": PASSWORD})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn links_expire_are_replaced_and_unknown_ones_are_404(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", ADA, "admin").await;
    let bob = account(&pool, "Bob", "bob@example.com", "viewer").await;
    let cookie = sign_in(&app, ADA).await;
    let new_link = || async {
        let a = send(
            &app,
            Method::POST,
            &format!("/api/admins/{bob}/link"),
            As::Cookie(&cookie),
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        token_of(&a.body["link"])
    };
    let inspect = |t: String| {
        send(
            &app,
            Method::POST,
            "/api/account-links/inspect",
            As::Nobody,
            Some(json!({"token": t})),
        )
    };
    let first = new_link().await;
    let second = new_link().await;
    let a = inspect(first).await;
    assert_eq!(a.status, StatusCode::GONE);
    assert!(
        a.body["error"]
            .as_str()
            .unwrap()
            .contains("no longer works"),
        "{:?}",
        a.body
    );
    assert_eq!(inspect(second.clone()).await.status, StatusCode::OK);
    sqlx::query("UPDATE account_links SET expires_at = NOW(6) - INTERVAL 1 SECOND")
        .execute(&pool)
        .await
        .unwrap();
    let a = inspect(second).await;
    assert_eq!(a.status, StatusCode::GONE);
    assert_eq!(
        a.body,
        json!({"error": "This link has expired; ask an admin for a new one"})
    );
    for unknown in ["0".repeat(64), "nope".to_owned(), "ü".repeat(64)] {
        let a = inspect(unknown.clone()).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{unknown}");
        assert_eq!(a.body, json!({"error": "Unknown link"}));
    }
    let a = send(
        &app,
        Method::POST,
        "/api/account-links/redeem",
        As::Nobody,
        Some(json!({"token": "0".repeat(64), "password": PASSWORD})),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = send(
        &app,
        Method::POST,
        "/api/account-links/inspect",
        As::Nobody,
        Some(json!({})),
    )
    .await;
    assert_eq!(a.body, json!({"token": ["This field is required."]}));
    // A disabled account's link does not work.
    let third = new_link().await;
    sqlx::query("UPDATE users SET disabled_at = NOW(6) WHERE id = ?")
        .bind(bob)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(inspect(third).await.status, StatusCode::GONE);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_link_redeemed_twice_at_once_works_once(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", ADA, "admin").await;
    let cookie = sign_in(&app, ADA).await;
    let a = create(
        &app,
        As::Cookie(&cookie),
        json!({"name": "Bob", "email": "bob@example.com", "role": "admin"}),
    )
    .await;
    let token = token_of(&a.body["link"]);
    let redeem = |p: &'static str| {
        send(
            &app,
            Method::POST,
            "/api/account-links/redeem",
            As::Nobody,
            Some(json!({"token": token, "password": p})),
        )
    };
    let (x, y) = tokio::join!(
        redeem("first password here"),
        redeem("second password here")
    );
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::GONE]);
    assert_eq!(audited(&pool, "account.link_use").await.len(), 1);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn another_sites_page_can_change_no_account(pool: MySqlPool) {
    let app = app(&pool);
    let ada = account(&pool, "Ada", ADA, "admin").await;
    let cookie = sign_in(&app, ADA).await;
    let cross = [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ];
    for (method, uri, body) in [
        (
            Method::PATCH,
            format!("/api/admins/{ada}"),
            Some(json!({"name": "Eve"})),
        ),
        (
            Method::POST,
            "/api/admins".to_owned(),
            Some(json!({"name": "Eve", "email": "eve@example.com", "role": "admin"})),
        ),
        (Method::POST, format!("/api/admins/{ada}/link"), None),
        (
            Method::POST,
            "/api/account-links/redeem".to_owned(),
            Some(json!({"token": "0".repeat(64), "password": PASSWORD})),
        ),
        (
            Method::POST,
            "/api/tokens".to_owned(),
            Some(json!({"name": "eve's"})),
        ),
        (
            Method::PUT,
            "/api/auth/password".to_owned(),
            Some(json!({"current_password": PASSWORD, "new_password": "eve's password now"})),
        ),
        (
            Method::POST,
            "/api/auth/sessions/sign-out-others".to_owned(),
            None,
        ),
    ] {
        let a = common::send_with(
            &app,
            method.clone(),
            &uri,
            As::Cookie(&cookie),
            body,
            &cross,
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{method} {uri}");
    }
    assert!(audited(&pool, "account.update").await.is_empty());
    assert!(audited(&pool, "token.create").await.is_empty());
}
