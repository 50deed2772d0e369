//! The hang-up check of docs/architecture.md (issue 9's "done when"), on a release build: ten
//! `wrk -c128 -d3s` bursts of likes by new shoppers (each ends with connections closed while
//! requests are in flight), then 10,000 hang-up writes from 1,000 clients at a time, each
//! followed by every check of what traffic leaves behind (`testkit::leftovers`), then
//! SIGTERM. Prints one line per stage and exits non-zero if a check failed. Run with
//! `scripts/hangups.sh`.
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use testkit::hangup::Burst;
use testkit::leftovers::{self, Check, Inspector};
use testkit::{Overrides, ShopStack};

const PRODUCTS: usize = 100;
const DOOMED: usize = 20;
/// How long the consumers may take to apply a burst's backlog (tens of thousands of events
/// on a loaded 2-core machine).
const CATCH_UP: Duration = Duration::from_secs(300);

fn report(stage: &str, checks: &[(&str, Check)]) -> bool {
    let ok = checks.iter().all(|(_, c)| c.is_ok());
    for (name, check) in checks {
        match check {
            Ok(f) => println!("hangups | {stage} | {name}: {f}"),
            Err(e) => println!("hangups | {stage} | {name}: FAILED: {e}"),
        }
    }
    ok
}

fn wrk_burst(main: &str) -> String {
    let out = Command::new("wrk")
        .args(["-t2", "-c128", "-d3s", "-s", "scripts/like.lua", main])
        .env("PRODUCTS", PRODUCTS.to_string())
        .output()
        .expect("wrk runs (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
            .unwrap_or_default()
    };
    format!(
        "{} req/s, {}",
        field("Requests/sec:"),
        text.lines()
            .find(|l| l.contains("requests in"))
            .unwrap_or("")
            .trim()
    )
}

#[tokio::main]
async fn main() {
    let stack = ShopStack::start(&testkit::amqp_url(), Overrides::new()).await;
    let client = stack.client.clone();
    let mut ids = Vec::new();
    for i in 0..PRODUCTS + DOOMED {
        ids.push(client.create(&format!("Product {i}"), "/img/p.png").await);
    }
    testkit::eventually(testkit::WAIT, "products mirrored", || async {
        (client.shop().await.len() == ids.len()).then_some(())
    })
    .await;
    let doomed = ids.split_off(PRODUCTS);
    let mut inspector = Inspector::connect().await;
    let mut ok = true;

    let start = Instant::now();
    for round in 1..=10 {
        println!(
            "hangups | wrk like burst {round}/10: {}",
            wrk_burst(&client.main)
        );
    }
    println!(
        "hangups | ten wrk bursts in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let checks = leftovers::after_traffic(&stack, &mut inspector, CATCH_UP).await;
    ok &= report("after ten wrk bursts", &checks);

    let burst = Burst {
        clients: 1000,
        requests: 10,
        rounds: 1,
        awaited_first: 0,
        time_limit: Duration::from_secs(120),
        ..Burst::new(&client, ids, doomed)
    };
    let report_line = burst.run().await;
    println!("hangups | 10,000 hang-ups: {report_line}");
    let checks = leftovers::after_traffic(&stack, &mut inspector, CATCH_UP).await;
    ok &= report("after 10,000 hang-ups", &checks);

    for (p, code, took) in stack.stop_within(Duration::from_secs(15)).await {
        let line = match code {
            Some(code) => format!("exit {code} in {:.2} s", took.as_secs_f64()),
            None => "still running after 15 s".to_owned(),
        };
        ok &= code == Some(0);
        println!("hangups | SIGTERM | {}: {line}", p.binary());
    }
    println!(
        "hangups | {}",
        if ok {
            "all checks passed"
        } else {
            "SOME CHECKS FAILED"
        }
    );
    if !ok {
        std::process::exit(1);
    }
}
