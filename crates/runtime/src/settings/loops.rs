//! How the outbox relay and the consumer loop work.

use std::time::Duration;

use crate::config::{ConfigError, Env};

/// How the outbox relay works.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    /// Fallback poll when no commit woke the relay.
    pub poll_interval: Duration,
    pub batch_size: u32,
    /// How long published rows are kept before they are purged.
    pub retention: Duration,
    /// How often the relay's leader purges them (`PURGE_INTERVAL_SECS`).
    pub purge_interval: Duration,
}

/// How often each purge of old rows runs: `PURGE_INTERVAL_SECS` (default 3600, hourly;
/// from 1 s to a day). Shorter only for a soak that must see every purge run
/// (scripts/soak.sh); each purge deletes at most 10,000 rows a run.
pub fn purge_interval(env: &Env) -> Result<Duration, ConfigError> {
    let secs: u64 = env.parse("PURGE_INTERVAL_SECS", 3600)?;
    if !(1..=86_400).contains(&secs) {
        return Err(ConfigError::new(
            "PURGE_INTERVAL_SECS",
            "must be between 1 and 86400",
        ));
    }
    Ok(Duration::from_secs(secs))
}

/// A retention given in seconds (`name`, e.g. `PROCESSED_RETENTION_SECS`) in place of its
/// setting in days or hours: `None` when unset; at least `min_secs`.
pub fn retention_secs(
    env: &Env,
    name: &str,
    min_secs: u64,
) -> Result<Option<Duration>, ConfigError> {
    if env.string(name, "").trim().is_empty() {
        return Ok(None);
    }
    let secs: u64 = env.parse(name, 0)?;
    if secs < min_secs {
        return Err(ConfigError::new(
            name,
            format!("must be at least {min_secs}"),
        ));
    }
    Ok(Some(Duration::from_secs(secs)))
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
            purge_interval: purge_interval(env)?,
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
    /// How long processed message ids are remembered for de-duplication
    /// (`PROCESSED_RETENTION_DAYS`, or `PROCESSED_RETENTION_SECS` when set, at least 60).
    pub processed_retention: Duration,
    /// How often they are purged (`PURGE_INTERVAL_SECS`).
    pub purge_interval: Duration,
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
            processed_retention: retention_secs(env, "PROCESSED_RETENTION_SECS", 60)?
                .unwrap_or(Duration::from_secs(days * 86_400)),
            purge_interval: purge_interval(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purges_run_hourly_unless_told_and_retention_may_be_in_seconds() {
        let outbox = OutboxSettings::from_env(&Env::default()).unwrap();
        let consumer = ConsumerSettings::from_env(&Env::default()).unwrap();
        assert_eq!(outbox.purge_interval, Duration::from_secs(3600));
        assert_eq!(outbox.retention, Duration::from_secs(168 * 3600));
        assert_eq!(consumer.purge_interval, Duration::from_secs(3600));
        assert_eq!(
            consumer.processed_retention,
            Duration::from_secs(30 * 86_400)
        );
        let env = Env::from_pairs([
            ("PURGE_INTERVAL_SECS", "5"),
            ("PROCESSED_RETENTION_DAYS", "2"),
            ("PROCESSED_RETENTION_SECS", "90"),
            ("OUTBOX_RETENTION_HOURS", "0"),
        ]);
        let outbox = OutboxSettings::from_env(&env).unwrap();
        let consumer = ConsumerSettings::from_env(&env).unwrap();
        assert_eq!(outbox.purge_interval, Duration::from_secs(5));
        assert_eq!(outbox.retention, Duration::ZERO);
        assert_eq!(consumer.purge_interval, Duration::from_secs(5));
        assert_eq!(consumer.processed_retention, Duration::from_secs(90));
        let blank = Env::from_pairs([("PROCESSED_RETENTION_SECS", " ")]);
        assert_eq!(
            retention_secs(&blank, "PROCESSED_RETENTION_SECS", 60).unwrap(),
            None
        );
    }
}
