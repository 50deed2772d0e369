//! What the runtime's in-process tests of the consumer and the relay share: a fresh database
//! with the runtime's schema, settings with short timeouts, a look at queues, and a proxy
//! that can freeze the broker without closing anything.
#![allow(clippy::unwrap_used, dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lapin::Confirmation;
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use shop_runtime::Env;
use shop_runtime::settings::{AmqpSettings, DatabaseSettings};
use sqlx::MySqlPool;
use testkit::TestDatabase;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, watch};

/// A pool on a new database holding the runtime's tables (and nothing else), created here.
pub async fn database(prefix: &str) -> (TestDatabase, MySqlPool) {
    let db = TestDatabase::named(prefix);
    let pool = pool(&db, None).await;
    shop_runtime::migrations::RUNTIME.run(&pool).await.unwrap();
    (db, pool)
}

/// A pool on `db`, through `via` (a proxy in front of the MySQL server) when given.
pub async fn pool(db: &TestDatabase, via: Option<SocketAddr>) -> MySqlPool {
    let url = db.url();
    let env = Env::from_pairs([
        ("DATABASE_URL", url.as_str()),
        ("DB_MAX_CONNECTIONS", "4"),
        ("DB_ACQUIRE_TIMEOUT_MS", "2000"),
    ]);
    let mut settings = DatabaseSettings::from_env(&env, "unused").unwrap();
    if let Some(addr) = via {
        settings.options = settings
            .options
            .host(&addr.ip().to_string())
            .port(addr.port());
    }
    shop_runtime::db::connect(&settings, Duration::from_secs(10))
        .await
        .unwrap()
}

/// Broker settings for `url` with timeouts short enough for tests.
pub fn amqp(url: &str) -> AmqpSettings {
    AmqpSettings::from_env(
        &Env::from_pairs([
            ("AMQP_URL", url),
            ("AMQP_CONNECT_TIMEOUT_MS", "1000"),
            ("AMQP_PUBLISH_TIMEOUT_MS", "1000"),
            ("AMQP_RECONNECT_MAX_MS", "300"),
        ]),
        // Queue names come from the tests, not from a service's defaults.
        &shop_runtime::settings::MAIN_CONSUMER,
    )
    .unwrap()
}

/// A message read off a queue.
#[derive(Debug)]
pub struct Taken {
    pub properties: BasicProperties,
    pub body: Vec<u8>,
}

impl Taken {
    pub fn message_id(&self) -> String {
        self.properties
            .message_id()
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default()
    }
}

impl Taken {
    /// Why this message was dead-lettered: the consumer's reason
    /// (`shop_runtime::dead_letters::REASON_HEADER`), else the broker's (`x-death`'s first
    /// `reason`: `rejected` when a consumer rejected it, `delivery_limit` when it came back
    /// too often).
    pub fn death_reason(&self) -> Option<String> {
        let letter = shop_runtime::dead_letters::DeadLetter::read(&self.properties, &self.body);
        if letter.reason != "unknown" {
            return Some(letter.reason);
        }
        let headers = self.properties.headers().as_ref()?;
        let AMQPValue::FieldArray(deaths) = headers.inner().get("x-death")? else {
            return None;
        };
        let AMQPValue::FieldTable(first) = deaths.as_slice().first()? else {
            return None;
        };
        match first.inner().get("reason")? {
            AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
            AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
            _ => None,
        }
    }
}

/// A connection of the test's own to the broker (direct, never through a test's proxy),
/// opened again when the broker closed it.
pub struct Broker {
    conn: Mutex<Connection>,
    /// The one channel every publish goes out on, in confirm mode: messages published one
    /// after another reach their queue in that order (on separate channels they can overtake
    /// each other), and each is on the queue when `publish` returns.
    publisher: Mutex<Option<lapin::Channel>>,
}

impl Broker {
    pub async fn connect() -> Self {
        Broker {
            conn: Mutex::new(Self::connection().await),
            publisher: Mutex::new(None),
        }
    }

    async fn connection() -> Connection {
        Connection::connect(&testkit::amqp_url(), ConnectionProperties::default())
            .await
            .unwrap()
    }

    /// A channel of its own for each call: a broker error closes only that one. A quorum
    /// queue being declared (by the code under test, while the test already reads it)
    /// answers `basic.get` with `noproc` for a moment, an error that closes the whole
    /// connection: then the connection is opened again.
    async fn channel(&self) -> lapin::Channel {
        let mut conn = self.conn.lock().await;
        if conn.status().connected()
            && let Ok(channel) = conn.create_channel().await
        {
            return channel;
        }
        *conn = Self::connection().await;
        conn.create_channel().await.unwrap()
    }

    /// Declares `queue` and its dead-letter queue as the services do.
    pub async fn declare(&self, queue: &str) {
        shop_runtime::amqp::declare_queue(&self.channel().await, queue, Duration::from_secs(10))
            .await
            .unwrap();
    }

    /// Publishes on the default exchange, as any producer would, and waits for the broker's
    /// confirm: the message is on `queue`, after every message published before it.
    pub async fn publish(&self, queue: &str, properties: BasicProperties, body: &[u8]) {
        let mut publisher = self.publisher.lock().await;
        if !publisher.as_ref().is_some_and(|c| c.status().connected()) {
            let channel = self.channel().await;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .unwrap();
            *publisher = Some(channel);
        }
        let confirm = publisher
            .as_ref()
            .unwrap()
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                body,
                properties,
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(
            matches!(confirm, Confirmation::Ack(None)),
            "the broker took the message for {queue}: {confirm:?}"
        );
    }

    /// Messages ready on `queue` (neither delivered nor being processed) and its consumers;
    /// `None` when the broker cannot say right now.
    pub async fn try_counts(&self, queue: &str) -> Option<(u32, u32)> {
        let channel = self.channel().await;
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let q = channel
            .queue_declare(queue.into(), passive, FieldTable::default())
            .await
            .ok()?;
        let _ = channel.close(200, "done".into()).await;
        Some((q.message_count(), q.consumer_count()))
    }

    /// Messages ready on `queue`; `None` when the broker cannot say right now.
    pub async fn try_ready(&self, queue: &str) -> Option<u32> {
        self.try_counts(queue).await.map(|(ready, _)| ready)
    }

    pub async fn ready(&self, queue: &str) -> u32 {
        self.try_ready(queue).await.unwrap()
    }

    /// Waits until `queue` has exactly `n` ready messages.
    pub async fn wait_ready(&self, queue: &str, n: u32, timeout: Duration) {
        testkit::eventually(timeout, &format!("{n} ready on {queue}"), || async {
            testkit::seen(self.try_ready(queue).await, |r| *r == Some(n))
        })
        .await;
    }

    /// Waits until `queue` has no consumer left, then returns its ready messages. A consumer
    /// that stopped is gone from the queue's count only once the broker has handled its
    /// channel's closing, and that returned what it held unacked (a quorum queue counts a
    /// cancelled consumer until its unacked messages are settled or returned): the count
    /// then is final, with no wait for a message that might still come back.
    pub async fn ready_once_unconsumed(&self, queue: &str, timeout: Duration) -> u32 {
        let (ready, _) =
            testkit::eventually(timeout, &format!("no consumer on {queue}"), || async {
                testkit::seen(self.try_counts(queue).await, |c| matches!(c, Some((_, 0))))
            })
            .await
            .unwrap();
        ready
    }

    /// Takes (and acks) up to `n` messages, waiting at most `timeout` for them.
    pub async fn take(&self, queue: &str, n: usize, timeout: Duration) -> Vec<Taken> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut out = Vec::new();
        while out.len() < n && tokio::time::Instant::now() < deadline {
            let channel = self.channel().await;
            loop {
                if out.len() >= n || tokio::time::Instant::now() >= deadline {
                    break;
                }
                match channel
                    .basic_get(queue.into(), BasicGetOptions::default())
                    .await
                {
                    Ok(Some(msg)) => {
                        msg.delivery.ack(BasicAckOptions::default()).await.unwrap();
                        out.push(Taken {
                            properties: msg.delivery.properties.clone(),
                            body: msg.delivery.data.clone(),
                        });
                    }
                    Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
                    // Closed by the broker (`noproc` after a re-declare): a new channel.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        break;
                    }
                }
            }
        }
        out
    }

    /// Deletes `queue` and its dead-letter queue.
    pub async fn delete(&self, queue: &str) {
        let channel = self.channel().await;
        for q in [
            queue.to_owned(),
            shop_runtime::amqp::dead_letter_queue(queue),
        ] {
            let _ = channel
                .queue_delete(q.as_str().into(), Default::default())
                .await;
        }
    }
}

/// A TCP proxy that can go silent: frozen, it forwards nothing and closes nothing, and
/// holds new connections unanswered, as a broker host that stopped answering would. Thawed,
/// it drops what it held and forwards new connections again.
pub struct FreezingProxy {
    pub addr: SocketAddr,
    frozen: watch::Sender<bool>,
    /// Connections that may still forward: [`FreezingProxy::freeze`] waits until none does.
    forwarding: Arc<AtomicUsize>,
}

impl FreezingProxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (frozen, _) = watch::channel(false);
        let forwarding = Arc::new(AtomicUsize::new(0));
        let (state, count) = (frozen.clone(), forwarding.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let mut frozen = state.subscribe();
                let forwarding = count.clone();
                forwarding.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let frozen_now = *frozen.borrow_and_update();
                    if frozen_now {
                        forwarding.fetch_sub(1, Ordering::SeqCst);
                        // Held unanswered until the thaw, then dropped.
                        let _ = frozen.wait_for(|f| !*f).await;
                        return;
                    }
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        forwarding.fetch_sub(1, Ordering::SeqCst);
                        return;
                    };
                    let went_silent = tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => false,
                        r = frozen.wait_for(|f| *f) => r.is_ok(),
                    };
                    forwarding.fetch_sub(1, Ordering::SeqCst);
                    if went_silent {
                        // Both sockets open, nothing forwarded, until the thaw.
                        let _ = frozen.wait_for(|f| !*f).await;
                    }
                });
            }
        });
        FreezingProxy {
            addr,
            frozen,
            forwarding,
        }
    }

    /// Goes silent, and returns once no connection forwards anything any more: a connection
    /// task that has not seen the freeze yet (a busy machine) would still pass on what the
    /// client sends next.
    pub async fn freeze(&self) {
        self.frozen.send_replace(true);
        testkit::eventually(
            Duration::from_secs(10),
            "every connection silent",
            || async { testkit::seen(self.forwarding.load(Ordering::SeqCst), |n| *n == 0) },
        )
        .await;
    }

    pub fn thaw(&self) {
        self.frozen.send_replace(false);
    }

    /// An AMQP URL through this proxy.
    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@{}/%2f", self.addr)
    }
}

/// The value of one series in the process's `/metrics` text, 0 when absent.
pub fn metric_value(series: &str) -> f64 {
    let text = shop_runtime::metrics::handle().render();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}
