//! The dead-letter tools (`main-consumer dead-letters list|show|replay|discard`, the same in
//! admin-consumer) on real dead letters of each kind, made by the real consumer and the
//! real broker: an undecodable body, an unknown event type, an unknown schema version, a
//! handler error, an event of the other queue, and the broker's delivery limit.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt as _;
use lapin::options::{BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde_json::json;
use testkit::service::run_args_to_exit;
use testkit::{Proc, ShopStack, WAIT, eventually, seen, workspace_binary};

fn props(content_type: &str, message_id: &str) -> BasicProperties {
    BasicProperties::default()
        .with_content_type(ShortString::from(content_type))
        .with_message_id(ShortString::from(message_id))
        .with_delivery_mode(2)
}

fn state(id: u64, title: &str, version: u64) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"id": id, "title": title, "image": "/i.png", "likes": 0, "version": version}),
    )
    .unwrap()
}

/// `<binary> dead-letters args…` with the consumer's environment: exit code, stdout+stderr.
async fn tool(binary: &str, env: &HashMap<String, String>, args: &[&str]) -> (i32, String) {
    let mut all = vec!["dead-letters"];
    all.extend_from_slice(args);
    let (code, out) = run_args_to_exit(
        &workspace_binary(binary),
        &all,
        env,
        Duration::from_secs(60),
    )
    .await;
    (code.unwrap(), out)
}

async fn main_tool(stack: &ShopStack, args: &[&str]) -> (i32, String) {
    let mut env = stack.env(Proc::MainConsumer).clone();
    env.insert("RUST_LOG".into(), "info".into());
    tool("main-consumer", &env, args).await
}

/// What a command printed without its log lines (coloured, on standard error).
fn answer(printed: &str) -> Vec<&str> {
    printed.lines().filter(|l| !l.contains('\u{1b}')).collect()
}

/// The row of `id` in `list`'s table, split on blanks.
fn row<'a>(listed: &'a str, id: &str) -> Option<Vec<&'a str>> {
    listed
        .lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .map(|l| l.split_whitespace().collect())
}

/// Takes the only message of `queue` and returns it requeued until the broker dead-letters
/// it for its delivery limit (bounded).
async fn exhaust_delivery_limit(url: &str, queue: &str) {
    let conn = Connection::connect(url, ConnectionProperties::default())
        .await
        .unwrap();
    let ch = conn.create_channel().await.unwrap();
    for _ in 0..20 {
        let Some(m) = ch
            .basic_get(queue.into(), BasicGetOptions::default())
            .await
            .unwrap()
        else {
            return;
        };
        m.delivery
            .nack(BasicNackOptions {
                requeue: true,
                ..Default::default()
            })
            .await
            .unwrap();
    }
    panic!("the broker never dead-lettered the message of {queue}");
}

/// The ids in `queue`, in order, read without taking them (a consumer whose channel closes).
async fn ids_in(url: &str, queue: &str, n: usize) -> Vec<String> {
    let conn = Connection::connect(url, ConnectionProperties::default())
        .await
        .unwrap();
    let ch = conn.create_channel().await.unwrap();
    ch.basic_qos(100, BasicQosOptions::default()).await.unwrap();
    let mut c = ch
        .basic_consume(
            queue.into(),
            "peek".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    while ids.len() < n {
        let d = tokio::time::timeout(WAIT, c.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        ids.push(d.properties.message_id().as_ref().unwrap().to_string());
    }
    conn.close(200, "peeked".into()).await.unwrap();
    ids
}

#[tokio::test]
async fn dead_letters_of_every_kind_are_listed_shown_replayed_and_discarded() {
    let mut stack = ShopStack::start(&testkit::amqp_url(), Default::default()).await;
    let q = stack.main_queue.clone();
    let dlq = format!("{q}.dead-letter");
    let b = stack.broker().await;

    // The delivery limit, with no consumer: a valid create returned until the broker gives up.
    stack.kill(Proc::MainConsumer).await;
    b.publish(
        &q,
        props("product_created", "d-limit"),
        &state(2002, "limit", 1),
    )
    .await;
    exhaust_delivery_limit(&stack.amqp_url, &q).await;

    // An applied message whose copy also waits in the dead-letter queue (as after a replay
    // of a message applied meanwhile), then every kind the consumer dead-letters itself.
    b.publish(
        &q,
        props("product_created", "m-good"),
        &state(2001, "good", 1),
    )
    .await;
    b.publish(
        &q,
        props("product_created", "d-bad"),
        b"{\"id\": 1, \"title\": ",
    )
    .await;
    b.publish(&q, props("product_exploded", "d-unknown"), b"{}")
        .await;
    let mut v2 = FieldTable::default();
    v2.insert("x-event-version".into(), AMQPValue::LongLongInt(2));
    b.publish(
        &q,
        props("product_created", "d-v2").with_headers(v2),
        &state(2003, "from the future", 1),
    )
    .await;
    b.publish(
        &q,
        props("product_created", "d-long"),
        &state(2004, &"t".repeat(300), 1),
    )
    .await;
    b.publish(&q, props("product_liked", "d-like"), b"2001")
        .await;
    stack.respawn(Proc::MainConsumer).await;
    eventually(WAIT, "the good create applied", || {
        stack.client.shop_product(2001)
    })
    .await;
    eventually(WAIT, "six dead letters", || async {
        seen(b.counts(&dlq).await.map_or(0, |c| c.0), |n| *n == 6)
    })
    .await;
    b.publish(
        &dlq,
        props("product_created", "m-good"),
        &state(2001, "good", 1),
    )
    .await;
    eventually(WAIT, "seven dead letters", || async {
        seen(b.counts(&dlq).await.map_or(0, |c| c.0), |n| *n == 7)
    })
    .await;

    // list: every one, with its reason; twice the same, in the same order, none lost.
    let (code, listed) = main_tool(&stack, &["list"]).await;
    assert_eq!(code, 0, "{listed}");
    for (id, event, reason) in [
        ("d-limit", "product_created", "delivery_limit"),
        ("d-bad", "product_created", "undecodable"),
        ("d-unknown", "product_exploded", "unknown_type"),
        ("d-v2", "product_created", "unknown_version"),
        ("d-long", "product_created", "handler_error"),
    ] {
        let r = row(&listed, id).unwrap_or_else(|| panic!("{id} not listed:\n{listed}"));
        assert_eq!((r[1], r[2]), (event, reason), "{listed}");
    }
    assert_eq!(
        row(&listed, "d-long").unwrap()[4],
        "3",
        "three attempts:\n{listed}"
    );
    assert!(
        row(&listed, "d-like").unwrap()[2].starts_with("like"),
        "{listed}"
    );
    let order = ids_in(&stack.amqp_url, &dlq, 7).await;
    assert_eq!(
        order,
        [
            "d-limit",
            "d-bad",
            "d-unknown",
            "d-v2",
            "d-long",
            "d-like",
            "m-good"
        ]
    );
    let (_, again) = main_tool(&stack, &["list"]).await;
    assert_eq!(answer(&again), answer(&listed), "a list changes nothing");
    assert_eq!(
        ids_in(&stack.amqp_url, &dlq, 7).await,
        order,
        "nor the order"
    );

    // show: the error, the original's headers and bytes.
    let (code, shown) = main_tool(&stack, &["show", "d-bad"]).await;
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("body of product_created is not valid"),
        "{shown}"
    );
    assert!(shown.contains("{\"id\": 1, \"title\": "), "{shown}");
    let (code, shown) = main_tool(&stack, &["show", "d-long"]).await;
    assert_eq!(code, 0, "{shown}");
    assert!(shown.to_lowercase().contains("too long"), "{shown}");

    // Replay one: applied. Replay some: the applied one skipped, the future one back again
    // with its replay count, not in a loop.
    let (code, out) = main_tool(&stack, &["replay", "d-limit"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("replayed d-limit"), "{out}");
    eventually(WAIT, "the replayed create applied", || {
        stack.client.shop_product(2002)
    })
    .await;
    let (code, out) = main_tool(&stack, &["replay", "m-good", "d-v2"]).await;
    assert_eq!(code, 0, "{out}");
    eventually(WAIT, "the duplicate skipped", || async {
        let m = stack.metrics(Proc::MainConsumer).await;
        m.contains(r#"events_consumed_total{event="product_created",outcome="duplicate"} 1"#)
            .then_some(())
    })
    .await;
    eventually(WAIT, "the future event dead-lettered again", || async {
        let (_, l) = main_tool(&stack, &["list"]).await;
        seen(row(&l, "d-v2").map(|r| r[5].to_owned()), |r| {
            r.as_deref() == Some("1")
        })
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let m = stack.metrics(Proc::MainConsumer).await;
    assert!(
        m.contains(
            r#"events_dead_lettered_total{event="product_created",reason="unknown_version"} 2"#
        ),
        "once at first, once after its replay, then no more:\n{m}"
    );
    assert_eq!(
        b.counts(&dlq).await.unwrap().0,
        5,
        "d-limit and m-good left"
    );
    assert_eq!(
        stack.client.shop_product(2001).await.unwrap()["title"],
        "good"
    );

    // Refusals change nothing: an unknown id, a work queue, no such queue, a queue named
    // like a dead-letter queue without a work queue.
    let orphan = format!("{}{}", testkit::unique("orphan"), ".dead-letter");
    let conn = Connection::connect(&stack.amqp_url, ConnectionProperties::default())
        .await
        .unwrap();
    let ch = conn.create_channel().await.unwrap();
    ch.queue_declare(
        orphan.as_str().into(),
        Default::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let no_work = format!("`{orphan}` has no work queue");
    let (code, out) = main_tool(&stack, &["replay", "d-bad", "no-such-id"]).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no dead letter no-such-id"), "{out}");
    for (queue, says) in [
        (q.as_str(), "is not a dead-letter queue"),
        (
            "nowhere.dead-letter",
            "there is no queue `nowhere.dead-letter`",
        ),
        (orphan.as_str(), no_work.as_str()),
    ] {
        for command in [&["replay", "--all"][..], &["list"], &["discard", "--all"]] {
            let mut args = vec!["--queue", queue];
            args.extend_from_slice(command);
            let (code, out) = main_tool(&stack, &args).await;
            assert_eq!(code, 2, "{args:?}: {out}");
            assert!(
                out.contains(says) && out.contains("nothing was changed"),
                "{out}"
            );
        }
    }
    assert_eq!(b.counts(&dlq).await.unwrap().0, 5);
    assert_eq!(b.counts(&q).await.unwrap().0, 0);
    ch.queue_delete(orphan.as_str().into(), Default::default())
        .await
        .unwrap();

    // Discard one, with its log line.
    let (code, out) = main_tool(&stack, &["discard", "d-unknown"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("discarded d-unknown (product_exploded, unknown_type)"),
        "{out}"
    );
    assert!(out.contains("dead letter discarded"), "the log line: {out}");

    // Replay all: each fails again and comes back once, counted; then discard all.
    let (code, out) = main_tool(&stack, &["replay", "--all"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("4 replayed, 0 failed"), "{out}");
    eventually(WAIT, "all four back", || async {
        let (_, l) = main_tool(&stack, &["list"]).await;
        // (d-like's reason has blanks: its count is read with `show` below.)
        let replays: Vec<String> = ["d-bad", "d-v2", "d-long"]
            .iter()
            .filter_map(|id| row(&l, id).map(|r| r[5].to_owned()))
            .collect();
        seen(answer(&l).join("\n"), |_| {
            replays == ["1", "2", "1"] && row(&l, "d-like").is_some()
        })
    })
    .await;
    let (code, shown) = main_tool(&stack, &["show", "d-like"]).await;
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("replays:       1"), "{shown}");
    assert!(shown.contains("x-replays: LongLongInt(1)"), "{shown}");
    let (code, out) = main_tool(&stack, &["discard", "--all"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("4 discarded"), "{out}");
    assert_eq!(b.counts(&dlq).await.unwrap().0, 0);
    let (code, out) = main_tool(&stack, &["list"]).await;
    assert_eq!(
        (code, out.lines().next()),
        (
            0,
            Some(format!("0 dead letters in {dlq} (replays go to {q})").as_str())
        )
    );
    stack.stop().await;
}

#[tokio::test]
async fn admin_consumer_has_the_same_tools_on_its_own_queue() {
    let stack = ShopStack::start(&testkit::amqp_url(), Default::default()).await;
    let q = stack.admin_queue.clone();
    let b = stack.broker().await;
    b.publish(&q, props("product_created", "a-wrong"), &state(1, "x", 1))
        .await;
    b.publish(&q, props("product_liked", "a-bad"), b"not a number")
        .await;
    let dlq = format!("{q}.dead-letter");
    eventually(WAIT, "two dead letters", || async {
        seen(b.counts(&dlq).await.map_or(0, |c| c.0), |n| *n == 2)
    })
    .await;
    let env = stack.env(Proc::AdminConsumer).clone();
    let (code, listed) = tool("admin-consumer", &env, &["list"]).await;
    assert_eq!(code, 0, "{listed}");
    assert!(
        listed.starts_with(&format!("2 dead letters in {dlq}")),
        "{listed}"
    );
    assert_eq!(row(&listed, "a-bad").unwrap()[2], "undecodable", "{listed}");
    assert!(row(&listed, "a-wrong").is_some(), "{listed}");
    let (code, out) = tool("admin-consumer", &env, &["discard", "--all"]).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = tool("admin-consumer", &env, &["replay"]).await;
    assert_eq!(code, 2, "an id or --all: {out}");
    assert_eq!(b.counts(&dlq).await.unwrap().0, 0);
    stack.stop().await;
}
