//! Typed settings read from the environment, validated at start.
//!
//! Every variable has a default in code; a value that is present but bad stops the process
//! with a message naming the variable. Secrets are wrapped so they never print.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::MySqlConnectOptions;

/// A bad configuration value; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("configuration variable {name}: {reason}")]
pub struct ConfigError {
    pub name: String,
    pub reason: String,
}

impl ConfigError {
    fn new(name: &str, reason: impl fmt::Display) -> Self {
        ConfigError {
            name: name.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// A value that must never appear in a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A snapshot of environment variables. Empty values count as unset.
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Env(std::env::vars().collect())
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env(pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    pub fn string(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or(default).trim().to_owned()
    }

    pub fn parse<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e| ConfigError::new(name, format!("{e} (got {raw:?})"))),
        }
    }

    /// A duration in milliseconds, at least `min_ms`.
    pub fn millis(
        &self,
        name: &str,
        default_ms: u64,
        min_ms: u64,
    ) -> Result<Duration, ConfigError> {
        let ms: u64 = self.parse(name, default_ms)?;
        if ms < min_ms {
            return Err(ConfigError::new(
                name,
                format!("must be at least {min_ms} ms (got {ms})"),
            ));
        }
        Ok(Duration::from_millis(ms))
    }

    pub fn bool(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
            Some(v) => Err(ConfigError::new(
                name,
                format!("expected true or false (got {v:?})"),
            )),
        }
    }
}

/// What differs between the two services' defaults.
#[derive(Debug, Clone, Copy)]
pub struct ServiceDefaults {
    /// The `app_id` on published messages, and the service name in logs.
    pub app_id: &'static str,
    pub port: u16,
    pub database: &'static str,
}

/// Where to connect to MySQL.
#[derive(Clone)]
pub struct DatabaseSettings {
    pub options: MySqlConnectOptions,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// Create the database at start when it does not exist (HTTP binary only).
    pub create_if_missing: bool,
}

// MySqlConnectOptions' own Debug prints the password.
impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("host", &self.options.get_host())
            .field("port", &self.options.get_port())
            .field("user", &self.options.get_username())
            .field("database", &self.database_name())
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl DatabaseSettings {
    /// `DATABASE_URL` when set; otherwise the original's `SQL_HOST`, `SQL_PORT`, `SQL_USER`,
    /// `SQL_PASSWORD`, `SQL_DATABASE`.
    pub fn from_env(env: &Env, default_database: &str) -> Result<Self, ConfigError> {
        let options = match env.get("DATABASE_URL") {
            // The URL holds the password: never echo it back.
            Some(url)
                if !(url.trim().starts_with("mysql://")
                    || url.trim().starts_with("mariadb://")) =>
            {
                return Err(ConfigError::new(
                    "DATABASE_URL",
                    "must start with mysql:// (for example mysql://user:password@host:3306/admin)",
                ));
            }
            Some(url) => MySqlConnectOptions::from_str(url.trim()).map_err(|_| {
                ConfigError::new(
                    "DATABASE_URL",
                    "not a valid MySQL URL (expected mysql://user:password@host:port/database)",
                )
            })?,
            None => {
                let port: u16 = env.parse("SQL_PORT", 3306)?;
                if port == 0 {
                    return Err(ConfigError::new("SQL_PORT", "must be between 1 and 65535"));
                }
                let options = MySqlConnectOptions::new()
                    .host(&env.string("SQL_HOST", "127.0.0.1"))
                    .port(port)
                    .username(&env.string("SQL_USER", "root"))
                    .database(&env.string("SQL_DATABASE", default_database));
                // An empty password would still be sent, and refused by an account that has
                // none; leave it out instead.
                match env.get("SQL_PASSWORD") {
                    Some(password) => options.password(password),
                    None => options,
                }
            }
        };
        let options = if options.get_database().is_none() {
            options.database(default_database)
        } else {
            options
        };
        let max_connections: u32 = env.parse("DB_MAX_CONNECTIONS", 10)?;
        if max_connections == 0 {
            return Err(ConfigError::new("DB_MAX_CONNECTIONS", "must be at least 1"));
        }
        Ok(DatabaseSettings {
            options,
            max_connections,
            acquire_timeout: env.millis("DB_ACQUIRE_TIMEOUT_MS", 5_000, 1)?,
            create_if_missing: env.bool("DB_CREATE_IF_MISSING", true)?,
        })
    }

    pub fn database_name(&self) -> &str {
        self.options.get_database().unwrap_or_default()
    }
}

/// Where and how to talk to RabbitMQ.
#[derive(Debug, Clone)]
pub struct AmqpSettings {
    pub url: Secret<String>,
    pub connect_timeout: Duration,
    /// Bound on one publish and its confirm.
    pub publish_timeout: Duration,
    /// Cap of the exponential backoff between reconnection attempts.
    pub reconnect_max: Duration,
    /// Queue of product events, consumed by main-svc.
    pub main_queue: String,
    /// Queue of like events, consumed by admin-svc.
    pub admin_queue: String,
}

impl AmqpSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
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
            main_queue: queue("MAIN_QUEUE", events::DEFAULT_MAIN_QUEUE)?,
            admin_queue: queue("ADMIN_QUEUE", events::DEFAULT_ADMIN_QUEUE)?,
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

/// Everything one service process needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub app_id: &'static str,
    /// Address the HTTP API listens on (`BIND_ADDRESS`, `PORT`).
    pub http_addr: SocketAddr,
    pub database: DatabaseSettings,
    pub amqp: AmqpSettings,
    pub outbox: OutboxSettings,
    pub consumer: ConsumerSettings,
}

impl Settings {
    pub fn from_env(env: &Env, defaults: ServiceDefaults) -> Result<Self, ConfigError> {
        let bind: IpAddr = env.parse("BIND_ADDRESS", IpAddr::from([0, 0, 0, 0]))?;
        let port: u16 = env.parse("PORT", defaults.port)?;
        Ok(Settings {
            app_id: defaults.app_id,
            http_addr: SocketAddr::new(bind, port),
            database: DatabaseSettings::from_env(env, defaults.database)?,
            amqp: AmqpSettings::from_env(env)?,
            outbox: OutboxSettings::from_env(env)?,
            consumer: ConsumerSettings::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: ServiceDefaults = ServiceDefaults {
        app_id: "admin-svc",
        port: 8000,
        database: "admin",
    };

    #[test]
    fn defaults_need_no_environment() {
        let s = Settings::from_env(&Env::default(), ADMIN).unwrap();
        assert_eq!(s.http_addr.to_string(), "0.0.0.0:8000");
        assert_eq!(s.database.database_name(), "admin");
        assert_eq!(s.database.options.get_host(), "127.0.0.1");
        assert_eq!(s.amqp.main_queue, "main");
        assert_eq!(s.amqp.admin_queue, "admin");
    }

    #[test]
    fn original_sql_names_are_honoured() {
        let env = Env::from_pairs([
            ("SQL_HOST", "db"),
            ("SQL_PORT", "3307"),
            ("SQL_USER", "shop"),
            ("SQL_PASSWORD", "hunter2"),
            ("SQL_DATABASE", "catalogue"),
        ]);
        let s = DatabaseSettings::from_env(&env, "admin").unwrap();
        assert_eq!(s.options.get_host(), "db");
        assert_eq!(s.options.get_port(), 3307);
        assert_eq!(s.options.get_username(), "shop");
        assert_eq!(s.database_name(), "catalogue");
    }

    #[test]
    fn database_url_wins_and_gets_the_default_database() {
        let env = Env::from_pairs([
            ("DATABASE_URL", "mysql://u:p@h:1234"),
            ("SQL_HOST", "ignored"),
        ]);
        let s = DatabaseSettings::from_env(&env, "main").unwrap();
        assert_eq!(s.options.get_host(), "h");
        assert_eq!(s.database_name(), "main");
    }

    #[test]
    fn bad_values_name_the_variable_and_hide_secrets() {
        for (name, value) in [
            ("PORT", "eighty"),
            ("SQL_PORT", "99999"),
            ("SQL_PORT", "0"),
            ("BIND_ADDRESS", "localhost:80"),
            ("AMQP_URL", "http://secret-password@x"),
            ("DATABASE_URL", "postgres://user:secret-password@x"),
            ("DB_MAX_CONNECTIONS", "0"),
            ("OUTBOX_POLL_INTERVAL_MS", "1"),
            ("OUTBOX_BATCH_SIZE", "0"),
            ("MAIN_QUEUE", "amq.reserved"),
            ("DB_CREATE_IF_MISSING", "maybe"),
            ("CONSUMER_PREFETCH", "0"),
            ("PROCESSED_RETENTION_DAYS", "-1"),
        ] {
            let err = Settings::from_env(&Env::from_pairs([(name, value)]), ADMIN).unwrap_err();
            assert_eq!(err.name, name);
            let msg = err.to_string();
            assert!(msg.contains(name), "{msg}");
            assert!(!msg.contains("secret-password"), "{msg}");
        }
    }

    #[test]
    fn heartbeat_is_on_unless_the_url_sets_it() {
        let s = AmqpSettings::from_env(&Env::default()).unwrap();
        assert_eq!(
            s.url.expose(),
            "amqp://guest:guest@127.0.0.1:5672/%2f?heartbeat=10"
        );
        let env = Env::from_pairs([
            ("AMQP_URL", "amqp://h/%2f?heartbeat=3"),
            ("AMQP_HEARTBEAT_SECS", "30"),
        ]);
        assert_eq!(
            AmqpSettings::from_env(&env).unwrap().url.expose(),
            "amqp://h/%2f?heartbeat=3"
        );
        let env = Env::from_pairs([
            ("AMQP_URL", "amqp://h/%2f?frame_max=8192"),
            ("AMQP_HEARTBEAT_SECS", "30"),
        ]);
        assert_eq!(
            AmqpSettings::from_env(&env).unwrap().url.expose(),
            "amqp://h/%2f?frame_max=8192&heartbeat=30"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let env = Env::from_pairs([
            ("AMQP_URL", "amqp://u:topsecret@h"),
            ("SQL_PASSWORD", "pw-secret"),
        ]);
        let s = Settings::from_env(&env, ADMIN).unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("topsecret"), "{printed}");
        assert!(!printed.contains("pw-secret"), "{printed}");
    }
}
