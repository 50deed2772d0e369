//! Traces through the real processes, the real broker and a real OTLP receiver: one admin
//! create and one like each make one trace, from the HTTP request through the outbox and
//! the broker into the other service's consumer and its transaction; a collector that is
//! down or never answers costs the requests nothing but the dropped-spans count.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::leftovers::{Inspector, after_traffic};
use testkit::{OtlpReceiver, Proc, ReceivedSpan, ShopStack, WAIT, eventually, free_port};

const INTERNAL: i32 = 1;
const SERVER: i32 = 2;
const CLIENT: i32 = 3;
const PRODUCER: i32 = 4;
const CONSUMER: i32 = 5;

/// Every process exports to `endpoint`, quickly (100 ms batches).
fn exporting_to(endpoint: &str, extra: &[(&'static str, &str)]) -> testkit::Overrides {
    Proc::ALL
        .into_iter()
        .map(|p| {
            let mut env = vec![
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
                ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
            ];
            env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
            (p, env)
        })
        .collect()
}

/// The spans of one trace, and ways to find one and to check who its parent is.
struct Trace {
    spans: Vec<ReceivedSpan>,
}

impl Trace {
    fn one(&self, service: &str, name: &str, kind: i32) -> &ReceivedSpan {
        let found: Vec<_> = self
            .spans
            .iter()
            .filter(|s| s.service == service && s.name == name && s.kind == kind)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one {name:?} span from {service}: {:#?}",
            self.names()
        );
        found[0]
    }

    /// Whether `span` is `ancestor` or below it.
    fn under(&self, span: &ReceivedSpan, ancestor: &ReceivedSpan) -> bool {
        let by_id: HashMap<&str, &ReceivedSpan> =
            self.spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
        let mut current = Some(span);
        while let Some(s) = current {
            if s.span_id == ancestor.span_id {
                return true;
            }
            current = by_id.get(s.parent_span_id.as_str()).copied();
        }
        false
    }

    fn names(&self) -> Vec<String> {
        self.spans
            .iter()
            .map(|s| format!("{} {} (kind {})", s.service, s.name, s.kind))
            .collect()
    }
}

/// Waits until the trace `trace_id` holds a consumer span whose outcome is recorded and its
/// commit span, then a moment more for stragglers.
async fn trace(receiver: &OtlpReceiver, trace_id: &str, consumer: &str) -> Trace {
    eventually(WAIT, "the consumer's spans", || async {
        let spans: Vec<_> = receiver
            .spans()
            .into_iter()
            .filter(|s| s.trace_id == trace_id)
            .collect();
        let done = spans
            .iter()
            .any(|s| s.service == consumer && s.kind == CONSUMER)
            && spans
                .iter()
                .any(|s| s.service == consumer && s.name == "COMMIT");
        done.then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    Trace {
        spans: receiver
            .spans()
            .into_iter()
            .filter(|s| s.trace_id == trace_id)
            .collect(),
    }
}

/// The database spans of `service` under `parent`, by name.
fn statements(trace: &Trace, service: &str, parent: &ReceivedSpan) -> Vec<String> {
    let mut names: Vec<String> = trace
        .spans
        .iter()
        .filter(|s| s.service == service && s.kind == CLIENT && trace.under(s, parent))
        .inspect(|s| assert_eq!(s.attr("db.system.name"), Some("mariadb"), "{s:?}"))
        .map(|s| s.name.clone())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn an_admin_create_and_a_like_each_make_one_trace_across_both_services() {
    let receiver = OtlpReceiver::start().await;
    let mut overrides = exporting_to(&receiver.endpoint(), &[]);
    // admin-api's log lines, in JSON, with the database driver's statement lines.
    let logs = std::env::temp_dir().join(testkit::unique("trace-logs"));
    overrides.get_mut(&Proc::AdminApi).unwrap().extend([
        ("LOG_FORMAT", "json".to_owned()),
        ("RUST_LOG", "warn,sqlx::query=debug".to_owned()),
    ]);
    let stack = ShopStack::prepare(&testkit::amqp_url(), overrides)
        .await
        .log_to(&logs)
        .launch()
        .await;
    let log = stack.log_path(Proc::AdminApi).unwrap();
    let http = stack.client.http.clone();

    // The admin's browser (or a gateway) started the trace.
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let res = http
        .post(format!("{}/api/products", stack.client.admin))
        .header("traceparent", format!("00-{caller_trace}-{caller_span}-01"))
        .json(&json!({"title": "Traced mug", "image": "/mug.png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    eventually(WAIT, "product in the shop", || {
        stack.client.shop_product(id)
    })
    .await;

    let create = trace(&receiver, caller_trace, "main-consumer").await;
    let server = create.one("admin-api", "POST /api/products", SERVER);
    assert_eq!(
        server.parent_span_id, caller_span,
        "continues the caller's trace"
    );
    assert_eq!(server.attr("http.request.method"), Some("POST"));
    assert_eq!(server.attr("http.route"), Some("/api/products"));
    assert_eq!(server.attr("http.response.status_code"), Some("201"));
    // The token's first use is noted (`UPDATE api_tokens`, at most once a minute); the
    // change's audit record is written in its transaction.
    assert_eq!(
        statements(&create, "admin-api", server),
        [
            "COMMIT",
            "INSERT audit_log",
            "INSERT outbox",
            "INSERT product_search_terms",
            "INSERT products",
            "SELECT api_tokens",
            "UPDATE api_tokens",
            "UPDATE cache_versions"
        ]
    );
    let producer = create.one(
        "admin-api",
        &format!("publish {}", stack.main_queue),
        PRODUCER,
    );
    assert_eq!(
        producer.parent_span_id, server.span_id,
        "published for the request"
    );
    assert_eq!(producer.attr("messaging.system"), Some("rabbitmq"));
    assert_eq!(
        producer.attr("messaging.destination.name"),
        Some(stack.main_queue.as_str())
    );
    let message_id = producer.attr("messaging.message.id").unwrap();
    assert_eq!(message_id.len(), 36, "a message id: {message_id}");
    let consumer = create.one(
        "main-consumer",
        &format!("process {}", stack.main_queue),
        CONSUMER,
    );
    assert_eq!(
        consumer.parent_span_id, producer.span_id,
        "consumed what was published"
    );
    assert_eq!(consumer.attr("messaging.message.id"), Some(message_id));
    assert_eq!(consumer.attr("shop.event.outcome"), Some("applied"));
    assert_eq!(
        statements(&create, "main-consumer", consumer),
        [
            "COMMIT",
            "INSERT processed_messages",
            "INSERT product_search_terms",
            "INSERT products",
            "SELECT products",
            "UPDATE cache_versions"
        ]
    );
    for span in &create.spans {
        assert_ne!(span.status_code, 2, "no error in a good trace: {span:?}");
    }

    // Log lines written inside the request name its trace and their span.
    let lines = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_dir_all(&logs);
    let inside: Vec<Value> = lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["trace_id"] == caller_trace)
        .collect();
    assert!(
        !inside.is_empty(),
        "no log line with the trace id:\n{lines}"
    );
    let span_ids: Vec<&str> = create.spans.iter().map(|s| s.span_id.as_str()).collect();
    for line in &inside {
        let span_id = line["span_id"].as_str().unwrap();
        assert!(
            span_ids.contains(&span_id),
            "{line} names a span of the trace"
        );
    }

    // A shopper's like, with no traceparent: a new trace, rooted at main-api.
    let mut jar = None;
    assert_eq!(stack.client.like(id, &mut jar).await, StatusCode::OK);
    let like_trace = eventually(WAIT, "the like's server span", || async {
        receiver
            .spans()
            .into_iter()
            .find(|s| s.service == "main-api" && s.name == "POST /flask/api/products/{id}/like")
            .map(|s| s.trace_id)
    })
    .await;
    assert_ne!(like_trace, caller_trace, "one trace per action");
    let like = trace(&receiver, &like_trace, "admin-consumer").await;
    let server = like.one("main-api", "POST /flask/api/products/{id}/like", SERVER);
    assert_eq!(
        server.parent_span_id, "",
        "a root: the shopper sent no traceparent"
    );
    assert_eq!(server.attr("http.response.status_code"), Some("200"));
    // The like committed in a batch (of one, here): the batch's span is the request's
    // child, its statements under it, and its event continues the trace from it.
    let batch = like.one("main-api", "like batch", INTERNAL);
    assert_eq!(batch.parent_span_id, server.span_id);
    assert_eq!(batch.attr("shop.batch.outcome"), Some("committed"));
    assert_eq!(
        statements(&like, "main-api", batch),
        [
            "COMMIT",
            "INSERT outbox",
            "INSERT product_like_counts",
            "INSERT product_likes",
            "SELECT product_likes",
            "SELECT products"
        ]
    );
    let producer = like.one(
        "main-api",
        &format!("publish {}", stack.admin_queue),
        PRODUCER,
    );
    assert_eq!(producer.parent_span_id, batch.span_id);
    let consumer = like.one(
        "admin-consumer",
        &format!("process {}", stack.admin_queue),
        CONSUMER,
    );
    assert_eq!(consumer.parent_span_id, producer.span_id);
    assert_eq!(consumer.attr("shop.event.outcome"), Some("applied"));
    assert_eq!(
        statements(&like, "admin-consumer", consumer),
        [
            "COMMIT",
            "INSERT processed_messages",
            "SELECT products",
            "UPDATE cache_versions",
            "UPDATE products"
        ]
    );

    // An invalid traceparent is no error, only no parent.
    let res = http
        .get(format!("{}/flask/api/products", stack.client.main))
        .header("traceparent", "00-not-a-trace-01")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let list = eventually(WAIT, "the list's server span", || async {
        receiver
            .spans()
            .into_iter()
            .find(|s| s.service == "main-api" && s.name == "GET /flask/api/products")
    })
    .await;
    assert_eq!(list.parent_span_id, "");

    // Nothing a user sent is in a span: no cookie, no body text.
    let cookie = jar.unwrap();
    let shopper = cookie.split_once('=').unwrap().1;
    for span in receiver.spans() {
        for value in span.attributes.values() {
            assert!(!value.contains(shopper), "shopper id in {span:?}");
            assert!(!value.contains("Traced mug"), "body text in {span:?}");
        }
    }

    // The end-to-end lag of both events was measured on the consuming side.
    for (p, event) in [
        (Proc::MainConsumer, "product_created"),
        (Proc::AdminConsumer, "products_liked"),
    ] {
        let metrics = stack.metrics(p).await;
        let count = format!("events_end_to_end_lag_seconds_count{{event=\"{event}\"}} 1");
        assert!(metrics.contains(&count), "{count} in\n{metrics}");
    }
    stack.stop().await;
}

/// A collector that refuses connections, and one that accepts and never answers: the
/// requests go on as before, the spans are dropped and counted, and the system is left
/// healthy and idle.
#[tokio::test]
async fn a_collector_that_is_down_or_silent_costs_requests_nothing() {
    // Nothing listens on this port: connections are refused.
    let refused = format!("http://127.0.0.1:{}", free_port());
    // This one accepts connections and never reads or answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });

    for (endpoint, queue) in [(refused, "1024"), (silent_url, "16")] {
        let stack = ShopStack::start(
            &testkit::amqp_url(),
            exporting_to(
                &endpoint,
                &[
                    ("OTEL_EXPORTER_OTLP_TIMEOUT", "500"),
                    ("OTEL_BSP_MAX_QUEUE_SIZE", queue),
                    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "8"),
                ],
            ),
        )
        .await;
        let mut inspector = Inspector::connect().await;
        let id = stack.client.create("Mug", "/mug.png").await;
        eventually(WAIT, "product in the shop", || {
            stack.client.shop_product(id)
        })
        .await;
        for _ in 0..100 {
            let mut jar = None;
            assert_eq!(stack.client.like(id, &mut jar).await, StatusCode::OK);
            assert_eq!(stack.client.shop().await.len(), 1);
        }
        let checks = after_traffic(&stack, &mut inspector, WAIT).await;
        for (name, check) in &checks {
            assert!(check.is_ok(), "{endpoint}: {name}: {check:?}");
        }
        let metrics = stack.metrics(Proc::MainApi).await;
        let dropped: f64 = metrics
            .lines()
            .filter(|l| l.starts_with("otel_spans_dropped_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert!(
            dropped > 0.0,
            "{endpoint}: dropped spans counted:\n{metrics}"
        );
        if queue == "16" {
            // The series is there from the start, at 0: its value says.
            let full = metrics
                .lines()
                .find_map(|l| l.strip_prefix(r#"otel_spans_dropped_total{reason="queue_full"} "#))
                .and_then(|v| v.parse::<f64>().ok());
            assert!(
                full.is_some_and(|n| n > 0.0),
                "a silent collector fills the small queue:\n{metrics}"
            );
        }
        assert!(
            !metrics.contains("otel_spans_exported_total 1"),
            "{metrics}"
        );
        let stopped = stack.stop_within(Duration::from_secs(15)).await;
        for (p, code, took) in stopped {
            assert_eq!(code, Some(0), "{p:?} exit after {took:?} ({endpoint})");
        }
    }
    held.abort();
}
