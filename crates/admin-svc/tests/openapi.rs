//! Router tests of what the OpenAPI document says: its parameters, bodies, security and
//! statuses, and the answers behind the ones it names (a write without credentials, a
//! cross-site write, a busy service, a body too large, paging and ids at their bounds).
//! scripts/schemathesis.sh checks the same against the running service with generated
//! requests; these keep each named answer pinned in the ordinary test run.
#![allow(clippy::unwrap_used)]

use admin_svc::openapi::{IMAGE_PATTERN, TITLE_PATTERN};
use admin_svc::{AppState, router};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shop_runtime::http::admission::Admission;
use sqlx::MySqlPool;
use tower::ServiceExt;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
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

fn request(
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    match body {
        Some(v) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    }
}

/// An API token's `Authorization` value.
async fn token(pool: &MySqlPool) -> String {
    let token = admin_svc::auth::token::generate();
    admin_svc::db::insert_token(
        pool,
        "openapi-tests",
        &admin_svc::auth::token::digest(&token),
    )
    .await
    .unwrap();
    format!("Bearer {token}")
}

async fn document(app: &Router) -> Value {
    let a = send(app, request(Method::GET, "/api/openapi.json", &[], None)).await;
    assert_eq!(a.status, StatusCode::OK);
    a.body
}

async fn outbox_rows(pool: &MySqlPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn the_document_names_the_parameters_bodies_and_security(pool: MySqlPool) {
    let app = router(AppState::detached(pool, true));
    let doc = document(&app).await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["api_token"]["type"], "http");
    assert_eq!(schemes["api_token"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], admin_svc::auth::COOKIE);

    let products = &doc["paths"]["/api/products"];
    let one = &doc["paths"]["/api/products/{id}"];
    for write in [&products["post"], &one["put"], &one["delete"]] {
        assert_eq!(
            write["security"],
            json!([{"api_token": []}, {"session": []}])
        );
    }
    for read in [
        &products["get"],
        &one["get"],
        &doc["paths"]["/api/user"]["get"],
    ] {
        assert!(read["security"].is_null(), "reads are public: {read}");
    }
    // Who you are, your password, sessions and tokens, and accounts: a session or a token.
    for (path, method) in [
        ("/api/auth/me", "get"),
        ("/api/auth/password", "put"),
        ("/api/auth/sessions", "get"),
        ("/api/auth/sessions/{id}", "delete"),
        ("/api/auth/sessions/sign-out-others", "post"),
        ("/api/admins", "get"),
        ("/api/admins", "post"),
        ("/api/admins/{id}", "patch"),
        ("/api/admins/{id}/link", "post"),
        ("/api/tokens", "get"),
        ("/api/tokens", "post"),
        ("/api/tokens/{id}", "delete"),
    ] {
        assert_eq!(
            doc["paths"][path][method]["security"],
            json!([{"api_token": []}, {"session": []}]),
            "{method} {path}"
        );
        assert!(
            doc["paths"][path][method]["responses"]["401"].is_object(),
            "{method} {path}"
        );
    }
    // A one-time link's page is for someone not signed in yet.
    for path in ["/api/account-links/inspect", "/api/account-links/redeem"] {
        let op = &doc["paths"][path]["post"];
        assert!(op["security"].is_null(), "{path}");
        for status in ["200", "400", "404", "410"] {
            assert!(op["responses"][status].is_object(), "{path} {status}");
        }
    }

    let params = products["get"]["parameters"].as_array().unwrap();
    let limit = &params.iter().find(|p| p["name"] == "limit").unwrap()["schema"];
    assert_eq!(
        (&limit["minimum"], &limit["maximum"]),
        (&json!(1), &json!(1000))
    );
    let after = &params.iter().find(|p| p["name"] == "after").unwrap()["schema"];
    assert_eq!(
        (&after["minimum"], &after["maximum"]),
        (&json!(0), &json!(u64::MAX))
    );
    assert!(after["format"].is_null(), "int64 would cap it at 2^63 - 1");
    let id = &one["get"]["parameters"][0];
    assert_eq!(
        (&id["name"], &id["in"], &id["required"]),
        (&json!("id"), &json!("path"), &json!(true))
    );
    assert_eq!(
        (&id["schema"]["minimum"], &id["schema"]["maximum"]),
        (&json!(1), &json!(u64::MAX))
    );

    let schemas = &doc["components"]["schemas"];
    let login = &doc["paths"]["/api/auth/login"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(login["$ref"], "#/components/schemas/LoginInput");
    assert_eq!(
        schemas["LoginInput"]["required"],
        json!(["email", "password"])
    );
    for field in ["email", "password"] {
        assert_eq!(schemas["LoginInput"]["properties"][field]["minLength"], 1);
    }
    let input = &schemas["ProductInput"];
    assert_eq!(input["required"], json!(["title", "image"]));
    assert_eq!(input["properties"]["title"]["pattern"], TITLE_PATTERN);
    assert_eq!(input["properties"]["image"]["pattern"], IMAGE_PATTERN);
    assert!(schemas["HealthReport"]["required"].is_array());
}

#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn the_document_names_every_status_of_each_operation(pool: MySqlPool) {
    let app = router(AppState::detached(pool, true));
    let doc = document(&app).await;
    let expected: &[(&str, &str, &[&str])] = &[
        ("/api/products", "get", &["200", "304", "400", "503"]),
        (
            "/api/products",
            "post",
            &["201", "400", "401", "403", "413", "415", "503"],
        ),
        ("/api/products/{id}", "get", &["200", "404", "503"]),
        (
            "/api/products/{id}",
            "put",
            &[
                "202", "400", "401", "403", "404", "412", "413", "415", "503",
            ],
        ),
        (
            "/api/products/{id}",
            "patch",
            &[
                "202", "400", "401", "403", "404", "412", "413", "415", "503",
            ],
        ),
        (
            "/api/products/{id}",
            "delete",
            &["204", "400", "401", "403", "404", "412", "503"],
        ),
        (
            "/api/products/bulk-delete",
            "post",
            &["200", "400", "401", "403", "413", "415", "503"],
        ),
        (
            "/api/products/{id}/history",
            "get",
            &["200", "400", "401", "404", "503"],
        ),
        ("/api/audit", "get", &["200", "400", "401", "503"]),
        ("/api/user", "get", &["200", "404", "503"]),
        (
            "/api/auth/login",
            "post",
            &["200", "400", "401", "403", "413", "415", "429", "503"],
        ),
        ("/api/auth/logout", "post", &["204", "403", "503"]),
        ("/api/auth/me", "get", &["200", "401", "503"]),
        ("/api/health", "get", &["200", "503"]),
        ("/ready", "get", &["200", "503"]),
        ("/alive", "get", &["200"]),
        ("/metrics", "get", &["200"]),
    ];
    for (path, method, statuses) in expected {
        let responses = doc["paths"][path][method]["responses"].as_object().unwrap();
        let documented: Vec<&str> = responses.keys().map(String::as_str).collect();
        assert_eq!(&documented, statuses, "{method} {path}");
        for (status, response) in responses {
            // Every reference resolves.
            if let Some(name) = response["$ref"].as_str() {
                let name = name.trim_start_matches("#/components/responses/");
                assert!(
                    doc["components"]["responses"][name].is_object(),
                    "{status} of {method} {path}: {name}"
                );
            }
        }
    }
    let busy = &doc["components"]["responses"]["Busy"];
    assert!(busy["headers"]["Retry-After"].is_object());
    let unauthorized = &doc["components"]["responses"]["SignInRequired"];
    assert!(unauthorized["headers"]["WWW-Authenticate"].is_object());
}

/// 401 for a write without credentials or with a bad token, with `WWW-Authenticate`, and
/// the same for `me` without a session.
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn writes_without_credentials_are_401_with_a_challenge(pool: MySqlPool) {
    let app = router(AppState::detached(pool.clone(), true));
    let product = json!({"title": "Mug", "image": "/m.png"});
    for auth in [None, Some("Bearer shop_nonsense"), Some("Basic YTpi")] {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        for (method, uri) in [
            (Method::POST, "/api/products"),
            (Method::PUT, "/api/products/1"),
            (Method::PATCH, "/api/products/1"),
            (Method::DELETE, "/api/products/1"),
            (Method::POST, "/api/products/bulk-delete"),
            (Method::GET, "/api/audit"),
            (Method::GET, "/api/products/1/history"),
        ] {
            let a = send(
                &app,
                request(method.clone(), uri, &headers, Some(product.clone())),
            )
            .await;
            assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{method} {uri} {auth:?}"
            );
            assert_eq!(
                a.headers[header::WWW_AUTHENTICATE],
                r#"Bearer realm="admin""#
            );
            assert!(a.body["error"].is_string());
        }
    }
    let me = send(&app, request(Method::GET, "/api/auth/me", &[], None)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        me.headers[header::WWW_AUTHENTICATE],
        r#"Bearer realm="admin""#
    );
    assert_eq!(outbox_rows(&pool).await, 0);
}

/// 403 for a browser's write from another site, even with a valid token; sign-in and
/// sign-out too.
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn cross_site_writes_are_403(pool: MySqlPool) {
    let app = router(AppState::detached(pool.clone(), true));
    let auth = token(&pool).await;
    let headers = [
        ("authorization", auth.as_str()),
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://elsewhere.example"),
    ];
    let product = json!({"title": "Mug", "image": "/m.png"});
    let login = json!({"email": "ada@example.com", "password": "x"});
    for (method, uri, body) in [
        (Method::POST, "/api/products", Some(product.clone())),
        (Method::PUT, "/api/products/1", Some(product.clone())),
        (Method::DELETE, "/api/products/1", None),
        (Method::POST, "/api/auth/login", Some(login)),
        (Method::POST, "/api/auth/logout", None),
    ] {
        let a = send(&app, request(method.clone(), uri, &headers, body)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{method} {uri}");
        assert!(
            a.body["error"]
                .as_str()
                .unwrap()
                .starts_with("Cross-site request refused")
        );
    }
    assert_eq!(outbox_rows(&pool).await, 0);
}

/// Sign-in's body: 413 over 64 KiB, 415 when it is not JSON, 400 in the fields' shape
/// for a blank or mistyped field.
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn sign_in_refuses_bodies_as_documented(pool: MySqlPool) {
    let app = router(AppState::detached(pool, true));
    let big = json!({"email": "a@example.com", "password": "p".repeat(70 * 1024)});
    let a = send(
        &app,
        request(Method::POST, "/api/auth/login", &[], Some(big)),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        a.body,
        json!({"error": "Request body is larger than 64 KiB"})
    );
    let a = send(&app, request(Method::POST, "/api/auth/login", &[], None)).await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        a.body,
        json!({"error": "Expected a JSON body with Content-Type: application/json"})
    );
    let blank = json!({"email": "", "password": 5});
    let a = send(
        &app,
        request(Method::POST, "/api/auth/login", &[], Some(blank)),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.body,
        json!({"email": ["This field may not be blank."], "password": ["Not a valid string."]})
    );
}

/// 503 with `Retry-After` on every route that needs the database when no permit is left;
/// the list, served from memory, still answers.
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn a_busy_service_is_503_with_retry_after(pool: MySqlPool) {
    let mut state = AppState::detached(pool.clone(), true);
    state.core.admission = Admission::new(0, 0);
    let app = router(state);
    let auth = token(&pool).await;
    let headers = [("authorization", auth.as_str())];
    let product = json!({"title": "Mug", "image": "/m.png"});
    let login = json!({"email": "ada@example.com", "password": "x"});
    for (method, uri, body) in [
        (Method::POST, "/api/products", Some(product.clone())),
        (Method::GET, "/api/products/1", None),
        (Method::PUT, "/api/products/1", Some(product)),
        (Method::DELETE, "/api/products/1", None),
        (Method::GET, "/api/user", None),
        (Method::POST, "/api/auth/login", Some(login)),
        (Method::POST, "/api/auth/logout", None),
        (Method::GET, "/api/auth/me", None),
    ] {
        let a = send(&app, request(method.clone(), uri, &headers, body)).await;
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{method} {uri}");
        assert_eq!(a.headers[header::RETRY_AFTER], "1", "{method} {uri}");
        assert_eq!(
            a.body,
            json!({"error": "The service is busy; try again in a moment"})
        );
    }
    let list = send(&app, request(Method::GET, "/api/products", &[], None)).await;
    assert_eq!(list.status, StatusCode::OK);
}

/// Paging parameters and ids at the bounds the document gives them.
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn paging_and_ids_at_their_documented_bounds(pool: MySqlPool) {
    let app = router(AppState::detached(pool, true));
    let max = u64::MAX.to_string();
    let over = "18446744073709551616";
    for (query, status) in [
        ("limit=1", StatusCode::OK),
        ("limit=1000", StatusCode::OK),
        ("limit=0", StatusCode::BAD_REQUEST),
        ("limit=1001", StatusCode::BAD_REQUEST),
        ("after=0", StatusCode::OK),
        (&format!("after={max}"), StatusCode::OK),
        (&format!("after={over}"), StatusCode::BAD_REQUEST),
        ("after=-1", StatusCode::BAD_REQUEST),
    ] {
        let a = send(
            &app,
            request(Method::GET, &format!("/api/products?{query}"), &[], None),
        )
        .await;
        assert_eq!(a.status, status, "{query}");
        if status == StatusCode::OK {
            assert_eq!(a.body, json!([]), "{query}");
        }
    }
    for id in ["1", max.as_str(), over, "0"] {
        let a = send(
            &app,
            request(Method::GET, &format!("/api/products/{id}"), &[], None),
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(a.body, json!({"error": "Product not found"}), "{id}");
    }
}

/// The admin console's additions: `If-Match` on the writes of one product, `PATCH`'s body (one of the fields at least), bulk delete's list,
/// the history and log's parameters and entries.
#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]
async fn the_console_routes_describe_their_inputs(pool: MySqlPool) {
    let app = router(AppState::detached(pool, true));
    let doc = document(&app).await;
    let one = &doc["paths"]["/api/products/{id}"];
    // `If-Match` is described, not listed as a parameter: a fuzzer would send tags of no
    // version (a 412, which it takes for a valid request refused).
    for method in ["put", "patch", "delete"] {
        let op = &one[method];
        assert!(
            op["description"].as_str().unwrap().contains("If-Match"),
            "{method}"
        );
        let params = op["parameters"].as_array().unwrap();
        assert!(params.iter().all(|p| p["in"] == "path"), "{method}");
        assert!(op["responses"]["412"].is_object(), "{method}");
    }
    assert!(one["get"]["responses"]["200"]["headers"]["ETag"].is_object());
    let schemas = &doc["components"]["schemas"];
    let patch = &schemas["ProductPatch"]["anyOf"];
    assert_eq!(patch[0]["required"], json!(["title"]));
    assert_eq!(patch[1]["required"], json!(["image"]));
    assert_eq!(patch[0]["properties"]["title"]["pattern"], TITLE_PATTERN);
    let ids = &schemas["BulkDeleteInput"]["properties"]["ids"];
    assert_eq!(
        (&ids["minItems"], &ids["maxItems"]),
        (&json!(1), &json!(500))
    );
    assert_eq!(ids["items"]["minimum"], 1);
    let audit = doc["paths"]["/api/audit"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = audit.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["action", "actor", "product", "limit", "before"]);
    let actions = audit[0]["schema"]["enum"].as_array().unwrap();
    assert_eq!(actions.len(), admin_svc::audit::Action::ALL.len());
    let entry = &schemas["Entry"]["properties"];
    for field in [
        "id",
        "at",
        "action",
        "actor",
        "product_id",
        "product_version",
        "account_id",
        "changes",
        "detail",
        "ip",
        "trace_id",
    ] {
        assert!(entry[field].is_object(), "{field}");
    }
}
