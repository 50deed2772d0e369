//! Where and how to talk to RabbitMQ, and how the outbox relay and the consumer work.

use std::fmt;
use std::path::PathBuf;
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
    /// CAs to trust for `amqps://` besides the system's (`AMQP_CA_FILE`).
    pub ca: Option<CaFile>,
}

/// A PEM file of CA certificates, read at start so that a bad path stops the process.
#[derive(Clone)]
pub struct CaFile {
    pub path: PathBuf,
    pub pem: String,
}

impl fmt::Debug for CaFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CaFile").field(&self.path).finish()
    }
}

impl CaFile {
    /// Reads `path`, named by variable `var`; it must hold at least one PEM certificate.
    pub fn read(var: &str, path: &str) -> Result<Self, ConfigError> {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(var, format!("cannot read {path:?}: {e}")))?;
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(ConfigError::new(
                var,
                format!("{path:?} holds no PEM certificate"),
            ));
        }
        Ok(CaFile {
            path: PathBuf::from(path),
            pem,
        })
    }
}

/// `url` checked and with a heartbeat, unless it sets its own; the reason when it is not an
/// AMQP URL (never quoting it: it holds the password).
fn broker_url(url: &str, heartbeat: u16) -> Result<String, &'static str> {
    let url = url.trim();
    if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
        return Err(
            "must start with amqp:// or amqps:// (for example amqp://guest:guest@127.0.0.1:5672/%2f)",
        );
    }
    // Heartbeats find a dead peer (a broker host gone without closing the socket) within
    // seconds instead of the kernel's TCP timeout. A URL that sets its own wins.
    if url.contains("heartbeat=") {
        return Ok(url.to_owned());
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}heartbeat={heartbeat}"))
}

impl AmqpSettings {
    pub fn from_env(env: &Env, defaults: &ServiceDefaults) -> Result<Self, ConfigError> {
        let heartbeat: u16 = env.parse("AMQP_HEARTBEAT_SECS", 10)?;
        let url = broker_url(
            &env.string("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f"),
            heartbeat,
        )
        .map_err(|reason| ConfigError::new("AMQP_URL", reason))?;
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
            ca: env
                .get("AMQP_CA_FILE")
                .map(|path| CaFile::read("AMQP_CA_FILE", path.trim()))
                .transpose()?,
        })
    }

    /// Replaces the broker URL (with one from a secret); the reason when it is not an AMQP
    /// URL.
    pub fn set_url(&mut self, url: &str, env: &Env) -> Result<(), String> {
        let heartbeat: u16 = env
            .parse("AMQP_HEARTBEAT_SECS", 10)
            .map_err(|e| e.to_string())?;
        self.url = Secret::new(broker_url(url, heartbeat)?);
        Ok(())
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
            poll_interval: env.millis("OUTBOX_POLL_INTERVAL_MS", 100, 10)?,
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
    /// Deliveries applied in one database transaction at most (`CONSUMER_BATCH_SIZE`,
    /// default 100; 1 applies each on its own). A batch is what has arrived, never a wait.
    pub batch_size: usize,
    /// How long processed message ids are remembered for de-duplication.
    pub processed_retention: Duration,
}

impl ConsumerSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let prefetch: u16 = env.parse("CONSUMER_PREFETCH", 200)?;
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
        let batch_size: usize = env.parse("CONSUMER_BATCH_SIZE", 100)?;
        if !(1..=1000).contains(&batch_size) {
            return Err(ConfigError::new(
                "CONSUMER_BATCH_SIZE",
                "must be between 1 and 1000",
            ));
        }
        Ok(ConsumerSettings {
            prefetch,
            batch_size,
            processed_retention: Duration::from_secs(days * 86_400),
        })
    }
}
