//! Router tests of admin sign-in, each on a fresh database: sessions, tokens, the same answer
//! for an unknown email and a wrong password, slowing down guesses, sign-out that really ends
//! the session, and catalogue writes refused to anyone else.
#![allow(clippy::unwrap_used)]

use admin_svc::{AppState, auth, db, router};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::MySqlPool;
use tower::ServiceExt;

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery staple";

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn send(app: &Router, req: Request<Body>) -> Answer {
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

fn request(method: Method, uri: &str, cookie: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    match body {
        Some(v) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    }
}

async fn with_admin(pool: &MySqlPool) -> Router {
    db::upsert_user(pool, "Ada", EMAIL).await.unwrap();
    let hash = auth::password::hash(PASSWORD.to_owned()).await.unwrap();
    db::set_password_hash(pool, EMAIL, &hash).await.unwrap();
    router(AppState::detached(pool.clone(), true))
}

async fn login(app: &Router, email: &str, password: &str) -> Answer {
    send(
        app,
        request(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        ),
    )
    .await
}

/// The `name=value` of the session cookie an answer set.
fn session_cookie(a: &Answer) -> String {
    let set = a.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn create(app: &Router, cookie: Option<&str>) -> Answer {
    send(
        app,
        request(
            Method::POST,
            "/api/products",
            cookie,
            Some(json!({"title": "Mug", "image": "/m.png"})),
        ),
    )
    .await
}

async fn outbox_rows(pool: &MySqlPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn anonymous_writes_are_refused_and_reads_stay_public(pool: MySqlPool) {
    let app = with_admin(&pool).await;
    let a = create(&app, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.body, json!({"error": "Sign in required"}));
    for (method, uri) in [
        (Method::PUT, "/api/products/1"),
        (Method::DELETE, "/api/products/1"),
    ] {
        let a = send(
            &app,
            request(
                method,
                uri,
                None,
                Some(json!({"title": "x", "image": "/x"})),
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    assert_eq!(outbox_rows(&pool).await, 0, "nothing written");
    let a = send(&app, request(Method::GET, "/api/products", None, None)).await;
    assert_eq!(a.status, StatusCode::OK);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_signed_in_admin_can_write_until_signing_out(pool: MySqlPool) {
    let app = with_admin(&pool).await;
    let a = login(&app, "  ADA@example.com ", PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["email"], EMAIL);
    assert_eq!(a.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let set = a
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set.starts_with("shop_admin_session="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = session_cookie(&a);

    let me = send(
        &app,
        request(Method::GET, "/api/auth/me", Some(&cookie), None),
    )
    .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["name"], "Ada");
    assert_eq!(
        create(&app, Some(&cookie)).await.status,
        StatusCode::CREATED
    );

    let out = send(
        &app,
        request(Method::POST, "/api/auth/logout", Some(&cookie), None),
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0, "the session is gone from the database");
    // The old cookie, replayed, is worth nothing.
    assert_eq!(
        create(&app, Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let me = send(
        &app,
        request(Method::GET, "/api/auth/me", Some(&cookie), None),
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn unknown_emails_and_wrong_passwords_get_the_same_answer(pool: MySqlPool) {
    let app = with_admin(&pool).await;
    let wrong = login(&app, EMAIL, "not the password at all").await;
    let unknown = login(&app, "nobody@example.com", PASSWORD).await;
    for a in [&wrong, &unknown] {
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.body, json!({"error": "Invalid email or password"}));
        assert!(a.headers.get(header::SET_COOKIE).is_none());
    }
    let missing = send(
        &app,
        request(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": EMAIL})),
        ),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.body,
        json!({"password": ["This field is required."]})
    );
    let form = send(
        &app,
        Request::builder()
            .method(Method::POST)
            .uri("/api/auth/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("email={EMAIL}&password={PASSWORD}")))
            .unwrap(),
    )
    .await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn blank_fields_are_named_and_nothing_is_counted_as_a_failure(pool: MySqlPool) {
    let app = with_admin(&pool).await;
    for _ in 0..6 {
        let blank = login(&app, "", "").await;
        assert_eq!(blank.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            blank.body,
            json!({"email": ["This field may not be blank."], "password": ["This field may not be blank."]})
        );
    }
    let wrong_type = send(
        &app,
        request(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": null, "password": 5})),
        ),
    )
    .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong_type.body,
        json!({"email": ["This field is required."], "password": ["Not a valid string."]})
    );
    // Six forms sent empty are no guesses: the right password still signs in.
    assert_eq!(login(&app, EMAIL, PASSWORD).await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_disabled_or_deleted_admin_is_signed_out_at_the_next_request(pool: MySqlPool) {
    let app = with_admin(&pool).await;
    let cookie = session_cookie(&login(&app, EMAIL, PASSWORD).await);
    let me = send(
        &app,
        request(Method::GET, "/api/auth/me", Some(&cookie), None),
    )
    .await;
    assert_eq!(me.status, StatusCode::OK);

    sqlx::query("UPDATE users SET disabled_at = NOW(6) WHERE email = ?")
        .bind(EMAIL)
        .execute(&pool)
        .await
        .unwrap();
    let me = send(
        &app,
        request(Method::GET, "/api/auth/me", Some(&cookie), None),
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.body, json!({"error": "Sign in required"}));
    assert_eq!(
        create(&app, Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0, "the ended session is gone from the database");
    // Nor can a disabled admin sign in again, with the right password.
    let again = login(&app, EMAIL, PASSWORD).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(again.body, json!({"error": "Invalid email or password"}));

    // A deleted admin's session ends the same way.
    sqlx::query("UPDATE users SET disabled_at = NULL WHERE email = ?")
        .bind(EMAIL)
        .execute(&pool)
        .await
        .unwrap();
    let cookie = session_cookie(&login(&app, EMAIL, PASSWORD).await);
    sqlx::query("DELETE FROM users WHERE email = ?")
        .bind(EMAIL)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        create(&app, Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(outbox_rows(&pool).await, 0, "nothing written");
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn repeated_failures_are_slowed_even_for_the_right_password(pool: MySqlPool) {
    let app = with_admin(&pool).await;
    for _ in 0..5 {
        assert_eq!(
            login(&app, EMAIL, "guess guess guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let a = login(&app, EMAIL, PASSWORD).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(a.headers.get(header::RETRY_AFTER).is_some());
    assert!(
        a.body["error"]
            .as_str()
            .unwrap()
            .starts_with("Too many failed sign-ins")
    );
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn api_tokens_work_until_revoked_and_bad_ones_are_refused(pool: MySqlPool) {
    let app = with_admin(&pool).await;
    let token = auth::token::generate();
    db::insert_token(&pool, "ci", &auth::token::digest(&token))
        .await
        .unwrap();
    let with = |value: String| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/products")
            .header(header::AUTHORIZATION, value)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"title": "Mug", "image": "/m.png"}"#))
            .unwrap()
    };
    let created = send(&app, with(format!("Bearer {token}"))).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(
        created.headers[header::CACHE_CONTROL],
        "no-store",
        "a signed-in answer"
    );
    assert_eq!(created.headers["x-content-type-options"], "nosniff");
    for bad in [
        format!("Bearer {}", auth::token::generate()),
        "Bearer shop_nothex".to_owned(),
        format!("Basic {token}"),
        "Bearer ".to_owned(),
    ] {
        let a = send(&app, with(bad.clone())).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(a.body, json!({"error": "Invalid or revoked API token"}));
    }
    assert!(db::revoke_token(&pool, "ci").await.unwrap());
    assert_eq!(
        send(&app, with(format!("Bearer {token}"))).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(outbox_rows(&pool).await, 1);
}

/// Sign-in maps database errors as every route does (one error type): no connection in
/// time is `503` with `Retry-After` (nothing was done, try again), any other failure `500`.
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_database_that_gives_no_connection_during_sign_in_is_a_503(pool: MySqlPool) {
    let _ = with_admin(&pool).await;
    // One connection, held by someone else: the sign-in waits for it, in vain.
    let busy = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_millis(200))
        .connect_with((*pool.connect_options()).clone())
        .await
        .unwrap();
    let held = busy.acquire().await.unwrap();
    let app = router(AppState::detached(busy.clone(), true));
    let a = login(&app, EMAIL, PASSWORD).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.headers[header::RETRY_AFTER], "1");
    drop(held);
    // The same pool, closed: the outcome of such an error is unknown, a bare 500.
    busy.close().await;
    let a = login(&app, EMAIL, PASSWORD).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(a.body, json!({"error": "Internal server error"}));
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn sign_in_can_be_turned_off_explicitly_and_says_so(pool: MySqlPool) {
    let env = shop_runtime::Env::from_pairs([("ADMIN_AUTH", "disabled")]);
    let auth = <AppState as shop_runtime::service::HttpService>::settings(&env).unwrap();
    let mut core = shop_runtime::service::Core::detached(pool.clone(), true);
    // What run_http does with the service's warnings.
    core.warnings = <AppState as shop_runtime::service::HttpService>::warnings(&auth).into();
    let app = router(AppState::new(
        core,
        auth,
        false,
        admin_svc::audit::AuditLog::in_service_database(),
    ));
    assert_eq!(create(&app, None).await.status, StatusCode::CREATED);
    let health = send(&app, request(Method::GET, "/api/health", None, None)).await;
    assert_eq!(health.status, StatusCode::OK);
    assert!(
        health.body["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("ADMIN_AUTH=disabled"),
        "{:?}",
        health.body
    );
    // The web app asks who is signed in before it shows the admin pages: anyone.
    let me = send(&app, request(Method::GET, "/api/auth/me", None, None)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.body,
        json!({"id": 0, "name": "Anyone (ADMIN_AUTH=disabled)", "email": "", "role": "admin"})
    );
    assert_eq!(me.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let bad = shop_runtime::Env::from_pairs([("ADMIN_AUTH", "off")]);
    let err = <AppState as shop_runtime::service::HttpService>::settings(&bad).unwrap_err();
    assert_eq!(err.name, "ADMIN_AUTH");
}
