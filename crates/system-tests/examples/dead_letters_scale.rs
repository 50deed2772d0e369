//! Times the dead-letter tools on a large dead-letter queue: declares a fresh queue as the
//! services do, puts N dead letters (with a reason header) in its dead-letter queue, then
//! runs `main-consumer dead-letters list`, `replay --all` and prints each one's wall time;
//! deletes the queues at the end. No consumer runs: the replayed messages stay in the work
//! queue, and their count is checked.
//!
//! `cargo build --bins && AMQP_URL=… cargo run -p system-tests --example dead_letters_scale N`
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, ShortString};
use testkit::service::run_args_to_exit;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().nth(1).map_or(2000, |a| a.parse().unwrap());
    let queue = testkit::unique("dl-scale");
    let dlq = shop_runtime::amqp::dead_letter_queue(&queue);
    let b = testkit::QueueReader::connect().await;
    b.declare(&queue).await;
    let start = Instant::now();
    for i in 0..n {
        let mut headers = FieldTable::default();
        headers.insert(
            shop_runtime::dead_letters::REASON_HEADER.into(),
            AMQPValue::LongString("undecodable".into()),
        );
        let props = BasicProperties::default()
            .with_content_type(ShortString::from("product_created"))
            .with_message_id(ShortString::from(format!("m-{i}")))
            .with_headers(headers);
        b.publish(&dlq, props, br#"{"id": 1, "title": "#).await;
    }
    println!("{n} dead letters published in {:?}", start.elapsed());
    let env = HashMap::from([
        ("AMQP_URL".to_owned(), testkit::amqp_url()),
        ("MAIN_QUEUE".to_owned(), queue.clone()),
    ]);
    let binary = testkit::workspace_binary("main-consumer");
    for args in [
        &["dead-letters", "list"][..],
        &["dead-letters", "replay", "--all"],
    ] {
        let start = Instant::now();
        let (code, out) = run_args_to_exit(&binary, args, &env, Duration::from_secs(300)).await;
        let took = start.elapsed();
        let last = out
            .lines()
            .rev()
            .find(|l| !l.contains('\u{1b}'))
            .unwrap_or("");
        println!(
            "{args:?}: exit {code:?} in {took:?}; {}",
            out.lines().next().unwrap_or("")
        );
        println!("  last line: {last}");
    }
    println!(
        "in the work queue: {:?}, left in the dead-letter queue: {:?}",
        b.counts(&queue).await.unwrap().0,
        b.counts(&dlq).await.unwrap().0
    );
    b.delete_queues(&queue).await;
}
