//! Clients that hang up mid-request (issue 9): the four real processes against the real
//! MariaDB and RabbitMQ, a burst of raw-TCP clients that send a write (like, create, update,
//! delete) and close the socket before the answer, then normal traffic, then a check of what
//! the hang-ups left behind: pool connections still checked out, transactions open on idle
//! connections, an outbox that does not drain, stale reads, half-applied writes, a mirror
//! that does not converge, a process that does not stop on SIGTERM.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use testkit::hangup::Burst;
use testkit::leftovers::{self, Check, Inspector};
use testkit::{Overrides, Proc, ShopClient, ShopStack};
use tokio::sync::Mutex;

/// Products the burst likes and updates, and products it deletes.
const LIKED: usize = 20;
const DOOMED: usize = 10;
/// The bound on a process's shutdown (docs/operating/processes.md).
const STOP_WITHIN: Duration = Duration::from_secs(15);
/// How long the consumers may take to apply the burst's backlog (a few thousand events).
const CATCH_UP: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_hang_up_leave_nothing_behind() {
    let started = Instant::now();
    let stack = ShopStack::start(&testkit::amqp_url(), Overrides::new()).await;
    let client = stack.client.clone();
    let mut ids = Vec::new();
    for i in 0..LIKED + DOOMED {
        ids.push(
            client
                .create(&format!("Product {i}"), &format!("/img/{i}.png"))
                .await,
        );
    }
    testkit::eventually(testkit::WAIT, "products mirrored", || async {
        testkit::seen(client.shop().await.len(), |n| *n == ids.len())
    })
    .await;
    let doomed = ids.split_off(LIKED);

    let burst = Burst::narrow_then_wide(&client, ids.clone(), doomed).await;
    println!("hangups | burst: {burst}");
    // Work a server finishes for clients that left may still be under way: give it a moment
    // (not a check: the checks below poll on their own).
    settle(&stack, Duration::from_secs(3)).await;

    let mut inspector = Inspector::connect().await;
    leftovers::read_on_every_connection(&client, 25).await;
    let mut checks: Vec<(&str, Check)> = vec![(
        "right after the burst",
        leftovers::no_idle_transactions(&stack, &mut inspector, Duration::from_secs(2)).await,
    )];
    checks.push(("normal traffic", normal_traffic(&client, &ids).await));
    checks.extend(leftovers::after_traffic(&stack, &mut inspector, CATCH_UP).await);

    let stopped = stack.stop_within(STOP_WITHIN).await;
    let exits: Vec<String> = stopped
        .iter()
        .map(|(p, code, took)| match code {
            Some(code) => format!("{} exit {code} in {:.1} s", p.binary(), took.as_secs_f64()),
            None => format!("{} still running after {STOP_WITHIN:?}", p.binary()),
        })
        .collect();
    let all_exited = stopped.iter().all(|(_, code, _)| *code == Some(0));
    checks.push((
        "SIGTERM",
        if all_exited {
            Ok(exits.join(", "))
        } else {
            Err(exits.join(", "))
        },
    ));

    let failed: Vec<String> = checks
        .iter()
        .filter_map(|(name, c)| c.as_ref().err().map(|e| format!("{name}: {e}")))
        .collect();
    let passed: Vec<String> = checks
        .iter()
        .filter_map(|(name, c)| c.as_ref().ok().map(|f| format!("{name}: {f}")))
        .collect();
    println!(
        "hangups | {} requests sent, {} answered before the hang-up | {} of {} checks passed in {:.1} s | {}",
        burst.sent,
        burst.answered,
        passed.len(),
        checks.len(),
        started.elapsed().as_secs_f64(),
        passed.join(" | ")
    );
    assert!(
        failed.is_empty(),
        "clients that hung up left traces ({} of {} checks failed):\n{}",
        failed.len(),
        checks.len(),
        failed.join("\n")
    );
}

/// Waits until neither API has a pool connection in use, or `at_most` passed.
async fn settle(stack: &ShopStack, at_most: Duration) {
    let deadline = Instant::now() + at_most;
    while Instant::now() < deadline {
        let admin = leftovers::pool(stack, Proc::AdminApi).await.0;
        let main = leftovers::pool(stack, Proc::MainApi).await.0;
        if admin == 0 && main == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A few hundred awaited requests from eight clients that wait for every answer: list
/// reads, likes by new shoppers, updates, creates. Every one must get its usual answer;
/// 15 s at most.
async fn normal_traffic(client: &ShopClient, ids: &[u64]) -> Check {
    const WORKERS: usize = 8;
    let start = Instant::now();
    let statuses: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let (client, ids, statuses) = (client.clone(), ids.to_vec(), statuses.clone());
        workers.spawn(async move {
            for i in 0..60 {
                let id = ids[(w * 7 + i) % ids.len()];
                let (what, expected, req) = match i % 12 {
                    0..=3 => (
                        "shop read",
                        StatusCode::OK,
                        client.http.get(format!("{}/flask/api/products", client.main)),
                    ),
                    4..=7 => (
                        "catalogue read",
                        StatusCode::OK,
                        client.http.get(format!("{}/api/products", client.admin)),
                    ),
                    8 | 9 => (
                        "like",
                        StatusCode::OK,
                        client
                            .http
                            .post(format!("{}/flask/api/products/{id}/like", client.main)),
                    ),
                    10 => (
                        "update",
                        StatusCode::ACCEPTED,
                        client
                            .http
                            .put(format!("{}/api/products/{id}", client.admin))
                            .json(&json!({"title": format!("Product {id} w{w} {i}"), "image": "/img/w.png"})),
                    ),
                    _ => (
                        "create",
                        StatusCode::CREATED,
                        client
                            .http
                            .post(format!("{}/api/products", client.admin))
                            .json(&json!({"title": format!("Calm {w} {i}"), "image": "/img/calm.png"})),
                    ),
                };
                let outcome = match req.timeout(Duration::from_secs(10)).send().await {
                    Ok(res) if res.status() == expected => "ok".to_owned(),
                    Ok(res) => format!("{what} {}", res.status().as_u16()),
                    Err(e) if e.is_timeout() => format!("{what} timed out"),
                    Err(_) => format!("{what} failed"),
                };
                *statuses.lock().await.entry(outcome).or_default() += 1;
            }
        });
    }
    let finished = tokio::time::timeout(Duration::from_secs(15), workers.join_all())
        .await
        .is_ok();
    let statuses = statuses.lock().await.clone();
    let ok = statuses.get("ok").copied().unwrap_or(0);
    let total: u64 = statuses.values().sum();
    let bad: Vec<String> = statuses
        .iter()
        .filter(|(k, _)| *k != "ok")
        .map(|(k, v)| format!("{k} x{v}"))
        .collect();
    if finished && bad.is_empty() {
        Ok(format!(
            "{ok} awaited requests all answered as usual in {:.1} s",
            start.elapsed().as_secs_f64()
        ))
    } else {
        Err(format!(
            "{ok} of {total} awaited requests answered as usual{}: {}",
            if finished {
                String::new()
            } else {
                format!(", the rest still waiting after 15 s (of {})", WORKERS * 60)
            },
            bad.join(", ")
        ))
    }
}
