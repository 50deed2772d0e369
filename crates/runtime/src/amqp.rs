//! The broker connection and the queue topology both services declare identically.
//!
//! Every queue is a durable quorum queue that dead-letters into `<queue>.dead-letter`
//! (through the default exchange) once a message is rejected or has been delivered
//! [`DELIVERY_LIMIT`] times. Publisher and consumer both declare it, with the same
//! arguments, so whichever starts first creates it and nothing published is unroutable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lapin::options::{ConfirmSelectOptions, QueueDeclareOptions};
use lapin::tcp::OwnedTLSConfig;
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::uri::AMQPUri;
use lapin::{Channel, Connection, ConnectionProperties};

use crate::settings::AmqpSettings;

/// Deliveries of one message before the broker dead-letters it.
pub const DELIVERY_LIMIT: i64 = 5;

/// Name of the dead-letter queue of `queue`.
pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dead-letter")
}

#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    #[error("broker did not answer within {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Lapin(#[from] lapin::Error),
    #[error("the broker ended the {0}")]
    Ended(&'static str),
    #[error("AMQP_URL is not a valid AMQP URL")]
    BadUrl,
}

/// Bounds a broker call: lapin calls can hang on a dead peer.
pub async fn within<T>(
    limit: Duration,
    fut: impl Future<Output = Result<T, lapin::Error>>,
) -> Result<T, AmqpError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(result) => result.map_err(AmqpError::from),
        Err(_) => Err(AmqpError::Timeout(limit)),
    }
}

/// Opens one long-lived connection, named after the service in the broker's UI. An
/// `amqps://` URL is TLS: the broker's certificate must chain to a CA of the system's or
/// of `AMQP_CA_FILE`, and name the URL's host (each address's host, with `AMQP_ADDRESSES`).
///
/// With `AMQP_ADDRESSES` the nodes are tried in turn, each within the connect timeout,
/// starting one further along the list at every call from an offset chosen at random per
/// process: replicas spread over the cluster, and a reconnection after a node went away
/// tries another node first. The first node that accepts wins; the last error is returned
/// when none does.
pub async fn connect(settings: &AmqpSettings, name: &str) -> Result<Connection, AmqpError> {
    let properties = ConnectionProperties::default().with_connection_name(LongString::from(name));
    let tls = OwnedTLSConfig {
        identity: None,
        cert_chain: settings.ca.as_ref().map(|ca| ca.pem.clone()),
    };
    let runtime = lapin::runtime::default_runtime()?;
    // With `AMQP_ADDRESSES` it was checked when the settings were read; without, a URL
    // that does not parse fails here, as it failed in lapin before.
    let uri: AMQPUri = settings
        .url
        .expose()
        .parse()
        .map_err(|_| AmqpError::BadUrl)?;
    let uri = with_frame_max(uri);
    if settings.addresses.is_empty() {
        return within(
            settings.connect_timeout,
            Connection::connect_uri_with_config(uri, properties, tls, runtime),
        )
        .await;
    }
    let n = settings.addresses.len();
    let start = next_offset() % n;
    let mut last = None;
    for address in settings.addresses.iter().cycle().skip(start).take(n) {
        let mut uri = uri.clone();
        uri.authority.host.clone_from(&address.host);
        uri.authority.port = address.port;
        let attempt = within(
            settings.connect_timeout,
            Connection::connect_uri_with_config(
                uri,
                properties.clone(),
                tls.clone(),
                runtime.clone(),
            ),
        )
        .await;
        match attempt {
            Ok(conn) => {
                tracing::info!(connection = name, broker = %address, "connected to broker node");
                return Ok(conn);
            }
            Err(e) => {
                tracing::warn!(connection = name, broker = %address, error = %e, "broker node unreachable, trying the next");
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or(AmqpError::BadUrl))
}

/// The largest frame a connection asks the broker for, unless the URL's `frame_max` says
/// otherwise. lapin keeps 32 frames of buffer each way per connection, filled when the
/// connection opens: at RabbitMQ's default of 128 KiB that was 8 MiB resident per
/// connection, two connections per process (docs/performance.md, "Memory"); at 16 KiB it is
/// 1 MiB. The messages are events of a few hundred bytes; a larger body is split into frames
/// by the protocol, and the properties frame (headers included) must fit in one.
pub const FRAME_MAX: u32 = 16 * 1024;

/// `uri` with [`FRAME_MAX`] unless it names its own `frame_max`.
fn with_frame_max(mut uri: AMQPUri) -> AMQPUri {
    uri.query.frame_max.get_or_insert(FRAME_MAX);
    uri
}

/// Where the next [`connect`] starts in the address list: a per-process random offset,
/// advanced by one at every call.
fn next_offset() -> usize {
    static NEXT: std::sync::OnceLock<std::sync::atomic::AtomicUsize> = std::sync::OnceLock::new();
    NEXT.get_or_init(|| {
        let seed = uuid::Uuid::new_v4().as_u128() as usize;
        std::sync::atomic::AtomicUsize::new(seed % 1024)
    })
    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A channel in publisher-confirm mode.
pub async fn confirm_channel(conn: &Connection, limit: Duration) -> Result<Channel, AmqpError> {
    let channel = within(limit, conn.create_channel()).await?;
    within(
        limit,
        channel.confirm_select(ConfirmSelectOptions::default()),
    )
    .await?;
    Ok(channel)
}

/// Declares `queue` and its dead-letter queue.
pub async fn declare_queue(
    channel: &Channel,
    queue: &str,
    limit: Duration,
) -> Result<(), AmqpError> {
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    let dlq = dead_letter_queue(queue);
    let mut dlq_args = FieldTable::default();
    dlq_args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    within(
        limit,
        channel.queue_declare(dlq.as_str().into(), durable, dlq_args),
    )
    .await?;

    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString("".into()),
    );
    args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(dlq.as_str().into()),
    );
    args.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongLongInt(DELIVERY_LIMIT),
    );
    within(limit, channel.queue_declare(queue.into(), durable, args)).await?;
    Ok(())
}

/// Whether this process's long-lived broker connection is up; set by its owner (the outbox
/// relay or the consumer), read by the health endpoint and shown as
/// `amqp_connected{component}`.
#[derive(Debug, Clone)]
pub struct BrokerStatus {
    connected: Arc<AtomicBool>,
    component: &'static str,
}

impl BrokerStatus {
    /// Not connected yet; `component` (`relay`, `consumer`) labels the gauge.
    pub fn new(component: &'static str) -> Self {
        let status = BrokerStatus {
            connected: Arc::default(),
            component,
        };
        status.set(false);
        status
    }

    pub fn set(&self, connected: bool) {
        self.connected.store(connected, Ordering::Relaxed);
        crate::metrics::catalog::AMQP_CONNECTED
            .set([self.component], f64::from(u8::from(connected)));
    }

    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_small_unless_the_url_says_otherwise() {
        let uri: AMQPUri = "amqp://guest:guest@127.0.0.1:5672/%2f".parse().unwrap();
        assert_eq!(with_frame_max(uri).query.frame_max, Some(FRAME_MAX));
        let uri: AMQPUri = "amqp://127.0.0.1/%2f?frame_max=131072".parse().unwrap();
        assert_eq!(with_frame_max(uri).query.frame_max, Some(131_072));
    }
}
