//! The consumer loop's rules, run in-process against the real broker and a fresh database:
//! ack only after the commit, retry then dead-letter, duplicates skipped, undecodable
//! messages dead-lettered, a stop that finishes the message in hand, and a stop during a
//! database outage that does not wait out the backoff. Each test has its own database and
//! queue; outages go through a proxy the test cuts, never the machine's broker or database.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use events::{Event, OutgoingMessage};
use lapin::BasicProperties;
use shop_runtime::Env;
use shop_runtime::amqp::BrokerStatus;
use shop_runtime::consumer::{Consumer, Handler, MAX_ATTEMPTS, Outcome};
use shop_runtime::settings::ConsumerSettings;
use sqlx::{MySqlConnection, MySqlPool};
use support::Broker;
use testkit::{TcpProxy, TestDatabase, Watch, Watched, seen};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

/// The product whose events the probe dead-letters.
const UNLUCKY: u64 = 13_013;

/// A handler that records what it applied in `applied`, can fail on purpose, and can be
/// held inside its transaction until the test lets it go.
#[derive(Clone, Default)]
struct Probe {
    /// Calls, whatever their result.
    calls: Arc<AtomicU32>,
    /// How many calls still fail with a (non-transient) database error.
    failures: Arc<AtomicU32>,
    /// When set, each call waits inside its transaction, after its write, for a permit.
    gate: Option<Gate>,
    /// Batches of more than one event applied together.
    batches: Arc<AtomicU32>,
}

#[derive(Clone)]
struct Gate {
    entered: Arc<Semaphore>,
    release: Arc<Semaphore>,
}

impl Gate {
    fn new() -> Self {
        Gate {
            entered: Arc::new(Semaphore::new(0)),
            release: Arc::new(Semaphore::new(0)),
        }
    }

    /// Waits until a handler call is inside its transaction.
    async fn entered(&self) {
        tokio::time::timeout(WAIT, self.entered.acquire())
            .await
            .expect("the handler was called")
            .unwrap()
            .forget();
    }

    fn release(&self) {
        self.release.add_permits(1);
    }
}

impl Handler for Probe {
    async fn apply(&self, tx: &mut MySqlConnection, event: &Event) -> Result<Outcome, sqlx::Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let fail = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            sqlx::query("INSERT INTO no_such_table VALUES (1)")
                .execute(&mut *tx)
                .await?;
        }
        if event.product_id() == UNLUCKY {
            return Ok(Outcome::DeadLetter("unlucky product"));
        }
        sqlx::query("INSERT INTO applied (product_id) VALUES (?)")
            .bind(event.product_id())
            .execute(&mut *tx)
            .await?;
        if let Some(gate) = &self.gate {
            gate.entered.add_permits(1);
            gate.release.acquire().await.unwrap().forget();
        }
        Ok(Outcome::Applied)
    }

    async fn apply_batch(
        &self,
        tx: &mut MySqlConnection,
        events: &[&Event],
    ) -> Result<Vec<Outcome>, sqlx::Error> {
        self.batches.fetch_add(1, Ordering::SeqCst);
        let mut outcomes = Vec::new();
        for event in events {
            outcomes.push(self.apply(tx, event).await?);
        }
        Ok(outcomes)
    }
}

/// One test's database, queue and broker connection.
struct Rig {
    db: TestDatabase,
    pool: MySqlPool,
    queue: String,
    broker: Broker,
}

/// A consumer running in a task of the test.
struct Running {
    cancel: CancellationToken,
    task: JoinHandle<()>,
    /// Its task's wakes and polls: what it did once it saw a stop.
    watch: Watch,
    connected: BrokerStatus,
}

impl Running {
    /// Asks it to stop and waits for it; panics after `limit`. Returns how long it took.
    async fn stop_within(self, limit: Duration) -> Duration {
        let start = Instant::now();
        self.cancel.cancel();
        tokio::time::timeout(limit, self.task)
            .await
            .unwrap_or_else(|_| panic!("the consumer did not stop within {limit:?}"))
            .unwrap();
        start.elapsed()
    }
}

impl Rig {
    async fn new(prefix: &str) -> Self {
        let (db, pool) = support::database(prefix).await;
        sqlx::raw_sql(
            "CREATE TABLE applied (seq BIGINT AUTO_INCREMENT PRIMARY KEY, product_id BIGINT UNSIGNED NOT NULL)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let queue = testkit::unique("rt_consumer");
        let broker = Broker::connect().await;
        broker.declare(&queue).await;
        Rig {
            db,
            pool,
            queue,
            broker,
        }
    }

    fn dead_letters(&self) -> String {
        shop_runtime::amqp::dead_letter_queue(&self.queue)
    }

    /// Starts a consumer of the rig's queue with `handler`, on `pool`, through `amqp_url`.
    async fn start(&self, handler: Probe, pool: MySqlPool, amqp_url: &str) -> Running {
        self.start_with(handler, pool, amqp_url, &Env::default())
            .await
    }

    async fn start_with(
        &self,
        handler: Probe,
        pool: MySqlPool,
        amqp_url: &str,
        env: &Env,
    ) -> Running {
        let connected = BrokerStatus::new("consumer");
        let consumer = Consumer {
            pool,
            amqp: support::amqp(amqp_url),
            settings: ConsumerSettings::from_env(env).unwrap(),
            queue: self.queue.clone(),
            app_id: "runtime-test",
            handler,
            broker: connected.clone(),
            feed: None,
        };
        let cancel = CancellationToken::new();
        let (run, watch) = Watched::new(consumer.run(cancel.clone()));
        let task = tokio::spawn(run);
        let running = Running {
            cancel,
            task,
            watch,
            connected,
        };
        testkit::eventually(WAIT, "the consumer connected", || async {
            running.connected.is_connected().then_some(())
        })
        .await;
        running
    }

    /// Publishes a like of `product` as this system does; returns its message id. Publishes
    /// reach the queue in the order they are made (one channel, each confirmed).
    async fn publish(&self, product: u64) -> String {
        let message = OutgoingMessage::new(&Event::ProductLiked(product), None);
        self.publish_message(&message).await;
        message.message_id
    }

    async fn publish_message(&self, message: &OutgoingMessage) {
        self.broker
            .publish(
                &self.queue,
                message.properties("runtime-test", 0, None),
                &message.body,
            )
            .await;
    }

    /// The products applied, in commit order.
    async fn applied(&self) -> Vec<u64> {
        sqlx::query_scalar("SELECT product_id FROM applied ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    async fn wait_applied(&self, expected: &[u64]) {
        testkit::eventually(WAIT, &format!("{expected:?} applied"), || async {
            seen(self.applied().await, |applied| applied == expected)
        })
        .await;
    }

    /// Asserts that nothing came back to the rig's queue once the consumer stopped: a
    /// message it held unacked returns when its channel closes, which takes the broker a
    /// moment; the queue's consumer count says when that moment is over.
    async fn assert_nothing_returns(&self, why: &str) {
        let back = self.broker.ready_once_unconsumed(&self.queue, WAIT).await;
        assert_eq!(back, 0, "{why}");
    }

    async fn cleanup(self) {
        self.broker.delete(&self.queue).await;
        self.pool.close().await;
        self.db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_is_acked_only_after_its_commit() {
    let rig = Rig::new("rt_consumer_ack").await;
    let proxy = TcpProxy::start(testkit::amqp_addr(), true).await;
    let gate = Gate::new();
    let probe = Probe {
        gate: Some(gate.clone()),
        ..Probe::default()
    };
    // One delivery at a time: the redelivery below is acked on its own, not by the later
    // message's `multiple` ack.
    let one_at_a_time = Env::from_pairs([("CONSUMER_BATCH_SIZE", "1")]);
    let consumer = rig
        .start_with(
            probe.clone(),
            rig.pool.clone(),
            &proxy.amqp_url(),
            &one_at_a_time,
        )
        .await;
    rig.publish(1).await;
    gate.entered().await;

    // The handler has written but not committed. Its connection dies now: a message acked
    // already would be gone for good; an unacked one goes back to the queue.
    proxy.cut();
    rig.broker.wait_ready(&rig.queue, 1, WAIT).await;
    gate.release();
    rig.wait_applied(&[1]).await;

    // Back on the broker, the redelivery is recognised, acked and not applied again. A
    // later message, behind it on the queue, is applied only once the consumer is done with
    // the redelivery (no ready message on the queue only means it was delivered, not that
    // it was dealt with).
    proxy.restore();
    gate.release();
    rig.publish(2).await;
    rig.wait_applied(&[1, 2]).await;
    consumer.stop_within(WAIT).await;
    assert_eq!(rig.applied().await, [1, 2], "applied once");
    assert_eq!(
        probe.calls.load(Ordering::SeqCst),
        2,
        "the duplicate never reached the handler (the later message did)"
    );
    rig.assert_nothing_returns("acked, not merely held").await;
    assert_eq!(rig.broker.ready(&rig.dead_letters()).await, 0);
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handler_error_is_retried_and_a_later_success_applied() {
    let rig = Rig::new("rt_consumer_retry").await;
    let probe = Probe::default();
    probe.failures.store(MAX_ATTEMPTS - 1, Ordering::SeqCst);
    let consumer = rig
        .start(probe.clone(), rig.pool.clone(), &testkit::amqp_url())
        .await;
    rig.publish(2).await;
    rig.wait_applied(&[2]).await;
    consumer.stop_within(WAIT).await;
    assert_eq!(probe.calls.load(Ordering::SeqCst), MAX_ATTEMPTS);
    rig.assert_nothing_returns("acked").await;
    assert_eq!(rig.broker.ready(&rig.dead_letters()).await, 0);
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handler_failing_every_attempt_is_dead_lettered_after_max_attempts() {
    let rig = Rig::new("rt_consumer_poison").await;
    let probe = Probe::default();
    probe.failures.store(u32::MAX, Ordering::SeqCst);
    // One delivery at a time: a failed batch adds one try of its own before each of its
    // messages is tried MAX_ATTEMPTS times alone, so the count below would depend on
    // whether both messages arrived together.
    let one_at_a_time = Env::from_pairs([("CONSUMER_BATCH_SIZE", "1")]);
    let consumer = rig
        .start_with(
            probe.clone(),
            rig.pool.clone(),
            &testkit::amqp_url(),
            &one_at_a_time,
        )
        .await;
    let poison = rig.publish(3).await;
    // The consumer goes on with the next message.
    let message = OutgoingMessage::new(&Event::ProductLiked(4), None);
    rig.publish_message(&message).await;

    let dead = rig.broker.take(&rig.dead_letters(), 2, WAIT).await;
    let ids: Vec<String> = dead.iter().map(|m| m.message_id()).collect();
    assert_eq!(
        ids,
        [poison, message.message_id],
        "both dead-lettered, in order"
    );
    for m in &dead {
        assert_eq!(
            m.death_reason().as_deref(),
            Some("handler_error"),
            "by the consumer, with its reason"
        );
        let letter = shop_runtime::dead_letters::DeadLetter::read(&m.properties, &m.body);
        assert_eq!(letter.attempts, Some(u64::from(MAX_ATTEMPTS)));
        assert!(letter.error.is_some_and(|e| !e.is_empty()));
    }
    consumer.stop_within(WAIT).await;
    assert_eq!(
        probe.calls.load(Ordering::SeqCst),
        2 * MAX_ATTEMPTS,
        "each tried exactly MAX_ATTEMPTS times"
    );
    assert!(rig.applied().await.is_empty(), "nothing half applied");
    rig.assert_nothing_returns("rejected, not held").await;
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_message_id_is_acked_and_not_applied_again() {
    let rig = Rig::new("rt_consumer_dup").await;
    let probe = Probe::default();
    let consumer = rig
        .start(probe.clone(), rig.pool.clone(), &testkit::amqp_url())
        .await;
    let first = OutgoingMessage::new(&Event::ProductLiked(5), None);
    // Same id, another body: were it applied, product 6 would show. The three reach the
    // queue in this order (one confirmed channel): the original first.
    let again = OutgoingMessage {
        body: Event::ProductLiked(6).body(),
        ..first.clone()
    };
    rig.publish_message(&first).await;
    rig.publish_message(&again).await;
    rig.publish(7).await;

    rig.wait_applied(&[5, 7]).await;
    // Stopping returns whatever was not acked to the queue.
    consumer.stop_within(WAIT).await;
    assert_eq!(rig.applied().await, [5, 7]);
    rig.assert_nothing_returns("the duplicate was acked").await;
    assert_eq!(
        rig.broker.ready(&rig.dead_letters()).await,
        0,
        "and not dead-lettered"
    );
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn undecodable_messages_are_dead_lettered_and_the_next_applied() {
    let rig = Rig::new("rt_consumer_undecodable").await;
    let probe = Probe::default();
    let consumer = rig
        .start(probe.clone(), rig.pool.clone(), &testkit::amqp_url())
        .await;
    let with_type = |ct: &str| BasicProperties::default().with_content_type(ct.into());
    rig.broker
        .publish(&rig.queue, with_type("product_liked"), b"not a number")
        .await;
    rig.broker
        .publish(&rig.queue, with_type("product_exploded"), b"1")
        .await;
    rig.broker
        .publish(&rig.queue, BasicProperties::default(), b"1")
        .await;
    rig.publish(8).await;

    rig.wait_applied(&[8]).await;
    let dead = rig.broker.take(&rig.dead_letters(), 3, WAIT).await;
    let bodies: Vec<&[u8]> = dead.iter().map(|m| m.body.as_slice()).collect();
    assert_eq!(bodies, [&b"not a number"[..], b"1", b"1"]);
    let reasons: Vec<Option<String>> = dead.iter().map(|m| m.death_reason()).collect();
    // Dead-lettered at the first delivery (not requeued until the broker's delivery
    // limit), each with its reason.
    assert_eq!(
        reasons,
        [
            Some("undecodable"),
            Some("unknown_type"),
            Some("unknown_type")
        ]
        .map(|r| r.map(String::from))
    );
    consumer.stop_within(WAIT).await;
    assert_eq!(
        probe.calls.load(Ordering::SeqCst),
        1,
        "only the good one handled"
    );
    rig.assert_nothing_returns("every message settled").await;
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_with_a_message_in_hand_commits_and_acks_it_and_takes_no_other() {
    let rig = Rig::new("rt_consumer_stop").await;
    let gate = Gate::new();
    let probe = Probe {
        gate: Some(gate.clone()),
        ..Probe::default()
    };
    // One delivery at a time: the second is prefetched, not in hand.
    let one_at_a_time = Env::from_pairs([("CONSUMER_BATCH_SIZE", "1")]);
    let consumer = rig
        .start_with(
            probe.clone(),
            rig.pool.clone(),
            &testkit::amqp_url(),
            &one_at_a_time,
        )
        .await;
    rig.publish(9).await;
    let second = rig.publish(10).await;
    gate.entered().await;

    consumer.cancel.cancel();
    // A stop does not cut the work in hand short, however long it takes: once the consumer's
    // task has been polled since the stop woke it (if it did), it has done all it would do
    // about the stop, and it is still at work.
    consumer.watch.settled(WAIT).await;
    assert!(!consumer.watch.finished(), "still finishing the message");
    gate.release();
    consumer.stop_within(WAIT).await;

    assert_eq!(rig.applied().await, [9], "the one in hand committed");
    assert_eq!(probe.calls.load(Ordering::SeqCst), 1, "no other taken");
    let left = rig.broker.ready_once_unconsumed(&rig.queue, WAIT).await;
    assert_eq!(left, 1, "the prefetched one returned");
    let left = rig.broker.take(&rig.queue, 1, WAIT).await;
    let ids: Vec<String> = left.iter().map(|m| m.message_id()).collect();
    assert_eq!(
        ids,
        [second],
        "the one in hand acked; the prefetched one returned"
    );
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_during_a_database_outage_does_not_wait_out_the_backoff() {
    // Counts recorded before the recorder exists are lost.
    shop_runtime::metrics::handle();
    let rig = Rig::new("rt_consumer_outage").await;
    let db_proxy = TcpProxy::start(testkit::mysql_addr(), true).await;
    let pool = support::pool(&rig.db, Some(db_proxy.addr)).await;
    let probe = Probe::default();
    let consumer = rig
        .start(probe.clone(), pool.clone(), &testkit::amqp_url())
        .await;

    db_proxy.cut();
    rig.publish(11).await;
    // Held and retried with growing waits (0.1 s, 0.2 s, … 3.2 s): after six tries the
    // consumer is in a wait of seconds.
    let series = r#"events_retried_total{event="product_liked",reason="database_unavailable"}"#;
    let before = support::metric_value(series);
    testkit::eventually(WAIT, "six retries", || async {
        seen(support::metric_value(series) - before, |n| *n >= 6.0)
    })
    .await;

    let took = consumer.stop_within(Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(1), "stopped in {took:?}");
    assert_eq!(
        probe.calls.load(Ordering::SeqCst),
        0,
        "the database never answered"
    );
    // Held, neither acked nor rejected: back on the queue.
    rig.broker.wait_ready(&rig.queue, 1, WAIT).await;
    assert_eq!(rig.broker.ready(&rig.dead_letters()).await, 0);
    pool.close().await;
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backlog_is_applied_in_batches_once_each() {
    let rig = Rig::new("rt_consumer_batch").await;
    // Waiting before the consumer starts: deliveries arrive together, in batches.
    let mut expected = Vec::new();
    for product in 1..=300 {
        let message = OutgoingMessage::new(&Event::ProductLiked(product), None);
        rig.publish_message(&message).await;
        expected.push(product);
        if product % 50 == 0 {
            // The same message again, in the same batch or a later one.
            rig.publish_message(&message).await;
        }
    }
    let probe = Probe::default();
    let consumer = rig
        .start(probe.clone(), rig.pool.clone(), &testkit::amqp_url())
        .await;
    testkit::eventually(WAIT, "300 applied", || async {
        seen(rig.applied().await.len(), |n| *n >= 300)
    })
    .await;
    // Each is applied once (the order within a batch is the handler's business).
    let mut applied = rig.applied().await;
    applied.sort_unstable();
    assert_eq!(applied, expected);
    let batches = probe.batches.load(Ordering::SeqCst);
    assert!(
        (3..=30).contains(&batches),
        "300 events in {batches} transactions: not batched"
    );
    let processed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM processed_messages")
        .fetch_one(&rig.pool)
        .await
        .unwrap();
    assert_eq!(processed, 300);
    consumer.stop_within(WAIT).await;
    rig.assert_nothing_returns("every delivery acked").await;
    assert_eq!(rig.broker.ready(&rig.dead_letters()).await, 0);
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_to_dead_letter_in_a_batch_dead_letters_only_itself() {
    let rig = Rig::new("rt_consumer_batch_dlq").await;
    let mut expected = Vec::new();
    for product in 1..=40 {
        let product = if product == 20 { UNLUCKY } else { product };
        rig.publish(product).await;
        if product != UNLUCKY {
            expected.push(product);
        }
    }
    let probe = Probe::default();
    let consumer = rig
        .start(probe.clone(), rig.pool.clone(), &testkit::amqp_url())
        .await;
    testkit::eventually(WAIT, "39 applied", || async {
        seen(rig.applied().await.len(), |n| *n >= 39)
    })
    .await;
    let mut applied = rig.applied().await;
    applied.sort_unstable();
    assert_eq!(applied, expected);
    let dead = rig.broker.take(&rig.dead_letters(), 2, WAIT).await;
    assert_eq!(dead.len(), 1, "only the unlucky one");
    assert_eq!(dead[0].body, Event::ProductLiked(UNLUCKY).body());
    consumer.stop_within(WAIT).await;
    rig.assert_nothing_returns("every delivery settled").await;
    rig.cleanup().await;
}
