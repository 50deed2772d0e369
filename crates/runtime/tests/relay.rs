//! The outbox relay's rules, run in-process against the real broker and a fresh database:
//! pending rows go out in order, confirmed, and are marked; an unroutable publish is retried,
//! not marked; a confirm that never comes leaves rows pending until the broker answers
//! again; writes go on while the broker is down and drain when it is back. Each test has its
//! own database and queue; outages go through a proxy the test cuts or freezes, never the
//! machine's broker.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use events::{Event, OutgoingMessage, PERSISTENT};
use shop_runtime::Env;
use shop_runtime::amqp::BrokerStatus;
use shop_runtime::outbox::{self, OutboxHandle, Relay};
use shop_runtime::settings::OutboxSettings;
use sqlx::MySqlPool;
use support::{Broker, FreezingProxy};
use testkit::{TcpProxy, TestDatabase, seen};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(15);

/// The product of the marker event [`Rig::take_exactly`] writes after what it takes.
const MARKER: u64 = 999_999;

/// One test's database, queue and broker connection.
struct Rig {
    db: TestDatabase,
    pool: MySqlPool,
    queue: String,
    broker: Broker,
    handle: OutboxHandle,
}

/// A relay running in a task of the test.
struct Running {
    cancel: CancellationToken,
    task: JoinHandle<()>,
    connected: BrokerStatus,
}

impl Running {
    async fn wait_connected(&self, connected: bool) {
        testkit::eventually(WAIT, &format!("broker connected: {connected}"), || async {
            (self.connected.is_connected() == connected).then_some(())
        })
        .await;
    }

    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("the relay stops")
            .unwrap();
    }
}

impl Rig {
    async fn new(prefix: &str) -> Self {
        let (db, pool) = support::database(prefix).await;
        Rig {
            db,
            pool,
            queue: testkit::unique("rt_relay"),
            broker: Broker::connect().await,
            handle: OutboxHandle::new(),
        }
    }

    /// Starts a relay of the rig's outbox to its queue, through `amqp_url`.
    async fn start(&self, amqp_url: &str, batch_size: u32) -> Running {
        let batch_size = batch_size.to_string();
        let settings = OutboxSettings::from_env(&Env::from_pairs([
            ("OUTBOX_BATCH_SIZE", batch_size.as_str()),
            ("OUTBOX_POLL_INTERVAL_MS", "200"),
        ]))
        .unwrap();
        let connected = BrokerStatus::new("relay");
        let relay = Relay {
            pool: self.pool.clone(),
            amqp: support::amqp(amqp_url),
            settings,
            queue: self.queue.clone(),
            app_id: "runtime-test",
            handle: self.handle.clone(),
            broker: connected.clone(),
        };
        let cancel = CancellationToken::new();
        let task = tokio::spawn(relay.run(cancel.clone()));
        Running {
            cancel,
            task,
            connected,
        }
    }

    /// Commits one event per product, each in its own transaction as a handler would, and
    /// wakes the relay; returns their message ids in commit order.
    async fn write(&self, products: impl IntoIterator<Item = u64>) -> Vec<String> {
        let mut ids = Vec::new();
        for product in products {
            let message = OutgoingMessage::new(&Event::ProductLiked(product), None);
            let mut tx = self.pool.begin().await.unwrap();
            outbox::enqueue(&mut tx, &message).await.unwrap();
            tx.commit().await.unwrap();
            self.handle.committed();
            ids.push(message.message_id);
        }
        ids
    }

    async fn pending(&self) -> i64 {
        outbox::pending_count(&self.pool).await.unwrap()
    }

    async fn wait_pending(&self, n: i64) {
        testkit::eventually(WAIT, &format!("{n} rows pending"), || async {
            seen(self.pending().await, |pending| *pending == n)
        })
        .await;
    }

    /// Takes `n` messages off the queue, and checks that no more come: a marker event,
    /// committed after them, comes next and last. The relay publishes pending rows in id
    /// order on one channel, so a row it sent again would have come before the marker;
    /// no fixed wait for a message that might still come.
    async fn take_exactly(&self, n: usize) -> Vec<support::Taken> {
        let marker = self.write([MARKER]).await;
        let mut got = self.broker.take(&self.queue, n + 1, WAIT).await;
        let ids = message_ids(&got);
        assert_eq!(
            ids.last(),
            marker.last(),
            "{n} messages, then the marker: {got:?}"
        );
        assert_eq!(got.len(), n + 1, "{n} messages, then the marker: {got:?}");
        assert_eq!(self.broker.ready(&self.queue).await, 0, "nothing after it");
        got.pop();
        got
    }

    async fn cleanup(self) {
        self.broker.delete(&self.queue).await;
        self.pool.close().await;
        self.db.drop_database().await;
    }
}

fn message_ids(taken: &[support::Taken]) -> Vec<String> {
    taken.iter().map(support::Taken::message_id).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_rows_go_out_in_order_confirmed_and_marked_published() {
    let rig = Rig::new("rt_relay_order").await;
    // Written before the relay starts, more than one batch's worth.
    let mut expected = rig.write(1..=23).await;
    let relay = rig.start(&testkit::amqp_url(), 5).await;
    let got = rig.broker.take(&rig.queue, 23, WAIT).await;
    assert_eq!(message_ids(&got), expected, "in commit order");
    for m in &got {
        assert_eq!(*m.properties.delivery_mode(), Some(PERSISTENT));
        assert_eq!(
            m.properties.content_type().as_ref().map(|c| c.as_str()),
            Some("product_liked")
        );
        assert_eq!(
            m.properties.app_id().as_ref().map(|a| a.as_str()),
            Some("runtime-test")
        );
    }
    rig.wait_pending(0).await;

    // Written while it runs: woken by the commit, not the poll.
    expected = rig.write(24..=30).await;
    let got = rig.take_exactly(7).await;
    assert_eq!(message_ids(&got), expected);
    rig.wait_pending(0).await;
    let unmarked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&rig.pool)
            .await
            .unwrap();
    assert_eq!(unmarked, 0);
    relay.stop().await;
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unroutable_publish_is_retried_and_not_marked() {
    // Counts recorded before the recorder exists are lost.
    shop_runtime::metrics::handle();
    let unroutable = r#"events_publish_failures_total{reason="unroutable"}"#;
    let rig = Rig::new("rt_relay_unroutable").await;
    let relay = rig.start(&testkit::amqp_url(), 200).await;
    relay.wait_connected(true).await;

    // Someone deletes the queue under the running relay: the next publish has no route.
    rig.broker.delete(&rig.queue).await;
    let before = support::metric_value(unroutable);
    let expected = rig.write([1]).await;

    // The broker returned it; the relay kept the row pending, reconnected, declared the
    // queue again and sent it again. A row marked on the returned publish would be lost.
    let got = rig.take_exactly(1).await;
    assert_eq!(message_ids(&got), expected, "the event was not lost");
    assert!(
        support::metric_value(unroutable) > before,
        "the first publish was returned unroutable"
    );
    rig.wait_pending(0).await;
    relay.stop().await;
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_confirm_that_never_comes_leaves_rows_pending_until_the_broker_answers() {
    let rig = Rig::new("rt_relay_confirm").await;
    let proxy = FreezingProxy::start(testkit::amqp_addr()).await;
    let relay = rig.start(&proxy.amqp_url(), 200).await;
    relay.wait_connected(true).await;

    // The broker's host stops answering without closing anything: the publish goes into
    // the socket, its confirm never comes.
    proxy.freeze().await;
    let expected = rig.write(1..=3).await;
    // The relay gave the silent connection up instead of waiting on it: it published, and
    // the confirm's time limit (1 s here) ran out.
    relay.wait_connected(false).await;
    assert_eq!(rig.pending().await, 3, "unconfirmed rows stay pending");
    assert_eq!(
        rig.broker.ready(&rig.queue).await,
        0,
        "nothing reached the broker"
    );

    proxy.thaw();
    let got = rig.take_exactly(3).await;
    assert_eq!(message_ids(&got), expected, "in order, once each");
    rig.wait_pending(0).await;
    relay.stop().await;
    rig.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_go_on_while_the_broker_is_down_and_drain_in_order_when_it_is_back() {
    let rig = Rig::new("rt_relay_outage").await;
    let proxy = TcpProxy::start(testkit::amqp_addr(), true).await;
    let relay = rig.start(&proxy.amqp_url(), 200).await;
    let before = rig.write(1..=5).await;
    assert_eq!(message_ids(&rig.take_exactly(5).await), before);
    rig.wait_pending(0).await;

    proxy.cut();
    relay.wait_connected(false).await;
    let during = rig.write(6..=45).await;
    // Retrying to connect meanwhile (every 0.3 s at most here), and marking nothing: two
    // more tries turned away after the writes, so at least one whole pass of the loop
    // began after they were committed.
    let tried = proxy.turned_away();
    testkit::eventually(WAIT, "two more tries to reconnect", || async {
        seen(proxy.turned_away(), |n| *n >= tried + 2)
    })
    .await;
    assert_eq!(rig.pending().await, 40, "all kept while the broker is away");

    proxy.restore();
    let got = rig.take_exactly(40).await;
    assert_eq!(
        message_ids(&got),
        during,
        "drained in commit order, once each"
    );
    rig.wait_pending(0).await;
    relay.stop().await;
    rig.cleanup().await;
}

/// Three API replicas' relays on one outbox: one publishes (the holder of the leader lock),
/// so every row reaches the queue once, in commit order, although all three were started on
/// the same pending rows. Without the election each would publish all of them.
#[tokio::test(flavor = "multi_thread")]
async fn replicas_relays_publish_each_row_once_in_order() {
    let rig = Rig::new("rt_relay_replicas").await;
    let mut expected = rig.write(1..=23).await;
    let relays = [
        rig.start(&testkit::amqp_url(), 5).await,
        rig.start(&testkit::amqp_url(), 5).await,
        rig.start(&testkit::amqp_url(), 5).await,
    ];
    expected.extend(rig.write(24..=60).await);
    let got = rig.broker.take(&rig.queue, expected.len(), WAIT).await;
    assert_eq!(message_ids(&got), expected, "once each, in commit order");
    rig.take_exactly(0).await;
    rig.wait_pending(0).await;
    for relay in relays {
        relay.stop().await;
    }
    rig.cleanup().await;
}

/// The leader's process dies (its task is dropped mid-run, as a SIGKILL drops its
/// connections): MariaDB frees the lock with its connection, and the standby publishes
/// what comes next, within its poll. Then the standby stops cleanly and a third relay
/// takes over from it.
#[tokio::test(flavor = "multi_thread")]
async fn a_standby_takes_over_when_the_leader_dies() {
    let rig = Rig::new("rt_relay_takeover").await;
    let leader = rig.start(&testkit::amqp_url(), 200).await;
    let first = rig.write(1..=5).await;
    assert_eq!(message_ids(&rig.take_exactly(5).await), first);
    let standby = rig.start(&testkit::amqp_url(), 200).await;
    standby.wait_connected(true).await;

    leader.task.abort();
    let _ = leader.task.await;
    let second = rig.write(6..=10).await;
    assert_eq!(
        message_ids(&rig.take_exactly(5).await),
        second,
        "the standby took over"
    );
    rig.wait_pending(0).await;

    let third = rig.start(&testkit::amqp_url(), 200).await;
    third.wait_connected(true).await;
    standby.stop().await;
    let last = rig.write(11..=15).await;
    assert_eq!(message_ids(&rig.take_exactly(5).await), last);
    rig.wait_pending(0).await;
    third.stop().await;
    rig.cleanup().await;
}
