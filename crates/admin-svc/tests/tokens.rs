//! Router tests of API tokens in the browser, each on a fresh database: your own tokens, an
//! admin's view of every token, expiry, last use, and the audit of each.
#![allow(clippy::unwrap_used)]

mod common;

use admin_svc::{auth, db};
use axum::http::{Method, StatusCode};
use common::{As, account, app, audited, get, make_token, send, sign_in};
use serde_json::json;
use sqlx::MySqlPool;

const ADA: &str = "ada@example.com";
const VIC: &str = "vic@example.com";

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn token_routes_need_a_session_or_token(pool: MySqlPool) {
    let app = app(&pool);
    for (method, uri, body) in [
        (Method::GET, "/api/tokens", None),
        (Method::POST, "/api/tokens", Some(json!({"name": "x"}))),
        (Method::DELETE, "/api/tokens/1", None),
    ] {
        let a = send(&app, method.clone(), uri, As::Nobody, body).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
    }
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_token_works_until_revoked_and_notes_its_last_use(pool: MySqlPool) {
    let app = app(&pool);
    let vic = account(&pool, "Vic", VIC, "viewer").await;
    let cookie = sign_in(&app, VIC).await;
    let who = As::Cookie(&cookie);
    let a = send(
        &app,
        Method::POST,
        "/api/tokens",
        who,
        Some(json!({"name": " monitoring ", "expires_in_days": 30})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert_eq!(a.body["name"], "monitoring");
    assert_eq!(a.body["owner"], json!({"id": vic, "name": "Vic"}));
    assert_eq!(a.body["last_used_at"], json!(null));
    assert_eq!(a.body["expired"], false);
    assert!(a.body["expires_at"].as_str().unwrap().ends_with('Z'));
    let id = a.body["id"].as_u64().unwrap();
    let token = a.body["token"].as_str().unwrap().to_owned();
    assert!(auth::token::well_formed(&token));

    let me = get(&app, "/api/auth/me", As::Token(&token)).await;
    assert_eq!(me.body["id"], vic, "the token acts as its owner");
    let write = send(
        &app,
        Method::POST,
        "/api/products",
        As::Token(&token),
        Some(json!({"title": "Mug", "image": "/m.png"})),
    )
    .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN, "with its owner's role");
    let list = get(&app, "/api/tokens", who).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert!(list.body[0]["last_used_at"].is_string(), "{:?}", list.body);
    assert!(list.body[0].get("token").is_none(), "never shown again");

    let dup = send(
        &app,
        Method::POST,
        "/api/tokens",
        who,
        Some(json!({"name": "monitoring"})),
    )
    .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        dup.body,
        json!({"name": ["You already have a token with this name."]})
    );

    let gone = send(&app, Method::DELETE, format!("/api/tokens/{id}"), who, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&app, "/api/auth/me", As::Token(&token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(get(&app, "/api/tokens", who).await.body, json!([]));
    let again = send(&app, Method::DELETE, format!("/api/tokens/{id}"), who, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.body, json!({"error": "Token not found"}));
    // A revoked token's name may be used again.
    make_token(&app, who, "monitoring").await;

    let created = audited(&pool, "token.create").await;
    assert_eq!(created.len(), 2);
    assert_eq!((created[0].0, created[0].1), (Some(vic), Some(vic)));
    assert_eq!(
        created[0].3,
        json!({"token": "monitoring", "expires_in_days": 30})
    );
    let revoked = audited(&pool, "token.revoke").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].3, json!({"token": "monitoring"}));
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn malformed_token_bodies_name_the_field(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", ADA, "admin").await;
    let cookie = sign_in(&app, ADA).await;
    for (body, field) in [
        (json!({}), "name"),
        (json!({"name": "  "}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": 5}), "name"),
        (
            json!({"name": "x", "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "expires_in_days": 3651}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "expires_in_days": 1.5}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "expires_in_days": "7"}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "expires_in_days": -1}),
            "expires_in_days",
        ),
    ] {
        let a = send(
            &app,
            Method::POST,
            "/api/tokens",
            As::Cookie(&cookie),
            Some(body.clone()),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            a.body.as_object().unwrap().keys().collect::<Vec<_>>(),
            [field],
            "{body}: {:?}",
            a.body
        );
    }
    for (name, days) in [
        ("a", json!(null)),
        ("b", json!(1)),
        ("c", json!(3650)),
        ("d", json!(2.0)),
    ] {
        let a = send(
            &app,
            Method::POST,
            "/api/tokens",
            As::Cookie(&cookie),
            Some(json!({"name": name, "expires_in_days": days})),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{days}: {:?}", a.body);
    }
    for uri in ["/api/tokens/999", "/api/tokens/abc"] {
        let a = send(&app, Method::DELETE, uri, As::Cookie(&cookie), None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn an_admin_sees_every_token_and_a_viewer_only_theirs(pool: MySqlPool) {
    let app = app(&pool);
    let ada = account(&pool, "Ada", ADA, "admin").await;
    account(&pool, "Vic", VIC, "viewer").await;
    let adas = sign_in(&app, ADA).await;
    let vics = sign_in(&app, VIC).await;
    let (ada_token, _) = make_token(&app, As::Cookie(&adas), "ada's").await;
    let (vic_token, _) = make_token(&app, As::Cookie(&vics), "vic's").await;
    // The command's token, without owner.
    let cli = auth::token::generate();
    db::insert_token(&pool, "ci", &auth::token::digest(&cli))
        .await
        .unwrap();

    let all = get(&app, "/api/tokens", As::Cookie(&adas)).await;
    let names: Vec<&str> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ada's", "vic's", "ci"]);
    assert_eq!(all.body[2]["owner"], json!(null));
    let all = get(&app, "/api/tokens", As::Token(&cli)).await;
    assert_eq!(
        all.body.as_array().unwrap().len(),
        3,
        "an ownerless token acts as an admin"
    );
    let own = get(&app, "/api/tokens", As::Cookie(&vics)).await;
    let names: Vec<&str> = own
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["vic's"]);

    // Another's token does not exist for a viewer.
    let a = send(
        &app,
        Method::DELETE,
        format!("/api/tokens/{ada_token}"),
        As::Cookie(&vics),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let cli_id: u64 = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'ci'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let a = send(
        &app,
        Method::DELETE,
        format!("/api/tokens/{cli_id}"),
        As::Cookie(&vics),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // An admin revokes anyone's.
    let a = send(
        &app,
        Method::DELETE,
        format!("/api/tokens/{vic_token}"),
        As::Cookie(&adas),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let revoked = audited(&pool, "token.revoke").await;
    assert_eq!(revoked[0].0, Some(ada), "by Ada");
    // A token cannot revoke itself (a script would lock itself out); another can.
    let cli_self = send(
        &app,
        Method::DELETE,
        format!("/api/tokens/{cli_id}"),
        As::Token(&cli),
        None,
    )
    .await;
    assert_eq!(cli_self.status, StatusCode::CONFLICT);
    assert_eq!(
        cli_self.body,
        json!({"error": "A token cannot revoke itself: revoke it signed in, or with another token"})
    );
    let (_, other) = make_token(&app, As::Cookie(&adas), "rotation").await;
    let a = send(
        &app,
        Method::DELETE,
        format!("/api/tokens/{cli_id}"),
        As::Token(&other),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&app, "/api/tokens", As::Cookie(&vics)).await.body,
        json!([])
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn an_expired_token_is_refused_and_listed_as_expired(pool: MySqlPool) {
    let app = app(&pool);
    account(&pool, "Ada", ADA, "admin").await;
    let cookie = sign_in(&app, ADA).await;
    let (id, token) = make_token(&app, As::Cookie(&cookie), "short-lived").await;
    assert_eq!(
        get(&app, "/api/tokens", As::Token(&token)).await.status,
        StatusCode::OK
    );
    sqlx::query("UPDATE api_tokens SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = ?")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let a = get(&app, "/api/tokens", As::Token(&token)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.body, json!({"error": "Invalid or revoked API token"}));
    let list = get(&app, "/api/tokens", As::Cookie(&cookie)).await;
    assert_eq!(list.body[0]["expired"], true);
}
