//! The fault suite: the whole back end (four real processes) under a bounded stream of real
//! HTTP writes and likes while something breaks, then a check of both databases.
//!
//! Each scenario prints one line: sent (accepted writes, one event each), applied, lost,
//! duplicated, published twice (confirmed publishes beyond the outbox rows, by the relays'
//! counters), redelivered (duplicates the consumers recognised and skipped), the `503`s the
//! stream's client retried, and the time to converge after the fault ended. A scenario whose
//! fault leaves the APIs and their database alone asserts its writes saw no `503` at all
//! (writes while the broker is down go to the outbox); the hang-up scenario, which overloads
//! the APIs, bounds them. A SIGKILLed process's counters are read just before its
//! kill, so what it counted in its last moments is missing from both figures. Every scenario also puts a poison message in each queue and
//! checks it reached the dead-letter queue. Scenarios that stop the broker run against a
//! RabbitMQ node of their own; database outages go through a TCP proxy the test cuts; so
//! nothing here disturbs the machine's services or other tests.
//!
//! `clients_hang_up_mid_request` has its own accounting on top: writes whose client hung up
//! before the answer are not in the stream's ledger, so they go to products of their own, and
//! are checked against the databases themselves (each applied whole with its event, or not
//! at all), along with fresh reads and no transaction left open.
//!
//! `broker_cluster_faults` runs three scenarios on one three-node RabbitMQ cluster of its
//! own (`testkit::RabbitCluster`), every process given all three nodes in `AMQP_ADDRESSES`:
//! a node leading one of the stack's queues SIGKILLed mid-stream and booted again; one cut
//! off from the other two mid-stream and healed (see
//! `RabbitCluster::partition` for how); two replicas of every process, one API replica and
//! one consumer replica SIGKILLed mid-stream. Each checks first that the stack's queues are
//! quorum queues with a member on all three nodes, and after the traffic what
//! `testkit::leftovers` checks (pools back, no open transaction, outboxes and queues
//! drained, every write whole).
//!
//! `#[ignore]`d in a plain `cargo test` (they take a minute or two); `scripts/faults.sh` runs
//! them, and `scripts/test.sh` runs that.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lapin::BasicProperties;
use reqwest::StatusCode;
use serde_json::Value;
use testkit::hangup::{Burst, BurstReport};
use testkit::leftovers::{self, Inspector};
use testkit::{Overrides, Proc, RabbitCluster, RabbitNode, ShopClient, ShopStack, TcpProxy};
use tokio::sync::Mutex;

/// Products liked during the stream, and products deleted during it.
const LIKED: usize = 20;
const DELETED: usize = 10;
const SHOPPERS: usize = 10;
const CONVERGE: Duration = Duration::from_secs(90);
/// The `503`s the stream may be answered while the hang-up burst loads the APIs: one per
/// write of the stream (about 300) at most. The burst itself is answered `503` hundreds of
/// times; the stream, paced and awaited, saw none in the runs measured.
const HANG_UP_503S: u64 = 300;

/// What the stream did, as the HTTP answers said.
#[derive(Debug, Default)]
struct Ledger {
    /// Accepted product writes (201, 202, 204): each is one event.
    product_writes: u64,
    /// Likes answered 200, per product.
    likes: BTreeMap<u64, u64>,
}

impl Ledger {
    fn sent(&self) -> u64 {
        self.product_writes + self.likes.values().sum::<u64>()
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Update(u64, usize),
    Delete(u64),
    Create(usize),
    Like(u64, usize),
}

/// Creates the products and waits until the shop shows them; returns (liked, deleted) ids.
async fn set_up(client: &ShopClient, ledger: &mut Ledger) -> (Vec<u64>, Vec<u64>) {
    let mut ids = Vec::new();
    for i in 0..LIKED + DELETED {
        ids.push(
            client
                .create(&format!("Product {i}"), &format!("/img/{i}.png"))
                .await,
        );
        ledger.product_writes += 1;
    }
    testkit::eventually(testkit::WAIT, "products mirrored", || async {
        testkit::seen(client.shop().await.len(), |n| *n == ids.len())
    })
    .await;
    let deleted = ids.split_off(LIKED);
    (ids, deleted)
}

/// The operations of the stream, interleaved: every shopper likes every liked product, every
/// product is updated twice, the deleted ones are deleted, a few products are created.
fn operations(liked: &[u64], deleted: &[u64]) -> Vec<Op> {
    let all: Vec<u64> = liked.iter().chain(deleted).copied().collect();
    let mut ops = Vec::new();
    for round in 0..SHOPPERS {
        ops.extend(liked.iter().map(|&id| Op::Like(id, round)));
        ops.extend(
            all.iter()
                .cycle()
                .skip(round * 6)
                .take(6)
                .map(|&id| Op::Update(id, round)),
        );
        if round < 5 {
            ops.push(Op::Create(round));
        }
        ops.extend(
            deleted
                .iter()
                .skip(round)
                .step_by(SHOPPERS)
                .map(|&id| Op::Delete(id)),
        );
    }
    // Updates of deleted products after their delete would only be 404s: keep the updates
    // that come before the product's delete (two workers may still swap a neighbouring
    // update and delete; the stream counts only the updates answered 202).
    let mut gone = std::collections::HashSet::new();
    ops.retain(|op| match op {
        Op::Delete(id) => gone.insert(*id),
        Op::Update(id, _) => !gone.contains(id),
        _ => true,
    });
    ops
}

/// Runs the stream from two workers, paced so that it lasts a few seconds; counts finished
/// operations in `progress`.
async fn stream(
    client: ShopClient,
    ops: Vec<Op>,
    deleted: Arc<Vec<u64>>,
    progress: Arc<AtomicUsize>,
) -> Ledger {
    let queue = Arc::new(Mutex::new(ops.into_iter()));
    let jars: Arc<Mutex<Vec<Option<String>>>> = Arc::new(Mutex::new(vec![None; SHOPPERS]));
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let worker = || {
        let (queue, jars, ledger, progress, client, deleted) = (
            queue.clone(),
            jars.clone(),
            ledger.clone(),
            progress.clone(),
            client.clone(),
            deleted.clone(),
        );
        async move {
            loop {
                let Some(op) = queue.lock().await.next() else {
                    break;
                };
                match op {
                    Op::Update(id, n) => {
                        let title = format!("Product {id} v{n}");
                        match client
                            .update(id, &title, &format!("/img/{id}-{n}.png"))
                            .await
                        {
                            StatusCode::ACCEPTED => ledger.lock().await.product_writes += 1,
                            // The other worker deleted it first: refused, so no event.
                            StatusCode::NOT_FOUND if deleted.contains(&id) => {}
                            other => panic!("update of {id} answered {other}"),
                        }
                    }
                    Op::Delete(id) => {
                        client.delete(id).await;
                        ledger.lock().await.product_writes += 1;
                    }
                    Op::Create(n) => {
                        client.create(&format!("Late {n}"), "/img/late.png").await;
                        ledger.lock().await.product_writes += 1;
                    }
                    Op::Like(id, shopper) => {
                        let mut jar = jars.lock().await[shopper].clone();
                        let status = client.like(id, &mut jar).await;
                        jars.lock().await[shopper] = jar;
                        assert_eq!(status, StatusCode::OK, "like of {id} by shopper {shopper}");
                        *ledger.lock().await.likes.entry(id).or_default() += 1;
                    }
                }
                progress.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    tokio::join!(worker(), worker());
    std::mem::take(&mut *ledger.lock().await)
}

/// Differences between the answers the writes got and what both databases hold.
#[derive(Debug, Default)]
struct Diff {
    lost: u64,
    duplicated: u64,
    detail: Vec<String>,
}

async fn compare(client: &ShopClient, ledger: &Ledger) -> Diff {
    let mut d = Diff::default();
    let index = |list: Vec<Value>| -> HashMap<u64, Value> {
        list.into_iter()
            .map(|p| (p["id"].as_u64().unwrap(), p))
            .collect()
    };
    let catalogue = index(client.catalogue().await);
    let shop = index(client.shop().await);
    for (id, p) in &catalogue {
        match shop.get(id) {
            None => {
                d.lost += 1;
                d.detail.push(format!("product {id} missing from the shop"));
            }
            Some(s) if s["title"] != p["title"] || s["image"] != p["image"] => {
                d.lost += 1;
                d.detail
                    .push(format!("product {id}: shop has {s}, catalogue {p}"));
            }
            Some(_) => {}
        }
    }
    for id in shop.keys().filter(|id| !catalogue.contains_key(id)) {
        d.lost += 1;
        d.detail.push(format!(
            "product {id} deleted from the catalogue, still in the shop"
        ));
    }
    for (id, accepted) in &ledger.likes {
        let have = |list: &HashMap<u64, Value>| {
            list.get(id).and_then(|p| p["likes"].as_u64()).unwrap_or(0)
        };
        let (in_catalogue, in_shop) = (have(&catalogue), have(&shop));
        if in_catalogue != *accepted || in_shop != *accepted {
            d.detail.push(format!(
                "product {id}: {accepted} likes accepted, catalogue {in_catalogue}, shop {in_shop}"
            ));
        }
        d.lost += accepted.saturating_sub(in_catalogue) + accepted.saturating_sub(in_shop);
        d.duplicated += in_catalogue.saturating_sub(*accepted) + in_shop.saturating_sub(*accepted);
    }
    d
}

/// The sum of the series of `name` whose labels contain `label`, over every replica of
/// each of `procs`, those SIGKILLed included (as they were just before their kill).
async fn counter(stack: &ShopStack, procs: [Proc; 2], name: &str, label: &str) -> u64 {
    let mut n = 0;
    for p in procs {
        let live = stack.metrics_all(p).await;
        let killed = stack.killed_metrics(p);
        for metrics in live.iter().map(String::as_str).chain(killed) {
            for line in metrics.lines() {
                if line.starts_with(name) && line.contains(label) {
                    n += line
                        .rsplit(' ')
                        .next()
                        .and_then(|v| v.parse::<f64>().ok())
                        .unwrap_or(0.0) as u64;
                }
            }
        }
    }
    n
}

/// Duplicates the consumers recognised, from their metrics (a restarted consumer starts at 0).
async fn redelivered(stack: &ShopStack) -> u64 {
    counter(
        stack,
        [Proc::AdminConsumer, Proc::MainConsumer],
        "events_consumed_total",
        r#"outcome="duplicate""#,
    )
    .await
}

/// Events the relays published more than once: their confirmed publishes
/// (`events_published_total`) beyond the rows of both outboxes.
async fn published_twice(stack: &ShopStack) -> u64 {
    let published = counter(
        stack,
        [Proc::AdminApi, Proc::MainApi],
        "events_published_total",
        "",
    )
    .await;
    let mut rows = 0;
    for db in [&stack.admin_db, &stack.main_db] {
        let mut conn = db.connect().await;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        rows += n as u64;
    }
    published.saturating_sub(rows)
}

fn poison_props(content_type: &str) -> BasicProperties {
    BasicProperties::default()
        .with_content_type(content_type.into())
        .with_delivery_mode(2)
}

/// Puts one undecodable message in each queue.
async fn poison(stack: &ShopStack) {
    let broker = stack.broker().await;
    broker
        .publish(
            &stack.main_queue,
            poison_props("product_created"),
            b"{\"id\": ",
        )
        .await;
    broker
        .publish(
            &stack.admin_queue,
            poison_props("product_liked"),
            b"not a number",
        )
        .await;
}

/// The poison message of [`poison`] is in each dead-letter queue, and nothing else: a marker
/// (poison too) published to each queue now, behind everything the stream sent, is
/// dead-lettered right after it, with no wait for something that might still come.
async fn assert_poison_dead_lettered(stack: &ShopStack) {
    let broker = stack.broker().await;
    for (queue, content_type, body) in [
        (&stack.main_queue, "product_created", &b"{\"id\": "[..]),
        (&stack.admin_queue, "product_liked", &b"not a number"[..]),
    ] {
        broker
            .publish(queue, poison_props(content_type), b"marker")
            .await;
        let dlq = shop_runtime::amqp::dead_letter_queue(queue);
        let dead = broker.take(&dlq, 2, testkit::WAIT).await;
        let bodies: Vec<&[u8]> = dead.iter().map(|m| m.delivery.data.as_slice()).collect();
        assert_eq!(
            bodies,
            [body, b"marker"],
            "the poison message, then the marker, and nothing else is dead-lettered from {queue}"
        );
        assert_eq!(
            broker.counts(&dlq).await.unwrap().0,
            0,
            "nothing after the marker in {dlq}"
        );
    }
}

/// How many `503`s (each retried by the client, `ShopClient::retried_503s`) the scenario's
/// own writes and likes may be answered.
#[derive(Debug, Clone, Copy)]
enum Shed {
    /// None: the fault leaves the APIs and their database alone (the broker, the consumers,
    /// their links may go), so every write is accepted at its first try: a `503` would be a
    /// write that needed the broker, or an API that stopped answering.
    Never,
    /// At most this many: the fault loads the APIs beyond their waiting rooms on purpose,
    /// and they shed load rather than queue it; the stream's requests are retried.
    AtMost(u64),
}

/// Runs the workload with `fault` injected once a fifth of the stream is done, waits for
/// both databases to converge, prints the scenario's line and asserts nothing was lost or
/// doubled, and that the scenario's writes were answered `503` no more than `shed` allows.
async fn scenario(
    name: &str,
    stack: &mut ShopStack,
    shed: Shed,
    fault: impl AsyncFnOnce(&mut ShopStack),
) {
    // The scenario's own count of 503s: the fault may use the stack's client too.
    let client = stack.client.counting_apart();
    let mut ledger = Ledger::default();
    let (liked, deleted) = set_up(&client, &mut ledger).await;
    poison(stack).await;

    let ops = operations(&liked, &deleted);
    let fault_at = ops.len() / 5;
    let progress = Arc::new(AtomicUsize::new(0));
    let stream_task = tokio::spawn(stream(
        client.clone(),
        ops,
        Arc::new(deleted),
        progress.clone(),
    ));
    while progress.load(Ordering::SeqCst) < fault_at {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    fault(stack).await;
    let streamed = stream_task.await.unwrap();
    ledger.product_writes += streamed.product_writes;
    ledger.likes = streamed.likes;

    let recovered = Instant::now();
    let mut diff = compare(&client, &ledger).await;
    while (diff.lost > 0 || diff.duplicated > 0 || !diff.detail.is_empty())
        && recovered.elapsed() < CONVERGE
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        diff = compare(&client, &ledger).await;
    }
    let converged = recovered.elapsed();
    let sent = ledger.sent();
    let retried = client.retried_503s();
    println!(
        "fault suite | {name:<22} | sent {sent:>4} | applied {:>4} | lost {} | duplicated {} | published twice {:>3} | redelivered {:>3} | 503s retried {retried:>3} | converged in {:.2} s",
        sent - diff.lost.min(sent),
        diff.lost,
        diff.duplicated,
        published_twice(stack).await,
        redelivered(stack).await,
        converged.as_secs_f64()
    );
    match shed {
        Shed::Never => assert_eq!(
            retried, 0,
            "{name}: writes answered 503 (and retried), though the fault leaves the APIs and their database alone"
        ),
        Shed::AtMost(most) => assert!(
            retried <= most,
            "{name}: writes answered 503 (and retried) {retried} times, more than {most}"
        ),
    }
    assert!(
        diff.detail.is_empty(),
        "{name}: not converged after {CONVERGE:?}:\n{}",
        diff.detail.join("\n")
    );
    assert_eq!((diff.lost, diff.duplicated), (0, 0), "{name}");
    assert_poison_dead_lettered(stack).await;
}

#[tokio::test]
#[ignore = "fault suite: run by scripts/faults.sh"]
async fn broker_stopped_and_restarted_mid_stream() {
    let node = RabbitNode::start().await;
    let mut stack = ShopStack::start(&node.amqp_url(), Overrides::default()).await;
    scenario("broker restart", &mut stack, Shed::Never, async |stack| {
        node.stop();
        // While it is down, writes still succeed (the outbox holds them) and health says so.
        let admin = stack.svc(Proc::AdminApi);
        testkit::eventually(
            testkit::WAIT,
            "admin health reports the broker down",
            || async {
                let res = admin.http.get(admin.url("/api/health")).send().await;
                let status = res.map(|r| r.status()).map_err(|e| e.to_string());
                match status {
                    Ok(StatusCode::SERVICE_UNAVAILABLE) => Ok(()),
                    other => Err(other),
                }
            },
        )
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        node.boot().await;
        stack.wait_healthy().await;
    })
    .await;
    stack.stop().await;
}

#[tokio::test]
#[ignore = "fault suite: run by scripts/faults.sh"]
async fn consumers_killed_mid_stream_and_restarted() {
    let mut stack = ShopStack::start(&testkit::amqp_url(), Overrides::default()).await;
    scenario(
        "consumers SIGKILLed",
        &mut stack,
        Shed::Never,
        async |stack| {
            for round in 0..2 {
                stack.kill(Proc::MainConsumer).await;
                stack.kill(Proc::AdminConsumer).await;
                tokio::time::sleep(Duration::from_millis(if round == 0 { 1500 } else { 300 }))
                    .await;
                stack.respawn(Proc::MainConsumer).await;
                stack.respawn(Proc::AdminConsumer).await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            stack.wait_healthy().await;
        },
    )
    .await;
    stack.stop().await;
}

#[tokio::test]
#[ignore = "fault suite: run by scripts/faults.sh"]
async fn database_unreachable_for_the_consumers() {
    let db = testkit::mysql_addr();
    let main_proxy = TcpProxy::start(db, true).await;
    let admin_proxy = TcpProxy::start(db, true).await;
    // The consumers reach MariaDB only through the proxies; the APIs directly.
    let through =
        |proxy: &TcpProxy| format!("mysql://{{user}}:{{password}}@{}/{{database}}", proxy.addr);
    let overrides = Overrides::from([
        (
            Proc::AdminConsumer,
            vec![("DATABASE_URL", through(&admin_proxy))],
        ),
        (
            Proc::MainConsumer,
            vec![("DATABASE_URL", through(&main_proxy))],
        ),
    ]);
    let mut stack = ShopStack::start(&testkit::amqp_url(), overrides).await;
    scenario(
        "database outage (6 s)",
        &mut stack,
        Shed::Never,
        async |stack| {
            main_proxy.cut();
            admin_proxy.cut();
            let consumer = stack.svc(Proc::MainConsumer);
            testkit::eventually(
                testkit::WAIT,
                "consumer health reports the database down",
                || async {
                    let body = consumer.get_json("/health").await;
                    testkit::seen(body, |b| {
                        b.as_ref().is_some_and(|b| b["database"] == "down")
                    })
                },
            )
            .await;
            tokio::time::sleep(Duration::from_secs(6)).await;
            main_proxy.restore();
            admin_proxy.restore();
            stack.wait_healthy().await;
        },
    )
    .await;
    stack.stop().await;
}

#[tokio::test]
#[ignore = "fault suite: run by scripts/faults.sh"]
async fn every_message_delivered_again() {
    let mut stack = ShopStack::start(&testkit::amqp_url(), Overrides::default()).await;
    scenario(
        "all messages redelivered",
        &mut stack,
        Shed::Never,
        async |stack| {
            // As if every relay had crashed between the broker's ack and marking its rows: all
            // that was published so far goes out again, with the same message ids.
            tokio::time::sleep(Duration::from_millis(800)).await;
            for db in [&stack.admin_db, &stack.main_db] {
                let mut conn = db.connect().await;
                sqlx::query("UPDATE outbox SET published_at = NULL")
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
        },
    )
    .await;
    assert!(
        redelivered(&stack).await > 0,
        "the consumers saw the duplicates"
    );
    stack.stop().await;
}

#[tokio::test]
#[ignore = "fault suite: run by scripts/faults.sh"]
async fn poison_messages_in_the_stream() {
    let mut stack = ShopStack::start(&testkit::amqp_url(), Overrides::default()).await;
    scenario(
        "poison in the stream",
        &mut stack,
        Shed::Never,
        async |stack| {
            // More poison, of every kind, in the middle of the stream; `scenario` adds one per
            // queue and checks that one; these are counted here.
            let broker = stack.broker().await;
            let bad: [(&str, &[u8]); 4] = [
                ("product_updated", b"[]"),
                ("product_teleported", b"{}"),
                ("product_liked", b"7"),
                ("product_deleted", b"-1"),
            ];
            for (ct, body) in bad {
                broker
                    .publish(&stack.main_queue, poison_props(ct), body)
                    .await;
            }
            let dlq = shop_runtime::amqp::dead_letter_queue(&stack.main_queue);
            let dead = broker.take(&dlq, 5, testkit::WAIT).await;
            assert_eq!(
                dead.len(),
                5,
                "four more poison messages and the scenario's one"
            );
            // Put the scenario's own back for its check.
            poison(stack).await;
            let adlq = shop_runtime::amqp::dead_letter_queue(&stack.admin_queue);
            assert_eq!(broker.take(&adlq, 1, testkit::WAIT).await.len(), 1);
        },
    )
    .await;
    stack.stop().await;
}

#[tokio::test]
#[ignore = "fault suite: run by scripts/faults.sh"]
async fn consumer_connections_cut_mid_stream() {
    // The consumers reach the broker through proxies, cut four times while the relays stay
    // connected: unacked deliveries return to the queue (an ack in flight after a commit is
    // lost too, when a cut lands in that window) and the consumers reconnect.
    let broker = testkit::amqp_addr();
    let main_proxy = TcpProxy::start(broker, true).await;
    let admin_proxy = TcpProxy::start(broker, true).await;
    let overrides = Overrides::from([
        (
            Proc::MainConsumer,
            vec![("AMQP_URL", main_proxy.amqp_url())],
        ),
        (
            Proc::AdminConsumer,
            vec![("AMQP_URL", admin_proxy.amqp_url())],
        ),
    ]);
    let mut stack = ShopStack::start(&testkit::amqp_url(), overrides).await;
    scenario(
        "consumer links cut x4",
        &mut stack,
        Shed::Never,
        async |stack| {
            for _ in 0..4 {
                tokio::time::sleep(Duration::from_millis(250)).await;
                main_proxy.cut();
                admin_proxy.cut();
                tokio::time::sleep(Duration::from_millis(150)).await;
                main_proxy.restore();
                admin_proxy.restore();
            }
            stack.wait_healthy().await;
        },
    )
    .await;
    stack.stop().await;
}

#[tokio::test]
#[ignore = "fault suite: run by scripts/faults.sh"]
async fn clients_hang_up_mid_request() {
    let mut stack = ShopStack::start(&testkit::amqp_url(), Overrides::default()).await;
    let mut burst: Option<BurstReport> = None;
    scenario(
        "clients hang up",
        &mut stack,
        Shed::AtMost(HANG_UP_503S),
        async |stack| {
            // Products of the burst's own: the ledger counts only answered writes, and these
            // are checked against the databases below.
            let client = stack.client.clone();
            let mut ids = Vec::new();
            for i in 0..12 {
                ids.push(
                    client
                        .create(&format!("Hang-up {i}"), &format!("/img/h{i}.png"))
                        .await,
                );
            }
            testkit::eventually(testkit::WAIT, "hang-up products mirrored", || async {
                let shop = client.shop().await;
                ids.iter()
                    .all(|id| shop.iter().any(|p| p["id"] == *id))
                    .then_some(())
            })
            .await;
            let doomed = ids.split_off(8);
            burst = Some(Burst::narrow_then_wide(&client, ids, doomed).await);
        },
    )
    .await;

    let mut inspector = Inspector::connect().await;
    let checks = leftovers::after_traffic(&stack, &mut inspector, Duration::from_secs(30)).await;
    println!(
        "fault suite | {:<22} | {} | {}",
        "  and the hang-ups",
        burst.map(|b| b.to_string()).unwrap_or_default(),
        checks
            .iter()
            .map(|(name, c)| match c {
                Ok(f) => format!("{name}: {f}"),
                Err(_) => format!("{name}: FAILED"),
            })
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let failed: Vec<String> = checks
        .iter()
        .filter_map(|(name, c)| c.as_ref().err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(
        failed.is_empty(),
        "clients hang up: {} checks failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    stack.stop().await;
}

/// Every queue of `stack` (and its dead-letter queue) is a quorum queue with a member on
/// each of the cluster's three nodes; the index of the node leading each of the stack's two
/// queues (product events, likes).
fn assert_replicated(cluster: &RabbitCluster, stack: &ShopStack) -> (usize, usize) {
    let queues = cluster.queues();
    let mut nodes: Vec<&str> = cluster.nodes.iter().map(|n| n.name.as_str()).collect();
    nodes.sort_unstable();
    let mut leaders = Vec::new();
    for q in [&stack.main_queue, &stack.admin_queue] {
        for name in [q.clone(), shop_runtime::amqp::dead_letter_queue(q)] {
            let info = queues
                .iter()
                .find(|i| i.name == name)
                .unwrap_or_else(|| panic!("queue {name} is declared: {queues:?}"));
            assert_eq!(info.kind, "quorum", "{info:?}");
            let mut members: Vec<&str> = info.members.iter().map(String::as_str).collect();
            members.sort_unstable();
            assert_eq!(members, nodes, "{name} has a member on every node");
        }
        let info = queues.iter().find(|i| &i.name == q).unwrap();
        leaders.push(
            cluster
                .index_of(&info.leader)
                .unwrap_or_else(|| panic!("{q}'s leader {:?} is a node", info.leader)),
        );
    }
    (leaders[0], leaders[1])
}

/// Of the nodes leading the stack's queues, the one with more client connections (`first`
/// on a tie): its loss moves clients and makes a queue elect a new leader.
fn busiest_leader(cluster: &RabbitCluster, first: usize, second: usize) -> usize {
    let counts = cluster.connections();
    if counts[second] > counts[first] {
        second
    } else {
        first
    }
}

/// Node `i`'s share of the connections and the queues it leads, for the suite's output.
fn describe(
    cluster: &RabbitCluster,
    i: usize,
    product_leader: usize,
    like_leader: usize,
) -> String {
    let counts = cluster.connections();
    let mut leads = Vec::new();
    if i == product_leader {
        leads.push("the product queue");
    }
    if i == like_leader {
        leads.push("the like queue");
    }
    format!(
        "{} of {} client connections, leader of {}",
        counts[i],
        counts.iter().sum::<usize>(),
        if leads.is_empty() {
            "no queue of the stack".to_owned()
        } else {
            leads.join(" and ")
        }
    )
}

/// Moves the relay lead of the API `p` to its replica `n` (from 2): while another holds the
/// leader lock, the holder's lock connection is killed from outside (`KILL CONNECTION`), so
/// it steps down, and the replicas' relays race for the lock again; until replica `n` won.
async fn lead_to_replica(stack: &ShopStack, p: Proc, n: usize, db: &str, queue: &str) -> usize {
    use sqlx::Connection as _;
    let mut conn =
        sqlx::MySqlConnection::connect(&format!("{}/mysql", testkit::mysql_server_url()))
            .await
            .unwrap();
    let lock = format!("{db}:shop-outbox-relay:{queue}");
    let mut killed = 0;
    for _ in 0..100 {
        let leads: Vec<bool> = stack
            .metrics_all(p)
            .await
            .iter()
            .map(|m| leftovers::gauge(m, "outbox_relay_leader") == Some(1.0))
            .collect();
        if leads[n - 1] && leads.iter().filter(|l| **l).count() == 1 {
            return killed;
        }
        let holder: Option<i64> = sqlx::query_scalar("SELECT IS_USED_LOCK(?)")
            .bind(&lock)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if let Some(holder) = holder
            && !leads[n - 1]
        {
            let _ = sqlx::query(&format!("KILL CONNECTION {holder}"))
                .execute(&mut conn)
                .await;
            killed += 1;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("replica {n} of {} never took the relay lead", p.binary());
}

/// What the traffic must not leave behind (`testkit::leftovers`), and the queues drained;
/// prints one line after the scenario's and fails on any failed check.
async fn after_traffic(name: &str, stack: &ShopStack) {
    let mut inspector = Inspector::connect().await;
    let mut checks = leftovers::after_traffic(stack, &mut inspector, Duration::from_secs(30)).await;
    checks.push((
        "queues drained",
        leftovers::queues_drained(stack, Duration::from_secs(10)).await,
    ));
    println!(
        "fault suite | {:<22} | {}",
        "  after the traffic",
        checks
            .iter()
            .map(|(name, c)| match c {
                Ok(f) => format!("{name}: {f}"),
                Err(_) => format!("{name}: FAILED"),
            })
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let failed: Vec<String> = checks
        .iter()
        .filter_map(|(check, c)| c.as_ref().err().map(|e| format!("{check}: {e}")))
        .collect();
    assert!(
        failed.is_empty(),
        "{name}: {} checks failed after the traffic:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[tokio::test]
#[ignore = "fault suite: run by scripts/faults.sh"]
async fn broker_cluster_faults() {
    // One cluster for the three scenarios (booting one takes a while); each scenario has a
    // stack, databases and queues of its own, and leaves the cluster whole.
    let booting = Instant::now();
    let cluster = RabbitCluster::start().await;
    println!(
        "fault suite | {:<22} | three nodes booted and joined in {:.1} s",
        "broker cluster",
        booting.elapsed().as_secs_f64()
    );
    // Bounded as a whole: a hang anywhere fails the test, and the cluster (dropped on the
    // way out) stops its nodes.
    tokio::time::timeout(Duration::from_secs(480), cluster_scenarios(&cluster))
        .await
        .expect("the cluster scenarios end within 8 minutes");
    drop(cluster);
}

/// A fault of one cluster node, in [`node_fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeFault {
    /// SIGKILLed, booted again 3 s later.
    Kill,
    /// Cut off from the others (it pauses, `pause_minority`), healed 3 s later.
    Partition,
}

/// One node-fault scenario on `cluster`, with a stack of its own. Of the nodes leading the
/// stack's queues, the one with more of its connections is faulted (the product queue's
/// leader on a tie for a kill, the like queue's for a partition): its clients move to the
/// other nodes, which elect new leaders for the queues it led, and every connection must be
/// back on them while it is still down; then it comes back.
async fn node_fault(cluster: &RabbitCluster, name: &str, fault: NodeFault) {
    let started = Instant::now();
    let mut stack = ShopStack::start_on_cluster(cluster, Overrides::default()).await;
    let (product_leader, like_leader) = assert_replicated(cluster, &stack);
    scenario(name, &mut stack, Shed::Never, async |stack| {
        let (victim, done, moved_to) = match fault {
            NodeFault::Kill => (
                busiest_leader(cluster, product_leader, like_leader),
                "SIGKILL of",
                "on the other nodes",
            ),
            NodeFault::Partition => (
                busiest_leader(cluster, like_leader, product_leader),
                "cut off:",
                "on the majority",
            ),
        };
        println!(
            "fault suite | {name:<22} | {done} {}: {}",
            cluster.nodes[victim].name,
            describe(cluster, victim, product_leader, like_leader)
        );
        let total: usize = cluster.connections().iter().sum();
        match fault {
            NodeFault::Kill => cluster.kill(victim),
            NodeFault::Partition => cluster.partition(victim).await,
        }
        let faulted = Instant::now();
        let moved = cluster.wait_moved(victim, total, testkit::WAIT).await;
        stack.wait_healthy().await;
        println!(
            "fault suite | {name:<22} | all {total} client connections {moved_to} {:.2} s after the fault",
            moved.as_secs_f64()
        );
        tokio::time::sleep(Duration::from_secs(3).saturating_sub(faulted.elapsed())).await;
        match fault {
            NodeFault::Kill => cluster.boot(victim).await,
            NodeFault::Partition => cluster.heal(victim).await,
        }
        stack.wait_healthy().await;
    })
    .await;
    after_traffic(name, &stack).await;
    stack.stop().await;
    println!(
        "fault suite | {name:<22} | scenario took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The three scenarios of [`broker_cluster_faults`], one after the other on `cluster`.
async fn cluster_scenarios(cluster: &RabbitCluster) {
    node_fault(cluster, "cluster: node killed", NodeFault::Kill).await;
    node_fault(cluster, "cluster: partition", NodeFault::Partition).await;

    let started = Instant::now();
    // Relays that poll every 20 ms: a standby asks for the lead, and would find every row
    // the moment it is committed, fifty times a second. Without the leader election both
    // replicas published the same rows (40 to 69 twice per run); with it, the figure shows
    // how many a takeover sends twice.
    let fast_relays = Overrides::from([
        (
            Proc::AdminApi,
            vec![("OUTBOX_POLL_INTERVAL_MS", "20".to_owned())],
        ),
        (
            Proc::MainApi,
            vec![("OUTBOX_POLL_INTERVAL_MS", "20".to_owned())],
        ),
    ]);
    let mut stack = ShopStack::start_on_cluster(cluster, fast_relays).await;
    assert_replicated(cluster, &stack);
    for p in Proc::ALL {
        stack.add_replica(p).await;
    }
    // The second main-api replica leads its relay, so that killing it makes the first
    // take over mid-stream.
    let (db, queue) = (
        stack.main_db.name.clone(),
        stack.env(Proc::MainApi)["ADMIN_QUEUE"].clone(),
    );
    let name = "replicas: 2 SIGKILLed";
    let tries = lead_to_replica(&stack, Proc::MainApi, 2, &db, &queue).await;
    println!(
        "fault suite | {name:<22} | main-api replica 2 leads the relay (lock connections killed: {tries})"
    );
    scenario(name, &mut stack, Shed::Never, async |stack| {
        // Two replicas of everything: the relays of each API share the outbox (one leads,
        // the other stands by), both consumers of each queue compete. The stream goes to
        // the first API replicas (a load balancer takes a dead replica out; requests cut by
        // a kill are the hang-up scenario's); the second main-api replica, whose relay
        // leads and publishes the likes, and the second admin-consumer replica, which
        // applies them, are SIGKILLed: the first main-api replica's relay takes over, and a
        // lost, double-applied or reordered like would show in the counts.
        tokio::time::sleep(Duration::from_millis(300)).await;
        stack.kill_replica(Proc::MainApi, 2).await;
        let killed = Instant::now();
        stack.kill_replica(Proc::AdminConsumer, 2).await;
        testkit::eventually(testkit::WAIT, "main-api replica 1 leads", || async {
            let m = stack.metrics_all(Proc::MainApi).await;
            (leftovers::gauge(&m[0], "outbox_relay_leader") == Some(1.0)).then_some(())
        })
        .await;
        println!(
            "fault suite | {name:<22} | main-api replica 1 took the relay lead {:.2} s after replica 2's SIGKILL",
            killed.elapsed().as_secs_f64()
        );
        stack.wait_healthy().await;
    })
    .await;
    after_traffic(name, &stack).await;
    stack.stop().await;
    println!(
        "fault suite | {name:<22} | scenario took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
