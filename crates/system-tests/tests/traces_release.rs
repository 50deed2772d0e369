//! Traces as an operator sees them: the processes with their default export settings
//! (5 s batches) against an OTLP/HTTP receiver that answers as a collector does (keep-alive,
//! idle connections closed, a stop that closes every connection). Meant for the release
//! build, whose timing is the operator's: `SHOP_BIN_DIR=target/release cargo test -p
//! system-tests --test traces_release` (the tests themselves stay a debug build); without
//! `SHOP_BIN_DIR` the same tests run on the debug binaries.
//!
//! - 50 creates and 50 likes each arrive as one complete trace tree, and every list request
//!   made meanwhile as its server span; each process's `otel_spans_exported_total` is what
//!   the receiver took, and nothing was dropped;
//! - with the receiver stopped under load and back on the same port, traces resume within
//!   10 s (the bound is the wait; the gap is printed), and every span that did not arrive
//!   is counted as dropped;
//! - a fresh process shows its known counter series at 0.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use testkit::{OtlpReceiver, Proc, ReceivedSpan, ShopStack, WAIT, eventually};

const INTERNAL: i32 = 1;
const SERVER: i32 = 2;
const CLIENT: i32 = 3;
const PRODUCER: i32 = 4;
const CONSUMER: i32 = 5;
/// How long every trace may take to arrive whole: a few 5 s batches.
const ARRIVAL: Duration = Duration::from_secs(60);

/// Every process exports to `endpoint` with the defaults an operator gets, logging as it
/// does by default (`info`, not the tests' usual `warn`).
fn exporting_to(endpoint: &str) -> testkit::Overrides {
    Proc::ALL
        .into_iter()
        .map(|p| {
            (
                p,
                vec![
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
                    ("RUST_LOG", "info,sqlx=warn,lapin=warn".to_owned()),
                ],
            )
        })
        .collect()
}

/// The stack, its processes' output in a temporary directory.
async fn stack(endpoint: &str) -> ShopStack {
    let logs = std::env::temp_dir().join(testkit::unique("traces-release"));
    ShopStack::prepare(&testkit::amqp_url(), exporting_to(endpoint))
        .await
        .log_to(&logs)
        .launch()
        .await
}

fn new_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn traceparent(trace_id: &str) -> String {
    format!("00-{trace_id}-00f067aa0ba902b7-01")
}

/// The spans received, by trace id.
fn by_trace(receiver: &OtlpReceiver) -> HashMap<String, Vec<ReceivedSpan>> {
    let mut traces: HashMap<String, Vec<ReceivedSpan>> = HashMap::new();
    for span in receiver.spans() {
        traces.entry(span.trace_id.clone()).or_default().push(span);
    }
    traces
}

/// What a trace lacks to be the whole tree of an action: the caller's child server span on
/// `api` (and under it the internal span `via` when given: a like's batch), with its
/// statements `statements` and the relay's producer span under it, and the consumer span
/// of `consumer` under that with its statements; every span's parent in the trace. Empty
/// when complete.
#[allow(clippy::too_many_arguments)]
fn missing(
    spans: &[ReceivedSpan],
    api: &str,
    route: &str,
    via: Option<&str>,
    statements: &[&str],
    consumer: &str,
    consumer_statements: &[&str],
) -> Vec<String> {
    let mut lacks = Vec::new();
    let ids: HashMap<&str, &ReceivedSpan> = spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let find = |service: &str, kind: i32, parent: Option<&str>, name: Option<&str>| {
        spans.iter().find(|s| {
            s.service == service
                && s.kind == kind
                && parent.is_none_or(|p| s.parent_span_id == p)
                && name.is_none_or(|n| s.name == n)
        })
    };
    let Some(server) = find(api, SERVER, Some("00f067aa0ba902b7"), Some(route)) else {
        return vec![format!("{api} server span {route}")];
    };
    let under = |parent: &ReceivedSpan, service: &str, names: &[&str], lacks: &mut Vec<String>| {
        for name in names {
            if find(service, CLIENT, Some(&parent.span_id), Some(name)).is_none() {
                lacks.push(format!("{service} {name} under {}", parent.name));
            }
        }
    };
    let writer = match via {
        None => server,
        Some(name) => match find(api, INTERNAL, Some(&server.span_id), Some(name)) {
            Some(span) => span,
            None => {
                lacks.push(format!("{api} {name} under {}", server.name));
                return lacks;
            }
        },
    };
    under(writer, api, statements, &mut lacks);
    match find(api, PRODUCER, Some(&writer.span_id), None) {
        None => lacks.push(format!("{api} producer span")),
        Some(producer) => match find(consumer, CONSUMER, Some(&producer.span_id), None) {
            None => lacks.push(format!("{consumer} consumer span")),
            Some(process) => under(process, consumer, consumer_statements, &mut lacks),
        },
    }
    for span in spans {
        if span.span_id != server.span_id && !ids.contains_key(span.parent_span_id.as_str()) {
            lacks.push(format!("the parent of {} {}", span.service, span.name));
        }
    }
    lacks
}

fn create_missing(spans: &[ReceivedSpan], stack: &ShopStack) -> Vec<String> {
    let mut lacks = missing(
        spans,
        "admin-api",
        "POST /api/products",
        None,
        &[
            "SELECT api_tokens",
            "INSERT products",
            "INSERT outbox",
            "COMMIT",
        ],
        "main-consumer",
        &["INSERT processed_messages", "INSERT products", "COMMIT"],
    );
    let publish = format!("publish {}", stack.main_queue);
    if !spans.iter().any(|s| s.name == publish) {
        lacks.push(publish);
    }
    lacks
}

fn like_missing(spans: &[ReceivedSpan], stack: &ShopStack) -> Vec<String> {
    let mut lacks = missing(
        spans,
        "main-api",
        "POST /flask/api/products/{id}/like",
        // One like at a time here: each commits in a batch of its own.
        Some("like batch"),
        &["INSERT product_likes", "INSERT outbox", "COMMIT"],
        "admin-consumer",
        &["INSERT processed_messages", "UPDATE products", "COMMIT"],
    );
    let publish = format!("publish {}", stack.admin_queue);
    if !spans.iter().any(|s| s.name == publish) {
        lacks.push(publish);
    }
    lacks
}

/// `(exported, dropped)` from a process's `/metrics`.
async fn spans_counted(stack: &ShopStack, p: Proc) -> (u64, u64) {
    let metrics = stack.metrics(p).await;
    let sum = |family: &str| -> u64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(family))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    };
    (
        sum("otel_spans_exported_total"),
        sum("otel_spans_dropped_total"),
    )
}

async fn like(stack: &ShopStack, id: u64, trace_id: &str) {
    let res = stack
        .client
        .http
        .post(format!(
            "{}/flask/api/products/{id}/like",
            stack.client.main
        ))
        .header("traceparent", traceparent(trace_id))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn fifty_creates_and_fifty_likes_each_arrive_as_one_complete_trace() {
    let receiver = OtlpReceiver::start().await;
    let stack = stack(&receiver.endpoint()).await;

    // Lists all along, each its own trace.
    let stop = Arc::new(AtomicBool::new(false));
    let lists = tokio::spawn({
        let (http, main, stop) = (
            stack.client.http.clone(),
            stack.client.main.clone(),
            stop.clone(),
        );
        async move {
            let mut traces = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let trace = new_trace_id();
                let res = http
                    .get(format!("{main}/flask/api/products"))
                    .header("traceparent", traceparent(&trace))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                traces.push(trace);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            traces
        }
    });

    // One action at a time, each seen applied before the next: a consumer that takes
    // several deliveries at once applies them in one transaction, whose statements are in
    // the batch's span, not in each message's.
    let mut creates = Vec::new();
    for i in 0..50 {
        let trace = new_trace_id();
        let res = stack
            .client
            .http
            .post(format!("{}/api/products", stack.client.admin))
            .header("traceparent", traceparent(&trace))
            .json(&json!({"title": format!("Traced {i}"), "image": "/t.png"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<serde_json::Value>().await.unwrap()["id"]
            .as_u64()
            .unwrap();
        eventually(WAIT, "the product in the shop", || {
            stack.client.shop_product(id)
        })
        .await;
        creates.push((trace, id));
    }
    let mut likes = Vec::new();
    for (_, id) in &creates {
        let trace = new_trace_id();
        like(&stack, *id, &trace).await;
        eventually(WAIT, "the like counted", || async {
            (stack.client.catalogue_product(*id).await["likes"] == 1).then_some(())
        })
        .await;
        likes.push(trace);
    }
    stop.store(true, Ordering::Relaxed);
    let list_traces = lists.await.unwrap();

    let started = Instant::now();
    let outcome = eventually(ARRIVAL, "every trace complete", || async {
        let traces = by_trace(&receiver);
        let empty = Vec::new();
        let mut incomplete = Vec::new();
        for (trace, _) in &creates {
            let lacks = create_missing(traces.get(trace).unwrap_or(&empty), &stack);
            if !lacks.is_empty() {
                incomplete.push(format!("create {trace}: {lacks:?}"));
            }
        }
        for trace in &likes {
            let lacks = like_missing(traces.get(trace).unwrap_or(&empty), &stack);
            if !lacks.is_empty() {
                incomplete.push(format!("like {trace}: {lacks:?}"));
            }
        }
        for trace in &list_traces {
            let servers = traces.get(trace).map_or(0, |spans| {
                spans
                    .iter()
                    .filter(|s| s.service == "main-api" && s.kind == SERVER)
                    .count()
            });
            if servers != 1 {
                incomplete.push(format!("list {trace}: {servers} server spans"));
            }
        }
        if incomplete.is_empty() {
            Some(())
        } else {
            eprintln!(
                "{} incomplete, e.g. {:?}",
                incomplete.len(),
                incomplete.first()
            );
            None
        }
    })
    .await;
    let () = outcome;
    eprintln!(
        "50 creates, 50 likes and {} lists complete {:.1} s after the last like",
        list_traces.len(),
        started.elapsed().as_secs_f64()
    );

    // Every span a process ended went out, and the receiver took each once.
    for p in Proc::ALL {
        let service = p.binary();
        eventually(WAIT, "the counts agree with the receiver", || async {
            let (exported, dropped) = spans_counted(&stack, p).await;
            let received = receiver
                .count_by_service()
                .get(service)
                .copied()
                .unwrap_or(0) as u64;
            assert_eq!(dropped, 0, "{service} dropped spans");
            (exported == received && exported > 0).then_some(())
        })
        .await;
    }
    stack.stop().await;
}

#[tokio::test]
async fn traces_resume_within_ten_seconds_after_the_collector_was_away_under_load() {
    let receiver = OtlpReceiver::start().await;
    let port = receiver.port;
    let stack = stack(&receiver.endpoint()).await;
    let id = stack.client.create("Mug", "/mug.png").await;
    eventually(WAIT, "the product in the shop", || {
        stack.client.shop_product(id)
    })
    .await;

    // Likes by new shoppers and lists from four clients, until told to stop; each like's
    // trace id is kept.
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (http, main, stop) = (
            stack.client.http.clone(),
            stack.client.main.clone(),
            stop.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let trace = new_trace_id();
                let res = http
                    .post(format!("{main}/flask/api/products/{id}/like"))
                    .header("traceparent", traceparent(&trace))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                sent.push((trace, Instant::now()));
                let _ = http
                    .get(format!("{main}/flask/api/products"))
                    .send()
                    .await
                    .unwrap();
            }
            sent
        }));
    }
    eventually(WAIT, "spans arriving", || async {
        (receiver.count() > 0).then_some(())
    })
    .await;

    // The collector goes away under load, and comes back on the same port.
    let before = receiver.count_by_service();
    let before_spans = receiver.stop().await;
    // Longer than a batch's export time (`OTEL_EXPORTER_OTLP_TIMEOUT`, 10 s): the batch in
    // hand when it went is given up (and counted), the queue fills meanwhile.
    tokio::time::sleep(Duration::from_secs(15)).await;
    let receiver = OtlpReceiver::start_on(&format!("127.0.0.1:{port}")).await;
    let back = Instant::now();
    eventually(
        Duration::from_secs(10),
        "spans again within 10 s",
        || async { (receiver.count() > 0).then_some(()) },
    )
    .await;
    let first = receiver.spans().iter().map(|s| s.received).min().unwrap();
    // Complete traces again within 10 s: likes made from now on, one every 300 ms while the
    // load goes on, until one of them has arrived whole at main-api. Not the first like
    // alone: while the load outruns the receiver, the exporter's queue is full and a span
    // that finds no room is dropped (and counted, checked below), whichever like it is.
    let mut made = Vec::new();
    let whole_after = loop {
        let trace = new_trace_id();
        like(&stack, id, &trace).await;
        made.push(trace);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let traces = by_trace(&receiver);
        let whole = made.iter().any(|t| {
            like_missing(traces.get(t).map_or(&[][..], |s| s), &stack)
                .iter()
                .all(|l| l.contains("admin-consumer"))
        });
        if whole {
            break back.elapsed();
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "none of the {} likes made since the collector came back arrived whole at \
             main-api within 10 s",
            made.len()
        );
    };
    eprintln!(
        "collector back: first span after {:.2} s; a like made since complete at main-api {:.2} \
         s after it came back ({} likes made until then)",
        (first - back).as_secs_f64(),
        whole_after.as_secs_f64(),
        made.len()
    );
    stop.store(true, Ordering::Relaxed);
    let mut sent = Vec::new();
    for task in load {
        sent.extend(task.await.unwrap());
    }

    // Every span of main-api that did not arrive was counted as dropped: the likes' spans
    // there (server, three statements and the commit, publish) are all main-api's.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let (exported, dropped) = spans_counted(&stack, Proc::MainApi).await;
    let mut traces = by_trace(&receiver);
    for span in before_spans {
        traces.entry(span.trace_id.clone()).or_default().push(span);
    }
    let mut lost = 0u64;
    for (trace, _) in &sent {
        let arrived = traces.get(trace).map_or(0, |spans| {
            spans.iter().filter(|s| s.service == "main-api").count()
        });
        lost += 6u64.saturating_sub(arrived as u64);
    }
    let received_before = before.get("main-api").copied().unwrap_or(0) as u64;
    let received_after = receiver
        .count_by_service()
        .get("main-api")
        .copied()
        .unwrap_or(0) as u64;
    eprintln!(
        "{} likes under load; main-api exported {exported}, dropped {dropped}; likes' spans that \
         did not reach the restarted receiver {lost}",
        sent.len()
    );
    assert!(
        dropped > 0,
        "spans made while the collector was away are counted"
    );
    assert!(
        exported >= received_after,
        "exported {exported} < received {received_after}"
    );
    assert!(
        received_before + received_after <= exported + 50,
        "no more taken than exported (a batch cut off by the stop may be taken twice)"
    );
    // Spans that never reached either receiver were counted as dropped.
    assert!(lost <= dropped, "{lost} spans lost, {dropped} counted");
    stack.stop().await;
}

/// A fresh process shows the counter series whose labels are known at 0, so that the first
/// event is an `increase()`.
#[tokio::test]
async fn known_counters_start_at_zero() {
    let stack = ShopStack::start(&testkit::amqp_url(), testkit::Overrides::new()).await;
    let common = [
        "otel_spans_exported_total 0",
        r#"otel_spans_dropped_total{reason="queue_full"} 0"#,
        r#"otel_spans_dropped_total{reason="export_failed"} 0"#,
        r#"otel_spans_dropped_total{reason="shutdown"} 0"#,
        r#"db_transactions_rolled_back_total{reason="abandoned"} 0"#,
    ];
    let api = [
        r#"events_publish_failures_total{reason="unroutable"} 0"#,
        r#"events_publish_failures_total{reason="nack"} 0"#,
        r#"events_publish_failures_total{reason="broker"} 0"#,
        r#"amqp_connect_failures_total{component="outbox_relay"} 0"#,
    ];
    let consumer = |event: &str, reason: &str| {
        vec![
            format!(r#"events_consumed_total{{event="{event}",outcome="applied"}} 0"#),
            format!(r#"events_consumed_total{{event="{event}",outcome="dead_lettered"}} 0"#),
            format!(r#"events_dead_lettered_total{{event="{event}",reason="undecodable"}} 0"#),
            format!(r#"events_dead_lettered_total{{event="other",reason="{reason}"}} 0"#),
            format!(r#"events_retried_total{{event="{event}",reason="database_unavailable"}} 0"#),
            r#"amqp_connect_failures_total{component="consumer"} 0"#.to_owned(),
        ]
    };
    for p in Proc::ALL {
        let mut expected: Vec<String> = common.iter().map(|s| (*s).to_owned()).collect();
        match p {
            Proc::AdminApi | Proc::MainApi => expected.extend(api.iter().map(|s| (*s).to_owned())),
            Proc::AdminConsumer => expected.extend(consumer("product_liked", "handler_error")),
            Proc::MainConsumer => expected.extend(consumer(
                "product_created",
                "like event on the product queue",
            )),
        }
        let metrics = eventually(WAIT, "the loops started", || async {
            let metrics = stack.metrics(p).await;
            expected
                .iter()
                .all(|line| metrics.lines().any(|l| l == line))
                .then_some(metrics)
        })
        .await;
        for line in &expected {
            assert!(
                metrics.lines().any(|l| l == line),
                "{p:?}: {line} in\n{metrics}"
            );
        }
    }
    stack.stop().await;
}
