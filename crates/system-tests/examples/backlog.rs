//! Puts a backlog of like events in a queue, as an outage of the like consumer would leave
//! it: `product_liked` events in the services' wire format (each with its own `message_id`,
//! persistent, published with confirms on the default exchange, the queue declared as the
//! services declare it), on products drawn at random from 1..=PRODUCTS. Writes how many
//! went to each product (`id count` lines) so that the catalogue's counts can be checked
//! afterwards: each must grow by exactly that, once. `scripts/bench.sh` then starts a
//! consumer on the queue and times the drain.
//!
//! `AMQP_URL=… backlog QUEUE EVENTS PRODUCTS COUNTS_FILE`
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use events::{Event, OutgoingMessage};
use lapin::options::BasicPublishOptions;
use lapin::{Confirmation, Connection, ConnectionProperties};

/// Publishes in flight at once, before their confirms are collected.
const WINDOW: usize = 2000;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [queue, events, products, counts_file] = args.as_slice() else {
        eprintln!("usage: backlog QUEUE EVENTS PRODUCTS COUNTS_FILE");
        std::process::exit(2);
    };
    let events: u64 = events.parse().unwrap();
    let products: u64 = products.parse().unwrap();
    // `AMQP_URL`, or the local broker.
    let url = testkit::amqp_url();
    let conn = Connection::connect(&url, ConnectionProperties::default())
        .await
        .unwrap();
    let limit = Duration::from_secs(30);
    let channel = shop_runtime::amqp::confirm_channel(&conn, limit)
        .await
        .unwrap();
    shop_runtime::amqp::declare_queue(&channel, queue, limit)
        .await
        .unwrap();

    let options = BasicPublishOptions {
        mandatory: true,
        ..BasicPublishOptions::default()
    };
    let mut counts = vec![0u64; products as usize + 1];
    let start = Instant::now();
    let mut published = 0u64;
    while published < events {
        let batch = (events - published).min(WINDOW as u64);
        let mut confirms = Vec::with_capacity(batch as usize);
        for _ in 0..batch {
            let id = uuid::Uuid::new_v4();
            let product = (id.as_u128() % u128::from(products)) as u64 + 1;
            counts[product as usize] += 1;
            let message = OutgoingMessage::new(&Event::ProductLiked(product), None);
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let properties =
                message.properties("main-svc", now.as_secs(), Some(now.as_micros() as u64));
            confirms.push(
                channel
                    .basic_publish(
                        "".into(),
                        queue.as_str().into(),
                        options,
                        &message.body,
                        properties,
                    )
                    .await
                    .unwrap(),
            );
        }
        for confirm in confirms {
            match confirm.await.unwrap() {
                Confirmation::Ack(None) => {}
                other => panic!("the broker did not take an event: {other:?}"),
            }
        }
        published += batch;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let lines: String = (1..=products)
        .map(|p| format!("{p} {}\n", counts[p as usize]))
        .collect();
    std::fs::write(counts_file, lines).unwrap();
    println!(
        "published {events} product_liked events to {queue} in {elapsed:.1} s ({:.0}/s, confirmed)",
        events as f64 / elapsed
    );
    conn.close(200, "done".into()).await.unwrap();
}
