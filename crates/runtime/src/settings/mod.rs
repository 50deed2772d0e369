//! Typed settings read from the environment, validated at start: plain data, per process.
//!
//! [`Settings`] is what every process needs (its name, address, database, broker, server
//! limits); [`ApiSettings`] adds what an HTTP API needs, [`ConsumerProcessSettings`] what a
//! consumer needs, so that each process reads only its own variables. A service's own
//! settings (admin sign-in, like limits) live in its crate.
//!
//! Every variable has a default in code; a value that is present but bad stops the process
//! with a message naming the variable. Secrets are wrapped so they never print.

mod addresses;
mod amqp;
mod database;
mod http;
mod loops;

use std::net::{IpAddr, SocketAddr};

pub use addresses::BrokerAddress;
pub use amqp::AmqpSettings;
pub use database::DatabaseSettings;
pub use http::{AllowedOrigins, HttpSettings, ListSettings, ServerLimits, TrustedProxies};
pub use loops::{ConsumerSettings, OutboxSettings, purge_interval, retention_secs};

use crate::config::{ConfigError, Env};
use crate::secrets::Credentials;

/// What differs between the two services' defaults.
#[derive(Debug, Clone, Copy)]
pub struct ServiceDefaults {
    /// The process's name: the trace service name (unless `OTEL_SERVICE_NAME` says
    /// otherwise), as the process is named in Prometheus' jobs and docker-compose.yml.
    pub process: &'static str,
    /// The `app_id` on published messages, and the service name in logs.
    pub app_id: &'static str,
    pub port: u16,
    pub database: &'static str,
    /// The queue the service's outbox publishes to.
    pub publishes_to: QueueVar,
    /// The queue the service's consumer takes.
    pub consumes: QueueVar,
}

/// admin-api: the catalogue's HTTP API; its relay publishes product events to `main`.
pub const ADMIN_API: ServiceDefaults = ServiceDefaults {
    process: "admin-api",
    app_id: "admin-svc",
    port: 8000,
    database: "admin",
    publishes_to: MAIN_QUEUE,
    consumes: ADMIN_QUEUE,
};

/// admin-consumer: applies the shop's likes (queue `admin`) to the catalogue.
pub const ADMIN_CONSUMER: ServiceDefaults = ServiceDefaults {
    process: "admin-consumer",
    app_id: "admin-consumer",
    port: 8001,
    ..ADMIN_API
};

/// main-api: the shop's HTTP API; its relay publishes like events to `admin`.
pub const MAIN_API: ServiceDefaults = ServiceDefaults {
    process: "main-api",
    app_id: "main-svc",
    port: 5000,
    database: "main",
    publishes_to: ADMIN_QUEUE,
    consumes: MAIN_QUEUE,
};

/// main-consumer: applies the catalogue's product events (queue `main`) to the mirror.
pub const MAIN_CONSUMER: ServiceDefaults = ServiceDefaults {
    process: "main-consumer",
    app_id: "main-consumer",
    port: 5001,
    ..MAIN_API
};

/// A queue name: the environment variable that sets it, and its default.
#[derive(Debug, Clone, Copy)]
pub struct QueueVar {
    pub var: &'static str,
    pub default: &'static str,
}

/// The queue of product events, from admin-svc to main-svc (`MAIN_QUEUE`).
pub const MAIN_QUEUE: QueueVar = QueueVar {
    var: "MAIN_QUEUE",
    default: events::DEFAULT_MAIN_QUEUE,
};

/// The queue of like events, from main-svc to admin-svc (`ADMIN_QUEUE`).
pub const ADMIN_QUEUE: QueueVar = QueueVar {
    var: "ADMIN_QUEUE",
    default: events::DEFAULT_ADMIN_QUEUE,
};

/// What every process needs: the API's and the consumer's alike.
#[derive(Debug, Clone)]
pub struct Settings {
    pub app_id: &'static str,
    /// Address the HTTP server listens on (`BIND_ADDRESS`, `PORT`): the API, or a consumer's
    /// probes.
    pub http_addr: SocketAddr,
    pub database: DatabaseSettings,
    pub amqp: AmqpSettings,
    /// `HTTP_HEADER_READ_TIMEOUT_MS`, `HTTP_MAX_CONNECTIONS`.
    pub server: ServerLimits,
}

impl Settings {
    pub fn from_env(env: &Env, defaults: ServiceDefaults) -> Result<Self, ConfigError> {
        let bind: IpAddr = env.parse("BIND_ADDRESS", IpAddr::from([0, 0, 0, 0]))?;
        let port: u16 = env.parse("PORT", defaults.port)?;
        Ok(Settings {
            app_id: defaults.app_id,
            http_addr: SocketAddr::new(bind, port),
            database: DatabaseSettings::from_env(env, defaults.database)?,
            amqp: AmqpSettings::from_env(env, &defaults)?,
            server: ServerLimits::from_env(env)?,
        })
    }

    /// Takes the credentials read from Secrets Manager ([`crate::secrets::read`]) in place of
    /// the environment's: the database's (and where to read them again after a rotation),
    /// and the broker's URL, checked against `AMQP_ADDRESSES` as the environment's is.
    pub fn use_credentials(
        &mut self,
        credentials: Credentials,
        env: &Env,
    ) -> Result<(), ConfigError> {
        if let Some(source) = credentials.database {
            if let Some(secret) = &source.applied {
                self.database.options =
                    secret.apply(self.database.options.clone(), &source.overrides);
            }
            self.database.secret = Some(source);
        }
        if let Some(from) = credentials.amqp_url {
            self.amqp
                .set_url(from.url.expose(), env)
                .map_err(|reason| {
                    ConfigError::new(
                        "AMQP_SECRET_ID",
                        format!("secret {:?}: key \"amqp_url\" {reason}", from.secret_id),
                    )
                })?;
        }
        Ok(())
    }
}

/// What an HTTP API process needs: [`Settings`], its outbox relay's, and its HTTP's. A
/// service's own settings (sign-in, like limits) live in its crate.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub process: Settings,
    pub outbox: OutboxSettings,
    pub http: HttpSettings,
}

impl ApiSettings {
    pub fn from_env(env: &Env, defaults: ServiceDefaults) -> Result<Self, ConfigError> {
        Ok(ApiSettings {
            process: Settings::from_env(env, defaults)?,
            outbox: OutboxSettings::from_env(env)?,
            http: HttpSettings::from_env(env)?,
        })
    }
}

/// What a consumer process needs: [`Settings`] and its consumer loop's. Nothing of the
/// APIs': a consumer never fails to start over a setting only an API reads.
#[derive(Debug, Clone)]
pub struct ConsumerProcessSettings {
    pub process: Settings,
    pub consumer: ConsumerSettings,
}

/// A consumer's database pool unless `DB_MAX_CONNECTIONS` says otherwise: it applies one
/// message at a time, and its probes and housekeeping take the second connection.
pub const CONSUMER_DB_CONNECTIONS: u32 = 2;

impl ConsumerProcessSettings {
    pub fn from_env(env: &Env, defaults: ServiceDefaults) -> Result<Self, ConfigError> {
        let mut process = Settings::from_env(env, defaults)?;
        if env.get("DB_MAX_CONNECTIONS").is_none() {
            process.database.max_connections = CONSUMER_DB_CONNECTIONS;
        }
        Ok(ConsumerProcessSettings {
            process,
            consumer: ConsumerSettings::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: ServiceDefaults = ADMIN_API;

    #[test]
    fn defaults_need_no_environment() {
        let s = ApiSettings::from_env(&Env::default(), ADMIN).unwrap();
        assert_eq!(s.process.http_addr.to_string(), "0.0.0.0:8000");
        assert_eq!(s.process.database.database_name(), "admin");
        assert_eq!(s.process.database.options.get_host(), "127.0.0.1");
        assert_eq!(s.process.amqp.publish_queue, "main");
        assert_eq!(s.process.amqp.consume_queue, "admin");
        assert!(!s.http.cookie_secure);
        let c = ConsumerProcessSettings::from_env(&Env::default(), ADMIN_CONSUMER).unwrap();
        assert_eq!(c.process.http_addr.to_string(), "0.0.0.0:8001");
        // A consumer's pool is sized for one message at a time; an API's for its requests.
        assert_eq!(c.process.database.max_connections, CONSUMER_DB_CONNECTIONS);
        assert_eq!(s.process.database.max_connections, 10);
        let env = Env::from_pairs([("DB_MAX_CONNECTIONS", "5")]);
        let c = ConsumerProcessSettings::from_env(&env, MAIN_CONSUMER).unwrap();
        assert_eq!(c.process.database.max_connections, 5);
    }

    #[test]
    fn each_process_reads_only_its_own_variables() {
        // Bad values of variables only an API reads: a consumer starts, an API does not.
        for (name, value) in [
            ("COOKIE_SECURE", "maybe"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("TRUSTED_PROXIES", "nginx"),
            ("HTTP_MAX_WAITING", "many"),
            ("LIST_COUNTS_MAX_AGE_MS", "soon"),
            ("OUTBOX_BATCH_SIZE", "0"),
        ] {
            let env = Env::from_pairs([(name, value)]);
            assert!(
                ConsumerProcessSettings::from_env(&env, MAIN_CONSUMER).is_ok(),
                "{name}"
            );
            assert_eq!(
                ApiSettings::from_env(&env, MAIN_API).unwrap_err().name,
                name
            );
        }
        // And the other way round.
        for (name, value) in [("CONSUMER_PREFETCH", "0"), ("CONSUMER_BATCH_SIZE", "x")] {
            let env = Env::from_pairs([(name, value)]);
            assert!(ApiSettings::from_env(&env, MAIN_API).is_ok(), "{name}");
            let err = ConsumerProcessSettings::from_env(&env, MAIN_CONSUMER).unwrap_err();
            assert_eq!(err.name, name);
        }
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
            ("PROCESSED_RETENTION_SECS", "59"),
            ("PROCESSED_RETENTION_SECS", "soon"),
            ("PURGE_INTERVAL_SECS", "0"),
            ("PURGE_INTERVAL_SECS", "86401"),
        ] {
            let env = Env::from_pairs([(name, value)]);
            // Each variable is read by the API, the consumer, or both.
            let api = ApiSettings::from_env(&env, ADMIN).err();
            let consumer = ConsumerProcessSettings::from_env(&env, ADMIN_CONSUMER).err();
            let err = api
                .or(consumer)
                .expect("refused by the process that reads it");
            assert_eq!(err.name, name);
            let msg = err.to_string();
            assert!(msg.contains(name), "{msg}");
            assert!(!msg.contains("secret-password"), "{msg}");
        }
    }

    #[test]
    fn heartbeat_is_on_unless_the_url_sets_it() {
        let s = AmqpSettings::from_env(&Env::default(), &ADMIN).unwrap();
        assert_eq!(
            s.url.expose(),
            "amqp://guest:guest@127.0.0.1:5672/%2f?heartbeat=10"
        );
        let env = Env::from_pairs([
            ("AMQP_URL", "amqp://h/%2f?heartbeat=3"),
            ("AMQP_HEARTBEAT_SECS", "30"),
        ]);
        assert_eq!(
            AmqpSettings::from_env(&env, &ADMIN).unwrap().url.expose(),
            "amqp://h/%2f?heartbeat=3"
        );
        let env = Env::from_pairs([
            ("AMQP_URL", "amqp://h/%2f?frame_max=8192"),
            ("AMQP_HEARTBEAT_SECS", "30"),
        ]);
        assert_eq!(
            AmqpSettings::from_env(&env, &ADMIN).unwrap().url.expose(),
            "amqp://h/%2f?frame_max=8192&heartbeat=30"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let env = Env::from_pairs([
            ("AMQP_URL", "amqp://u:topsecret@h"),
            ("SQL_PASSWORD", "pw-secret"),
        ]);
        let s = ApiSettings::from_env(&env, ADMIN).unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("topsecret"), "{printed}");
        assert!(!printed.contains("pw-secret"), "{printed}");
    }
}
