//! How long an admin's change takes to reach the shop, and a shopper's like the catalogue,
//! through the real processes, outbox relays and RabbitMQ. Prints percentiles; asserts
//! nothing. Run with `scripts/bench.sh` (release build) or
//! `cargo build --workspace --bins && cargo run -p system-tests --example propagation`.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use testkit::ShopStack;

const ROUNDS: usize = 50;

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pct = |p: f64| {
        samples[((samples.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
    };
    println!(
        "{what:<42} n={:<3} p50 {:>6.1} ms  p95 {:>6.1} ms  max {:>6.1} ms",
        samples.len(),
        pct(0.5),
        pct(0.95),
        pct(1.0)
    );
}

#[tokio::main]
async fn main() {
    let stack = ShopStack::start(&testkit::amqp_url(), Default::default()).await;
    let c = &stack.client;
    let (mut create, mut update, mut like) = (Vec::new(), Vec::new(), Vec::new());
    let poll = Duration::from_millis(1);
    for i in 0..ROUNDS {
        // From the start of the POST until the shop lists the product.
        let start = Instant::now();
        let id = c.create(&format!("Bench {i}"), "/b.png").await;
        loop {
            if c.shop_product(id).await.is_some() {
                break;
            }
            tokio::time::sleep(poll).await;
        }
        create.push(start.elapsed());

        let start = Instant::now();
        assert_eq!(
            c.update(id, &format!("Bench {i}b"), "/b.png").await,
            reqwest::StatusCode::ACCEPTED
        );
        loop {
            if c.shop_product(id)
                .await
                .is_some_and(|p| p["title"] == format!("Bench {i}b"))
            {
                break;
            }
            tokio::time::sleep(poll).await;
        }
        update.push(start.elapsed());

        let start = Instant::now();
        let mut jar = None;
        assert_eq!(c.like(id, &mut jar).await, reqwest::StatusCode::OK);
        loop {
            if c.catalogue_product(id).await["likes"] == 1 {
                break;
            }
            tokio::time::sleep(poll).await;
        }
        like.push(start.elapsed());
    }
    report("create: POST start -> listed by the shop", create);
    report("update: PUT start -> shown by the shop", update);
    report("like: POST start -> counted by the catalogue", like);
    stack.stop().await;
}
