//! The broker: where it is, and a reader that takes messages off a queue.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use lapin::message::BasicGetMessage;
use lapin::options::{BasicAckOptions, BasicGetOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};

use crate::urls;

const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// The broker tests use: `AMQP_URL`, or the local RabbitMQ.
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// The address of the broker tests use, from `AMQP_URL`, for proxies in front of it.
pub fn amqp_addr() -> SocketAddr {
    urls::socket_addr(&amqp_url(), "AMQP_URL", 5672)
}

/// A channel of `conn` in publisher-confirm mode.
async fn confirm_channel(conn: &Connection) -> Result<lapin::Channel, lapin::Error> {
    let channel = conn.create_channel().await?;
    channel
        .confirm_select(lapin::options::ConfirmSelectOptions::default())
        .await?;
    Ok(channel)
}

/// Reads messages off a queue with `basic.get`, acking each; publishes in order.
pub struct QueueReader {
    // Held so the connection lives as long as the reader.
    _conn: Connection,
    channel: lapin::Channel,
    /// In confirm mode: each publish is on its queue, after the ones before it, when
    /// [`QueueReader::publish`] returns.
    publisher: lapin::Channel,
}

impl QueueReader {
    pub async fn connect() -> Self {
        Self::connect_to(&amqp_url()).await
    }

    pub async fn connect_to(url: &str) -> Self {
        let conn = Connection::connect(url, ConnectionProperties::default())
            .await
            .unwrap();
        let channel = conn.create_channel().await.unwrap();
        let publisher = confirm_channel(&conn).await.unwrap();
        QueueReader {
            _conn: conn,
            channel,
            publisher,
        }
    }

    /// [`QueueReader::connect_to`], `None` when the broker does not answer within 5 s.
    pub async fn try_connect_to(url: &str) -> Option<Self> {
        let connect = Connection::connect(url, ConnectionProperties::default());
        let conn = tokio::time::timeout(Duration::from_secs(5), connect)
            .await
            .ok()?
            .ok()?;
        let channel = conn.create_channel().await.ok()?;
        let publisher = confirm_channel(&conn).await.ok()?;
        Some(QueueReader {
            _conn: conn,
            channel,
            publisher,
        })
    }

    /// Messages in `queue`: ready ones (`message_count` of a passive declare; unacked ones
    /// are not counted) and consumers.
    pub async fn counts(&self, queue: &str) -> Result<(u32, u32), lapin::Error> {
        let q = self
            .channel
            .queue_declare(
                queue.into(),
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await?;
        Ok((q.message_count(), q.consumer_count()))
    }

    /// Declares `queue` (and its dead-letter queue) exactly as the services do.
    pub async fn declare(&self, queue: &str) {
        shop_runtime::amqp::declare_queue(&self.channel, queue, Duration::from_secs(10))
            .await
            .unwrap();
    }

    /// Waits until `n` messages were read from `queue`, or `timeout` passed.
    pub async fn take(&self, queue: &str, n: usize, timeout: Duration) -> Vec<BasicGetMessage> {
        self.try_take(queue, n, timeout).await.unwrap()
    }

    /// [`QueueReader::take`], returning the broker's error instead of panicking.
    pub async fn try_take(
        &self,
        queue: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<BasicGetMessage>, lapin::Error> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        while out.len() < n && Instant::now() < deadline {
            let got = self
                .channel
                .basic_get(queue.into(), BasicGetOptions::default())
                .await?;
            match got {
                Some(msg) => {
                    msg.delivery.ack(BasicAckOptions::default()).await?;
                    out.push(msg);
                }
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        Ok(out)
    }

    /// Publishes raw bytes with the given properties on the default exchange, as any
    /// producer (the original Python ones included) would, and waits for the broker's
    /// confirm: the message is on `queue` when this returns, after every message this
    /// reader published before it.
    pub async fn publish(&self, queue: &str, properties: lapin::BasicProperties, body: &[u8]) {
        let confirm = self
            .publisher
            .basic_publish(
                "".into(),
                queue.into(),
                lapin::options::BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                body,
                properties,
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(
            matches!(confirm, lapin::Confirmation::Ack(None)),
            "the broker took the message for {queue}: {confirm:?}"
        );
    }

    /// Deletes `queue`, its dead-letter queue and its change-notice exchange
    /// (`shop_runtime::lists::feed::exchange`).
    pub async fn delete_queues(&self, queue: &str) {
        for q in [
            queue.to_owned(),
            shop_runtime::amqp::dead_letter_queue(queue),
        ] {
            let _ = self
                .channel
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        let exchange = shop_runtime::lists::feed::exchange(queue);
        let _ = self
            .channel
            .exchange_delete(exchange.as_str().into(), Default::default())
            .await;
    }
}
