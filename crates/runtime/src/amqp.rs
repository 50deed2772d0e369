//! The broker connection and the queue topology both services declare identically.
//!
//! Every queue is a durable quorum queue that dead-letters into `<queue>.dead-letter`
//! (through the default exchange) once a message is rejected or has been delivered
//! [`DELIVERY_LIMIT`] times. Publisher and consumer both declare it, with the same
//! arguments, so whichever starts first creates it and nothing published is unroutable.

use std::time::Duration;

use lapin::options::{ConfirmSelectOptions, QueueDeclareOptions};
use lapin::tcp::OwnedTLSConfig;
use lapin::types::{AMQPValue, FieldTable, LongString};
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
/// of `AMQP_CA_FILE`, and name the URL's host.
pub async fn connect(settings: &AmqpSettings, name: &str) -> Result<Connection, AmqpError> {
    let properties = ConnectionProperties::default().with_connection_name(LongString::from(name));
    let tls = OwnedTLSConfig {
        identity: None,
        cert_chain: settings.ca.as_ref().map(|ca| ca.pem.clone()),
    };
    let runtime = lapin::runtime::default_runtime()?;
    within(
        settings.connect_timeout,
        Connection::connect_with_config(settings.url.expose(), properties, tls, runtime),
    )
    .await
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
