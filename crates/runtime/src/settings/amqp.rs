//! Where and how to talk to RabbitMQ, and how the outbox relay and the consumer work.

use std::time::Duration;

use super::{ConfigError, Env, Secret, ServiceDefaults};

/// Where and how to talk to RabbitMQ.
#[derive(Debug, Clone)]
pub struct AmqpSettings {
    pub url: Secret<String>,
    pub connect_timeout: Duration,
    /// Bound on one publish and its confirm.
    pub publish_timeout: Duration,
    /// Cap of the exponential backoff between reconnection attempts.
    pub reconnect_max: Duration,
    /// The queue this service's outbox relay publishes to (the other service consumes it).
    pub publish_queue: String,
    /// The queue this service's consumer takes its events from.
    pub consume_queue: String,
}

impl AmqpSettings {
    pub fn from_env(env: &Env, defaults: &ServiceDefaults) -> Result<Self, ConfigError> {
        let url = env.string("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f");
        if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
            return Err(ConfigError::new(
                "AMQP_URL",
                "must start with amqp:// (for example amqp://guest:guest@127.0.0.1:5672/%2f)",
            ));
        }
        // Heartbeats find a dead peer (a broker host gone without closing the socket) within
        // seconds instead of the kernel's TCP timeout. A URL that sets its own wins.
        let heartbeat: u16 = env.parse("AMQP_HEARTBEAT_SECS", 10)?;
        let url = if url.contains("heartbeat=") {
            url
        } else {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}heartbeat={heartbeat}")
        };
        let queue = |name: &str, default: &str| -> Result<String, ConfigError> {
            let q = env.string(name, default);
            if q.len() > 200 || q.starts_with("amq.") {
                return Err(ConfigError::new(
                    name,
                    "a queue name is at most 200 characters and may not start with amq.",
                ));
            }
            Ok(q)
        };
        Ok(AmqpSettings {
            url: Secret::new(url),
            connect_timeout: env.millis("AMQP_CONNECT_TIMEOUT_MS", 5_000, 1)?,
            publish_timeout: env.millis("AMQP_PUBLISH_TIMEOUT_MS", 5_000, 1)?,
            reconnect_max: env.millis("AMQP_RECONNECT_MAX_MS", 10_000, 10)?,
            publish_queue: queue(defaults.publishes_to.var, defaults.publishes_to.default)?,
            consume_queue: queue(defaults.consumes.var, defaults.consumes.default)?,
        })
    }
}

/// How the outbox relay works.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    /// Fallback poll when no commit woke the relay.
    pub poll_interval: Duration,
    pub batch_size: u32,
    /// How long published rows are kept before they are purged.
    pub retention: Duration,
}

impl OutboxSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let batch_size: u32 = env.parse("OUTBOX_BATCH_SIZE", 200)?;
        if !(1..=10_000).contains(&batch_size) {
            return Err(ConfigError::new(
                "OUTBOX_BATCH_SIZE",
                "must be between 1 and 10000",
            ));
        }
        let retention_hours: u64 = env.parse("OUTBOX_RETENTION_HOURS", 168)?;
        Ok(OutboxSettings {
            poll_interval: env.millis("OUTBOX_POLL_INTERVAL_MS", 1_000, 10)?,
            batch_size,
            retention: Duration::from_secs(retention_hours * 3600),
        })
    }
}

/// How a consumer takes messages.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Unacknowledged deliveries the broker may push ahead of the one in hand.
    pub prefetch: u16,
    /// How long processed message ids are remembered for de-duplication.
    pub processed_retention: Duration,
}

impl ConsumerSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let prefetch: u16 = env.parse("CONSUMER_PREFETCH", 16)?;
        if !(1..=1000).contains(&prefetch) {
            return Err(ConfigError::new(
                "CONSUMER_PREFETCH",
                "must be between 1 and 1000",
            ));
        }
        let days: u64 = env.parse("PROCESSED_RETENTION_DAYS", 30)?;
        if days == 0 {
            return Err(ConfigError::new(
                "PROCESSED_RETENTION_DAYS",
                "must be at least 1",
            ));
        }
        Ok(ConsumerSettings {
            prefetch,
            processed_retention: Duration::from_secs(days * 86_400),
        })
    }
}
