//! How long an admin's create takes to show in the shop's list, against a running stack:
//! from the start of `POST /api/products` until `GET /flask/api/products` lists the new
//! product (polled every millisecond). Creates ROUNDS products one after the other (or
//! fewer, if SECONDS run out first), deleting each once it was listed (untimed), and prints `n=… p50_ms=… p99_ms=… max_ms=…`. Asserts
//! nothing. `scripts/bench.sh` runs it on an idle stack and while wrk loads the shop list.
//!
//! `create_to_listed ADMIN_URL SHOP_URL ROUNDS SECONDS` with the admin's API token in
//! `ADMIN_TOKEN`.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::Value;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [admin, shop, rounds, seconds] = args.as_slice() else {
        eprintln!("usage: create_to_listed ADMIN_URL SHOP_URL ROUNDS SECONDS");
        std::process::exit(2);
    };
    let rounds: usize = rounds.parse().unwrap();
    let budget = Duration::from_secs_f64(seconds.parse().unwrap());
    let token = std::env::var("ADMIN_TOKEN").unwrap();
    let http = reqwest::Client::new();
    let list = format!("{shop}/flask/api/products");
    let began = Instant::now();
    let mut samples = Vec::with_capacity(rounds);
    let mut unlisted = 0;
    for i in 0..rounds {
        if began.elapsed() > budget {
            break;
        }
        let start = Instant::now();
        let res = http
            .post(format!("{admin}/api/products"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"title": format!("Propagation {i}"), "image": "/img/p.png"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
        let id = res.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
        let listed = loop {
            let products: Vec<Value> = http.get(&list).send().await.unwrap().json().await.unwrap();
            if products.iter().any(|p| p["id"] == id) {
                break true;
            }
            if start.elapsed() > Duration::from_secs(10) {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        if listed {
            samples.push(start.elapsed());
        } else {
            unlisted += 1;
        }
        // Untimed: the list keeps its size for the rest of the benchmark.
        let res = http
            .delete(format!("{admin}/api/products/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::NO_CONTENT);
    }
    samples.sort();
    let pct = |p: f64| {
        if samples.is_empty() {
            return f64::NAN;
        }
        samples[((samples.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
    };
    println!(
        "n={} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} not_listed_within_10s={unlisted}",
        samples.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}
