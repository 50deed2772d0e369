//! Router tests of what the OpenAPI document says: its parameters and statuses, and the
//! answers behind the ones it names (a busy service, paging and ids at their bounds).
//! scripts/schemathesis.sh checks the same against the running service with generated
//! requests; these keep each named answer pinned in the ordinary test run.
#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use main_svc::{AppState, router};
use serde_json::{Value, json};
use shop_runtime::http::admission::Admission;
use sqlx::MySqlPool;
use tower::ServiceExt;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn send(app: &Router, method: Method, uri: &str) -> Answer {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
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

#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn the_document_names_the_parameters_and_every_status(pool: MySqlPool) {
    let app = router(AppState::detached(pool));
    let doc = send(&app, Method::GET, "/flask/api/openapi.json")
        .await
        .body;
    let expected: &[(&str, &str, &[&str])] = &[
        ("/flask/api/products", "get", &["200", "304", "400", "503"]),
        (
            "/flask/api/products/{id}/like",
            "post",
            &["200", "400", "403", "404", "429", "503"],
        ),
        ("/flask/api/likes", "get", &["200", "503"]),
        ("/flask/api/products/events", "get", &["200", "503"]),
        ("/flask/api/health", "get", &["200", "503"]),
        ("/metrics", "get", &["200"]),
    ];
    for (path, method, statuses) in expected {
        let operation = &doc["paths"][path][method];
        let responses = operation["responses"].as_object().unwrap();
        let documented: Vec<&str> = responses.keys().map(String::as_str).collect();
        assert_eq!(&documented, statuses, "{method} {path}");
        for response in responses.values() {
            if let Some(name) = response["$ref"].as_str() {
                let name = name.trim_start_matches("#/components/responses/");
                assert!(doc["components"]["responses"][name].is_object(), "{name}");
            }
        }
        assert!(operation["security"].is_null(), "the shop is public");
    }
    let events = &doc["paths"]["/flask/api/products/events"]["get"];
    assert!(
        events["responses"]["200"]["content"]["text/event-stream"].is_object(),
        "{events}"
    );
    assert!(events["responses"]["503"]["headers"]["Retry-After"].is_object());
    assert_eq!(events["parameters"][0]["name"], "Last-Event-ID");
    let like = &doc["paths"]["/flask/api/products/{id}/like"]["post"];
    let retry = &like["responses"]["429"]["headers"]["Retry-After"];
    assert!(retry.is_object(), "{like}");
    let id = &like["parameters"][0];
    assert_eq!((&id["name"], &id["in"]), (&json!("id"), &json!("path")));
    assert_eq!(
        (&id["schema"]["minimum"], &id["schema"]["maximum"]),
        (&json!(1), &json!(u64::MAX))
    );
    let params = doc["paths"]["/flask/api/products"]["get"]["parameters"]
        .as_array()
        .unwrap();
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
}

/// 503 with `Retry-After` on the routes that need the database when no permit is left; the
/// list, served from memory, still answers.
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn a_busy_shop_is_503_with_retry_after(pool: MySqlPool) {
    let mut state = AppState::detached(pool);
    state.core.admission = Admission::new(0, 0);
    let app = router(state);
    for (method, uri) in [
        (Method::POST, "/flask/api/products/1/like"),
        (Method::GET, "/flask/api/likes"),
    ] {
        let a = send(&app, method.clone(), uri).await;
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{method} {uri}");
        assert_eq!(a.headers[header::RETRY_AFTER], "1");
        assert_eq!(
            a.body,
            json!({"error": "The service is busy; try again in a moment"})
        );
    }
    let list = send(&app, Method::GET, "/flask/api/products").await;
    assert_eq!(list.status, StatusCode::OK);
}

/// Paging parameters and ids at the bounds the document gives them.
#[sqlx::test(migrator = "main_svc::MIGRATOR")]
async fn paging_and_ids_at_their_documented_bounds(pool: MySqlPool) {
    let app = router(AppState::detached(pool));
    let max = u64::MAX.to_string();
    let over = "18446744073709551616";
    for (query, status) in [
        ("limit=1".to_owned(), StatusCode::OK),
        ("limit=1000".to_owned(), StatusCode::OK),
        ("limit=1001".to_owned(), StatusCode::BAD_REQUEST),
        (format!("after={max}"), StatusCode::OK),
        (format!("after={over}"), StatusCode::BAD_REQUEST),
    ] {
        let a = send(&app, Method::GET, &format!("/flask/api/products?{query}")).await;
        assert_eq!(a.status, status, "{query}");
    }
    for id in [max.as_str(), over, "0"] {
        let a = send(
            &app,
            Method::POST,
            &format!("/flask/api/products/{id}/like"),
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{id}");
        assert!(a.headers.get(header::SET_COOKIE).is_none(), "{id}");
    }
}
